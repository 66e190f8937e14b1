"""Serves the website widget: the embeddable script and the hosted full-page chat.

The hosted page (`/chat/{bot_id}?key=pk_...`) is also the iframe snippet's target, so its
CSP `frame-ancestors` is built from the bot's allowed origins: only those sites may frame it.
"""

import hashlib
import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bots.http.deps import DbSession, ReleasingRoute
from bots.http.errors import ApiError
from bots.store import tables as t
from bots.store.versions import VersionError, resolve

WIDGET_DIR = Path(__file__).parent.parent / "static"

# A CSP source list is space-separated and `;` ends a directive, so an origin taken from a
# bot spec must be exactly scheme://host[:port] before it goes into the header.
_ORIGIN = re.compile(r"^https?://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")

router = APIRouter(route_class=ReleasingRoute, tags=["widget"])


def _sources(origins: list[str]) -> list[str]:
    return [o.rstrip("/") for o in origins if _ORIGIN.match(o.rstrip("/"))]


def frame_ancestors(origins: list[str]) -> str:
    return " ".join(_sources(origins)) or "'none'"


def chat_page_csp(origins: list[str], image_origins: Sequence[str] = ()) -> str:
    # Answers may show images from the bot's image origins; the widget enforces the same list.
    img_src = " ".join(["'self'", *_sources(list(image_origins))])
    return (
        "default-src 'none'; script-src 'self'; connect-src 'self'; "
        f"style-src 'unsafe-inline' 'self'; img-src {img_src}; base-uri 'none'; form-action 'none'; "
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
def hosted_chat(bot_id: str, session: DbSession) -> Response:
    bot = session.get(t.Bot, bot_id)
    if bot is None:
        raise ApiError("bot_not_found", f"There is no bot with id {bot_id!r}: check the link.")
    # The published version's origins: the same list the public API's CORS and sessions use.
    try:
        spec = resolve(session, bot, "published").spec
        origins, images = spec.allowed_origins, spec.widget.image_origins
    except VersionError:
        origins, images = [], []
    page = (WIDGET_DIR / "chat.html").read_text(encoding="utf-8")
    page = page.replace("{{BOT}}", escape(bot_id, quote=True))
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": chat_page_csp(origins, images),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
