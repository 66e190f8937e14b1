"""The groundedness guard: invented facts are caught, facts written differently are not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bots.core.grounding import contradicted_sentences, number_values, unsupported_claims
from knowledge.documents import Hit

EN = Hit(
    chunk_id="c1",
    score=1.0,
    text=(
        "Emergency care is covered by Northwind Health Plus, even out of network. The copay is $1,000.50 per "
        "stay and 20% after the deductible. Call +1 (800) 555-0199 or write to help@contoso.com, or see "
        "[the benefits page](https://www.contoso.com/benefits). Claims must be filed within 90 days and "
        'before March 1, 2024. Ask about the "Wellness Rewards" program.'
    ),
)
FR = (
    "Le forfait coûte 1\u202f000,50\u00a0€ et la franchise est de dix pour cent. Le délai est de deux "
    "semaines. Appelez le 01 23 45 67 89 avant le 1er mars 2020. La ville compte 1 000 000 habitants."
)


def kinds(answer: str, passages=(EN,), question: str = "") -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in unsupported_claims(answer, list(passages), question)]


@pytest.mark.parametrize(
    "answer, claim",
    [
        ("There is a $10/month gym fee.", ("amount", "$10")),
        ("The copay is 1000 euros per stay.", ("amount", "1000 euros")),
        ("Call 555-123-4567 for help.", ("phone", "555-123-4567")),
        ("File claims before June 3, 2024.", ("date", "June 3, 2024")),
        ("Write to claims@contoso.com.", ("email", "claims@contoso.com")),
        ("See https://gym.example.com/join.", ("url", "https://gym.example.com/join")),
        ("You get a 15% discount.", ("percent", "15%")),
        ("Claims must be filed within 30 days.", ("duration", "30 days")),
        ("Up to 12 visits are covered.", ("number", "12")),
        ('Join the "Gold Plan" today.', ("quote", "Gold Plan")),
    ],
)
def test_an_invented_fact_is_flagged(answer, claim):
    assert kinds(answer) == [claim]


@pytest.mark.parametrize(
    "answer",
    [
        "The copay is 1000.50 dollars per stay, and 20 percent after the deductible [1].",
        "The copay is USD 1,000.50. Call 1-800-555-0199 or help@contoso.com.",
        "File within 90 days, before 1 March 2024; see contoso.com or https://contoso.com/benefits/.",
        "Emergency care is covered. 1. Call the plan. 2) Write to it. Ask for the \u201cWellness Rewards\u201d.",
        "Claims are due by March 2024, within ninety days at most.",
    ],
)
def test_a_correct_answer_written_differently_passes(answer):
    assert kinds(answer) == []


def test_french_spellings_of_the_same_facts_pass():
    answer = (
        "Le forfait coûte 1000,50 euros (soit 1 000,50 €), la franchise est de 10 %, soit dix pour cent, "
        "le délai de 14 jours. Appelez le +33 1 23 45 67 89 avant le 01/03/2020. 1 000 000 habitants."
    )
    assert kinds(answer, [FR]) == []
    assert kinds("Avant le 3 août 2020.", [FR]) == [("date", "3 août 2020")]
    assert kinds("Le forfait coûte 1 200 € et le délai est de 3 mois.", [FR]) == [
        ("amount", "1 200 €"),
        ("duration", "3 mois"),
    ]


def test_the_question_supports_what_it_states():
    assert kinds("Yes, the 2025 plan covers it.") == [("number", "2025")]
    assert kinds("Yes, the 2025 plan covers it.", question="Does the 2025 plan cover it?") == []


def test_a_duration_is_not_supported_by_the_same_number_as_an_amount():
    assert kinds("Claims are paid within 20 days.", ["The fee is $20."]) == [("duration", "20 days")]


def test_written_numbers_mean_every_value_they_can():
    assert number_values("1,000") == {Decimal(1000), Decimal(1)}
    assert number_values("1 000,50") == {Decimal("1000.5")}
    assert number_values("1.000,5") == {Decimal("1000.5")}
    assert number_values("2.5") == {Decimal("2.5")}


def test_a_number_ending_a_sentence_is_no_list_marker():
    assert kinds("The copay: 25. Then call.") == [("number", "25")]


def test_no_passages_means_every_fact_is_unsupported():
    assert kinds("Call 555-0199 by 2024.", []) == [("phone", "555-0199"), ("number", "2024")]
    assert kinds("", [EN]) == []


def test_a_sentence_negating_its_passage_is_found():
    found = contradicted_sentences("Northwind Health Plus does not cover emergency care.", [EN])
    assert [c.passage_sentence for c in found] == [
        "Emergency care is covered by Northwind Health Plus, even out of network."
    ]
    assert found[0].hit is EN
    assert contradicted_sentences("Emergency care is covered by Northwind Health Plus.", [EN]) == []
    assert contradicted_sentences("Dental care is not covered.", [EN]) == []  # no passage says so
    french = contradicted_sentences("Le forfait ne coûte pas 1 000,50 € avec franchise.", [FR], language="fr")
    assert len(french) == 1
