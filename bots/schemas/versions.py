"""Publishing: versions, rollback, the draft and the published spec side by side."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Version(BaseModel):
    number: int
    note: str
    created_at: str
    published: bool
    # Set when an owner published past a refusing publish gate: their reason.
    override_note: str | None = None
    # What the publish gate measured: {"run_id", "pass_rate", "reused", "refusals"}.
    gate: dict[str, Any] | None = None


class VersionWithSpec(Version):
    spec: dict[str, Any]


class VersionList(BaseModel):
    published_version: int | None
    versions: list[Version]


class Specs(BaseModel):
    draft: dict[str, Any]
    published: dict[str, Any] | None
    published_version: int | None
    draft_differs: bool
