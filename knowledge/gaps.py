"""Knowledge gaps, the pure part: questions (as normalised vectors) grouped into topics by
similarity, each topic labelled with its questions' own words. No model, no SQL: the caller
embeds the questions with the bot's embedder and brings them here.

Clustering is leader clustering with one reassignment pass: each question joins the topic
whose centroid is closest if that similarity reaches the threshold, else starts a new topic;
then every question moves to its closest final centroid (so the order questions came in
matters less). It costs O(questions x topics) dot products in numpy blocks, about a second for
10,000 questions on 2 cores (benchmarks/gaps.py), where agglomerative clustering needs the
whole n x n matrix (400 MB at 10,000)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

# Thresholds on the cosine similarity of a question and its topic's centroid, per embedding
# model (each model spreads cosines differently), chosen with benchmarks/gaps.py. MiniLM 0.50:
# the best ARI on CLINC150's 150 intents (purity 0.85, recall 0.68; 0.60 gives purity 0.93 but
# splits intents in two). e5 0.93: on French service-public questions grouped by page, the
# best balance (purity 0.66, recall 0.62); e5 puts unrelated French questions near 0.86 and
# paraphrases at 0.90-0.95, so below 0.92 topics swallow each other.
DEFAULT_THRESHOLD = {"all-MiniLM-L6-v2": 0.50, "multilingual-e5-small": 0.93}
FALLBACK_THRESHOLD = 0.60

# Words that say nothing about a topic, in both languages the bots speak most; they never
# make a label. Question words and courtesy ("please", "bonjour") are here on purpose.
_STOP_WORDS = """
    a about after again all am an and any are as at be been before being but by can could did do
    does doing don down during each few for from further had has have having he her here hers him
    his how i if in into is it its itself just me more most my myself no nor not now of off on once
    only or other our ours out over own same she should so some such than that the their theirs them
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself hi hello hey please thanks thank
    want need know tell get got let like im ive id dont cant isnt doesnt whats hows one also may
    au aux avec ce ces cet cette dans de des du elle elles en est et eu il ils je la le les leur
    leurs lui ma mais me mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son
    sur ta te tes toi ton tu un une vos votre vous y été être avoir ai as avez ont suis es sommes
    êtes sont fait faire peut peux puis pouvez comment quand quel quelle quels quelles quoi où est-ce
    estce si plus très bien bonjour merci svp stp alors aussi donc ça cela ceci dois doit veux voudrais
    aimerais besoin faut il-y-a
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

_WORD = re.compile(r"[^\W\d_][\w'-]*", re.UNICODE)


@dataclass
class Topic:
    members: list[int]  # indexes into the questions given, the central one first
    centroid: np.ndarray = field(repr=False)
    label: str = ""


def threshold_for(embedding_model: str | None) -> float:
    return DEFAULT_THRESHOLD.get(embedding_model or "", FALLBACK_THRESHOLD)


def cluster(vectors: np.ndarray, threshold: float, block: int = 256) -> list[list[int]]:
    """Groups of row indexes of `vectors` (L2-normalised), largest group first, each group's
    most central row first."""
    n = len(vectors)
    if n == 0:
        return []
    vectors = np.asarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    sums = np.zeros((min(n, 1024), dim), dtype=np.float32)  # per topic: the sum of its members
    centroids = np.zeros_like(sums)
    k = 0
    for start in range(0, n, block):
        chunk = vectors[start : start + block]
        # Similarities to the centroids known before this block, in one product; topics a
        # block opens are then compared row by row (only against those new ones).
        known = k
        sims = chunk @ centroids[:known].T if known else np.empty((len(chunk), 0), dtype=np.float32)
        for row, v in enumerate(chunk):
            best, best_sim = -1, threshold
            if known:
                j = int(np.argmax(sims[row]))
                if sims[row, j] >= best_sim:
                    best, best_sim = j, float(sims[row, j])
            if k > known:
                fresh = centroids[known:k] @ v
                j = int(np.argmax(fresh))
                if fresh[j] >= best_sim:
                    best = known + j
            if best < 0:
                if k == len(sums):  # grow the topic arrays
                    sums = np.vstack([sums, np.zeros_like(sums)])
                    centroids = np.vstack([centroids, np.zeros_like(centroids)])
                best = k
                k += 1
            sums[best] += v
            norm = np.linalg.norm(sums[best])
            centroids[best] = sums[best] / max(float(norm), 1e-12)
    # One reassignment pass: each question to its closest final centroid.
    final = centroids[:k]
    assignment = np.empty(n, dtype=np.int64)
    closeness = np.empty(n, dtype=np.float32)
    for start in range(0, n, 4096):
        sims = vectors[start : start + 4096] @ final.T
        assignment[start : start + 4096] = np.argmax(sims, axis=1)
        closeness[start : start + 4096] = sims.max(axis=1)
    groups: dict[int, list[int]] = {}
    for i in np.argsort(-closeness, kind="stable"):
        groups.setdefault(int(assignment[i]), []).append(int(i))
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def words(text: str) -> list[str]:
    """Lower-case words, accents kept (they are the questions' own words), elisions cut
    (l'assurance -> assurance), stop words dropped."""
    text = unicodedata.normalize("NFC", text.lower()).replace("\u2019", "'")
    out = []
    for w in _WORD.findall(text):
        w = w.split("'")[-1] if "'" in w[:3] else w.strip("'-")
        if len(w) > 1 and w not in STOP_WORDS and w.replace("'", "") not in STOP_WORDS:
            out.append(w)
    return out


def label_topics(texts: list[str], groups: list[list[int]], max_words: int = 3) -> list[str]:
    """A short label per group from its questions' words: the terms (words and bigrams) most
    frequent in the group relative to all the questions (tf x idf over groups), so "card" in
    a bank's gaps labels only the topic where it sets questions apart."""
    term_sets = [_terms(texts[i]) for i in range(len(texts))]
    group_terms: list[Counter] = []
    for g in groups:
        c: Counter = Counter()
        for i in g:
            c.update(term_sets[i])  # a set: counts questions, not repetitions
        group_terms.append(c)
    df: Counter = Counter()
    for c in group_terms:
        df.update(c.keys())
    n_groups = len(groups)
    labels = []
    for g, c in zip(groups, group_terms, strict=True):
        if not c:
            labels.append(_short(texts[g[0]]))
            continue

        def weight(term: str, c: Counter = c, size: int = len(g)) -> float:
            share = c[term] / size
            idf = np.log((1 + n_groups) / (1 + df[term])) + 1
            bonus = 1.3 if " " in term else 1.0  # a bigram that holds is the clearer label
            return share * idf * bonus

        ranked = sorted(c, key=lambda term: (-weight(term), term))
        chosen: list[str] = []
        for term in ranked:
            # Only terms that a fair share of the group uses; a singleton's words all qualify.
            if c[term] < max(1, 0.3 * len(g)) and chosen:
                break
            if any(w in chosen_w.split() for chosen_w in chosen for w in term.split()):
                continue  # "card" after "lost card" adds nothing
            chosen.append(term)
            if sum(len(x.split()) for x in chosen) >= max_words:
                break
        labels.append(" · ".join(chosen) if chosen else _short(texts[g[0]]))
    return labels


def _terms(text: str) -> set[str]:
    ws = words(text)
    return set(ws) | {f"{a} {b}" for a, b in zip(ws, ws[1:], strict=False)}


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
