"""BM25 over chunk text: finds exact terms (product names, codes, rare words) that dense
embeddings blur. Tokenisation folds case and accents, drops stop words and stems words with
the Snowball stemmer of the knowledge base's language (English or French, detected from the
passages), so 'refunds'/'refunded' and 'remboursements'/'rembourser' meet."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterator
from functools import cache

import bm25s
import numpy as np
import Stemmer
from spellchecker import SpellChecker

_WORD = re.compile(r"\w+")

STOPWORDS = {
    "english": frozenset(
        [
            "a",
            "an",
            "and",
            "are",
            "as",
            "at",
            "be",
            "but",
            "by",
            "for",
            "from",
            "has",
            "have",
            "how",
            "i",
            "if",
            "in",
            "into",
            "is",
            "it",
            "its",
            "me",
            "my",
            "of",
            "on",
            "or",
            "our",
            "so",
            "that",
            "the",
            "their",
            "them",
            "there",
            "these",
            "they",
            "this",
            "to",
            "was",
            "we",
            "what",
            "when",
            "where",
            "which",
            "who",
            "why",
            "will",
            "with",
            "you",
            "your",
            "do",
            "does",
            "did",
            "can",
            "could",
            "should",
            "would",
            "about",
            "am",
            "been",
            "being",
            "than",
            "then",
            "too",
            "very",
            "not",
            "no",
            "s",
            "t",
            "were",
            "had",
            "also",
            "any",
        ]
    ),
    "french": frozenset(
        [
            "a",
            "au",
            "aux",
            "avec",
            "ce",
            "ces",
            "cette",
            "dans",
            "de",
            "des",
            "du",
            "elle",
            "en",
            "est",
            "et",
            "il",
            "ils",
            "je",
            "la",
            "le",
            "les",
            "leur",
            "lui",
            "ma",
            "mais",
            "me",
            "mes",
            "moi",
            "mon",
            "ne",
            "nos",
            "notre",
            "nous",
            "on",
            "ou",
            "par",
            "pas",
            "pour",
            "qu",
            "que",
            "qui",
            "sa",
            "se",
            "ses",
            "son",
            "sur",
            "ta",
            "te",
            "tes",
            "toi",
            "ton",
            "tu",
            "un",
            "une",
            "vos",
            "votre",
            "vous",
            "y",
            "d",
            "l",
            "c",
            "j",
            "n",
            "s",
            "t",
            "m",
            "est",
            "ete",
            "etre",
            "ai",
            "as",
            "avez",
            "ont",
            "sont",
            "fait",
            "comment",
            "quel",
            "quelle",
            "quels",
            "quelles",
            "dont",
        ]
    ),
}
LANGUAGES = tuple(STOPWORDS)
_DICTIONARY_CODES = {"english": "en", "french": "fr"}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@cache
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
    a knowledge base's vocabulary is far smaller than its word count. Once the corpus is
    indexed (`freeze()`), its words stay cached and new words (from queries, which anyone
    may send with fresh random words for as long as the index lives) go to a bounded LRU."""

    QUERY_CACHE_SIZE = 4096

    def __init__(self, language: str = "english"):
        self.language = language
        self._stop = STOPWORDS[language]
        self._stem = _stemmer(language).stemWord
        # The corpus's words -> stems; Spelling reads the corpus vocabulary from it.
        self.vocabulary: dict[str, str] = {}
        self._query_words: OrderedDict[str, str] = OrderedDict()
        self._frozen = False

    def freeze(self) -> None:
        """The corpus is tokenized: words seen from now on are cached in the bounded LRU."""
        self._frozen = True

    @property
    def query_cache_size(self) -> int:
        return len(self._query_words)

    def __call__(self, text: str) -> list[str]:
        out = []
        for word in _WORD.findall(text.lower()):
            token = self.vocabulary.get(word)
            if token is None:
                token = self._query_token(word) if self._frozen else self._new_token(word)
                if not self._frozen:
                    self.vocabulary[word] = token
            if token:
                out.append(token)
        return out

    def _query_token(self, word: str) -> str:
        token = self._query_words.get(word)
        if token is not None:
            self._query_words.move_to_end(word)
            return token
        token = self._new_token(word)
        self._query_words[word] = token
        if len(self._query_words) > self.QUERY_CACHE_SIZE:
            self._query_words.popitem(last=False)
        return token

    def _new_token(self, word: str) -> str:
        # Folding first: people often type French without accents, and
        # "salarié" and "salarie" must become the same stem.
        folded = _fold(word)
        return "" if folded in self._stop else self._stem(folded)


class LexicalIndex:
    def __init__(self, texts: list[str], language: str | None = None):
        self._size = len(texts)
        self.tokenize = Tokenizer(language or detect_language(texts))
        self._bm25 = bm25s.BM25()
        tokens = [self.tokenize(t) or ["∅"] for t in texts]
        if tokens:
            self._bm25.index(tokens, show_progress=False)
        self.tokenize.freeze()
        self._spelling = Spelling(self.tokenize, tokens)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(position in the indexed texts, BM25 score), best first, positive scores only.
        A misspelt query word also searches for the corpus word it most likely meant."""
        terms = self.tokenize(query)
        terms += [self.tokenize(w)[0] for w in self._spelling.corrections(query).values()]
        if not terms or self._size == 0:
            return []
        scores = self._bm25.get_scores(terms)
        k = min(k, self._size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def respell(self, query: str) -> str:
        """The query with its misspelt words replaced by the corpus words they most likely
        meant (the query itself when none is)."""
        fixes = self._spelling.corrections(query)
        if not fixes:
            return query
        return _WORD.sub(lambda m: fixes.get(m.group().lower(), m.group()), query)


@cache
def dictionary(language: str) -> frozenset[str]:
    """The words of the language (pyspellchecker's bundled word list, ~150k words drawn
    from subtitles): a query word found there is a real word, whatever the corpus holds."""
    return frozenset(SpellChecker(language=_DICTIONARY_CODES[language]).word_frequency.keys())


class Spelling:
    """Users type fast ("gendr affirming care", "hearin servises"), and a misspelt word
    matches nothing in BM25 and blurs the query's embedding. A query word whose stem the
    corpus lacks is taken for a typo of the most frequent corpus word one edit away, if
    there is one: one edit is what a slip of the finger makes, and checking the ~50·n
    edits of the rare unknown word against a set costs far less than a search. Short
    words are left alone: at three letters one edit reaches too many real words, and
    below seven a wrong or extra letter too ("came"/"case", "border"/"order"), so those
    only get a left-out or swapped letter put right ("gendr", "helath").
    A word of the language's dictionary is never a typo, even if the corpus lacks it: one
    edit from "injections" lies "infections", from "envie" "envoie". Nor is a word typed in
    capitals: "AINS" is an acronym, not a slip of "ainsi".
    The work is bounded, since anyone may send the question: the edits of a word grow with
    its length (a 2,000-letter word made ~190 MB of them), so longer words than any real
    one are left alone, and only the first few unknown words of a question are corrected."""

    MIN_LENGTH = 4
    MIN_LENGTH_REPLACED = 7
    MAX_LENGTH = 30
    MAX_WORDS = 8

    def __init__(self, tokenize: Tokenizer, tokens: list[list[str]]):
        self._tokenize = tokenize
        self._dictionary = dictionary(tokenize.language)
        df: Counter[str] = Counter()
        for doc in tokens:
            df.update(set(doc))
        self._stems = df
        # Accent-folded surface words of the corpus -> how many passages hold their stem.
        self._words = {_fold(w): df[t] for w, t in tokenize.vocabulary.items() if t and df[t]}
        letters = Counter(ch for w in self._words for ch in w if ch.isalpha())
        self._alphabet = "".join(ch for ch, _ in letters.most_common(60))

    def corrections(self, query: str) -> dict[str, str]:
        """{misspelt word (lower case): corpus word}"""
        fixes: dict[str, str] = {}
        tried = 0
        for typed in _WORD.findall(query):
            if typed.isupper():
                continue
            word = typed.lower()
            folded = _fold(word)
            # A word typed with its accents was typed with care; one the corpus lacks
            # ("pêche", "père") is rather a real word than a slip, and one edit from it
            # lies a different word ("penche", "opere").
            if (
                len(folded) < self.MIN_LENGTH
                or len(folded) > self.MAX_LENGTH
                or not folded.isalpha()
                or folded in self._words
                or folded != word
                or word in fixes
                or word in self._dictionary
            ):
                continue
            stems = self._tokenize(word)
            if not stems or stems[0] in self._stems:
                continue
            if tried == self.MAX_WORDS:
                break
            tried += 1
            kinds = 1 if len(folded) < self.MIN_LENGTH_REPLACED else 2
            for candidates in itertools.islice(self._edits(folded), kinds):
                known = [c for c in candidates if c in self._words]
                if known:
                    fixes[word] = max(known, key=lambda c: (self._words[c], c))
                    break
        return fixes

    def _edits(self, word: str) -> Iterator[set[str]]:
        """The words one edit away, likeliest slips first: a letter left out or two letters
        swapped ("typs" is rather "types" than "tips"), then a wrong or an extra letter.
        Each set is built only when the one before found nothing."""
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        yield {a + c + b for a, b in splits for c in self._alphabet} | {
            a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1
        }
        yield {a + c + b[1:] for a, b in splits if b for c in self._alphabet} | {a + b[1:] for a, b in splits if b}
