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


# Issue #14, families: templated questions that differ by one lower-case word. No capital,
# no number: the specific-terms check alone lets every one of them through.
LITHIUM = "Je suis sous traitement par lithium. Dois-je arrêter mon traitement ?"
ANTIPSYCHOTIQUES = "Je suis sous traitement par antipsychotiques. Dois-je arrêter mon traitement ?"
BENZODIAZEPINES = "Je suis sous traitement par benzodiazépines. Dois-je arrêter mon traitement ?"
# The rule is on by default for e5 only (margin 0.01); with no embedding model named, on here.
FAMILY = BotSpec.model_validate(
    {"name": "Shop", "corrections": {"threshold": 0.9, "floor": 0.5, "family_margin": 0.01}}
)


def test_decide_refuses_a_family_member_for_a_question_about_another_one():
    lithium = Match("lithium", LITHIUM, "Non, ne l'arrêtez pas : parlez-en à votre psychiatre.", 0.975)
    antipsy = Match("antipsy", ANTIPSYCHOTIQUES, "Non, mais surveillez votre température.", 0.972)
    assert difference(BENZODIAZEPINES, LITHIUM) is None  # what the lenient check sees
    decision = decide(FAMILY, [antipsy, lithium], language="fr", embedding_model=None, question=BENZODIAZEPINES)
    assert decision.direct is None
    assert decision.refused is not None and decision.refused["id"] == "lithium"
    assert (decision.refused["asked"], decision.refused["approved"]) == (["benzodiazépines"], ["lithium"])
    # The why names the sibling that made the check strict, for the playground and the logs.
    assert decision.refused["sibling"] == {"id": "antipsy", "question": ANTIPSYCHOTIQUES, "score": 0.972}
    assert ANTIPSYCHOTIQUES in decision.refused["why"]
    # Nothing lost: both are still the top passages.
    assert [h.chunk_id for h in decision.passages] == [CHUNK_PREFIX + "lithium", CHUNK_PREFIX + "antipsy"]


def test_decide_keeps_a_lone_entrys_paraphrase_and_a_family_members_own_question():
    # The same wording difference ("pets and COVID-19" / "transmit the virus"): a lone entry
    # keeps its hit (English paraphrases keep theirs), a family member asked its own
    # question too (the words all shared).
    lone = Match("pets", "Should I be concerned about pets and COVID-19?", "No evidence so far.", 0.97)
    decision = decide(FAMILY, [lone], language="en", embedding_model=None, question="Can pets transmit the virus?")
    assert decision.direct is lone and decision.refused is None
    lithium = Match("lithium", LITHIUM, "Non, ne l'arrêtez pas : parlez-en à votre psychiatre.", 0.99)
    antipsy = Match("antipsy", ANTIPSYCHOTIQUES, "Non, mais surveillez votre température.", 0.975)
    asked = "Sous traitement par lithium, dois-je arrêter mon traitement ?"
    assert decide(FAMILY, [lithium, antipsy], language="fr", embedding_model=None, question=asked).direct is lithium


def test_a_sibling_answers_differently_and_is_about_as_close():
    answer = "Non, ne l'arrêtez pas : parlez-en à votre psychiatre."
    lithium = Match("lithium", LITHIUM, answer, 0.975)
    # The same approved answer stored twice is no family: either is right.
    twin = Match("twin", ANTIPSYCHOTIQUES, " " + answer.upper(), 0.972)
    assert decide(FAMILY, [lithium, twin], language="fr", embedding_model=None, question=BENZODIAZEPINES).direct
    # Below the threshold minus the family margin (0.9 - 0.05 here): not a sibling either.
    far = Match("far", ANTIPSYCHOTIQUES, "Non, mais surveillez votre température.", 0.84)
    spec = BotSpec.model_validate(
        {"name": "Shop", "corrections": {"threshold": 0.9, "floor": 0.5, "family_margin": 0.05}}
    )
    assert decide(spec, [lithium, far], language="fr", embedding_model=None, question=BENZODIAZEPINES).direct
    close = Match("close", ANTIPSYCHOTIQUES, "Non, mais surveillez votre température.", 0.86)
    refused = decide(spec, [lithium, close], language="fr", embedding_model=None, question=BENZODIAZEPINES).refused
    assert refused is not None and refused["sibling"]["id"] == "close"


def test_the_family_rule_is_per_model_and_can_be_switched_off():
    lithium = Match("lithium", LITHIUM, "Non, ne l'arrêtez pas : parlez-en à votre psychiatre.", 0.975)
    antipsy = Match("antipsy", ANTIPSYCHOTIQUES, "Non, mais surveillez votre température.", 0.972)

    def direct(corrections: dict, model: str | None) -> bool:
        spec = BotSpec.model_validate({"name": "Shop", "corrections": corrections})
        found = decide(spec, [lithium, antipsy], language="fr", embedding_model=model, question=BENZODIAZEPINES)
        return found.direct is not None

    assert not direct({}, "multilingual-e5-small")  # e5's default margin: on
    assert direct({"family_check": False}, "multilingual-e5-small")
    # MiniLM: no default (it cost English paraphrases at any margin); a margin turns it on.
    assert direct({"threshold": 0.9}, "all-MiniLM-L6-v2")
    assert not direct({"threshold": 0.9, "family_margin": 0.0}, "all-MiniLM-L6-v2")


def test_a_swap_of_specific_terms_is_refused_without_naming_a_sibling():
    # Refused by the lenient check alone: the sibling did not cause it, so it is not named.
    thirty = Match("30", "Can I return an item within 30 days?", "Yes, within 30 days.", 0.97)
    other = Match("paypal", "Can I return an item bought with PayPal?", "Yes, PayPal refunds too.", 0.965)
    asked = "Can I return an item within 60 days?"
    refused = decide(FAMILY, [thirty, other], language="en", embedding_model=None, question=asked).refused
    assert refused is not None and refused["sibling"] is None
    assert refused["why"] == "corrected answer not used: the question names 60, the approved one names 30"
