"""Admin API: conversations to learn from (filters, detail, hand-offs, export, stats) and the
playground that asks any version — the draft included — and shows why it answered so."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field

from bots.chat import Question, Reply
from bots.core.errors import DomainError
from bots.core.masking import mask_contacts
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.request_values import DbInt, RequestBody
from bots.http.routes.admin_playground import playground_events
from bots.http.sse import sse
from bots.schemas.conversations import ConversationDetail, ConversationList, ExportedMessages, HandoffList, Stats
from bots.schemas.handoffs import HandoffStatus
from bots.schemas.playground import Comparison, Debug, DebugHit, PlaygroundReply
from bots.store import conversations as conv
from bots.store.versions import spec_model

router = APIRouter(
    route_class=ReleasingRoute, prefix="/admin/bots/{bot_id}", dependencies=[AdminAuth], tags=["admin: conversations"]
)


def filters(
    since: datetime | None = None,
    until: datetime | None = None,
    version: DbInt | None = None,
    feedback: Literal["up", "down", "any", "none"] | None = None,
    fallback: bool | None = None,
    handoff: bool | None = None,
    channel: str | None = None,
    exclude_channel: str | None = None,
) -> conv.Filters:
    return conv.Filters(since, until, version, feedback, fallback, handoff, channel, exclude_channel)


FiltersDep = Annotated[conv.Filters, Depends(filters)]


@router.get("/conversations", response_model=ConversationList)
def list_conversations(
    bot: BotDep,
    session: DbSession,
    f: FiltersDep,
    limit: int = Query(50, ge=1, le=500),
    offset: Annotated[DbInt, Query(ge=0)] = 0,
):
    return conv.list_conversations(session, bot.id, f, limit, offset)


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
def conversation_detail(conversation_id: str, bot: BotDep, session: DbSession):
    return conv.detail(session, bot.id, conversation_id)


@router.get("/handoffs", response_model=HandoffList)
def list_handoffs(
    bot: BotDep,
    session: DbSession,
    limit: int = Query(100, ge=1, le=1000),
    offset: Annotated[DbInt, Query(ge=0)] = 0,
    status: HandoffStatus | None = None,
) -> HandoffList:
    return HandoffList.model_validate({"handoffs": conv.handoffs(session, bot.id, limit, offset, status)})


@router.get(
    "/export",
    response_model=ExportedMessages,
    summary="Every message, as CSV or JSON",
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "format=json: the messages as JSON; format=csv: a CSV file download (one row a message).",
        }
    },
)
def export(bot: BotDep, session: DbSession, f: FiltersDep, format: Literal["csv", "json"] = "json"):
    rows = conv.export_rows(session, bot.id, f)
    if spec_model(bot, bot.spec).review.mask_contacts:
        # The bot's setting: customers' e-mail addresses and phone numbers stay out of exports.
        for row in rows:
            row["content"] = mask_contacts(row["content"] or "")
            if row["feedback_comment"]:
                row["feedback_comment"] = mask_contacts(row["feedback_comment"])
    if format == "json":
        return {"messages": rows}
    return Response(
        conv.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{bot.id}-conversations.csv"'},
    )


@router.get("/stats", response_model=Stats, summary="Per day: volume, thumbs-up rate, fallback rate, latency")
def stats(bot: BotDep, session: DbSession, f: FiltersDep):
    return conv.stats(session, bot.id, f)


class PlaygroundRequest(RequestBody):
    message: str
    conversation_id: str | None = Field(default=None, max_length=60)
    version: Literal["draft", "published"] | int = "draft"
    stream: bool = False


class CompareRequest(RequestBody):
    message: str
    versions: list[Literal["draft", "published"] | int] = Field(
        default=["draft", "published"], min_length=1, max_length=4
    )


def _debug(reply: Reply) -> Debug:
    d = reply.debug
    hits = (
        [
            DebugHit(
                chunk_id=h.chunk_id,
                source=h.source,
                page=h.page,
                score=h.score,
                dense_score=h.dense_score,
                lexical_score=h.lexical_score,
                text=h.text,
                used=any(p.chunk_id == h.chunk_id for p in d.passages),
            )
            for h in d.hits
        ]
        if d
        else []
    )
    return Debug.model_validate(
        {
            "hits": hits,
            "prompt": d.messages if d else [],
            "reason": d.reason if d else None,
            "language": d.language if d else None,
            "tokens": reply.usage,
            "cut_at_tokens": d.cut_at_tokens if d else None,
            "prompt_tokens_estimate": d.prompt_tokens_estimate if d else None,
            "latency_ms": reply.latency_ms,
            "fallback": reply.fallback,
            "style": d.style if d else None,
            "guard": d.guard if d else None,
            "demo_model": d.demo_model if d else False,
            "corrected": d.corrected if d else None,
            "corrected_refused": d.corrected_refused if d else None,
        }
    )


def _ask(runtime, bot_id: str, message: str, version, conversation_id: str | None) -> PlaygroundReply:
    question = Question(
        bot_id=bot_id,
        text=message,
        owner="admin",
        channel="playground",
        conversation_id=conversation_id,
        version=version,
    )
    return playground_reply(runtime.chat.ask(question))


def playground_reply(reply: Reply) -> PlaygroundReply:
    """An answer with its debugging details, as the playground (JSON or streamed) returns it."""
    return PlaygroundReply.model_validate(
        {
            **reply.public(),
            "version": reply.version if reply.version is not None else "draft",
            "debug": _debug(reply),
        }
    )


@router.post(
    "/playground",
    response_model=PlaygroundReply,
    summary="Ask the draft or any version, with debugging details (JSON, or SSE with stream=true)",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "JSON reply; with stream=true, SSE events start, delta, done (the reply), error.",
        }
    },
)
def playground(body: PlaygroundRequest, bot: BotDep, runtime: RuntimeDep):
    if body.stream:
        question = Question(
            bot_id=bot.id,
            text=body.message,
            owner="admin",
            channel="playground",
            conversation_id=body.conversation_id,
            version=body.version,
        )
        # accept() raises before the response starts: a refused question keeps its HTTP status.
        return sse(playground_events(runtime, runtime.chat.accept(question), playground_reply))
    return _ask(runtime, bot.id, body.message, body.version, body.conversation_id)


@router.post(
    "/compare",
    response_model=Comparison,
    summary="Ask several versions (default: draft and published) the same question",
)
def compare(body: CompareRequest, bot: BotDep, runtime: RuntimeDep):
    results: list = []
    for version in body.versions:
        try:
            results.append(_ask(runtime, bot.id, body.message, version, None))
        except DomainError as err:  # one version failing is part of the comparison, not its end
            results.append({"version": version, "error": {"code": err.code, "message": err.message}})
    return {"results": results}
