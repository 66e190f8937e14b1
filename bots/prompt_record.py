"""The prompt sent to the model, kept with the answer so that a reviewer can see what the model
was given (issue #14). Bounded: at most MAX_CHARS characters in all, the system prompt first,
then the newest turns; what is cut says so. Secrets never stay in it: the per-request canary
(which must stay unknown to catch leaks) is blanked, and what looks like a key or token is
redacted as the log redacts it. Customers' contacts are masked when it is shown (bots.review),
like the rest of the review item, so that the bot's setting can change afterwards.

Stored under the answer's `debug["prompt"]`: a list of {"role", "content"}, or None when no
model was called (an extractive, corrected or fallback answer). An answer stored before this
has no "prompt" key at all."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bots.log_redaction import redact

MAX_CHARS = 12_000
CANARY = re.compile(r"\[ref [0-9a-f]{6,32}\]")
CANARY_MASK = "[ref ...]"


def _cut(text: str, room: int) -> str:
    if len(text) <= room:
        return text
    note = f"\n[... {len(text) - room} characters not kept]"
    return text[: max(room - len(note), 0)] + note


def kept(messages: Sequence[Mapping[str, str]]) -> list[dict[str, str]] | None:
    """What is stored of the prompt `messages`, or None when there were none (no model call)."""
    if not messages:
        return None
    cleaned = [
        {"role": m["role"], "content": redact(CANARY.sub(CANARY_MASK, m.get("content") or ""))} for m in messages
    ]
    # The system prompt (instructions and passages) first, then the question and the turns
    # before it, newest first, while there is room; the order is restored after.
    first, rest = cleaned[0], cleaned[1:]
    room = MAX_CHARS
    out_rest: list[dict[str, str]] = []
    # The newest message (the question) is given room before the system prompt takes the rest.
    reserved = min(len(rest[-1]["content"]), MAX_CHARS // 4) if rest else 0
    first = {"role": first["role"], "content": _cut(first["content"], room - reserved)}
    room -= len(first["content"])
    for m in reversed(rest):
        if room <= 0:
            break
        content = _cut(m["content"], room)
        out_rest.append({"role": m["role"], "content": content})
        room -= len(content)
    dropped = len(rest) - len(out_rest)
    out = [first]
    if dropped:
        out.append({"role": "note", "content": f"[{dropped} earlier messages not kept]"})
    return out + list(reversed(out_rest))
