"""Serves the website widget: the embeddable script and the hosted full-page chat.

The hosted page (`/chat/{bot_id}?key=pk_...`) is also the iframe snippet's target, so its
CSP `frame-ancestors` is built from the bot's allowed origins: only those sites may frame it.
"""

import hashlib
import re
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bots.http.deps import BotDep

WIDGET_DIR = Path(__file__).parent / "widget"

# A CSP source list is space-separated and `;` ends a directive, so an origin taken from a
# bot spec must be exactly scheme://host[:port] before it goes into the header.
_ORIGIN = re.compile(r"^https?://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")

router = APIRouter(tags=["widget"])


def allowed_origins(spec: dict) -> list[str]:
    origins = (spec or {}).get("allowed_origins") or []
    return [o for o in origins if isinstance(o, str)]


def frame_ancestors(origins: list[str]) -> str:
    valid = [o.rstrip("/") for o in origins if _ORIGIN.match(o.rstrip("/"))]
    return " ".join(valid) if valid else "'none'"


def chat_page_csp(origins: list[str]) -> str:
    return (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        "style-src 'unsafe-inline' 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {frame_ancestors(origins)}"
    )


@router.get("/widget.js", include_in_schema=False)
def widget_js(request: Request) -> Response:
    body = (WIDGET_DIR / "widget.js").read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        # Short max-age so a server upgrade reaches sites quickly; the ETag makes revalidation cheap.
        "Cache-Control": "public, max-age=300",
        "ETag": etag,
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/chat/{bot_id}", include_in_schema=False)
def hosted_chat(bot: BotDep) -> Response:
    page = (WIDGET_DIR / "chat.html").read_text(encoding="utf-8")
    page = page.replace("{{BOT}}", escape(bot.id, quote=True))
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": chat_page_csp(allowed_origins(bot.spec)),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
