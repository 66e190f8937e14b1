"""CORS for the public bot routes: the widget on a customer's site fetches them cross-origin.
A bot's allowed origins (from its published version) get access; the display-only config is
readable from anywhere. Everything else (admin API, OpenAI-compatible endpoint) gets no CORS
headers, so browsers on other sites cannot read it."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response

_BOT_ROUTE = re.compile(r"^/v1/bots/([^/]+)/(.*)$")
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key"


class PublicCors:
    def __init__(self, app, origins_of):
        self.app = app
        self.origins_of = origins_of  # (request app) -> callable(bot_id) -> list | None

    async def __call__(self, scope, receive, send):
        match = _BOT_ROUTE.match(scope.get("path", "")) if scope["type"] == "http" else None
        origin = Headers(scope=scope).get("origin") if match else None
        if not origin:
            return await self.app(scope, receive, send)
        bot_id, rest = match.groups()
        allowed = rest == "config" or origin.rstrip("/").lower() in (
            await run_in_threadpool(self.origins_of(scope), bot_id) or []
        )
        if scope["method"] == "OPTIONS" and Headers(scope=scope).get("access-control-request-method"):
            headers = {"Vary": "Origin"}
            if allowed:
                headers.update(
                    {
                        "Access-Control-Allow-Origin": origin,
                        "Access-Control-Allow-Methods": "GET, POST",
                        "Access-Control-Allow-Headers": ALLOW_HEADERS,
                        "Access-Control-Max-Age": "600",
                    }
                )
            return await Response(status_code=204 if allowed else 403, headers=headers)(scope, receive, send)

        async def with_cors(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Vary", "Origin")
                if allowed:
                    headers["Access-Control-Allow-Origin"] = origin
                    headers["Access-Control-Expose-Headers"] = "Retry-After"
            await send(message)

        await self.app(scope, receive, with_cors)
