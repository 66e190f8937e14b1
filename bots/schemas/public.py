"""The public API's bodies: what the widget and integrations read."""

from __future__ import annotations

from pydantic import BaseModel

from bots.schemas.answers import Citation
from bots.schemas.conversations import Feedback


class Theme(BaseModel):
    primary: str
    position: str


class HandoffOffer(BaseModel):
    enabled: bool
    label: str


class PublicConfig(BaseModel):
    """Display-only: never a prompt, model, key or document name."""

    bot_id: str
    title: str
    avatar_url: str | None
    welcome: str
    starters: list[str]
    theme: Theme
    language: str  # "auto" or a language code
    handoff: HandoffOffer
    image_origins: list[str]


class WidgetSession(BaseModel):
    token: str
    expires_at: str
    conversation_id: str


class PublicMessage(BaseModel):
    id: str
    role: str
    content: str
    citations: list[Citation]
    created_at: str
    partial: bool
    feedback: Feedback | None


class PublicHistory(BaseModel):
    conversation_id: str
    messages: list[PublicMessage]


class HandoffCreated(BaseModel):
    id: str
