"""Finding 5 (medium/low): the search tokenizer cached the stem of every new query word for
as long as a bot's index lived (600 queries of 333 random words kept 29 MB). The corpus's
own words stay cached; words first seen in queries go to a bounded LRU."""

from __future__ import annotations

import random
import string

from knowledge.lexical import LexicalIndex, Tokenizer

PASSAGES = ["Refunds are paid within fourteen days.", "Shipping to Europe takes three working days."]


def _random_words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 12))) for _ in range(n))


def test_query_words_do_not_grow_the_cache_without_bound():
    index = LexicalIndex(PASSAGES, language="english")
    tokenizer = index.tokenize
    vocabulary = dict(tokenizer.vocabulary)
    rng = random.Random(5)
    for _ in range(60):
        index.search(_random_words(rng, 333), 5)
    assert tokenizer.query_cache_size <= Tokenizer.QUERY_CACHE_SIZE
    assert tokenizer.vocabulary == vocabulary, "query words are not added to the corpus vocabulary"
    cached = len(tokenizer.vocabulary) + tokenizer.query_cache_size
    assert cached <= len(vocabulary) + Tokenizer.QUERY_CACHE_SIZE


def test_corpus_words_and_recent_query_words_still_hit_the_cache():
    index = LexicalIndex(PASSAGES, language="english")
    assert index.tokenize("refunds shipping") == ["refund", "ship"]
    index.tokenize("parcel")
    assert index.tokenize.query_cache_size == 1
    index.tokenize("parcel parcel")
    assert index.tokenize.query_cache_size == 1
