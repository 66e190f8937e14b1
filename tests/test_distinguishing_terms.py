"""The distinguishing-terms check (issue #14): two questions a cosine puts together but that
name different things ("du Tese" / "du Cea", "30 days" / "60 days") are told apart, and real
paraphrases (inflections, reordered words, more or less detail) are not. Then `decide`: a
refused match is not given word for word but stays the top passage, and says why."""

from __future__ import annotations

import pytest

from bots.core.corrections import CHUNK_PREFIX, Match, decide
from bots.core.distinguishing_terms import difference
from bots.core.spec import BotSpec

SWAPS = [
    # French templated FAQ questions that differ by one scheme (e5 cosine above 0.96).
    (
        "Je suis utilisateur du Tese, quelles sont les mesures exceptionnelles ?",
        "Je suis utilisateur du Cea, quelles sont les mesures exceptionnelles ?",
        ["Tese"],
        ["Cea"],
    ),
    (
        "Le service Cesu + peut-il être utilisé ?",
        "Le service Pajemploi + peut-il être utilisé ?",
        ["Cesu"],
        ["Pajemploi"],
    ),
    ("Can I return an item within 30 days?", "Can I return an item within 60 days?", ["30"], ["60"]),
    ("Puis-je être remboursé sous 14 jours ?", "Puis-je être remboursé sous 30 jours ?", ["14"], ["30"]),
    ("Is the fee 9.90 euros?", "Is the fee 12.50 euros?", ["9.90"], ["12.50"]),
    ("Do you ship to the UK?", "Do you ship to the EU?", ["UK"], ["EU"]),
    ("Does plan B2B include support?", "Does plan B2C include support?", ["B2B"], ["B2C"]),
    ("Can I pay with PayPal?", "Can I pay with Klarna?", ["PayPal"], ["Klarna"]),
]

PARAPHRASES = [
    ("Comment être remboursé ?", "Quel est le délai de remboursement ?"),
    ("Les remboursements sont-ils rapides ?", "Un remboursement est-il rapide ?"),
    ("How do refunds work?", "How does a refund work?"),
    ("Can I pay with a gift card?", "Is it possible to use a gift card to pay?"),
    ("Within 30 days, can I return an item?", "Can I return an item within 30 days?"),
    ("L'Assurance Maladie rembourse-t-elle le test ?", "Le test est-il remboursé par l'Assurance maladie ?"),
    ("Do you ship to the uk?", "Do you ship to the UK?"),
    # More or less detail on one side only: the same question (stored questions name their
    # subject more often than customers do).
    ("Can pets transmit the virus?", "Should I be concerned about pets and COVID-19?"),
    ("Quelles mesures pour les indépendants ?", "Quelles mesures pour les indépendants en 2020 ?"),
    # A question in capitals: its words are not all acronyms.
    ("Comment dois-je m'actualiser ?", "COMMENT DOIS-JE M'ACTUALISER EN CHÔMAGE PARTIEL ?"),
]


@pytest.mark.parametrize(("asked", "approved", "only_asked", "only_approved"), SWAPS)
def test_a_swapped_specific_term_tells_the_questions_apart(asked, approved, only_asked, only_approved):
    found = difference(asked, approved)
    assert found is not None
    assert (found.asked, found.approved) == (only_asked, only_approved)
    assert only_asked[0] in found.sentence() and only_approved[0] in found.sentence()


@pytest.mark.parametrize(("asked", "approved"), PARAPHRASES)
def test_paraphrases_with_inflections_reordering_and_detail_are_the_same_question(asked, approved):
    assert difference(asked, approved) is None


def test_a_capitalised_word_at_the_start_of_a_sentence_is_not_a_name():
    assert (
        difference("Refunds: how long? Delivery takes how long?", "Refunds: how long? Shipping takes how long?") is None
    )


SPEC = BotSpec.model_validate({"name": "Shop", "corrections": {"threshold": 0.9, "floor": 0.5}})


def match(
    question: str, score: float, matched: str = "", answer: str = "Returns are accepted within 30 days."
) -> Match:
    return Match("a1", question, answer, score, [], matched=matched)


def test_decide_refuses_a_swapped_term_and_keeps_the_answer_as_the_top_passage():
    close = match("Can I return an item within 30 days?", 0.97)
    decision = decide(
        SPEC, [close], language="en", embedding_model=None, question="Can I return an item within 60 days?"
    )
    assert decision.direct is None
    assert [h.chunk_id for h in decision.passages] == [CHUNK_PREFIX + "a1"]
    assert decision.refused is not None
    assert (decision.refused["asked"], decision.refused["approved"]) == (["60"], ["30"])
    assert decision.refused["why"] == "corrected answer not used: the question names 60, the approved one names 30"


def test_decide_compares_with_the_paraphrase_that_matched():
    # One approved answer for two schemes: the paraphrase names the customer's one.
    answer = "Les mêmes mesures exceptionnelles s'appliquent aux deux régimes."
    both = match("Quelles mesures pour les utilisateurs du Tese ?", 0.97, "Quelles mesures pour le Cea ?", answer)
    decision = decide(SPEC, [both], language="fr", embedding_model=None, question="Quelles mesures pour le Cea ?")
    assert decision.direct is both and decision.refused is None
