"""Issue #14, families the bot holds only one member of as a corrected answer: the other
members are FAQ entries of its own knowledge (`Match.look_alike`). Real pairs of the French
government COVID FAQ (../shared/eval/covid_faq_gouv_fr) that a corrected answer gave wrongly
before the knowledge's questions were weighed, with the cosines e5 gives them; then the same
through the real app, where the look-alikes come from the knowledge base's search."""

from __future__ import annotations

from bots.core.corrections import Match, decide
from bots.core.spec import BotSpec
from tests.conftest import ingest
from tests.public_api_support import make_bot

E5 = "multilingual-e5-small"  # threshold 0.96, family margin 0.01


def spec() -> BotSpec:
    return BotSpec.model_validate({"name": "Urssaf"})


def corrected(question: str, score: float, answer: str = "Réponse approuvée.") -> Match:
    return Match("ca_1", question, answer, score, [{"source": "faq.md", "page": None}])


def look_alike(question: str, score: float) -> Match:
    return Match(f"knowledge:{question[:8]}", question, "Le passage de la FAQ.", score, [], look_alike=True)


def decided(asked: str, *matches: Match):
    return decide(spec(), matches, language="fr", embedding_model=E5, question=asked)


DIFFUSEURS = "Comment va se dérouler l’échéance du 15 avril pour les diffuseurs ?"
ARTISTES = "Comment va se dérouler l’échéance du 15 avril pour les artistes-auteurs ?"


def test_the_knowledge_answering_the_question_itself_refuses_a_neighbours_corrected_answer():
    # e5 puts the two at 0.94 to 0.97: the corrected answer for one reached the other.
    alone = decided(ARTISTES, corrected(DIFFUSEURS, 0.965))
    assert alone.direct is not None  # without the knowledge: the wrong answer, word for word
    got = decided(ARTISTES, corrected(DIFFUSEURS, 0.965), look_alike(ARTISTES, 1.0))
    assert got.direct is None
    assert got.refused["sibling"]["question"] == ARTISTES
    assert "the knowledge answers a closer question" in got.refused["why"]
    # Neither is a passage: retrieval brings the knowledge's own entry, and the refused answer
    # first would be quoted all the same by an extractive answer.
    assert got.passages == []


def test_a_closer_knowledge_entry_refuses_even_with_no_word_swapped():
    # One agency's answer is a link to another's page; the customer asks the question the
    # knowledge answers in full. No content word is swapped ("droit" is on one side only):
    # only the nearer entry tells that the corrected answer is for a neighbour.
    link = "La réponse sur le site du Ministère de l'Économie et des Finances."
    asked = "Ai-je le droit d’alterner entre télétravail et chômage partiel ?"
    stored = corrected("Peut-on alterner télétravail et chômage partiel ?", 0.972, link)
    assert decided(asked, stored).direct is not None
    got = decided(asked, stored, look_alike(asked, 1.0))
    assert got.direct is None and got.refused["sibling"]["question"] == asked
    assert (got.refused["asked"], got.refused["approved"]) == ([], [])


def test_a_knowledge_entry_as_close_as_the_corrected_answer_makes_a_swap_of_words_refuse():
    entretien = "Dois-je me rendre à mon entretien prévu à compter du 18 mai ?"
    atelier = "Dois-je me rendre à mon atelier ou à ma formation prévu à compter du 18 mai ?"
    asked = "Dois-je me rendre à mon atelier prévu à compter du 18 mai ?"
    # The look-alike scores a little below the corrected answer, within the family margin.
    got = decided(asked, corrected(entretien, 0.968), look_alike(atelier, 0.962))
    assert got.direct is None
    assert (got.refused["asked"], got.refused["approved"]) == (["atelier"], ["entretien"])
    assert "the knowledge answers a question as close on its own" in got.refused["why"]
    # Below the margin it is no sibling: the lenient check, and the answer is given.
    assert decided(asked, corrected(entretien, 0.968), look_alike(atelier, 0.90)).direct is not None


def test_the_knowledge_entry_a_corrected_answer_was_written_for_is_no_sibling():
    # The team corrected the FAQ's own answer: the entry asks the same question, scores as
    # high or higher, and answers differently (that is why it was corrected).
    question = "Peut-on alterner télétravail et chômage partiel ?"
    got = decided(question, corrected(question, 1.0), look_alike(question + " ", 1.0))
    assert got.direct is not None and got.refused is None


def test_a_corrected_answer_naming_the_faq_entry_as_a_paraphrase_corrects_that_entry():
    # A reviewer corrects the knowledge's own (wrong) answer, in other words than the FAQ's:
    # a customer asking in the FAQ's words finds the entry nearer. Its question among the
    # paraphrases says the corrected answer is for that entry: it is given.
    faq_words = "Peut-on alterner télétravail et chômage partiel ?"
    asked = "Est-il possible d’alterner télétravail et chômage partiel ?"
    stored = corrected("Ai-je le droit d’alterner entre télétravail et chômage partiel ?", 0.965)
    assert decided(asked, stored, look_alike(faq_words, 0.975)).direct is None
    stored = Match(stored.id, stored.question, stored.answer, 0.965, paraphrases=(faq_words,))
    assert decided(asked, stored, look_alike(faq_words, 0.975)).direct is not None


def test_a_look_alike_is_never_given_nor_a_passage():
    got = decided(ARTISTES, look_alike(ARTISTES, 1.0))
    assert (got.direct, got.passages, got.refused) == (None, [], None)


# --- through the app: the knowledge base's FAQ questions as look-alikes -----------------
FAQ = b"""# Shop help

## Can I take ibuprofen while on lithium?

No: ibuprofen raises lithium levels; ask your doctor first.

## Can I take ibuprofen while on antidepressants?

Yes, for a few days, unless your doctor said otherwise.
"""


def test_a_corrected_answer_is_not_given_for_a_question_the_knowledge_answers_on_its_own(api, model):
    # The bot holds one member of the family as a corrected answer, the other only in an FAQ
    # page. A threshold and margin every question here passes: only the family tells them apart.
    bot = make_bot(
        api,
        model.base_url,
        answer={"style": "extractive"},
        corrections={"threshold": 0.5, "floor": 0.3, "family_margin": 0.3},
        publish=False,
    )
    ingest(api, bot, {"medicines.md": FAQ})
    r = api.post(
        f"/admin/bots/{bot}/corrected-answers",
        json={
            "question": "Can I take ibuprofen while on lithium?",
            "answer": "No. Ibuprofen can raise lithium to toxic levels: take paracetamol and call us.",
        },
    )
    assert r.status_code == 201, r.text
    ask = lambda q: api.post(f"/admin/bots/{bot}/playground", json={"message": q, "version": "draft"}).json()  # noqa: E731
    got = ask("Can I take ibuprofen while on antidepressants?")
    assert got["answered_by"] != "corrected"
    refused = got["debug"]["corrected_refused"]
    assert refused["sibling"]["id"].startswith("knowledge:")
    assert refused["sibling"]["question"] == "Can I take ibuprofen while on antidepressants?"
    assert "Yes, for a few days" in got["answer"]  # the knowledge's own entry answers
    # The corrected question itself still gets the approved answer: its own FAQ entry (the
    # answer it corrects) is no sibling.
    own = ask("Can I take ibuprofen while on lithium?")
    assert own["answered_by"] == "corrected" and own["answer"].startswith("No. Ibuprofen can raise")
