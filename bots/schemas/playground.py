"""The playground and the comparison of versions: answers with why they were given."""

from __future__ import annotations

from typing import Any, Literal

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


class GuardClaim(BaseModel):
    kind: str  # "amount", "phone", "date", ... or "negation" (see bots.core.grounding)
    text: str  # as the model wrote it


class GuardAction(BaseModel):
    """What the groundedness guard did with a generated answer that had unsupported claims."""

    action: Literal["replaced", "flagged"]
    claims: list[GuardClaim]


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
    # "extractive": quoted from the passages, no model; "generative": the model wrote it;
    # "corrected": a corrected answer, word for word (`corrected` says which and how close).
    style: Literal["extractive", "generative", "corrected"] | None = None
    corrected: dict[str, Any] | None = None
    # A corrected answer close enough but refused because the questions name different terms:
    # {"id", "score", "asked": [...], "approved": [...], "why": str, "sibling": {"id",
    # "question", "score"} | None (the look-alike that made the check strict)}; it went in
    # as a passage.
    corrected_refused: dict[str, Any] | None = None
    guard: GuardAction | None = None  # None: the guard found nothing, or is off
    # The bot's model is the bundled demo one and it wrote the answer: the builder says so.
    demo_model: bool = False


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
