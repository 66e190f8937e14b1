"""Bots as records (`/admin/bots`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Bot(BaseModel):
    id: str
    name: str
    language: str
    embedding_model: str
    # The draft spec as admins see it (provider keys masked); a dict rather than BotSpec
    # because a stored spec that no longer validates is still shown, to be fixed.
    spec: dict[str, Any]
    published_version: int | None
    created_at: str
    updated_at: str
    documents: int
    chunks: int


class UpdatedBot(Bot):
    # Present only when the update switched embedding models: the job building the new index.
    reindex_job_id: str | None = None


class BotList(BaseModel):
    bots: list[Bot]
