"""Server-sent events: the one way the HTTP shell streams (the public chat's events, and the
OpenAI-compatible endpoint's chunks)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from fastapi.responses import StreamingResponse

# Proxies (nginx) buffer responses unless told not to: a buffered stream arrives all at once.
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(events: Iterable[tuple[str, dict]]) -> StreamingResponse:
    """Named events: `event: <name>` then `data: <json>`."""
    body = (f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n" for name, data in events)
    return StreamingResponse(body, media_type="text/event-stream", headers=_HEADERS)


def data_only_sse(chunks: Iterable[dict]) -> StreamingResponse:
    """OpenAI's shape: unnamed `data: <json>` frames, ended by `data: [DONE]`."""

    def body() -> Iterator[str]:
        for c in chunks:
            yield f"data: {json.dumps(c, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream", headers=_HEADERS)
