"""The one chat-model protocol the answer pipeline speaks. Pure: no SDK, no HTTP, so the core
may import it. Provider clients (`bots.llm.providers`) implement it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False  # True when the provider reported none and we counted ourselves

    def as_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass
class Completion:
    text: str
    usage: Usage
    finish_reason: str | None = None


@dataclass
class TextDelta:
    text: str


class ChatModel(Protocol):
    """One model at one endpoint. Both calls raise `bots.llm.errors.ProviderError`s."""

    def complete(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int, temperature: float) -> Completion: ...

    def stream(
        self, messages: Sequence[Mapping[str, str]], *, max_tokens: int, temperature: float
    ) -> Iterator[TextDelta | Completion]:
        """`TextDelta`s, then one final `Completion` (whole text, usage, finish reason)."""
        ...

    def close(self) -> None: ...
