"""The review inbox: what the admin API returns for it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# Why an answer is in the review inbox (bots/review.py decides): shared with the builder's filter.
REASONS = ("thumbs_down", "fallback", "handoff", "low_score", "cut", "error")


class ReviewPassage(BaseModel):
    chunk_id: str | None
    source: str | None
    page: int | None = None
    score: float | None = None
    dense_score: float | None = None


class ReviewPromptMessage(BaseModel):
    role: str  # system | user | assistant | note (what was cut to keep it bounded)
    content: str


class ReviewItem(BaseModel):
    message_id: str
    conversation_id: str
    question: str
    answer: str
    # thumbs_down | fallback | handoff | low_score | cut | error
    reasons: list[str]
    feedback_comment: str | None
    similar: int  # how many items in the queue ask the same question (normalised text)
    version: int | None
    channel: str
    language: str | None
    answered_by: str | None
    created_at: str
    best_score: float | None
    passages: list[ReviewPassage]
    # The prompt sent to the model (system prompt with the passages, the turns, the question),
    # bounded, secrets blanked, contacts masked like the rest. prompt_status: "sent",
    # "no_model_call" (an extractive, corrected or fallback answer: prompt is None) or
    # "not_recorded" (an answer stored before prompts were kept).
    prompt: list[ReviewPromptMessage] | None = None
    prompt_status: str = "not_recorded"
    debug: dict[str, Any]


class ReviewInbox(BaseModel):
    total: int  # items in the queue within the filters (of the scanned answers)
    scanned: int  # answers read: at most scan_limit, the newest within the filters
    scan_limit: int
    items: list[ReviewItem]


class ReviewMessage(BaseModel):
    id: str
    role: str
    content: str
    created_at: str


class ReviewAction(BaseModel):
    action: str  # reviewed | corrected | added_to_test_set
    note: str
    detail: dict[str, Any]
    actor: str
    created_at: str


class ReviewDetail(ReviewItem):
    conversation: list[ReviewMessage]
    actions: list[ReviewAction]


class CorrectedFromReview(BaseModel):
    corrected_answer_id: str


class AddedToTestSet(BaseModel):
    set: str
    ordinal: int
    case: dict[str, Any]
