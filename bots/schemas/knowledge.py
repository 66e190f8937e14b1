"""A bot's documents, their chunks, ingestion jobs and knowledge search."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Document(BaseModel):
    id: str
    source: str
    status: str
    pages: int | None
    chunks: int
    size: int
    error: str | None
    error_code: str | None
    content_hash: str
    searchable: bool
    created_at: str
    updated_at: str


class DocumentList(BaseModel):
    documents: list[Document]


class AcceptedDocument(BaseModel):
    id: str
    source: str
    status: str  # queued | unchanged


class RejectedUpload(BaseModel):
    source: str
    error: str


class UploadResult(BaseModel):
    job_id: str | None
    documents: list[AcceptedDocument]
    rejected: list[RejectedUpload]


class Chunk(BaseModel):
    id: str
    text: str
    page: int | None
    headings: list[str]
    ordinal: int


class ChunkList(BaseModel):
    chunks: list[Chunk]


class JobItem(BaseModel):
    # Items are stored JSON that the ingestion worker writes: keys it adds pass through.
    model_config = ConfigDict(extra="allow")
    document_id: str | None = None
    source: str
    status: str
    error: str | None = None
    # While the file is being worked on: its step (reading, chunking, embedding, indexing) and,
    # when embedding, how many of its chunks are done.
    stage: str | None = None
    embedded: int | None = None
    chunks: int | None = None


class Job(BaseModel):
    id: str
    bot_id: str
    kind: str
    status: str
    total: int
    done: int
    failed: int
    progress: float
    error: str | None
    items: list[JobItem]


class JobList(BaseModel):
    jobs: list[Job]


class JobStarted(BaseModel):
    job_id: str


class SearchHit(BaseModel):
    source: str
    page: int | None
    chunk_id: str
    document_id: str
    score: float
    dense_score: float | None
    lexical_score: float | None
    text: str
    headings: list[str]


class SearchResult(BaseModel):
    hits: list[SearchHit]
