"""Stored conversations: what their owners may read and add (feedback, hand-off requests),
and what the builder lists, exports and charts."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, case, distinct, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from bots.core.errors import ConversationNotFound, MessageNotFound
from bots.store import tables as t


def owned_conversation(s: Session, bot_id: str, conversation_id: str, owner: str) -> t.Conversation:
    conversation = s.get(t.Conversation, conversation_id)
    if conversation is None or conversation.bot_id != bot_id or conversation.owner != owner:
        raise ConversationNotFound(conversation_id)
    return conversation


def messages(s: Session, conversation_id: str) -> list[t.Message]:
    return list(
        s.scalars(
            select(t.Message)
            .where(t.Message.conversation_id == conversation_id)
            .order_by(t.Message.created_at, t.Message.role.desc())
        )
    )


def feedback_by_message(s: Session, ids: list[str]) -> dict[str, t.Feedback]:
    if not ids:
        return {}
    return {f.message_id: f for f in s.scalars(select(t.Feedback).where(t.Feedback.message_id.in_(ids)))}


def public_history(s: Session, conversation: t.Conversation) -> dict:
    rows = messages(s, conversation.id)
    feedback = feedback_by_message(s, [m.id for m in rows])
    return {
        "conversation_id": conversation.id,
        "messages": [
            {
                "id": m.id,
                "role": m.role,
                "content": m.content,
                "citations": m.citations or [],
                "created_at": m.created_at.isoformat(),
                "partial": bool(m.partial),
                "feedback": _feedback_out(feedback.get(m.id)),
            }
            for m in rows
        ],
    }


def _feedback_out(f: t.Feedback | None) -> dict | None:
    return {"rating": f.rating, "comment": f.comment} if f else None


def owned_message(s: Session, bot_id: str, message_id: str, owner: str) -> t.Message:
    message = s.get(t.Message, message_id)
    if message is None or message.role != "assistant" or message.bot_id != bot_id:
        raise MessageNotFound(message_id)
    try:
        owned_conversation(s, bot_id, message.conversation_id, owner)
    except ConversationNotFound:
        raise MessageNotFound(message_id) from None  # someone else's: same answer as a missing one
    return message


def give_feedback(s: Session, message: t.Message, rating: str, comment: str) -> None:
    """One rating per message: rating again replaces it (a retried request changes nothing)."""
    existing = s.get(t.Feedback, message.id)
    if existing:
        existing.rating, existing.comment = rating, comment
    else:
        s.add(t.Feedback(message_id=message.id, rating=rating, comment=comment))
    s.commit()


def request_handoff(
    s: Session, conversation: t.Conversation, *, name: str, email: str | None, phone: str | None, message: str
) -> tuple[t.HandoffRequest, bool]:
    """The request, and whether it is new (only a new one tells the team)."""
    # The same request sent twice (a double click, a retry) is stored once.
    same = s.scalar(
        select(t.HandoffRequest).where(
            t.HandoffRequest.conversation_id == conversation.id,
            t.HandoffRequest.name == name,
            t.HandoffRequest.email.is_(email) if email is None else t.HandoffRequest.email == email,
            t.HandoffRequest.message == message,
        )
    )
    if same:
        return same, False
    row = t.HandoffRequest(
        id=t.new_id("hnd"),
        conversation_id=conversation.id,
        bot_id=conversation.bot_id,
        name=name,
        email=email,
        phone=phone,
        message=message,
        status="new",
    )
    s.add(row)
    s.commit()
    return row, True


# --- the builder's side ----------------------------------------------------------------
@dataclass
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    version: int | None = None
    feedback: str | None = None  # up | down | any | none
    fallback: bool | None = None
    handoff: bool | None = None
    channel: str | None = None
    # Leave one channel out: the Conversations page shows customers' talks without the
    # playground's (the support lead's own tries) unless asked for them.
    exclude_channel: str | None = None


def _conditions(bot_id: str, f: Filters) -> list:
    # The EXISTS subqueries read messages under their own alias: queries of messages (export,
    # stats) would otherwise correlate them with their own rows and leave the subquery no FROM.
    m = aliased(t.Message)
    c = [t.Conversation.bot_id == bot_id]
    if f.since:
        c.append(t.Conversation.created_at >= f.since)
    if f.until:
        c.append(t.Conversation.created_at < f.until)
    if f.version is not None:
        c.append(exists().where(m.conversation_id == t.Conversation.id, m.version == f.version))
    if f.channel:
        c.append(t.Conversation.channel == f.channel)
    if f.exclude_channel:
        c.append(t.Conversation.channel != f.exclude_channel)
    if f.fallback is not None:
        has = exists().where(m.conversation_id == t.Conversation.id, m.fallback.is_(True))
        c.append(has if f.fallback else ~has)
    if f.handoff is not None:
        has = exists().where(t.HandoffRequest.conversation_id == t.Conversation.id)
        c.append(has if f.handoff else ~has)
    if f.feedback:
        rated = (
            select(t.Feedback.message_id)
            .join(m, m.id == t.Feedback.message_id)
            .where(m.conversation_id == t.Conversation.id)
        )
        if f.feedback in ("up", "down"):
            c.append(exists(rated.where(t.Feedback.rating == f.feedback)))
        elif f.feedback == "any":
            c.append(exists(rated))
        else:
            c.append(~exists(rated))
    return c


def list_conversations(s: Session, bot_id: str, f: Filters, limit: int, offset: int) -> dict:
    """Two statements whatever the page size: the total, then the page with its figures."""
    where = _conditions(bot_id, f)
    total = s.scalar(select(func.count()).select_from(t.Conversation).where(*where)) or 0
    page = (
        select(t.Conversation)
        .where(*where)
        .order_by(t.Conversation.created_at.desc(), t.Conversation.id)
        .limit(limit)
        .offset(offset)
    )
    return {
        "conversations": _summaries(s, page),
        "total": total,
        "next_offset": offset + limit if offset + limit < total else None,
    }


def summary(s: Session, c: t.Conversation) -> dict:
    return _summaries(s, select(t.Conversation).where(t.Conversation.id == c.id))[0]


def _has_error(m: type[t.Message]) -> ColumnElement[bool]:
    # An empty string is no error (the Python code this replaced tested `bool(error)`).
    return func.coalesce(m.error, "") != ""


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    # COUNT skips the NULL a CASE without ELSE gives: portable "count where" (SQLite, Postgres).
    return func.count(case((condition, 1)))


def _summaries(s: Session, conversations: Select) -> list[dict]:
    """The list's figures for each conversation `conversations` selects, in its order, in one
    statement: the page is a CTE, and messages, feedback and hand-offs are aggregated for the
    page's conversations only, so the cost follows the page and not the whole table."""
    page = conversations.cte("page")
    in_page = select(page.c.id)
    per_message = (
        select(
            t.Message.conversation_id,
            func.count().label("messages"),
            _count_if(t.Message.fallback.is_(True)).label("fallbacks"),
            _count_if(_has_error(t.Message)).label("errors"),
            # Feedback's key is its message: the outer join adds no rows.
            _count_if(t.Feedback.rating == "up").label("thumbs_up"),
            _count_if(t.Feedback.rating == "down").label("thumbs_down"),
        )
        .outerjoin(t.Feedback, t.Feedback.message_id == t.Message.id)
        .where(t.Message.conversation_id.in_(in_page))
        .group_by(t.Message.conversation_id)
        .subquery()
    )
    per_handoff = (
        select(t.HandoffRequest.conversation_id, func.count().label("handoff_requests"))
        .where(t.HandoffRequest.conversation_id.in_(in_page))
        .group_by(t.HandoffRequest.conversation_id)
        .subquery()
    )
    first_question = (
        select(func.substr(t.Message.content, 1, 200))
        .where(t.Message.conversation_id == page.c.id, t.Message.role == "user")
        .order_by(t.Message.created_at, t.Message.id)
        .limit(1)
        .scalar_subquery()
    )
    figures = ("messages", "fallbacks", "errors", "thumbs_up", "thumbs_down")
    rows = s.execute(
        select(
            page.c.id,
            page.c.channel,
            page.c.version,
            page.c.created_at,
            page.c.updated_at,
            *(per_message.c[name] for name in figures),
            first_question.label("first_question"),
            per_handoff.c.handoff_requests,
        )
        .outerjoin(per_message, per_message.c.conversation_id == page.c.id)
        .outerjoin(per_handoff, per_handoff.c.conversation_id == page.c.id)
        .order_by(page.c.created_at.desc(), page.c.id)
    ).mappings()
    return [
        {
            "id": r["id"],
            "channel": r["channel"],
            "version": r["version"],
            "created_at": r["created_at"].isoformat(),
            "updated_at": r["updated_at"].isoformat(),
            "messages": r["messages"] or 0,  # NULL: a conversation without messages
            "first_question": r["first_question"] or "",
            "fallbacks": r["fallbacks"] or 0,
            "errors": r["errors"] or 0,
            "thumbs_up": r["thumbs_up"] or 0,
            "thumbs_down": r["thumbs_down"] or 0,
            "handoff_requests": r["handoff_requests"] or 0,
        }
        for r in rows
    ]


def detail(s: Session, bot_id: str, conversation_id: str) -> dict:
    c = s.get(t.Conversation, conversation_id)
    if c is None or c.bot_id != bot_id:
        raise ConversationNotFound(conversation_id)
    rows = messages(s, c.id)
    feedback = feedback_by_message(s, [m.id for m in rows])
    handoffs = s.scalars(select(t.HandoffRequest).where(t.HandoffRequest.conversation_id == c.id)).all()
    return {
        **summary(s, c),
        "messages": [message_out(m, feedback.get(m.id)) for m in rows],
        "handoffs": [handoff_out(h) for h in handoffs],
    }


def message_out(m: t.Message, f: t.Feedback | None = None) -> dict:
    return {
        "id": m.id,
        "role": m.role,
        "content": m.content,
        "citations": m.citations or [],
        "version": m.version,
        "fallback": m.fallback,
        "handoff": m.handoff,
        "answered_by": m.answered_by,
        "partial": m.partial,
        "error": m.error,
        "latency_ms": m.latency_ms,
        "prompt_tokens": m.prompt_tokens,
        "completion_tokens": m.completion_tokens,
        # The stored prompt is shown in the review inbox (masked there), not with every message.
        "debug": {k: v for k, v in m.debug.items() if k != "prompt"} if m.debug else m.debug,
        "created_at": m.created_at.isoformat(),
        "feedback": _feedback_out(f),
    }


def handoff_out(h: t.HandoffRequest, failed_deliveries: int = 0) -> dict:
    return {
        "id": h.id,
        "conversation_id": h.conversation_id,
        "name": h.name,
        "email": h.email,
        "phone": h.phone,
        "message": h.message,
        "created_at": h.created_at.isoformat(),
        "status": h.status,
        "assignee": h.assignee,
        "updated_at": h.updated_at.isoformat() if h.updated_at else None,
        "failed_deliveries": failed_deliveries,
    }


def handoffs(s: Session, bot_id: str, limit: int, offset: int, status: str | None = None) -> list[dict]:
    failed = (
        select(func.count())
        .where(t.HandoffDelivery.handoff_id == t.HandoffRequest.id, t.HandoffDelivery.status == "failed")
        .scalar_subquery()
    )
    query = select(t.HandoffRequest, failed).where(t.HandoffRequest.bot_id == bot_id)
    if status is not None:
        query = query.where(t.HandoffRequest.status == status)
    rows = s.execute(
        # The id breaks ties, so that pages neither repeat nor skip a request stamped the same instant.
        query.order_by(t.HandoffRequest.created_at.desc(), t.HandoffRequest.id).limit(limit).offset(offset)
    ).all()
    return [handoff_out(h, n or 0) for h, n in rows]


EXPORT_FIELDS = [
    "conversation_id",
    "channel",
    "message_id",
    "created_at",
    "role",
    "content",
    "version",
    "fallback",
    "handoff",
    "answered_by",
    "partial",
    "error",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "citations",
    "feedback",
    "feedback_comment",
]


def export_rows(s: Session, bot_id: str, f: Filters) -> list[dict]:
    rows = s.execute(
        select(t.Message, t.Conversation.channel, t.Feedback)
        .join(t.Conversation, t.Conversation.id == t.Message.conversation_id)
        .outerjoin(t.Feedback, t.Feedback.message_id == t.Message.id)
        .where(and_(*_conditions(bot_id, f)))
        # Ties broken as `messages` does (a question before its answer stamped the same instant),
        # and two conversations started the same instant are not interleaved.
        .order_by(
            t.Conversation.created_at,
            t.Conversation.id,
            t.Message.created_at,
            t.Message.role.desc(),
            t.Message.id,
        )
    ).all()
    return [
        {
            "conversation_id": m.conversation_id,
            "channel": channel,
            "message_id": m.id,
            "created_at": m.created_at.isoformat(),
            "role": m.role,
            "content": m.content,
            "version": m.version,
            "fallback": m.fallback,
            "handoff": m.handoff,
            "answered_by": m.answered_by,
            "partial": m.partial,
            "error": m.error,
            "latency_ms": m.latency_ms,
            "prompt_tokens": m.prompt_tokens,
            "completion_tokens": m.completion_tokens,
            "citations": [
                "{source} p.{page}".format(**c) if c.get("page") else c.get("source") for c in m.citations or []
            ],
            "feedback": fb.rating if fb else None,
            "feedback_comment": fb.comment if fb else None,
        }
        for m, channel, fb in rows
    ]


def to_csv(rows: list[dict]) -> str:
    # A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...) can
    # send the sheet's data away); customers write the messages, so such a cell gets a leading
    # `'`, which spreadsheets show as text and never evaluate.
    formula_starts = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

    def inert(value):
        if isinstance(value, str) and value.lstrip(" ").startswith(formula_starts):
            return "'" + value
        return value

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        cells = {**row, "citations": "; ".join(str(c) for c in row["citations"])}
        writer.writerow({name: inert(value) for name, value in cells.items()})
    return out.getvalue()


def stats(s: Session, bot_id: str, f: Filters) -> dict:
    """Per day: conversations, questions, answers, thumbs up/down, fallback rate, latency.

    Two statements whatever the volume: the day's counts and sums, then only the one or two
    latencies per day that are its median and 95th percentile (ranked by a window function)."""
    day = func.date(t.Message.created_at)  # SQLite: a 'YYYY-MM-DD' string; Postgres: a date
    # The bot's answers: a person's reply from the hand-off inbox (role "staff") is not one.
    answer = t.Message.role == "assistant"
    # The latencies that count: answers that got through; a failed call's time says nothing.
    timed = and_(answer, t.Message.latency_ms.is_not(None), ~_has_error(t.Message))
    totals = s.execute(
        select(
            day.label("day"),
            func.count(distinct(t.Message.conversation_id)).label("conversations"),
            _count_if(t.Message.role == "user").label("questions"),
            _count_if(answer).label("answers"),
            _count_if(and_(answer, t.Message.fallback.is_(True))).label("fallbacks"),
            _count_if(and_(answer, _has_error(t.Message))).label("errors"),
            _count_if(and_(answer, t.Feedback.rating == "up")).label("up"),
            _count_if(and_(answer, t.Feedback.rating == "down")).label("down"),
            func.sum(case((timed, t.Message.latency_ms))).label("latency_sum"),
            _count_if(timed).label("latency_count"),
        )
        .join(t.Conversation, t.Conversation.id == t.Message.conversation_id)
        .outerjoin(t.Feedback, t.Feedback.message_id == t.Message.id)
        .where(*_conditions(bot_id, f))
        .group_by(day)
        .order_by(day)
    ).all()
    # Of n sorted latencies, the 0-based indexes n // 2 (median) and int(n * 0.95) (95th
    # percentile; never past the last, since 0.95 * n < n), computed in integers: 95 * n // 100.
    ranked = (
        select(
            day.label("day"),
            t.Message.latency_ms.label("latency"),
            func.row_number().over(partition_by=day, order_by=t.Message.latency_ms).label("rank"),
            func.count().over(partition_by=day).label("n"),
        )
        .join(t.Conversation, t.Conversation.id == t.Message.conversation_id)
        .where(timed, *_conditions(bot_id, f))
        .subquery()
    )
    p50_rank, p95_rank = ranked.c.n // 2 + 1, ranked.c.n * 95 // 100 + 1
    latency_at: dict[tuple[str, int], int] = {
        (_iso_day(d), rank): latency
        for d, rank, latency in s.execute(
            select(ranked.c.day, ranked.c.rank, ranked.c.latency).where(
                or_(ranked.c.rank == p50_rank, ranked.c.rank == p95_rank)
            )
        )
    }
    out = []
    for r in totals:
        when, n = _iso_day(r.day), r.latency_count
        rated = r.up + r.down
        out.append(
            {
                "date": when,
                "conversations": r.conversations,
                "questions": r.questions,
                "answers": r.answers,
                "errors": r.errors,
                "thumbs_up": r.up,
                "thumbs_down": r.down,
                "thumbs_up_rate": round(r.up / rated, 4) if rated else None,
                "fallback_rate": round(r.fallbacks / r.answers, 4) if r.answers else None,
                "latency_ms_avg": round(r.latency_sum / n) if n else None,
                "latency_ms_p50": latency_at[when, n // 2 + 1] if n else None,
                "latency_ms_p95": latency_at[when, n * 95 // 100 + 1] if n else None,
            }
        )
    return {"days": out}


def _iso_day(day: str | date) -> str:
    return day if isinstance(day, str) else day.isoformat()
