"""The answer to "does this model answer?": one real request through the server, its reply or
the provider's exact error."""

from __future__ import annotations

from pydantic import BaseModel


class ProviderTest(BaseModel):
    ok: bool
    # The model that was asked (the provider's default when none was named).
    model: str
    reply: str = ""
    latency_ms: int
    # Only when ok is false: the error code (e.g. model_unavailable) and the operator's sentence,
    # which names the real cause (connection refused, 401 from the provider) and what to do.
    error_code: str | None = None
    error: str | None = None
