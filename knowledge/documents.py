"""The shapes that flow through the knowledge pipeline: loaded sections, chunks, search hits."""

from __future__ import annotations

from dataclasses import dataclass, field


class LoadError(Exception):
    """A file that cannot be ingested. `str(err)` is a sentence for the user: what happened
    and what to do. `code` is stable for programs (e.g. "encrypted", "no_text", "corrupt")."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Section:
    """A piece of a document as its loader found it, before chunking.

    kind "text": prose under a heading (or a PDF page); "faq": one question/answer entry,
    which chunking keeps whole (unless it is huge). `question` is an FAQ entry's question
    alone."""

    text: str
    page: int | None = None
    headings: list[str] = field(default_factory=list)
    kind: str = "text"
    question: str | None = None


@dataclass
class LoadedDocument:
    sections: list[Section]
    pages: int | None = None  # PDFs only
    title: str | None = None


@dataclass
class Chunk:
    """What gets embedded and indexed. `text` is the passage shown to users and models;
    `search_text` adds context (title, heading path) that helps retrieval find it.
    `question` is set for a whole FAQ entry: customers paraphrase the question, and in the
    embedding of question and answer together a long answer drowns it (the model also reads
    only the first ~256 word pieces), so the question gets a vector of its own."""

    text: str
    search_text: str
    page: int | None
    headings: list[str]
    ordinal: int
    question: str | None = None


@dataclass
class Hit:
    """A retrieved chunk. `score` is the fused rank score (only comparable within one query);
    `dense_score` is the cosine similarity of query and chunk (0..1, comparable across
    queries, so it is what relevance thresholds use); `lexical_score` is BM25's."""

    chunk_id: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    text: str = ""
    source: str = ""
    page: int | None = None
    document_id: str = ""
    headings: list[str] = field(default_factory=list)
