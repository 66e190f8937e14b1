"""Corrected answers: what the admin API returns for them."""

from __future__ import annotations

from pydantic import BaseModel


class Source(BaseModel):
    source: str
    page: int | None = None


class CorrectedAnswer(BaseModel):
    id: str
    question: str
    paraphrases: list[str]
    answer: str
    sources: list[Source]
    enabled: bool
    hit_count: int
    last_used_at: str | None
    created_by: str
    updated_by: str
    created_at: str
    updated_at: str


class CorrectedAnswerList(BaseModel):
    answers: list[CorrectedAnswer]


class CreatedCorrectedAnswer(BaseModel):
    id: str


class CsvImported(BaseModel):
    created: int
    updated: int
