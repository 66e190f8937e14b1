"""The public API: what the widget and integrations call. Safe to expose to the internet:
display-only config without auth; everything else needs a key or session scoped to the bot;
request bodies reject unknown fields."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, Request
from pydantic import Field

from bots.chat import Question, new_conversation_id
from bots.core.errors import BotNotPublished
from bots.core.spec import public_config
from bots.http.deps import BotDep, DbSession, ReleasingRoute, RuntimeDep, bearer_token
from bots.http.errors import ApiError
from bots.http.public_auth import IpLimit, PublicCaller, check_rate, client_ip, limit_question
from bots.http.request_values import RequestBody
from bots.http.sse import sse
from bots.schemas.answers import Answer
from bots.schemas.public import HandoffCreated, PublicConfig, PublicHistory, WidgetSession
from bots.store import keys
from bots.store import tables as t
from bots.store.conversations import (
    give_feedback,
    owned_conversation,
    owned_message,
    public_history,
    request_handoff,
)
from bots.store.versions import resolve

router = APIRouter(route_class=ReleasingRoute, prefix="/v1/bots/{bot_id}", tags=["public API"])

RESUME_GRACE_S = 30 * 24 * 3600  # an expired token still proves ownership this long


class SessionRequest(RequestBody):
    conversation_id: str | None = Field(default=None, max_length=60)
    previous_token: str | None = Field(default=None, max_length=1000)


class ChatRequest(RequestBody):
    message: str = Field(description="The customer's question.")
    conversation_id: str | None = Field(default=None, max_length=60)
    stream: bool = False


class FeedbackRequest(RequestBody):
    rating: str = Field(pattern="^(up|down)$")
    comment: str = Field(default="", max_length=2000)


class HandoffRequestBody(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=300, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=60)
    message: str = Field(min_length=1, max_length=4000)


def own_origins(request: Request, public_url: str | None) -> set[str]:
    """The server's own origin: the hosted chat page (`/chat/{bot_id}`, served from here) opens
    its sessions from it. The Publish page offers that link as soon as a bot is published, so
    it must work without the person adding this server to the bot's allowed origins. Safe to
    allow: a browser sets Origin itself, and only pages this server serves carry its origin;
    other sites still need to be in the bot's list. `public_url` counts too, for a server
    behind a TLS proxy that sees plain http."""
    host = request.headers.get("host")
    origins = {f"{request.url.scheme}://{host}".lower()} if host else set()
    if public_url:
        parts = urlsplit(public_url)
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def _published(session, bot: t.Bot):
    # Widgets and sessions only know published bots: before the first publish, there is none.
    if bot.published_version is None:
        raise BotNotPublished(bot_id=bot.id)
    return resolve(session, bot, "published")


@router.get("/config", response_model=PublicConfig, summary="Display settings for the widget (no auth)")
def config(bot: BotDep, session: DbSession, request: Request, runtime: RuntimeDep):
    # Cheap and unauthenticated: its own, roomier per-IP bucket.
    check_rate(
        runtime, "config-ip:" + client_ip(request, runtime.settings.trusted_proxies), runtime.settings.rate_per_ip * 4
    )
    return public_config(_published(session, bot).spec, bot.id)


@router.post(
    "/sessions",
    dependencies=[IpLimit],
    response_model=WidgetSession,
    summary="Open a widget session with a publishable key",
)
def open_session(
    body: SessionRequest, bot: BotDep, session: DbSession, request: Request, runtime: RuntimeDep
) -> WidgetSession:
    token = bearer_token(request) or ""
    key = keys.find_key(session, token, "publishable")
    if key is None:
        raise ApiError(
            "unauthorized",
            "Opening a session needs the bot's publishable key: "
            "`Authorization: Bearer pk_...` (see the widget snippet in the builder).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if key.bot_id != bot.id:
        raise ApiError("wrong_bot", "This publishable key belongs to another bot.")
    origin = (request.headers.get("origin") or "").rstrip("/").lower()
    allowed = _published(session, bot).spec.allowed_origins
    if origin not in allowed and origin not in own_origins(request, runtime.settings.public_url):
        raise ApiError(
            "origin_not_allowed",
            f"This website ({origin or 'no Origin header'}) may not use this bot: add it to the "
            "bot's allowed origins in the builder and publish.",
        )
    conversation_id = new_conversation_id()
    if body.conversation_id and body.previous_token:
        claims = runtime.signer.verify(body.previous_token, allow_expired=True)
        if (
            claims
            and claims.bot_id == bot.id
            and claims.conversation_id == body.conversation_id
            and claims.expires_at + RESUME_GRACE_S > datetime.now(UTC).timestamp()
        ):
            conversation_id = body.conversation_id
    token, expires = runtime.signer.issue(bot.id, conversation_id, key.id)
    return WidgetSession(
        token=token,
        expires_at=datetime.fromtimestamp(expires, UTC).isoformat(),
        conversation_id=conversation_id,
    )


def _session_conversation(caller, requested: str | None) -> str | None:
    if caller.owner != "session":
        return requested
    if requested and requested != caller.conversation_id:
        raise ApiError(
            "wrong_conversation",
            "This session is for another conversation: open a new session to continue that one.",
        )
    return caller.conversation_id


@router.post(
    "/chat",
    dependencies=[IpLimit],
    response_model=Answer,
    summary="Ask the bot (JSON, or SSE with stream=true)",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "JSON answer; with stream=true, SSE events start, delta, citations, done, error.",
        }
    },
)
def chat(
    body: ChatRequest,
    caller: PublicCaller,
    runtime: RuntimeDep,
    idempotency_key: str | None = Header(default=None, max_length=100),
):
    limit_question(runtime, caller)
    question = Question(
        bot_id=caller.bot_id,
        text=body.message,
        owner=caller.owner,
        channel=caller.channel,
        conversation_id=_session_conversation(caller, body.conversation_id),
        request_key=idempotency_key,
    )
    if body.stream:
        # accept() raises before the response starts: refusals keep their HTTP status.
        return sse(runtime.chat.stream(runtime.chat.accept(question)))
    return runtime.chat.ask(question).public()


@router.get(
    "/conversations/{conversation_id}",
    dependencies=[IpLimit],
    response_model=PublicHistory,
    summary="A conversation's messages (its owner only)",
)
def conversation(conversation_id: str, caller: PublicCaller, session: DbSession):
    _session_conversation(caller, conversation_id)
    return public_history(session, owned_conversation(session, caller.bot_id, conversation_id, caller.owner))


@router.post(
    "/messages/{message_id}/feedback", status_code=204, dependencies=[IpLimit], summary="Thumbs up or down on an answer"
)
def feedback(message_id: str, body: FeedbackRequest, caller: PublicCaller, session: DbSession) -> None:
    message = owned_message(session, caller.bot_id, message_id, caller.owner)
    if caller.owner == "session":
        _session_conversation(caller, message.conversation_id)
    give_feedback(session, message, body.rating, body.comment)


@router.post(
    "/conversations/{conversation_id}/handoff",
    status_code=201,
    dependencies=[IpLimit],
    response_model=HandoffCreated,
    summary="Ask for a person to follow up",
)
def handoff(
    conversation_id: str, body: HandoffRequestBody, caller: PublicCaller, session: DbSession, runtime: RuntimeDep
) -> HandoffCreated:
    _session_conversation(caller, conversation_id)
    if not body.email and not body.phone:
        raise ApiError("contact_missing", "Give an email address or a phone number so the team can reach you.")
    conversation = owned_conversation(session, caller.bot_id, conversation_id, caller.owner)
    row, created = request_handoff(
        session, conversation, name=body.name, email=body.email, phone=body.phone, message=body.message
    )
    if created:  # a retried request was announced the first time
        runtime.handoffs.announce(row.id)
    return HandoffCreated(id=row.id)
