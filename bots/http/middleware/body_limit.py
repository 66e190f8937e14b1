"""Request bodies are capped per route family before anything parses them: FastAPI reads and
parses a JSON body on the event loop, before authentication and rate limits run, so one
anonymous 40 MB body of tiny objects stalled every other request for seconds.

Document uploads keep the large limit; admin JSON gets a modest one, public routes a small
one. A body is refused by its Content-Length when the client sends one, and by counting the
bytes as they arrive when it streams without one. Admin requests without the admin token are
refused here, before their body is read at all (any live credential of an active user passes:
which role may do what is the routes' dependency's business); signing in is the one admin
route that needs no credential."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import anyio.to_thread

from bots.store import accounts

_UPLOAD = re.compile(r"^/admin/bots/[^/]+/documents/?$")
# A test-set import is a file too (10,000 cases are a few MB): it gets the upload limit.
_TEST_SET_IMPORT = re.compile(r"^/admin/bots/[^/]+/test-sets/[^/]+/?$")
_WITH_BODY = ("POST", "PUT", "PATCH")


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Limit:
    bytes: int
    shown: str  # "64 KB", for the message
    setting: str  # the environment variable that raises it


@dataclass(frozen=True)
class Limits:
    upload: Limit
    admin: Limit
    public: Limit

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(
            upload=Limit(
                settings.max_upload_mb * 1024 * 1024, f"{settings.max_upload_mb} MB", "PROMPTEUR_MAX_UPLOAD_MB"
            ),
            admin=Limit(
                settings.max_admin_body_kb * 1024, f"{settings.max_admin_body_kb} KB", "PROMPTEUR_MAX_ADMIN_BODY_KB"
            ),
            public=Limit(
                settings.max_public_body_kb * 1024, f"{settings.max_public_body_kb} KB", "PROMPTEUR_MAX_PUBLIC_BODY_KB"
            ),
        )

    def for_request(self, method: str, path: str) -> Limit:
        if (method == "POST" and _UPLOAD.match(path)) or (method == "PUT" and _TEST_SET_IMPORT.match(path)):
            return self.upload
        return self.admin if _is_admin(path) else self.public


def _is_admin(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")


def _bearer(headers: dict[bytes, bytes]) -> str | None:
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _send_json(send, status: int, body: dict, extra_headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                # The unread rest of the body is still on the wire: this connection is done.
                (b"connection", b"close"),
                *(extra_headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def _too_large(limit: Limit) -> dict:
    return {
        "error": {
            "code": "too_large",
            "message": f"The request body is larger than the {limit.shown} limit of this address. "
            f"Send less (split uploads into smaller files), or ask the operator to raise {limit.setting}.",
        }
    }


UNAUTHORIZED = {
    "error": {
        "code": "unauthorized",
        "message": "This needs a credential: sign in, or send `Authorization: Bearer <token>` with your API "
        "token (the first owner's is the admin token the server wrote to PROMPTEUR_HOME/admin_token).",
    }
}
_LOGIN = "/admin/login"


class BodyLimit:
    def __init__(self, app, limits: Limits):
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        path = scope.get("path", "")
        if _is_admin(path) and path != _LOGIN and not await self._is_credential(scope, _bearer(headers)):
            return await _send_json(send, 401, UNAUTHORIZED, [(b"www-authenticate", b"Bearer")])
        if scope["method"] not in _WITH_BODY:
            return await self.app(scope, receive, send)
        limit = self.limits.for_request(scope["method"], path)
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit.bytes:
            return await _send_json(send, 413, _too_large(limit))

        seen = 0
        over = responded = False

        async def counting_receive():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit.bytes:
                    over = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message):
            nonlocal responded
            if over:
                return  # the app's own answer to a body we cut short (FastAPI makes it a 400)
            responded = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not responded:
            await _send_json(send, 413, _too_large(limit))

    @staticmethod
    async def _is_credential(scope, token: str | None) -> bool:
        runtime = getattr(scope["app"].state, "runtime", None)
        if runtime is None or not token:
            return False

        def known() -> bool:
            with runtime.sessions() as session:
                return accounts.resolve(session, token, touch=False) is not None

        # A database read: in the threadpool, never on the event loop (tests/test_event_loop.py).
        return await anyio.to_thread.run_sync(known)
