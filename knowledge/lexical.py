"""BM25 over chunk text: finds exact terms (product names, codes, rare words) that dense
embeddings blur. Tokenisation folds case and accents, drops stop words and stems words with
the Snowball stemmer of the knowledge base's language (English or French, detected from the
passages), so 'refunds'/'refunded' and 'remboursements'/'rembourser' meet."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer

_WORD = re.compile(r"\w+")

STOPWORDS = {
    "english": frozenset("""
a an and are as at be but by for from has have how i if in into is it its me my of on or our
so that the their them there these they this to was we what when where which who why will with
you your do does did can could should would about am been being than then too very not no s t
were had also any
""".split()),
    "french": frozenset("""
a au aux avec ce ces cette dans de des du elle en est et il ils je la le les leur lui ma mais me
mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton
tu un une vos votre vous y d l c j n s t m est ete etre ai as avez ont sont fait comment quel
quelle quels quelles dont
""".split()),
}
LANGUAGES = tuple(STOPWORDS)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@lru_cache(maxsize=None)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


def detect_language(texts: list[str]) -> str:
    """The language whose stop words are most frequent in (a sample of) the texts."""
    counts = dict.fromkeys(LANGUAGES, 0)
    for text in texts[:: max(1, len(texts) // 200)]:
        words = _fold(text.lower()).split()
        for language, stop in STOPWORDS.items():
            counts[language] += sum(1 for w in words if w in stop)
    return max(counts, key=counts.__getitem__)


class Tokenizer:
    """Lower-cased, accent-folded, stop-word-free Snowball stems. Stems are cached per word:
    a knowledge base's vocabulary is far smaller than its word count."""

    def __init__(self, language: str = "english"):
        self.language = language
        self._stop = STOPWORDS[language]
        self._stem = _stemmer(language).stemWord
        self._cache: dict[str, str] = {}

    def __call__(self, text: str) -> list[str]:
        out = []
        for word in _WORD.findall(text.lower()):
            token = self._cache.get(word)
            if token is None:
                # Folding first: people often type French without accents, and
                # "salarié" and "salarie" must become the same stem.
                folded = _fold(word)
                token = "" if folded in self._stop else self._stem(folded)
                self._cache[word] = token
            if token:
                out.append(token)
        return out


class LexicalIndex:
    def __init__(self, texts: list[str], language: str | None = None):
        self._size = len(texts)
        self.tokenize = Tokenizer(language or detect_language(texts))
        self._bm25 = bm25s.BM25()
        tokens = [self.tokenize(t) or ["∅"] for t in texts]
        if tokens:
            self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(position in the indexed texts, BM25 score), best first, positive scores only."""
        terms = self.tokenize(query)
        if not terms or self._size == 0:
            return []
        scores = self._bm25.get_scores(terms)
        k = min(k, self._size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
