"""Admin API: what this server allows and offers, for the builder's Settings page. Values
come from PROMPTEUR_* settings; secrets are reported only as set or not."""

from __future__ import annotations

from fastapi import APIRouter

from bots.http.deps import AdminAuth, ReleasingRoute, RuntimeDep
from bots.schemas.server import Limits, ServerSettings

router = APIRouter(route_class=ReleasingRoute, prefix="/admin", dependencies=[AdminAuth], tags=["admin: server"])


@router.get("/settings", response_model=ServerSettings)
def server_settings(runtime: RuntimeDep) -> ServerSettings:
    s = runtime.settings
    return ServerSettings(
        embedding_models=runtime.embedders.known(),
        providers=["local", "openai", "openai_compatible"],
        openai_key_configured=bool(s.openai_api_key),
        limits=Limits(
            max_upload_mb=s.max_upload_mb,
            max_pdf_pages=s.max_pdf_pages,
            max_message_chars=s.max_message_chars,
            max_conversation_messages=s.max_conversation_messages,
            rate_per_ip=s.rate_per_ip,
            rate_per_session=s.rate_per_session,
            rate_per_bot=s.rate_per_bot,
            session_ttl_s=s.session_ttl_s,
        ),
    )
