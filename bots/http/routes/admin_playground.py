"""The playground's answer streamed as it is written (POST .../playground with stream=true), so
the builder shows it token by token. Same events as the public chat's stream (start, delta,
done, error), except that `done` carries the whole playground reply (debug included) and
`error` also the operator's sentence (`detail`), because the person reading it is the one who
can fix the bot's settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bots.chat import Reply, Turn
from bots.core import answering
from bots.core.errors import DomainError
from bots.runtime import Runtime
from bots.schemas.playground import PlaygroundReply


def playground_events(
    runtime: Runtime, turn: Turn, reply_out: Callable[[Reply], PlaygroundReply]
) -> Iterator[tuple[str, dict]]:
    yield "start", {"conversation_id": turn.conversation_id, "message_id": turn.answer_id}
    if turn.replay:
        yield "done", reply_out(turn.replay).model_dump(mode="json")
        return
    for outcome in runtime.chat.outcomes(turn):
        if isinstance(outcome, Reply):
            yield "done", reply_out(outcome).model_dump(mode="json")
        elif isinstance(outcome, DomainError):
            yield "error", {**outcome.public(), "detail": outcome.operator_message}
        elif isinstance(outcome, answering.Delta):  # citations arrive with the done reply
            yield "delta", {"text": outcome.text}
