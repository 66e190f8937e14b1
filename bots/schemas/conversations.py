"""Conversations as the builder reads them: listings, one conversation in full, hand-off
requests, the export and the per-day statistics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bots.schemas.answers import Citation


class Feedback(BaseModel):
    rating: str  # up | down
    comment: str


class ConversationSummary(BaseModel):
    id: str
    channel: str
    version: int | None
    created_at: str
    updated_at: str
    messages: int
    first_question: str
    fallbacks: int
    errors: int
    thumbs_up: int
    thumbs_down: int
    handoff_requests: int


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]
    total: int
    next_offset: int | None


class StoredMessage(BaseModel):
    id: str
    role: str  # user | assistant
    content: str
    citations: list[Citation]
    version: int | None
    fallback: bool
    handoff: bool
    answered_by: str | None  # model | corrected | fallback; None on questions and failed answers
    partial: bool
    error: str | None
    latency_ms: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    # What the playground showed when it answered (reason, cut_at_tokens...), as stored.
    debug: dict[str, Any] | None
    created_at: str
    feedback: Feedback | None


class Handoff(BaseModel):
    id: str
    conversation_id: str
    name: str
    email: str | None
    phone: str | None
    message: str
    created_at: str
    status: str = "new"  # a HandoffStatus (bots/schemas/handoffs.py)
    assignee: str | None = None
    updated_at: str | None = None
    # E-mails or webhooks about it that could not be sent: the inbox shows them.
    failed_deliveries: int = 0


class HandoffList(BaseModel):
    handoffs: list[Handoff]


class ConversationDetail(BaseModel):
    """The summary's fields in the same order, with `messages` the messages themselves
    rather than their number, and the hand-off requests."""

    id: str
    channel: str
    version: int | None
    created_at: str
    updated_at: str
    messages: list[StoredMessage]
    first_question: str
    fallbacks: int
    errors: int
    thumbs_up: int
    thumbs_down: int
    handoff_requests: int
    handoffs: list[Handoff]


class ExportedMessage(BaseModel):
    conversation_id: str
    channel: str
    message_id: str
    created_at: str
    role: str
    content: str
    version: int | None
    fallback: bool
    handoff: bool
    answered_by: str | None  # model | corrected | fallback; None on questions and failed answers
    partial: bool
    error: str | None
    latency_ms: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    citations: list[str | None]  # "source p.N", or the source alone
    feedback: str | None
    feedback_comment: str | None


class ExportedMessages(BaseModel):
    messages: list[ExportedMessage]


class DayStats(BaseModel):
    date: str
    conversations: int
    questions: int
    answers: int
    errors: int
    thumbs_up: int
    thumbs_down: int
    thumbs_up_rate: float | None
    fallback_rate: float | None
    latency_ms_avg: int | None
    latency_ms_p50: int | None
    latency_ms_p95: int | None


class Stats(BaseModel):
    days: list[DayStats]
