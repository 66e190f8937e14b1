"""Finding 3 (medium): one long word cost a second of CPU and ~190 MB in the spelling
corrector, which built every one-edit variant of a query word of any length, twice per
question. Words longer than any real word are not corrected, and only the first few unknown
words of a question are."""

from __future__ import annotations

import random
import string
import time

from knowledge.lexical import LexicalIndex, Spelling

PASSAGES = [
    "Refunds are paid within fourteen days of the return.",
    "Shipping to Europe takes three to five working days.",
    "Warranty claims need the original receipt and the serial number.",
]


def _timed(call) -> tuple[object, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_a_2000_character_word_is_not_worth_correcting():
    index = LexicalIndex(PASSAGES, language="english")
    word = "".join(random.Random(1).choices(string.ascii_lowercase, k=2000))
    fixes, seconds = _timed(lambda: index._spelling.corrections(word))
    assert fixes == {}
    assert seconds < 0.05, f"correcting one long word took {seconds * 1000:.0f} ms"
    # The whole lexical path of a question (search then respell) stays cheap as well.
    _, seconds = _timed(lambda: (index.search(word, 5), index.respell(word)))
    assert seconds < 0.1, f"search and respell took {seconds * 1000:.0f} ms"


def test_a_question_of_many_unknown_words_corrects_only_a_few():
    index = LexicalIndex(PASSAGES, language="english")
    rng = random.Random(2)
    words = ["".join(rng.choices(string.ascii_lowercase, k=Spelling.MAX_LENGTH)) for _ in range(300)]
    tried = []
    original = index._spelling._edits

    def counting(word):
        tried.append(word)
        return original(word)

    index._spelling._edits = counting
    index._spelling.corrections(" ".join(words))
    assert len(tried) == Spelling.MAX_WORDS


def test_typos_of_ordinary_words_are_still_put_right():
    index = LexicalIndex(PASSAGES, language="english")
    assert index._spelling.corrections("refnds warrantyy") == {"refnds": "refunds", "warrantyy": "warranty"}
