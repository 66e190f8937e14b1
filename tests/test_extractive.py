"""Extractive answers: quoted faithfully from the passages, whole units, within the cap."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.core.extractive import compose, segment, split_sentences, with_embeddings
from knowledge.documents import Hit


def hit(text: str, *, rank: int = 0, headings=(), source="guide.pdf", page=1, dense=0.6) -> Hit:
    return Hit(
        chunk_id=f"c{rank}-{hash(text) & 0xFFFF}",
        score=1.0 / (1 + rank),
        dense_score=dense,
        text=text,
        source=source,
        page=page,
        document_id=source,
        headings=list(headings),
    )


def _norm(text: str) -> str:
    return " ".join(text.split())


def quoted_lines(answer: str) -> list[str]:
    """The answer's pieces of passage text: heading lines (bold) dropped, list bullets
    stripped, each remaining line or paragraph whitespace-normalised."""
    out = []
    for paragraph in re.split(r"\n\s*\n", answer):
        lines = paragraph.split("\n")
        if all(line.startswith("- ") or line.startswith("|") for line in lines):
            out += [line[2:] if line.startswith("- ") else line for line in lines]
        elif len(lines) == 1 and re.fullmatch(r"\*\*.+\*\*", lines[0]):
            continue
        else:
            out.append(paragraph)
    return [_norm(piece) for piece in out if piece.strip()]


def assert_faithful(answer: str, passages: list[Hit]) -> None:
    sources = [_norm(p.text) for p in passages]
    for piece in quoted_lines(answer):
        assert any(piece in s for s in sources), f"not in any passage: {piece!r}"


EMERGENCY = (
    "Emergency Care\n\n"
    "Emergency care is covered by Northwind Health Plus, even if it is received from an out-of-network "
    "provider. However, you may be responsible for a higher cost-sharing amount than if you received care "
    "from an in-network provider.\n\n"
    "Tips for Seeking Urgent Care\n\n"
    "When you need urgent care, it is important to remember that not all urgent care facilities are the "
    "same. Call your doctor first."
)


def test_the_answer_quotes_the_sentence_that_answers_with_its_neighbour_and_heading():
    passages = [
        hit(EMERGENCY, headings=["Covered services"]),
        hit("Gym memberships are not part of the plan. Members may use partner gyms.", rank=1),
    ]
    extract = compose("Does Northwind Health Plus cover emergency care?", passages, max_chars=700, language="en")
    assert extract.text.startswith("**Emergency Care**\n\nEmergency care is covered by Northwind Health Plus")
    assert "However, you may be responsible" in extract.text  # the neighbour: the condition
    assert "Gym" not in extract.text and "Tips" not in extract.text
    assert extract.used == [passages[0]]
    assert [q.hit for q in extract.quotes] == [passages[0], passages[0]]
    assert_faithful(extract.text, passages)


def test_a_list_item_is_quoted_whole_after_its_lead_in():
    text = (
        "Some services are not covered by the plan. The following are excluded:\n"
        "- cosmetic surgery, including procedures performed only to improve appearance\n"
        "- weight loss programs\n"
        "- hearing aids for adults over 65"
    )
    extract = compose("Are hearing aids covered?", [hit(text)], max_chars=700, language="en")
    assert "- hearing aids for adults over 65" in extract.text.split("\n")
    assert "The following are excluded:" in extract.text
    assert_faithful(extract.text, [hit(text)])


def test_a_lead_in_next_to_the_answer_brings_its_list_even_when_items_are_paragraphs():
    # PDF pages give each bullet a paragraph of its own: it is still the list "These include:"
    # announces, and the answer is its items, not the lead-in alone.
    general = hit("Prior authorization is needed for some services. Your doctor asks for it.")
    exceptions = hit(
        "Exceptions to Prior Authorization\n\nThere are certain services that are exempt from prior "
        "authorization. These include:\n\n• Routine office visits\n\n• Immunizations\n\n• X-Ray services\n\n"
        "Talk to your doctor about your care.",
        rank=1,
        page=65,
    )
    passages = [general, exceptions]
    extract = compose("What services are exempt from prior authorization?", passages, max_chars=700, language="en")
    lines = extract.text.split("\n")
    assert "These include:" in extract.text
    assert [x for x in lines if x.startswith("- ")] == [
        "- Routine office visits",
        "- Immunizations",
        "- X-Ray services",
    ]
    assert "Talk to your doctor" not in extract.text
    assert_faithful(extract.text, passages)


def chunk(text: str, ordinal: int, *, rank: int, page: int) -> Hit:
    """A chunk of one stored document, id as the knowledge base writes it."""
    return Hit(
        chunk_id=f"doc_1-v1-{ordinal}",
        score=1.0 / (1 + rank),
        dense_score=0.7,
        text=text,
        source="plan.pdf",
        page=page,
        document_id="doc_1",
    )


def test_a_lead_in_ending_its_chunk_brings_the_list_from_the_next_chunk():
    # The chunker split the page: "… a few steps you can take:" ends one chunk and its items
    # open the next. The lead-in alone tells the customer nothing.
    lead = chunk(
        "Tips for Employees\n\nThere are a few steps you can take to ensure that your claim is processed quickly:",
        41,
        rank=0,
        page=88,
    )
    unrelated = hit("Claims are paid within 30 days of receipt.", rank=1, source="other.pdf")
    items = chunk(
        "• Ask your provider for a detailed explanation of the services.\n\n• Send the documentation "
        "promptly.\n\nYou can also call us.",
        42,
        rank=2,
        page=89,
    )
    passages = [lead, unrelated, items]
    extract = compose("How can my claim be processed quickly?", passages, max_chars=700, language="en")
    lines = extract.text.split("\n")
    assert lines.index("- Ask your provider for a detailed explanation of the services.") > lines.index(
        "There are a few steps you can take to ensure that your claim is processed quickly:"
    )
    assert "- Send the documentation promptly." in lines
    assert "You can also call us." not in extract.text
    assert items in extract.used and lead in extract.used
    assert_faithful(extract.text, passages)


def test_a_chunk_of_another_document_does_not_continue_a_lead_in():
    lead = chunk(
        "Steps\n\nThere are a few steps you can take to ensure your claim is processed quickly:", 41, rank=0, page=88
    )
    elsewhere = Hit(
        chunk_id="doc_2-v1-42",
        score=0.5,
        dense_score=0.7,
        text="• Bring your own towel.\n\n• Lockers cost extra.",
        source="gym.pdf",
        page=3,
        document_id="doc_2",
    )
    extract = compose("How can my claim be processed quickly?", [lead, elsewhere], max_chars=700, language="en")
    assert "towel" not in extract.text


PRIOR_AUTHORIZATION_GENERAL = (
    "CARE MANAGEMENT: Prior-Authorization\n\nIt is important to note that some services do not require "
    "prior-authorization, as they are considered non-medically necessary. In addition, some services may only "
    "require prior-authorization for certain plans."
)
PRIOR_AUTHORIZATION_EXCEPTIONS = (
    "Exceptions to Prior Authorization\n\nThere are certain services and treatments that are exempt from prior "
    "authorization. These include:\n\n• Routine office visits\n\n• Immunizations\n\n• X-Ray services"
)


@pytest.mark.parametrize("cap", range(150, 701, 25))
def test_a_lead_in_never_comes_without_its_first_item_nor_an_item_without_its_lead_in(cap):
    # "These include:" followed by another topic, or "- Routine office visits" under a
    # sentence about something else, reads as a broken answer.
    passages = [hit(PRIOR_AUTHORIZATION_GENERAL, page=67), hit(PRIOR_AUTHORIZATION_EXCEPTIONS, rank=1, page=65)]
    extract = compose("What are some services exempt from prior authorization?", passages, max_chars=cap, language="en")
    lines = [line for line in extract.text.split("\n") if line.strip()]
    for i, line in enumerate(lines):
        if line.endswith("These include:"):
            assert i + 1 < len(lines) and lines[i + 1] == "- Routine office visits", extract.text
        if line.startswith("- "):
            assert i > 0 and (lines[i - 1].endswith(":") or lines[i - 1].startswith("- ")), extract.text
    assert len(extract.text) <= cap
    assert_faithful(extract.text, passages)


def test_a_question_asking_for_several_things_gets_the_list_over_the_top_pages_general_sentences():
    # Contoso "What are some services exempt from prior authorization?": the top page talks
    # about prior authorization in general, the 2nd one lists the exempt services.
    general = hit(
        "CARE MANAGEMENT: Prior-Authorization for Benefit Coverage\n\nIt is important to note that some "
        "services do not require prior-authorization, as they are considered non-medically necessary. In "
        "addition, some services may only require prior-authorization for certain members, such as those with "
        "high-risk conditions. The plan has a list of services that require prior-authorization, which is "
        "available on the website.\n\nIn addition, certain pediatric services are exempt from "
        "prior-authorization. Prior authorization is required for some outpatient services, such as outpatient "
        "surgery and physical therapy.",
        page=67,
    )
    passages = [general, hit(PRIOR_AUTHORIZATION_EXCEPTIONS, rank=1, page=65)]
    extract = compose("What are some services exempt from prior authorization?", passages, max_chars=500, language="en")
    lines = extract.text.split("\n")
    assert {"- Routine office visits", "- Immunizations", "- X-Ray services"} <= set(lines), extract.text
    assert_faithful(extract.text, passages)


def test_a_sentence_repeated_on_another_page_is_quoted_once():
    standard = hit("Dental cleanings are covered twice a year. Dental cleanings cost nothing in network.")
    plus = hit("Dental cleanings are covered twice a year.", rank=1, source="plus.pdf")
    extract = compose("Are dental cleanings covered?", [standard, plus], max_chars=700, language="en")
    assert extract.text.count("covered twice a year") == 1
    assert extract.used == [standard]


def test_of_two_sentences_as_relevant_the_one_stating_a_figure_answers_a_what_question():
    text = "The copay for specialist visits depends on your plan. The copay for specialist visits is $40 in network."
    extract = compose("What is the copay for specialist visits?", [hit(text)], max_chars=60, language="en")
    assert extract.text == "The copay for specialist visits is $40 in network."


@pytest.mark.parametrize(
    ("question", "language"),
    [("Are refunds paid after resignation?", "en"), ("Les remboursements sont-ils payés après une démission ?", "fr")],
)
def test_a_yes_no_question_gets_its_yes_or_no_not_the_sentence_with_a_date(question, language):
    texts = {
        "en": "Refunds after resignation are not paid. Refunds after resignation made before 1 May 2024 are paid.",
        "fr": "Les remboursements après une démission ne sont pas payés. "
        "Les remboursements après une démission avant le 1er mai 2024 sont payés.",
    }
    first, second = texts[language].split(". ")
    # Room for either sentence, not both.
    extract = compose(question, [hit(texts[language])], max_chars=len(second) + 5, language=language)
    assert extract.text == first + "."


def test_a_table_row_comes_whole_under_its_header():
    text = (
        "| Service | In-network copay |\n|---|---|\n| Urgent care | $50 |\n| Emergency room | $250 |\n| X-ray | $20 |"
    )
    extract = compose("What is the emergency room copay?", [hit(text)], max_chars=700, language="en")
    lines = extract.text.split("\n")
    assert lines[:2] == ["| Service | In-network copay |", "|---|---|"]
    assert "| Emergency room | $250 |" in lines
    assert_faithful(extract.text, [hit(text)])


def test_html_table_rows_become_list_lines_with_their_header():
    text = "Plan | Monthly premium\nStandard | $120\nPlus | $180"
    extract = compose("What is the monthly premium of Plus?", [hit(text)], max_chars=700, language="en")
    assert extract.text.split("\n")[:1] == ["- Plan | Monthly premium"]
    assert "- Plus | $180" in extract.text.split("\n")


def test_an_faq_entry_answers_with_its_answer_text():
    faq = hit(
        "Q: Puis-je reporter mes cotisations ?\nA: Oui. Vous pouvez reporter tout ou partie de vos "
        "cotisations salariales et patronales. Contactez votre Urssaf.",
        headings=["Urssaf"],
        source="faq.csv",
        page=None,
    )
    other = hit("Les cotisations sont payées chaque mois. Le taux est fixé par décret.", rank=1)
    extract = compose("Est-ce que je peux reporter mes cotisations ?", [faq, other], max_chars=700, language="fr")
    assert extract.text == (
        "**Urssaf**\n\nOui. Vous pouvez reporter tout ou partie de vos cotisations salariales et patronales. "
        "Contactez votre Urssaf."
    )
    assert "Q:" not in extract.text and extract.used == [faq]


def test_the_top_ranked_faq_entry_answers_over_one_sharing_a_few_more_words():
    # Stem overlap reads "someone I know gets the virus" as the second entry; retrieval
    # (embeddings and BM25 over the whole entry) ranked the first one, which answers it.
    house = hit(
        "Q: What should I do if someone in my house gets sick with COVID-19?\nA: Most people who get "
        "COVID-19 will be able to recover at home. Stay home when you are sick.",
        source="faq.csv",
        page=None,
        dense=0.67,
    )
    doctor = hit(
        "Q: Should I see a doctor if I know someone has the virus?\nA: Call your doctor if you have "
        "symptoms. Quarantine lasts 14 days.",
        rank=1,
        source="faq.csv",
        page=None,
        dense=0.62,
    )
    extract = compose("What to do if someone I know gets the virus?", [house, doctor], max_chars=700, language="en")
    assert extract.text == "Most people who get COVID-19 will be able to recover at home. Stay home when you are sick."
    assert extract.used == [house]


def test_the_length_cap_drops_whole_sentences_never_cuts_one():
    text = " ".join(f"Sentence number {i} talks about refunds and delays in detail." for i in range(30))
    for cap in (60, 120, 300, 700):
        extract = compose("refunds delays", [hit(text)], max_chars=cap, language="en")
        assert 0 < len(extract.text) <= cap
        assert extract.text.endswith("detail.")
        assert_faithful(extract.text, [hit(text)])


def test_nothing_fits_or_nothing_given_gives_an_empty_answer():
    long_sentence = "Refunds " + "are processed carefully " * 20 + "within ten days."
    assert compose("refunds", [hit(long_sentence)], max_chars=100, language="en").text == ""
    assert compose("refunds", [], max_chars=700, language="en").text == ""
    assert compose("refunds", [hit("  \n ")], max_chars=700, language="en").used == []
    with pytest.raises(ValueError, match="max_chars"):
        compose("refunds", [hit("Refunds take ten days.")], max_chars=0, language="en")


def test_a_second_passage_joins_only_when_about_as_relevant_and_in_document_order():
    page_9 = hit("Dental cleanings are covered twice a year.", rank=1, page=9)
    page_3 = hit("Dental cleanings cost nothing in network.", rank=0, page=3)
    unrelated = hit("Vision exams are covered once a year.", rank=2, source="vision.pdf")
    extract = compose("dental cleanings", [page_3, page_9, unrelated], max_chars=700, language="en")
    assert extract.text == "Dental cleanings cost nothing in network.\n\nDental cleanings are covered twice a year."
    assert extract.used == [page_3, page_9]


def test_a_question_sharing_no_word_gets_the_top_passage_start_not_everything():
    top = hit("Our offices open at nine. They close at five. Parking is free. Bikes are welcome.")
    other = hit("Refunds take ten days.", rank=1)
    extract = compose("Quand ouvrez-vous ?", [top, other], max_chars=700, language="en")
    assert extract.text == "Our offices open at nine. They close at five."
    assert extract.used == [top]


def test_sentences_split_at_ends_not_at_abbreviations_or_decimals():
    assert split_sentences("See Dr. Smith, e.g. on Monday. It costs $1.50 per visit. Comment faire ? Appelez.") == [
        "See Dr. Smith, e.g. on Monday.",
        "It costs $1.50 per visit.",
        "Comment faire ?",
        "Appelez.",
    ]


def test_segments_keep_structure():
    units = segment("Intro line here.\n\nPrices\n\n- one item\n- two items\n\nA | B\n1 | 2\n\nname: Ada\nrole: admin")
    assert [(u.kind, u.text) for u in units] == [
        ("sentence", "Intro line here."),
        ("heading", "Prices"),
        ("item", "one item"),
        ("item", "two items"),
        ("header", "A | B"),
        ("row", "1 | 2"),
        ("record", "name: Ada\nrole: admin"),
    ]
    assert units[2].heading == "Prices"


def test_embeddings_can_pick_a_paraphrase_that_shares_no_word():
    passages = [hit("Physicians are available around the clock. Parking is free when you see us.")]

    def embed(texts: list[str]) -> np.ndarray:  # "doctor" and "physicians" point the same way
        return np.array([[1.0, 0.0] if ("doctor" in t or "Physicians" in t) else [0.0, 1.0] for t in texts])

    lexical = compose("When can I see a doctor?", passages, max_chars=45, language="en")
    blended = compose("When can I see a doctor?", passages, max_chars=45, language="en", score=with_embeddings(embed))
    assert blended.text == "Physicians are available around the clock."
    assert lexical.text != blended.text


def test_composing_takes_milliseconds():
    text = "\n\n".join(EMERGENCY + f" Paragraph {i} about plans, copays and claims." for i in range(4))
    passages = [hit(text[:1000], rank=r, page=r) for r in range(5)]
    compose("What is the copay for emergency care?", passages, max_chars=700, language="en")  # warm caches
    started = time.perf_counter()
    for _ in range(20):
        compose("What is the copay for emergency care?", passages, max_chars=700, language="en")
    assert (time.perf_counter() - started) / 20 < 0.05


# --- property: an extractive answer only contains passage text, in English and French ---

WORDS = {
    "en": [
        "the",
        "plan",
        "covers",
        "emergency",
        "care",
        "claims",
        "refunds",
        "within",
        "days",
        "members",
        "pay",
        "copay",
        "doctor",
        "visits",
        "network",
        "provider",
        "Northwind",
        "Contoso",
        "is",
        "not",
        "and",
        "or",
        "of",
        "for",
        "approx.",
        "Dr.",
        "e.g.",
        "$1,000.50",
        "20%",
        "2024",
    ],
    "fr": [
        "le",
        "forfait",
        "couvre",
        "les",
        "soins",
        "urgents",
        "remboursement",
        "sous",
        "jours",
        "assurés",
        "paient",
        "médecin",
        "réseau",
        "n°",
        "M.",
        "l’assuré",
        "«",
        "carte",
        "Vitale",
        "»",
        "1\u202f000,50\u00a0€",
        "1 000",
        "10",
        "%",
        "prévoit",
        "délai",
        "Urssaf",
        "ne",
        "pas",
    ],
}


@st.composite
def documents(draw, language: str):
    words = st.sampled_from(WORDS[language])

    def sentence() -> str:
        body = " ".join(draw(st.lists(words, min_size=1, max_size=12)))
        end = draw(st.sampled_from([".", "!", "?", " ?", ":", ""]))
        return body[0].upper() + body[1:] + end

    blocks = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["prose", "list", "table", "heading", "faq"]))
        if kind == "prose":
            blocks.append(" ".join(sentence() for _ in range(draw(st.integers(1, 4)))))
        elif kind == "list":
            bullet = draw(st.sampled_from(["- ", "* ", "• ", "1. "]))
            blocks.append("\n".join(bullet + sentence() for _ in range(draw(st.integers(1, 4)))))
        elif kind == "table":
            rows = [" | ".join(draw(st.lists(words, min_size=2, max_size=3))) for _ in range(draw(st.integers(1, 4)))]
            blocks.append("\n".join(f"| {r} |" for r in rows) if draw(st.booleans()) else "\n".join(rows))
        elif kind == "heading":
            blocks.append(" ".join(draw(st.lists(words, min_size=1, max_size=4))).capitalize())
        else:
            return f"Q: {sentence()}\nA: {' '.join(sentence() for _ in range(draw(st.integers(1, 3))))}"
    return "\n\n".join(blocks)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_extractive_answers_only_contain_passage_text(language):
    @settings(max_examples=150, deadline=None)
    @given(
        texts=st.lists(documents(language), min_size=1, max_size=4),
        question=st.lists(st.sampled_from(WORDS[language]), min_size=1, max_size=8).map(" ".join),
        cap=st.integers(40, 900),
        # Consecutive chunks of one stored document (lists continued across chunks), and
        # questions asking for a list, exercise the continuation and list weighting.
        one_document=st.booleans(),
        opening=st.sampled_from(["", "What are ", "Quels sont "]),
    )
    def check(texts, question, cap, one_document, opening):
        passages = [hit(t, rank=i, headings=["Section"] if i % 2 else []) for i, t in enumerate(texts)]
        if one_document:
            passages = [chunk(t, 10 + (i + 1) % len(texts), rank=i, page=1) for i, t in enumerate(texts)]
        extract = compose(opening + question, passages, max_chars=cap, language=language)
        assert len(extract.text) <= cap
        assert_faithful(extract.text, passages)
        assert all(h in passages for h in extract.used)
        # a citation for every passage quoted, and none for a passage not quoted
        assert {id(q.hit) for q in extract.quotes} == {id(h) for h in extract.used}

    check()
