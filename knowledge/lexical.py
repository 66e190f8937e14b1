"""BM25 over chunk text: finds exact terms (product names, codes, rare words) that dense
embeddings blur. Tokenisation folds case and accents and drops English/French stop words."""
from __future__ import annotations

import re
import unicodedata

import bm25s
import numpy as np

_WORD = re.compile(r"[a-z0-9]+")

STOPWORDS = frozenset("""
a an and are as at be but by for from has have how i if in into is it its me my of on or our
so that the their them there these they this to was we what when where which who why will with
you your do does did can could should would about am been being than then too very not no
au aux avec ce ces cette dans de des du elle en est et il ils je la le les leur lui ma mais me
mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton
tu un une vos votre vous y d l c j n s t m qu est ete etre ai as avez ont sont fait comment quel
quelle quels quelles
""".split())


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def _stem(word: str) -> str:
    """A light stemmer shared by English and French: plurals and a few common endings, so
    'refunds'/'refund' and 'remboursements'/'remboursement' meet."""
    for suffix in ("ements", "ement", "ations", "ation", "ings", "ing", "ies", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def tokenize(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(_fold(text)) if w not in STOPWORDS]


class LexicalIndex:
    def __init__(self, texts: list[str]):
        self._size = len(texts)
        self._bm25 = bm25s.BM25()
        tokens = [tokenize(t) or ["∅"] for t in texts]
        if tokens:
            self._bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(position in the indexed texts, BM25 score), best first, positive scores only."""
        terms = tokenize(query)
        if not terms or self._size == 0:
            return []
        scores = self._bm25.get_scores(terms)
        k = min(k, self._size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
