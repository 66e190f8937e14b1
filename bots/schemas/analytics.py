"""Knowledge gaps and resolution analytics, as the admin API returns them."""

from __future__ import annotations

from pydantic import BaseModel


class ClosestPassage(BaseModel):
    source: str
    page: int | None
    chunk_id: str
    score: float | None  # cosine similarity of the topic's central question and the passage
    text: str


class GapTopic(BaseModel):
    label: str
    count: int  # questions of this period in the topic
    previous_count: int  # the same topic's questions in the previous period of the same length
    trend: str  # new | up | down | same
    questions: list[str]  # examples, the most central first
    distinct_questions: int
    reasons: dict[str, int]  # fallback | handoff | thumbs_down | low_score -> questions
    conversation_ids: list[str]
    last_asked: str
    closest_passage: ClosestPassage | None


class Gaps(BaseModel):
    since: str
    until: str
    previous_since: str
    questions: int
    previous_questions: int
    truncated: bool  # more questions than are clustered in one report: the most recent were kept
    threshold: float
    low_score: float
    topics: list[GapTopic]


class ResolutionRow(BaseModel):
    day: str | None = None  # None on totals
    version: int | None = None  # None: the draft (or, on the overall row, every version)
    conversations: int
    resolved: int
    resolution_rate: float | None
    handoff_conversations: int
    handoff_rate: float | None
    questions: int
    answers: int
    by_model: int
    by_corrected: int
    by_fallback: int
    share_model: float | None
    share_corrected: float | None
    share_fallback: float | None
    errors: int
    thumbs_up: int
    thumbs_down: int
    latency_ms_p50: int | None
    latency_ms_p95: int | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # estimated; None: a model without a known price


class Analytics(BaseModel):
    days: list[ResolutionRow]
    versions: list[ResolutionRow]
    overall: ResolutionRow
    resolution_definition: str
    cost_note: str
