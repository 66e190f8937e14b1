"""The body of every error response: {"error": {"code", "message", ...}} (bots/http/errors.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ErrorDetail(BaseModel):
    # Some codes add fields (`problems` of a 422, `retry_after`, the values of the sentence).
    model_config = ConfigDict(extra="allow")

    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail
