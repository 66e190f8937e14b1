"""Cheap token estimates for budgeting prompts when the model offers no tokenizer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

# BPE tokenizers average ~4 characters per token on English prose and ~3 on French or code;
# 3 errs on the side of fitting the window (an overestimate costs a passage, an
# underestimate costs a 400 from the provider).
CHARS_PER_TOKEN = 3.0
# Role markers and separators the chat template adds around each message.
MESSAGE_OVERHEAD = 4


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def estimate_message_tokens(messages: Iterable[Mapping[str, str]]) -> int:
    return sum(estimate_tokens(m.get("content") or "") + MESSAGE_OVERHEAD for m in messages)
