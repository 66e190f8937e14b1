"""A bot's API keys and the snippets that put it on a website."""

from __future__ import annotations

from pydantic import BaseModel


class ApiKey(BaseModel):
    id: str
    kind: str  # secret | publishable
    label: str
    masked: str
    created_at: str
    revoked_at: str | None


class CreatedKey(ApiKey):
    key: str  # the only time the key itself is ever shown


class KeyList(BaseModel):
    keys: list[ApiKey]


class Snippets(BaseModel):
    script: str
    iframe: str
    hosted_url: str
    curl: str
    python: str
