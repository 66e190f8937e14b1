"""What this server allows and offers, and whether it is up."""

from __future__ import annotations

from pydantic import BaseModel


class Limits(BaseModel):
    max_upload_mb: int
    max_pdf_pages: int
    max_message_chars: int
    max_conversation_messages: int
    rate_per_ip: int
    rate_per_session: int
    rate_per_bot: int
    session_ttl_s: int


class ServerSettings(BaseModel):
    embedding_models: list[str]
    providers: list[str]
    openai_key_configured: bool
    limits: Limits


class Health(BaseModel):
    status: str
