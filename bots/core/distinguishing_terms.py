"""Distinguishing terms: the words that make two close questions different questions.

Embeddings put "Je suis utilisateur du Tese, quelles mesures ?" and "… du Cea, quelles
mesures ?" above any useful threshold (issue #14): the one word that differs is the one that
matters. Before a corrected answer is given word for word, the customer's question and the
stored text that matched it must name the same *specific* terms:

- numbers, amounts and dates ("30 days" is not "60 days"; "2024" is not "2025");
- acronyms and codes: two capitals or more in a word ("CEA", "TESE"), letters with digits
  ("B2B", "A320");
- proper names: capitalised words that do not start a sentence ("du Tese", "via PayPal").

A term counts as shared when the other text holds it in any form (case, accents and light
inflections folded: "Tese"/"TESE", "remboursé"/"remboursement", "refund"/"refunds"), so a
name written in lower case on one side is not a difference. A text written in capitals
throughout has no names or acronyms by case (only its numbers count).

The two questions differ when *each* names a term the other does not: a swap ("Tese" for
"Cea", "30" for "60"). A term on one side only ("… for COVID-19?" against a customer who did
not say it) is the same question asked with more or less detail, and stored questions name
their subject far more often than customers do: counting those (`one_sided`) cost 4 to 5
points of English paraphrases at the default thresholds for no wrong answer saved
(benchmarks/corrected_answers.py and its README section, which also measure `content_words`:
every word that is not a function word counts; French templated hard negatives fall from 44%
to 4%, but English paraphrases answered from 25% to 7%, so it is off).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Words that carry no subject of their own, English and French, folded (no accents). Used by
# `content_words`, and so that a capitalised function word ("Is", "Le") is never a name.
_ENGLISH = """
    a an the and or but if of to in on at by for with from into about as is are was were be been
    being am do does did done have has had having can could may might must shall should will would
    i me my we us our you your he him his she her it its they them their this that these those
    there here what which who whom whose when where why how not no yes any some all each every
    other more most much many such only own same so than too very just also again then once
    get got getting please hi hello thanks thank
"""
_FRENCH = """
    le la les l un une des du de d au aux et ou mais si a en dans sur sous par pour avec sans
    chez vers entre est sont etre suis es sommes etes etait ete ai as avons avez ont avoir
    je j me m moi tu te t toi il elle on nous vous ils elles se s lui leur leurs eux
    mon ma mes ton ta tes son sa ses notre nos votre vos ce c cet cette ces ca cela ceci
    qui que qu quoi quel quelle quels quelles dont lequel laquelle lesquels comment pourquoi
    quand combien ne n pas plus moins tres aussi bien tout tous toute toutes autre autres
    meme y peut peux peuvent pouvez puis dois doit doivent devez faut faire fait bonjour merci
"""
FUNCTION_WORDS = frozenset(_ENGLISH.split() + _FRENCH.split())
# With `content_words`: shorter words are too often fillers ("use", "get", "sick") to count.
CONTENT_MIN_LETTERS = 3

_WORD = re.compile(r"[^\W_]+(?:[.,][0-9]+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.?!:;]\s*$")
# Longest suffixes first: light inflections and derivations, English and French.
_SUFFIXES = (
    "issements",
    "issement",
    "ements",
    "ement",
    "ations",
    "ation",
    "ments",
    "ment",
    "ings",
    "ing",
    "ies",
    "ees",
    "ee",
    "es",
    "ed",
    "er",
    "s",
    "x",
    "e",
)


def fold(word: str) -> str:
    """Lower case, no accents, no elision ("l'utilisateur" is split before this)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    """A light stem of a folded word: enough that inflections of one word meet."""
    if any(c.isdigit() for c in word):
        return word.replace(",", ".")
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class Term:
    text: str  # as written
    key: str  # folded and stemmed: what is compared


def _words(text: str) -> list[tuple[str, bool]]:
    """(word, starts a sentence) for each word, apostrophes splitting ("l'eau" → l, eau)."""
    out = []
    for found in _WORD.finditer(text.replace("’", "'")):
        before = text[: found.start()].rstrip(" \t\"'«»(“")
        out.append((found.group(), not before or bool(_SENTENCE_END.search(before))))
    return out


def _specific(word: str, sentence_start: bool) -> bool:
    if any(c.isdigit() for c in word):
        return True  # numbers, amounts, dates, codes with digits
    if len(word) < 2 or fold(word) in FUNCTION_WORDS:
        return False
    capitals = sum(c.isupper() for c in word)
    if capitals >= 2:
        return True  # acronyms and codes: CEA, TESE, iOS
    return capitals == 1 and word[0].isupper() and not sentence_start  # a name mid-sentence


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters)


def specific_terms(text: str, *, content_words: bool = False) -> list[Term]:
    """The terms of `text` that must be matched (see the module docstring), in order."""
    terms: dict[str, Term] = {}
    # In a text in capitals, case says nothing: every word would look like an acronym.
    by_case = not _shouting(text)
    for word, start in _words(text):
        folded = fold(word)
        content = content_words and len(folded) >= CONTENT_MIN_LETTERS and folded not in FUNCTION_WORDS
        if by_case and _specific(word, start) or any(c.isdigit() for c in word) or content:
            terms.setdefault(stem(folded), Term(word, stem(folded)))
    return list(terms.values())


def _keys(text: str) -> set[str]:
    return {stem(fold(word)) for word, _ in _words(text)}


@dataclass(frozen=True)
class Difference:
    """What one question names that the other does not (either side may be empty, not both)."""

    asked: list[str]  # in the customer's question only
    approved: list[str]  # in the stored question only

    def sentence(self) -> str:
        asked = ", ".join(self.asked) or "nothing specific"
        approved = ", ".join(self.approved) or "nothing specific"
        return f"corrected answer not used: the question names {asked}, the approved one names {approved}"


def difference(asked: str, approved: str, *, content_words: bool = False, one_sided: bool = False) -> Difference | None:
    """None when the two questions are not told apart by their specific terms; else what
    each names that the other does not. By default only a swap counts (both sides name
    something of their own); `one_sided`: any term on either side only."""
    asked_keys, approved_keys = _keys(asked), _keys(approved)
    only_asked = [t.text for t in specific_terms(asked, content_words=content_words) if t.key not in approved_keys]
    only_approved = [t.text for t in specific_terms(approved, content_words=content_words) if t.key not in asked_keys]
    if not (only_asked and only_approved if not one_sided else only_asked or only_approved):
        return None
    return Difference(only_asked, only_approved)
