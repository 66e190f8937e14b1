"""The playground and the comparison of versions: answers with why they were given."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from bots.schemas.answers import Answer, TokenUsage


class DebugHit(BaseModel):
    chunk_id: str
    source: str
    page: int | None
    score: float
    dense_score: float | None
    lexical_score: float | None
    text: str
    used: bool  # among the passages the answer was composed from


class PromptMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str


class Debug(BaseModel):
    hits: list[DebugHit]
    prompt: list[PromptMessage]
    reason: str | None
    language: str | None
    tokens: TokenUsage
    cut_at_tokens: int | None
    prompt_tokens_estimate: int | None
    latency_ms: int
    fallback: bool


class PlaygroundReply(Answer):
    version: int | Literal["draft"]
    debug: Debug


class ErrorDetail(BaseModel):
    code: str
    message: str


class VersionFailure(BaseModel):
    """A version that could not answer (e.g. "published" before anything was published)."""

    version: int | Literal["draft", "published"]
    error: ErrorDetail


class Comparison(BaseModel):
    results: list[PlaygroundReply | VersionFailure]
