"""One answer, as every channel that returns a whole answer shows it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# Who gave an answer: "model" (generated, or quoted from the documents by an extractive bot),
# "corrected" (a corrected answer written by the support team) or "fallback".
AnsweredBy = Literal["model", "corrected", "fallback"]


class Citation(BaseModel):
    """A passage an answer rests on. Extra keys pass through: the widget renders what the
    answer pipeline puts here, and a newer pipeline may add some."""

    model_config = ConfigDict(extra="allow")
    source: str | None = None
    page: int | None = None
    chunk_id: str | None = None
    snippet: str | None = None


class TokenUsage(BaseModel):
    model_config = ConfigDict(extra="allow")
    prompt_tokens: int
    completion_tokens: int


class Answer(BaseModel):
    answer: str
    citations: list[Citation]
    fallback: bool
    handoff: bool
    answered_by: AnsweredBy
    conversation_id: str
    message_id: str
    latency_ms: int
    usage: TokenUsage
