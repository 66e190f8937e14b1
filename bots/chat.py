"""Asking a bot, as the public API, the widget, the OpenAI-compatible endpoint and the
playground all do: check limits → resolve the version → store the question → answer (see
`bots.core.answering`) → store the answer with its citations, usage, latency and errors.

`Chat.accept(question)` checks and stores the question and returns a `Turn`, raising a
`DomainError` before anything is stored or any model is called (so an HTTP shell can still
answer 413/404/409 before it starts a stream). `Chat.stream(turn)` answers it as events;
`Chat.ask(question)` is both, collected: the same stored answer either way.

The question is stored before the model is called and the answer once it is complete (or
marked partial/errored), each in a short transaction: no database connection is held while the
model thinks. A retried request carrying the same Idempotency-Key is answered from storage.

Several server processes (issue #17): the answer's row is written, marked `unfinished` and
partial, when answering starts, and its text saved every PROGRESS_EVERY_S while it streams. A
process killed mid-answer (`kill -9`: no `finally` runs) thus leaves the answer stored as
partial with what the customer saw, not a question without an answer. Two processes storing
the same question at once (same Idempotency-Key, or the first message of a session) meet on
a unique constraint; the loser reads again and replays, or says the request is in progress.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bots import prompt_record
from bots.core import answering
from bots.core.answering import Debug
from bots.core.corrections import Match
from bots.core.errors import (
    BotNotFound,
    ConversationNotFound,
    ConversationTooLong,
    DomainError,
    EmptyMessage,
    MessageTooLong,
    RequestFailed,
    RequestInProgress,
)
from bots.core.spec import BotSpec, CorrectionSettings, ModelSettings
from bots.llm.protocol import ChatModel, Usage
from bots.store import tables as t
from bots.store.versions import resolve
from knowledge.documents import Hit

log = logging.getLogger(__name__)

HISTORY_MESSAGES = 20
# An answer being written, or whose process died before it could finish it.
UNFINISHED = "unfinished"
PROGRESS_EVERY_S = 1.0


@dataclass
class Limits:
    max_message_chars: int = 2000
    max_conversation_messages: int = 100


@dataclass
class Question:
    bot_id: str
    text: str
    owner: str  # "key:<api key id>" | "session" | "admin"
    channel: str  # api | widget | openai | playground
    conversation_id: str | None = None
    version: str | int = "published"
    request_key: str | None = None
    # Earlier turns the client sent itself (OpenAI-compatible); None: the stored conversation's.
    history: list[dict] | None = None
    max_tokens: int | None = None


@dataclass
class Reply:
    answer: str
    citations: list[dict]
    fallback: bool
    handoff: bool
    conversation_id: str
    message_id: str
    latency_ms: int
    usage: dict
    version: int | None
    debug: Debug | None = field(default=None, repr=False)
    # "model" (generated, or quoted from the documents), "corrected" (the support team's
    # corrected answer) or "fallback": what analytics and API clients count answers by.
    answered_by: str = "model"

    def public(self) -> dict:
        return {
            "answer": self.answer,
            "citations": self.citations,
            "fallback": self.fallback,
            "handoff": self.handoff,
            "answered_by": self.answered_by,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "latency_ms": self.latency_ms,
            "usage": self.usage,
        }


@dataclass
class Turn:
    """A question accepted and stored, ready to be answered (or already answered: `replay`)."""

    bot_id: str
    spec: BotSpec | None  # None when replayed
    version: int | None
    conversation_id: str
    question_id: str
    answer_id: str
    question: str
    history: list[dict]
    replay: Reply | None = None
    model: ChatModel | None = None
    embedding_model: str | None = None  # picks the relevance gate's default threshold


def new_conversation_id() -> str:
    return "conv_" + secrets.token_urlsafe(24)


def keyed_conversation_id(q: Question) -> str:
    """The new conversation of a request that carries an Idempotency-Key: the same for every
    retry of it, so two processes answering the same retry at once both try to create this
    one conversation, and the database lets only one of them (the other replays)."""
    digest = hashlib.sha256(f"{q.bot_id}\n{q.owner}\n{q.request_key}".encode()).digest()
    return "conv_k" + digest[:16].hex()  # 38 characters, like the random ids (37)


ModelFor = Callable[[ModelSettings], ChatModel]
Search = Callable[[str, str, int], Sequence[Hit]]


class Corrections(Protocol):
    """The bot version's corrected answers scored against a question (bots/corrected_answers.py)."""

    def matches(
        self, bot_id: str, version: int | None, question: str, settings: CorrectionSettings | None = None
    ) -> list[Match]: ...

    def record_hit(self, bot_id: str, answer_id: str) -> None: ...


class Chat:
    def __init__(
        self,
        sessions: sessionmaker,
        search: Search,
        model_for: ModelFor,
        limits: Limits,
        corrections: Corrections | None = None,
    ):
        self._sessions = sessions
        self._search = search
        self._model_for = model_for
        self.limits = limits
        self._corrections = corrections

    def ask(self, q: Question) -> Reply:
        """The whole answer, stored. Raises the `DomainError` a stream would end with."""
        turn = self.accept(q)
        if turn.replay:
            return turn.replay
        for outcome in self._answered(turn):
            if isinstance(outcome, Reply):
                return outcome
            if isinstance(outcome, DomainError):
                raise outcome
        raise AssertionError("the answer ended without a reply or an error")

    def stream(self, turn: Turn) -> Iterator[tuple[str, dict]]:
        """(event name, data) pairs for the SSE contract: start, delta*, citations, then done
        (its `text` is the stored answer) or error. The answer is stored whatever happens,
        also when the client goes away mid-stream (then marked partial)."""
        ids = {"conversation_id": turn.conversation_id, "message_id": turn.answer_id}
        yield "start", ids
        if turn.replay:
            yield from _replayed(turn.replay)
            return
        for outcome in self._answered(turn):
            if isinstance(outcome, answering.Delta):
                yield "delta", {"text": outcome.text}
            elif isinstance(outcome, answering.Citations):
                yield "citations", {"citations": outcome.citations}
            elif isinstance(outcome, Reply):
                yield "done", _done(ids, outcome)
            else:
                yield "error", outcome.public()

    def outcomes(self, turn: Turn) -> Iterator[answering.Delta | answering.Citations | Reply | DomainError]:
        """The answer's events and then the stored `Reply` (or the error), for a caller that
        streams and needs the whole Reply at the end (the admin playground shows its debug)."""
        return self._answered(turn)

    def _answered(self, turn: Turn) -> Iterator[answering.Delta | answering.Citations | Reply | DomainError]:
        """The pipeline's events, then the stored `Reply` or the error: the one place an
        answer is stored, for whole and streamed answers alike."""
        # Only a replayed turn lacks a spec. The model may be None: extractive bots call none.
        assert turn.spec is not None, "only a replayed turn lacks its spec"
        shown: list[str] = []
        citations: list[dict] = []
        stored = False
        self._open_answer(turn)
        saved_at = time.monotonic()
        try:
            for event in answering.answer_stream(
                turn.spec,
                turn.question,
                turn.history,
                retrieve=self._retriever(turn.bot_id),
                model=turn.model,
                embedding_model=turn.embedding_model,
                corrections=self._matches(turn),
            ):
                if isinstance(event, answering.Delta):
                    shown.append(event.text)
                    if time.monotonic() - saved_at >= PROGRESS_EVERY_S:
                        self._save_progress(turn, "".join(shown))
                        saved_at = time.monotonic()
                    yield event
                elif isinstance(event, answering.Citations):
                    citations = event.citations
                    yield event
                elif isinstance(event, answering.Done):
                    corrected = event.debug.corrected
                    reply = self._store_answer(
                        turn,
                        text=event.text,
                        citations=citations,
                        fallback=event.fallback,
                        handoff=event.handoff,
                        usage=event.usage,
                        latency_ms=event.latency_ms,
                        debug=event.debug,
                        answered_by="corrected" if corrected else None,
                    )
                    stored = True
                    if corrected and self._corrections:
                        self._corrections.record_hit(turn.bot_id, corrected["id"])
                    yield reply
                elif isinstance(event, answering.Failed):
                    self._store_answer(
                        turn,
                        text=event.partial_text or "".join(shown),
                        error=event.code,
                        partial=bool(shown),
                        latency_ms=event.latency_ms,
                    )
                    stored = True
                    yield event.error
        except Exception:
            if stored:
                raise
            log.exception("answer failed")
            self._store_answer(turn, text="".join(shown), error="internal_error", partial=bool(shown))
            stored = True
            yield DomainError("the answer pipeline raised; see the traceback above")
        finally:
            if not stored:
                # The client left (or we failed) mid-answer: keep what it saw, marked partial.
                self._store_answer(turn, text="".join(shown), error="client_disconnected", partial=True)

    def _matches(self, turn: Turn) -> list[Match]:
        """The turn's version's corrected answers, scored. Matching is a help, not a
        requirement: if it fails, the question is answered as if there were none."""
        if self._corrections is None or turn.spec is None or not turn.spec.corrections.enabled:
            return []
        try:
            return self._corrections.matches(turn.bot_id, turn.version, turn.question, turn.spec.corrections)
        except Exception:
            log.exception("corrected answers could not be matched; answering without them")
            return []

    # --- the stored side -------------------------------------------------------------
    def accept(self, q: Question) -> Turn:
        """Check and store the question. Raises a `DomainError` before anything is stored or
        any model is called when a limit or a reference is wrong."""
        try:
            return self._accept(q)
        except IntegrityError:
            # Another process stored this question (same Idempotency-Key) or created this
            # conversation between our reads and our write, and our transaction was rolled
            # back whole: read again, and find the replay or the conversation it made.
            log.info("question stored concurrently by another request; reading it again")
            return self._accept(q)

    def _accept(self, q: Question) -> Turn:
        text = q.text.strip()
        if not text:
            raise EmptyMessage()
        if len(text) > self.limits.max_message_chars:
            raise MessageTooLong(length=len(text), limit=self.limits.max_message_chars)
        with self._sessions() as s:
            bot = s.get(t.Bot, q.bot_id)
            if bot is None:
                raise BotNotFound(bot_id=q.bot_id)
            if q.request_key and (replay := self._replay(s, q)):
                return replay
            resolved = resolve(s, bot, q.version)
            embedding_model = bot.embedding_model
            existing = self._existing_conversation(s, q)
            history = q.history if q.history is not None else (_stored_history(s, existing.id) if existing else [])
            count = existing.message_count if existing else 0
        # Early, so a full conversation builds no model; `_reserve_turn` is what enforces it.
        if max(count, len(history)) + 2 > self.limits.max_conversation_messages:
            raise ConversationTooLong(limit=self.limits.max_conversation_messages)
        spec = capped(resolved.spec, q.max_tokens)
        # Raises ModelConfigError / LocalModelError (DomainErrors) before anything is stored.
        # An extractive bot never calls its model: it answers even when the bundled model's
        # server cannot start, and does not start it for nothing.
        generative = spec.answer.effective_style(spec.model) == "generative"
        model = self._model_for(spec.model) if generative else None
        with self._sessions.begin() as s:
            conversation_id = existing.id if existing else (q.conversation_id or self._new_conversation_id(q))
            if existing is None:
                s.add(
                    t.Conversation(
                        id=conversation_id, bot_id=q.bot_id, owner=q.owner, channel=q.channel, version=resolved.version
                    )
                )
                s.flush()
            self._reserve_turn(s, conversation_id)
            question = t.Message(
                id=t.new_id("msg"),
                conversation_id=conversation_id,
                bot_id=q.bot_id,
                role="user",
                content=text,
                version=resolved.version,
                # An empty Idempotency-Key is no key, as the replay lookup above reads it:
                # stored as "", it made the session's next question break the unique
                # (conversation, key) and answer 500 (found by the API fuzzer).
                request_key=q.request_key or None,
            )
            s.add(question)
        return Turn(
            q.bot_id,
            spec,
            resolved.version,
            conversation_id,
            question.id,
            t.new_id("msg"),
            text,
            history,
            model=model,
            embedding_model=embedding_model,
        )

    @staticmethod
    def _new_conversation_id(q: Question) -> str:
        return keyed_conversation_id(q) if q.request_key else new_conversation_id()

    def _existing_conversation(self, s: Session, q: Question) -> t.Conversation | None:
        if not q.conversation_id:
            return None
        conversation = s.get(t.Conversation, q.conversation_id)
        # A session token names its conversation before the first message creates it; any
        # other caller must name one that exists and is theirs.
        if conversation is None and q.owner == "session":
            return None
        if conversation is None or conversation.bot_id != q.bot_id or conversation.owner != q.owner:
            # Same answer as a missing one: ids of others' conversations reveal nothing.
            raise ConversationNotFound(q.conversation_id)
        return conversation

    def _reserve_turn(self, s: Session, conversation_id: str) -> None:
        """Count the question and its answer against the conversation's limit, atomically.

        Counting the messages and then inserting let parallel requests all pass the count
        (ten at 98 of 100 messages left 102). One conditional UPDATE cannot: SQLite runs one
        writer at a time, and Postgres makes a concurrent UPDATE of the row wait and then
        re-check the WHERE against the committed count. Raising rolls the transaction back,
        so a refused question leaves nothing stored."""
        limit = self.limits.max_conversation_messages
        reserved = s.execute(
            update(t.Conversation)
            .where(t.Conversation.id == conversation_id, t.Conversation.message_count + 2 <= limit)
            .values(message_count=t.Conversation.message_count + 2)
            .execution_options(synchronize_session=False)
        )
        if reserved.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's Result is a CursorResult; the stubs say Result
            raise ConversationTooLong(limit=limit)

    def _replay(self, s: Session, q: Question) -> Turn | None:
        same_request = [
            t.Message.bot_id == q.bot_id,
            t.Message.request_key == q.request_key,
            t.Conversation.owner == q.owner,
        ]
        if q.owner == "session":
            # Every widget session has the owner "session": its conversation is what is its
            # own (the signed token names it). Without this, a key another visitor used
            # returned their answer. API keys stay scoped by their owner, "key:<id>".
            if not q.conversation_id:
                return None
            same_request.append(t.Message.conversation_id == q.conversation_id)
        question = s.scalar(select(t.Message).join(t.Conversation).where(*same_request))
        if question is None:
            return None
        answer = s.scalar(select(t.Message).where(t.Message.reply_to == question.id))
        if answer is None or answer.error == UNFINISHED:
            raise RequestInProgress()
        if answer.error:
            raise RequestFailed(error=answer.error)
        reply = Reply(
            answer.content,
            answer.citations or [],
            answer.fallback,
            answer.handoff,
            answer.conversation_id,
            answer.id,
            answer.latency_ms or 0,
            {"prompt_tokens": answer.prompt_tokens or 0, "completion_tokens": answer.completion_tokens or 0},
            answer.version,
            answered_by=answer.answered_by or _answered_by(answer.fallback),
        )
        return Turn(
            q.bot_id,
            None,
            answer.version,
            answer.conversation_id,
            question.id,
            answer.id,
            question.content,
            [],
            replay=reply,
        )

    def _store_answer(
        self,
        turn: Turn,
        *,
        text: str,
        citations: list | None = None,
        fallback: bool = False,
        handoff: bool = False,
        usage: Usage | None = None,
        latency_ms: int | None = None,
        debug: Debug | None = None,
        error: str | None = None,
        partial: bool = False,
        answered_by: str | None = None,
    ) -> Reply:
        usage = usage or Usage()
        answered_by = answered_by or _answered_by(fallback)
        with self._sessions.begin() as s:
            # Over the row `_open_answer` wrote (merge: also when that write failed).
            s.merge(
                t.Message(
                    id=turn.answer_id,
                    created_at=t.now(),  # when it was answered, as before the row was opened
                    conversation_id=turn.conversation_id,
                    bot_id=turn.bot_id,
                    role="assistant",
                    content=text,
                    citations=citations or [],
                    version=turn.version,
                    fallback=fallback,
                    handoff=handoff,
                    answered_by=None if error else answered_by,
                    partial=partial,
                    error=error,
                    latency_ms=latency_ms,
                    prompt_tokens=usage.prompt_tokens,
                    completion_tokens=usage.completion_tokens,
                    reply_to=turn.question_id,
                    debug=compact_debug(debug),
                )
            )
            conversation = s.get(t.Conversation, turn.conversation_id)
            conversation.updated_at = t.now()
        return Reply(
            text,
            citations or [],
            fallback,
            handoff,
            turn.conversation_id,
            turn.answer_id,
            latency_ms or 0,
            usage.as_dict(),
            turn.version,
            debug,
            answered_by,
        )

    def _open_answer(self, turn: Turn) -> None:
        """The answer's row before the model is asked, marked unfinished: what remains of it
        if this process dies mid-answer (see the module's docstring)."""
        with self._sessions.begin() as s:
            s.add(
                t.Message(
                    id=turn.answer_id,
                    conversation_id=turn.conversation_id,
                    bot_id=turn.bot_id,
                    role="assistant",
                    content="",
                    citations=[],
                    version=turn.version,
                    partial=True,
                    error=UNFINISHED,
                    reply_to=turn.question_id,
                )
            )

    def _save_progress(self, turn: Turn, text: str) -> None:
        """The text streamed so far, into the unfinished row. A failed save costs only what
        a crash would have kept: the answer goes on."""
        try:
            with self._sessions.begin() as s:
                s.execute(
                    update(t.Message)
                    .where(t.Message.id == turn.answer_id, t.Message.error == UNFINISHED)
                    .values(content=text)
                )
        except Exception:
            log.warning("could not save the progress of answer %s", turn.answer_id, exc_info=True)

    def _retriever(self, bot_id: str):
        return lambda query, k: self._search(bot_id, query, k)


def _answered_by(fallback: bool) -> str:
    return "fallback" if fallback else "model"


def capped(spec: BotSpec, max_tokens: int | None) -> BotSpec:
    """The spec with a client's lower max_tokens; a client can never raise the bot's cap."""
    if not max_tokens or max_tokens >= spec.model.max_tokens:
        return spec
    return spec.model_copy(update={"model": spec.model.model_copy(update={"max_tokens": max_tokens})})


def _stored_history(s: Session, conversation_id: str) -> list[dict]:
    rows = s.scalars(
        select(t.Message)
        .where(t.Message.conversation_id == conversation_id, t.Message.error.is_(None))
        .order_by(t.Message.created_at.desc())
        .limit(HISTORY_MESSAGES)
    ).all()
    # A person's reply from the hand-off inbox is part of what the customer was told: the model
    # sees it as an assistant turn (providers know no "staff" role).
    return [
        {"role": "assistant" if m.role == "staff" else m.role, "content": m.content}
        for m in reversed(rows)
        if m.content
    ]


def _replayed(reply: Reply) -> Iterator[tuple[str, dict]]:
    """The rest of a stream for an answer already stored (same Idempotency-Key)."""
    ids = {"conversation_id": reply.conversation_id, "message_id": reply.message_id}
    yield "delta", {"text": reply.answer}
    yield "citations", {"citations": reply.citations}
    yield "done", _done(ids, reply)


def _done(ids: dict, reply: Reply) -> dict:
    """The last event of a stream. It carries the stored answer in full, which a client shows
    once the stream ends (cleaning may have changed text already streamed)."""
    return {
        **ids,
        "text": reply.answer,
        "fallback": reply.fallback,
        "handoff": reply.handoff,
        "answered_by": reply.answered_by,
        "usage": reply.usage,
        "latency_ms": reply.latency_ms,
    }


def hit_dict(h: Hit) -> dict:
    return {
        "chunk_id": h.chunk_id,
        "source": h.source,
        "page": h.page,
        "score": h.score,
        "dense_score": h.dense_score,
        "lexical_score": h.lexical_score,
    }


def compact_debug(debug: Debug | None) -> dict | None:
    """What is kept with every answer to explain it later: the reason, the hits' scores and
    the prompt the model was given (bounded, secrets out: bots.prompt_record)."""
    if debug is None:
        return None
    return {
        "prompt": prompt_record.kept(debug.messages),
        "reason": debug.reason,
        "language": debug.language,
        "cut_at_tokens": debug.cut_at_tokens,
        "style": debug.style,
        "guard": debug.guard,
        "hits": [hit_dict(h) for h in debug.hits],
        "passages": [h.chunk_id for h in debug.passages],
        "corrected": debug.corrected,
    }
