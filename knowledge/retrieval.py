"""Hybrid retrieval: dense (Chroma) and BM25 candidates fused by their standardised scores,
over an immutable snapshot of a knowledge base, so a search never sees half of a
re-ingested file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from knowledge.documents import Hit
from knowledge.embedding import Embedder
from knowledge.lexical import LexicalIndex
from knowledge.vector_index import VectorIndex

CANDIDATES = 50
# A chunk may have a second vector (an FAQ entry's question alone) stored under its id plus
# this suffix; its dense score is the best of its vectors.
QUESTION_SUFFIX = "#q"


def question_vector_id(chunk_id: str) -> str:
    return chunk_id + QUESTION_SUFFIX


def vector_ids(chunk_id: str, has_question: bool) -> list[str]:
    """Every vector id of one chunk, so deleting a chunk deletes all of them."""
    return [chunk_id, question_vector_id(chunk_id)] if has_question else [chunk_id]


def _chunk_of(vector_id: str) -> str:
    return vector_id.removesuffix(QUESTION_SUFFIX)


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    text: str
    search_text: str
    source: str
    page: int | None = None
    document_id: str = ""
    headings: list[str] = field(default_factory=list)


class Corpus:
    """The searchable chunks of one knowledge base at one moment, with their BM25 index.
    Built from the source of truth (SQL) and swapped whole when documents change."""

    def __init__(self, passages: list[Passage]):
        self.passages = passages
        self.by_id = {p.chunk_id: p for p in passages}
        # Knowledge bases repeat passages (a boilerplate answer under hundreds of FAQ
        # questions, a notice on every page). Each distinct search text is scored once, under
        # its first chunk: its copies would otherwise fill both candidate lists, leaving the
        # retrievers nothing else to rank, and make every copy's standardised score zero.
        first: dict[str, str] = {}
        self.canonical = {p.chunk_id: first.setdefault(p.search_text, p.chunk_id) for p in passages}
        self.distinct = [p for p in passages if self.canonical[p.chunk_id] == p.chunk_id]
        self.lexical = LexicalIndex([p.search_text for p in self.distinct])
        # Passages whose text is the same under different headings: one in the results.
        self.text_key = {p.chunk_id: hash(" ".join(p.text.split()).casefold()) for p in passages}

    def __len__(self) -> int:
        return len(self.passages)


@dataclass(frozen=True)
class Fusion:
    """How the two rankings are combined. `dense_weight` is the dense share of the fused
    score (the lexical share is the rest). `mode`:
    - "z": each retriever's scores standardised over its own candidates;
    - "z_union": both standardised over every candidate either retriever found (a passage
      BM25 does not match counts as 0 there), so a handful of weak lexical matches does
      not turn every other passage into an outlier;
    - "agree": "z_union" whose lexical share shrinks to the extent BM25's top 10 and the
      dense top 10 disagree.
    `respell_dense`: embed the query with its typos put right (BM25 always also searches
    the corrected words)."""

    dense_weight: float = 0.5
    mode: str = "z"
    respell_dense: bool = True


DEFAULT_FUSION = Fusion()


@dataclass
class Candidates:
    """Both retrievers' candidates for one query, before fusion: chunk id -> cosine (the
    dense candidates, plus the cosine of every lexical candidate) and chunk id -> BM25
    score, with the score lists each retriever is standardised over."""

    dense: dict[str, float]
    dense_pool: list[float]
    lexical: dict[str, float]
    lexical_pool: list[float]


def search(
    query: str,
    *,
    corpus: Corpus,
    embedder: Embedder,
    vectors: VectorIndex,
    collection: str,
    k: int = 5,
    fusion: Fusion = DEFAULT_FUSION,
) -> list[Hit]:
    if not query.strip() or len(corpus) == 0:
        return []
    found = candidates(query, corpus=corpus, embedder=embedder, vectors=vectors, collection=collection, fusion=fusion)
    fused = fuse(found, fusion)
    hits = []
    for cid in top(fused, corpus, k):
        p = corpus.by_id[cid]
        hits.append(
            Hit(
                chunk_id=cid,
                score=fused[cid],
                dense_score=found.dense.get(cid),
                lexical_score=found.lexical.get(cid),
                text=p.text,
                source=p.source,
                page=p.page,
                document_id=p.document_id,
                headings=list(p.headings),
            )
        )
    return hits


def candidates(
    query: str,
    *,
    corpus: Corpus,
    embedder: Embedder,
    vectors: VectorIndex,
    collection: str,
    fusion: Fusion = DEFAULT_FUSION,
) -> Candidates:
    # A typo blurs the query's embedding as much as it breaks BM25's exact match.
    query_vector = embedder.embed_query(corpus.lexical.respell(query) if fusion.respell_dense else query)
    dense_scores = _dense_candidates(corpus, vectors, collection, query_vector)
    dense_pool = list(dense_scores.values())
    lexical = corpus.lexical.search(query, CANDIDATES)
    lexical_scores = {corpus.distinct[pos].chunk_id: score for pos, score in lexical}
    # Fusion by score needs the cosine of BM25's candidates that the dense search did not
    # return, as do relevance thresholds, which read every hit's cosine.
    missing = [cid for cid in lexical_scores if cid not in dense_scores]
    wanted = [vid for cid in missing for vid in vector_ids(cid, has_question=True)]
    for vid, vec in vectors.vectors(collection, wanted).items():
        cid, similarity = _chunk_of(vid), float(vec @ query_vector)
        dense_scores[cid] = max(similarity, dense_scores.get(cid, similarity))
    return Candidates(dense_scores, dense_pool, lexical_scores, [score for _, score in lexical])


def fuse(found: Candidates, fusion: Fusion = DEFAULT_FUSION) -> dict[str, float]:
    """chunk id -> fused score. Fusion by score, not by rank: standardised scores (z-scores)
    keep a passage that one retriever finds far ahead of the rest, or much closer in
    meaning, ahead; reciprocal ranks flatten a big lead and a tie alike."""
    ids = found.dense.keys() | found.lexical.keys()
    w = fusion.dense_weight
    if fusion.mode == "z":
        dense_z = _standardiser(found.dense_pool)
        lexical_z = _standardiser(found.lexical_pool)
    else:
        dense_z = _standardiser([found.dense[c] for c in ids if c in found.dense])
        lexical_z = _standardiser([found.lexical.get(c, 0.0) for c in ids])
        if fusion.mode == "agree":
            w = 1 - (1 - w) * _agreement(found)
    return {cid: w * dense_z(found.dense.get(cid)) + (1 - w) * lexical_z(found.lexical.get(cid, 0.0)) for cid in ids}


def _agreement(found: Candidates, n: int = 10) -> float:
    """The share of BM25's first n candidates among the dense first n: 1 when both
    retrievers see the same passages, 0 when they see different ones."""
    if not found.lexical:
        return 0.0
    dense_top = set(sorted(found.dense, key=found.dense.__getitem__, reverse=True)[:n])
    lexical_top = sorted(found.lexical, key=found.lexical.__getitem__, reverse=True)[:n]
    return len(dense_top.intersection(lexical_top)) / n


def top(fused: dict[str, float], corpus: Corpus, k: int) -> list[str]:
    """The k best chunk ids, one per distinct passage text."""
    best, seen = [], set()
    for cid in sorted(fused, key=fused.__getitem__, reverse=True):
        if corpus.text_key[cid] not in seen:
            seen.add(corpus.text_key[cid])
            best.append(cid)
            if len(best) == k:
                break
    return best


def _dense_candidates(corpus: Corpus, vectors: VectorIndex, collection: str, query_vector) -> dict[str, float]:
    """The CANDIDATES distinct passages nearest the query: chunk id -> cosine. Chroma may
    still hold vectors of chunks being replaced or deleted, and copies of one passage share
    a vector, so ask for extra, keep this snapshot's distinct passages, and ask again for
    more when copies crowded them out. Matches come best first: a chunk's first vector is
    its best."""
    n = CANDIDATES * 3
    while True:
        matches = vectors.query(collection, query_vector, n)
        scores: dict[str, float] = {}
        for m in matches:
            cid = corpus.canonical.get(_chunk_of(m.chunk_id))
            if cid is not None and cid not in scores:
                scores[cid] = m.similarity
                if len(scores) == CANDIDATES:
                    return scores
        if len(matches) < n:  # the collection has nothing more
            return scores
        n *= 4


def _standardiser(scores: list[float]):
    """x -> (x - mean) / std over one retriever's candidate scores; 0 for no score."""
    if not scores:
        return lambda x: 0.0
    mean, std = float(np.mean(scores)), float(np.std(scores)) or 1.0
    return lambda x: 0.0 if x is None else (x - mean) / std
