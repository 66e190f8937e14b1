"""Chunking, BM25 tokenisation and hybrid search, on small inline documents."""

import pytest

from knowledge.chunking import chunk_document
from knowledge.documents import LoadedDocument, Section
from knowledge.embedding import MINILM
from knowledge.lexical import LexicalIndex, Tokenizer, detect_language
from knowledge.retrieval import Corpus, Passage, search
from knowledge.vector_index import VectorIndex

PAGE_1 = (
    "Foot care is covered with no deductible. " * 6
    + "\n\nGender Affirming Care\n\n"
    + "Hormone therapy and surgery are covered when your doctor refers you. " * 3
)
PAGE_2 = "Mental health counselling during transition is covered as well. " * 5


def test_a_lone_short_line_becomes_the_heading_of_what_follows_even_on_the_next_page():
    doc = LoadedDocument(sections=[Section(PAGE_1, page=1), Section(PAGE_2, page=2)], pages=2)
    chunks = chunk_document(doc, title="Standard plan")
    on_page_2 = [c for c in chunks if c.page == 2]
    assert on_page_2 and on_page_2[0].headings == ["Gender Affirming Care"]
    assert on_page_2[0].search_text.startswith("Standard plan > Gender Affirming Care\n")
    assert "Gender Affirming Care" not in chunks[0].headings  # text before the heading


def test_a_heading_at_the_foot_of_a_page_joins_the_next_page_instead_of_being_a_chunk():
    doc = LoadedDocument(
        sections=[
            Section("Dental cover is included. " * 20 + "\n\nHearing Care", page=1),
            Section("Hearing aids are covered once every three years. " * 5, page=2),
        ]
    )
    chunks = chunk_document(doc)
    assert all(len(c.text) > 100 for c in chunks)
    [hearing] = [c for c in chunks if c.page == 2]
    assert hearing.text.startswith("Hearing Care") and hearing.headings == ["Hearing Care"]


def test_faq_entries_stay_whole_and_identifier_titles_stay_out_of_search_text():
    answer = "You can ask for a refund within 30 days. " * 20
    doc = LoadedDocument(sections=[Section(f"Q: Can I get a refund?\nA: {answer}", kind="faq")])
    [chunk] = chunk_document(doc, title="d8ff9d6391283221b4dfe1f36f95fc22")
    assert chunk.text.startswith("Q: Can I get a refund?") and chunk.text.endswith("30 days.")
    assert "d8ff9d63" not in chunk.search_text


def test_link_addresses_stay_in_the_text_but_out_of_what_is_searched():
    text = "See [the returns page](https://shop.example/kb/x9Fq2) or ![map](https://m.example/1.png)."
    [chunk] = chunk_document(LoadedDocument(sections=[Section(text)]), title="Returns")
    assert chunk.text == text
    assert chunk.search_text == "Returns\nSee the returns page or map."


def test_tokenizer_meets_word_forms_in_english_and_french():
    en, fr = Tokenizer("english"), Tokenizer("french")
    assert en("Refunds were refunded") == en("refund refunding")
    assert fr("Les remboursements des salariés") == fr("remboursement salarie")
    assert detect_language(["Les salariés et les employeurs de la région"]) == "french"
    assert detect_language(["The employees of the company and their families"]) == "english"


def test_bm25_finds_the_passage_with_the_rare_term():
    index = LexicalIndex(
        ["Shipping takes three days.", "Error code E-4417 means the card expired.", "Returns are free."]
    )
    assert index.search("what is E-4417", k=2)[0][0] == 1
    assert index.search("the of and", k=2) == []


def test_a_misspelt_query_word_finds_the_corpus_word_it_meant_but_real_words_stay():
    index = LexicalIndex(
        [
            "Gender affirming care is covered.",
            "Hearing aids are covered.",
            "Our stores open at nine on Sundays.",
            "Orders ship from our depot.",
        ]
    )
    assert index.search("Is gendr affirming care covered?", k=1)[0][0] == 0
    assert index.respell("what hearin servises") == "what hearing servises"
    assert index.respell("Does Gendr care count?") == "Does gender care count?"
    # Short words one wrong letter from a corpus word are more often real words.
    assert index.respell("how about a border") == "how about a border"


@pytest.fixture
def corpus_and_vectors(tmp_path, embedders):
    texts = [
        "Refunds are paid within 30 days of the return.",
        "Our stores open at 9am on Sundays.",
        "Error code E-4417 means the card expired.",
    ] + [f"Filler passage number {i}." for i in range(20)]
    passages = [Passage(chunk_id=f"c{i}", text=t, search_text=t, source="doc.md") for i, t in enumerate(texts)]
    vectors = VectorIndex.open(path=tmp_path / "chroma")
    embedder = embedders.get(MINILM)
    vectors.add("kb-test", [p.chunk_id for p in passages], embedder.embed_passages(texts))
    return Corpus(passages), vectors, embedder


def test_search_fills_a_cosine_dense_score_for_every_hit_including_lexical_only_ones(corpus_and_vectors):
    corpus, vectors, embedder = corpus_and_vectors
    hits = search("E-4417", corpus=corpus, embedder=embedder, vectors=vectors, collection="kb-test", k=5)
    assert hits[0].chunk_id == "c2"
    assert all(h.dense_score is not None and -1.0 <= h.dense_score <= 1.0 for h in hits)
    assert search("   ", corpus=corpus, embedder=embedder, vectors=vectors, collection="kb-test") == []


def test_a_paraphrased_question_finds_its_faq_row_even_when_the_answer_is_long(api):
    from tests.conftest import create_bot, faq_csv, ingest
    from tests.conftest import search as api_search

    # Embedded whole, the long answer is mostly about tickets and stations (and is cut off
    # by the model's input limit); the entry's own question is a small part of its vector.
    conditions = (
        "Our conditions of carriage were updated in March and apply to every "
        "journey booked on our website, in our app, at a ticket office or through a "
        "partner agency. Tickets remain personal and must be shown together with an "
        "identity document when a conductor asks for it. Please arrive at the station "
        "fifteen minutes before departure and follow the instructions of the staff. "
    )
    bot = create_bot(api)
    ingest(
        api,
        bot["id"],
        {
            "travel.csv": faq_csv(
                [
                    (
                        "Can I bring my dog on the train?",
                        conditions * 3 + "Small animals in a closed basket travel free; larger ones need a "
                        "half-price ticket and a muzzle.",
                    ),
                    (
                        "What are the rules in the quiet coach?",
                        "Phones on silent and no loud conversations; animals and children are welcome "
                        "if they stay calm.",
                    ),
                    ("How much luggage may I take?", "Three pieces per person, none larger than 85 cm."),
                    ("Can I take my bicycle with me?", "Folded bikes travel free, others need a reservation."),
                    ("Is there wifi on board?", "Most trains offer free internet access."),
                ]
                + [(f"When does service {i} leave?", f"Service {i} leaves at {i} o'clock.") for i in range(20)]
            )
        },
    )
    hits = api_search(api, bot["id"], "Are animals permitted on trains?", k=5)
    assert hits[0]["text"].startswith("Q: Can I bring my dog on the train?")
    # The relevance gate reads every hit's cosine; the question vector must not hide it.
    assert all(h["dense_score"] is not None for h in hits)


def test_a_markdown_section_headed_by_a_question_is_an_faq_entry():
    from knowledge.loaders.markdown import load_markdown

    page = (
        "# Help centre\n\n## Comment résilier mon abonnement\n\nDepuis votre espace client.\n\n"
        "## Opening hours\n\nWe open at nine every weekday, closed on Sundays.\n\n"
        "## Can I pay by cheque?\n\nNo.\n"
    ).encode()
    chunks = chunk_document(load_markdown(page, "help.md"))
    assert [(c.text, c.question) for c in chunks] == [
        ("Depuis votre espace client.", "Comment résilier mon abonnement"),
        ("We open at nine every weekday, closed on Sundays.", None),
        # A one-word answer stays with its question, not merged into a neighbour.
        ("No.", "Can I pay by cheque?"),
    ]


def test_a_paraphrased_question_finds_its_markdown_page_titled_by_the_question(api, embedders):
    from tests.conftest import create_bot, ingest
    from tests.conftest import search as api_search

    # Help centres exported page by page: `# question` over the answer. The long answer
    # never says "dog", "animal" or "pet" in its first 256 word pieces.
    conditions = (
        "Our conditions of carriage were updated in March and apply to every "
        "journey booked on our website, in our app, at a ticket office or through a "
        "partner agency. Tickets remain personal and must be shown together with an "
        "identity document when a conductor asks for it. Please arrive at the station "
        "fifteen minutes before departure and follow the instructions of the staff. "
    )
    pages = {
        "0001.md": "# Can I bring my dog on the train?\n\n"
        + conditions * 3
        + "Small animals in a closed basket travel free; larger ones need a half-price ticket.",
        "0002.md": "# What are the rules in the quiet coach?\n\nPhones on silent; animals and children "
        "are welcome if they stay calm.",
        "0003.md": "# How much luggage may I take?\n\nThree pieces per person, none larger than 85 cm.",
        "0004.md": "# Is there wifi on board?\n\nMost trains offer free internet access.",
    } | {f"1{i:03d}.md": f"# When does service {i} leave?\n\nService {i} leaves at {i} o'clock." for i in range(20)}
    bot = create_bot(api)
    ingest(api, bot["id"], {name: text.encode() for name, text in pages.items()})
    query = "Are pets allowed aboard?"
    hits = api_search(api, bot["id"], query, k=5)
    assert hits[0]["source"] == "0001.md"
    # Its heading has a vector of its own: the page is as close to the paraphrase as its
    # question alone is (the relevance gate reads this cosine), not only as its long answer.
    embedder = embedders.get(MINILM)
    heading = float(embedder.embed_passages(["Can I bring my dog on the train?"])[0] @ embedder.embed_query(query))
    assert hits[0]["dense_score"] >= heading - 1e-3


def test_a_word_typed_with_its_accents_is_not_taken_for_a_typo():
    index = LexicalIndex(
        [
            "Les marins pêcheurs sont concernés par les mesures.",
            "La penche du toit est vérifiée chaque année par l'employeur.",
        ]
    )
    assert index.respell("Je suis marin de la pêche") == "Je suis marin de la pêche"
    assert index.respell("marin de la pnche") == "marin de la penche"


def test_a_real_word_the_corpus_lacks_and_an_acronym_are_not_taken_for_typos():
    # Seen on a French help centre: "injections" was searched as "infections", "envie"
    # as "envoie" and the drug class "AINS" as "ainsi".
    index = LexicalIndex(
        [
            "Les infections doivent être signalées au médecin.",
            "Nous vous envoie le formulaire ainsi que la notice.",
            "Le salarié reçoit une indemnité.",
        ]
    )
    assert index.respell("Je suis traité par injections") == "Je suis traité par injections"
    assert index.respell("J'ai envie de partir") == "J'ai envie de partir"
    assert index.respell("Puis-je prendre des AINS ?") == "Puis-je prendre des AINS ?"
    # A word no dictionary holds is still a typo of the corpus word one edit away.
    assert index.respell("les infctions") == "les infections"


def test_a_passage_repeated_in_hundreds_of_documents_does_not_crowd_out_the_others(tmp_path, embedders):
    # Help centres repeat boilerplate ("the answer is on our website") under many questions.
    # Its copies share one vector; they must count as one candidate, or they fill the dense
    # candidate list and the real answer, which shares no word with the question, is lost.
    boilerplate = "How long do refunds take? Read the answer on our website."
    answer = "Money is paid back to your card within 30 days after we receive the parcel."
    texts = [boilerplate] * 200 + [answer] + [f"Store number {i} opens at {i} o'clock." for i in range(20)]
    passages = [Passage(chunk_id=f"c{i}", text=t, search_text=t, source=f"doc{i}.html") for i, t in enumerate(texts)]
    embedder = embedders.get(MINILM)
    vectors = VectorIndex.open(path=tmp_path / "chroma")
    vectors.add("kb-repeats", [p.chunk_id for p in passages], embedder.embed_passages(texts))
    query = "How long until I get my refund?"
    q = embedder.embed_query(query)
    cosines = embedder.embed_passages([boilerplate, answer]) @ q
    assert cosines[0] > cosines[1]  # the copies come first in Chroma's answer

    hits = search(query, corpus=Corpus(passages), embedder=embedder, vectors=vectors, collection="kb-repeats", k=5)
    assert [h.text for h in hits].count(boilerplate) == 1
    assert answer in [h.text for h in hits[:3]]
