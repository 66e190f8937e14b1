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


def search(
    query: str,
    *,
    corpus: Corpus,
    embedder: Embedder,
    vectors: VectorIndex,
    collection: str,
    k: int = 5,
    dense_weight: float = 1.0,
    lexical_weight: float = 1.0,
) -> list[Hit]:
    if not query.strip() or len(corpus) == 0:
        return []
    # A typo blurs the query's embedding as much as it breaks BM25's exact match.
    query_vector = embedder.embed_query(corpus.lexical.respell(query))
    dense_scores = _dense_candidates(corpus, vectors, collection, query_vector)
    dense_candidates = list(dense_scores.values())
    lexical = corpus.lexical.search(query, CANDIDATES)

    lexical_scores = {corpus.distinct[pos].chunk_id: score for pos, score in lexical}
    # Fusion by score, not by rank: each retriever's scores are standardised over its own
    # candidates (z-scores), so a passage BM25 finds far ahead of the rest, or one much
    # closer in meaning, keeps that lead; reciprocal ranks flatten a big lead and a tie
    # alike. It needs the cosine of BM25's candidates that the dense search did not return,
    # as do relevance thresholds, which read every hit's cosine.
    missing = [cid for cid in lexical_scores if cid not in dense_scores]
    wanted = [vid for cid in missing for vid in vector_ids(cid, has_question=True)]
    for vid, vec in vectors.vectors(collection, wanted).items():
        cid, similarity = _chunk_of(vid), float(vec @ query_vector)
        dense_scores[cid] = max(similarity, dense_scores.get(cid, similarity))
    dense_z = _standardiser(dense_candidates)
    lexical_z = _standardiser([score for _, score in lexical])
    total = dense_weight + lexical_weight
    fused = {
        cid: (dense_weight * dense_z(dense_scores.get(cid)) + lexical_weight * lexical_z(lexical_scores.get(cid, 0.0)))
        / total
        for cid in dense_scores.keys() | lexical_scores.keys()
    }

    best, seen = [], set()
    for cid in sorted(fused, key=fused.__getitem__, reverse=True):
        if corpus.text_key[cid] not in seen:
            seen.add(corpus.text_key[cid])
            best.append(cid)
            if len(best) == k:
                break
    hits = []
    for cid in best:
        p = corpus.by_id[cid]
        hits.append(
            Hit(
                chunk_id=cid,
                score=fused[cid],
                dense_score=dense_scores.get(cid),
                lexical_score=lexical_scores.get(cid),
                text=p.text,
                source=p.source,
                page=p.page,
                document_id=p.document_id,
                headings=list(p.headings),
            )
        )
    return hits


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
