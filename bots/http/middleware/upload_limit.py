"""Refuse oversized uploads before reading them: by Content-Length when the client sends
one, and by counting the bytes as they arrive when it streams without one."""

from __future__ import annotations

import json


class UploadTooLarge(Exception):
    pass


def _too_large(limit_mb: int) -> bytes:
    return json.dumps(
        {
            "error": {
                "code": "too_large",
                "message": f"The upload is larger than the {limit_mb} MB limit. Split it into smaller files or ask "
                "the operator to raise PROMPTEUR_MAX_UPLOAD_MB.",
            }
        }
    ).encode()


class UploadLimit:
    def __init__(self, app, limit_mb: int):
        self.app, self.limit_mb, self.limit = app, limit_mb, limit_mb * 1024 * 1024

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._reject(send)

        seen = 0
        started = False

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise UploadTooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except UploadTooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send):
        body = _too_large(self.limit_mb)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
