"""Admin API: the hand-off inbox. One request with its conversation (the context), and what
the team does with it: assign, reply (to the widget conversation and by e-mail), close. The
list, filtered by status, is `GET /admin/bots/{bot}/handoffs` (admin_conversations)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.request_values import RequestBody
from bots.schemas.handoffs import HandoffDetail
from bots.store import handoffs as store
from bots.store import tables as t

router = APIRouter(
    route_class=ReleasingRoute,
    prefix="/admin/bots/{bot_id}/handoffs",
    dependencies=[AdminAuth],
    tags=["admin: hand-offs"],
)


class AssignBody(RequestBody):
    assignee: str | None = Field(default=None, max_length=200, description="Who takes it; null or empty: nobody.")


class ReplyBody(RequestBody):
    message: str = Field(min_length=1, max_length=8000, description="What the customer reads.")
    author: str | None = Field(default=None, max_length=200, description="Who wrote it (shown to the team only).")


def _handoff(session, bot: t.Bot, handoff_id: str) -> t.HandoffRequest:
    row = store.find(session, bot.id, handoff_id)
    if row is None:
        raise ApiError("handoff_not_found", f"This bot has no hand-off request {handoff_id!r}.")
    return row


@router.get("/{handoff_id}", response_model=HandoffDetail, summary="A hand-off request with its conversation")
def get_handoff(handoff_id: str, bot: BotDep, session: DbSession):
    return store.detail(session, _handoff(session, bot, handoff_id))


@router.post("/{handoff_id}/assign", response_model=HandoffDetail, summary="Give it to someone (reopens a closed one)")
def assign(handoff_id: str, body: AssignBody, bot: BotDep, session: DbSession):
    row = _handoff(session, bot, handoff_id)
    store.assign(session, row, (body.assignee or "").strip() or None)
    return store.detail(session, row)


@router.post(
    "/{handoff_id}/reply",
    response_model=HandoffDetail,
    summary="Answer the customer: in the widget conversation, and by e-mail when they left an address",
)
def reply(handoff_id: str, body: ReplyBody, bot: BotDep, session: DbSession, runtime: RuntimeDep):
    row = _handoff(session, bot, handoff_id)
    if row.status == "closed":
        # A reply to something the team closed is more likely a wrong click than intended.
        raise ApiError("handoff_closed", "This request is closed: assign it to reopen it before replying.")
    if not body.message.strip():
        raise ApiError("empty_message", "Write the reply first: it is empty.")
    runtime.handoffs.reply(row, body.message.strip(), (body.author or "").strip() or None)
    session.expire_all()
    return store.detail(session, _handoff(session, bot, handoff_id))


@router.post("/{handoff_id}/close", response_model=HandoffDetail, summary="Mark it done")
def close(handoff_id: str, bot: BotDep, session: DbSession):
    row = _handoff(session, bot, handoff_id)
    store.close(session, row)
    return store.detail(session, row)
