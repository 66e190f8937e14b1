"""Stored conversations: what their owners may read and add (feedback, hand-off requests),
and what the builder lists, exports and charts."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from bots.store import tables as t


class NotFound(Exception):
    pass


def owned_conversation(s: Session, bot_id: str, conversation_id: str, owner: str) -> t.Conversation:
    conversation = s.get(t.Conversation, conversation_id)
    if conversation is None or conversation.bot_id != bot_id or conversation.owner != owner:
        raise NotFound(conversation_id)
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
        raise NotFound(message_id)
    owned_conversation(s, bot_id, message.conversation_id, owner)
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
) -> t.HandoffRequest:
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
        return same
    row = t.HandoffRequest(
        id=t.new_id("hnd"),
        conversation_id=conversation.id,
        bot_id=conversation.bot_id,
        name=name,
        email=email,
        phone=phone,
        message=message,
    )
    s.add(row)
    s.commit()
    return row


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


def _conditions(bot_id: str, f: Filters) -> list:
    c = [t.Conversation.bot_id == bot_id]
    if f.since:
        c.append(t.Conversation.created_at >= f.since)
    if f.until:
        c.append(t.Conversation.created_at < f.until)
    if f.version is not None:
        c.append(exists().where(t.Message.conversation_id == t.Conversation.id, t.Message.version == f.version))
    if f.channel:
        c.append(t.Conversation.channel == f.channel)
    if f.fallback is not None:
        has = exists().where(t.Message.conversation_id == t.Conversation.id, t.Message.fallback.is_(True))
        c.append(has if f.fallback else ~has)
    if f.handoff is not None:
        has = exists().where(t.HandoffRequest.conversation_id == t.Conversation.id)
        c.append(has if f.handoff else ~has)
    if f.feedback:
        rated = (
            select(t.Feedback.message_id)
            .join(t.Message, t.Message.id == t.Feedback.message_id)
            .where(t.Message.conversation_id == t.Conversation.id)
        )
        if f.feedback in ("up", "down"):
            c.append(exists(rated.where(t.Feedback.rating == f.feedback)))
        elif f.feedback == "any":
            c.append(exists(rated))
        else:
            c.append(~exists(rated))
    return c


def list_conversations(s: Session, bot_id: str, f: Filters, limit: int, offset: int) -> dict:
    where = _conditions(bot_id, f)
    total = s.scalar(select(func.count()).select_from(t.Conversation).where(*where))
    rows = s.scalars(
        select(t.Conversation)
        .where(*where)
        .order_by(t.Conversation.created_at.desc(), t.Conversation.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return {
        "conversations": [summary(s, c) for c in rows],
        "total": total,
        "next_offset": offset + limit if offset + limit < total else None,
    }


def summary(s: Session, c: t.Conversation) -> dict:
    rows = messages(s, c.id)
    feedback = feedback_by_message(s, [m.id for m in rows]).values()
    first = next((m.content for m in rows if m.role == "user"), "")
    handoffs = s.scalar(
        select(func.count()).select_from(t.HandoffRequest).where(t.HandoffRequest.conversation_id == c.id)
    )
    return {
        "id": c.id,
        "channel": c.channel,
        "version": c.version,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
        "messages": len(rows),
        "first_question": first[:200],
        "fallbacks": sum(m.fallback for m in rows),
        "errors": sum(bool(m.error) for m in rows),
        "thumbs_up": sum(x.rating == "up" for x in feedback),
        "thumbs_down": sum(x.rating == "down" for x in feedback),
        "handoff_requests": handoffs,
    }


def detail(s: Session, bot_id: str, conversation_id: str) -> dict:
    c = s.get(t.Conversation, conversation_id)
    if c is None or c.bot_id != bot_id:
        raise NotFound(conversation_id)
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
        "partial": m.partial,
        "error": m.error,
        "latency_ms": m.latency_ms,
        "prompt_tokens": m.prompt_tokens,
        "completion_tokens": m.completion_tokens,
        "debug": m.debug,
        "created_at": m.created_at.isoformat(),
        "feedback": _feedback_out(f),
    }


def handoff_out(h: t.HandoffRequest) -> dict:
    return {
        "id": h.id,
        "conversation_id": h.conversation_id,
        "name": h.name,
        "email": h.email,
        "phone": h.phone,
        "message": h.message,
        "created_at": h.created_at.isoformat(),
    }


def handoffs(s: Session, bot_id: str, limit: int, offset: int) -> list[dict]:
    rows = s.scalars(
        select(t.HandoffRequest)
        .where(t.HandoffRequest.bot_id == bot_id)
        .order_by(t.HandoffRequest.created_at.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [handoff_out(h) for h in rows]


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
        .order_by(t.Conversation.created_at, t.Message.created_at)
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
    """Per day: conversations, questions, answers, thumbs up/down, fallback rate, latency."""
    rows = s.execute(
        select(
            t.Message.created_at,
            t.Message.role,
            t.Message.fallback,
            t.Message.error,
            t.Message.latency_ms,
            t.Message.conversation_id,
            t.Feedback.rating,
        )
        .join(t.Conversation, t.Conversation.id == t.Message.conversation_id)
        .outerjoin(t.Feedback, t.Feedback.message_id == t.Message.id)
        .where(*_conditions(bot_id, f))
    ).all()
    days: dict[str, dict] = {}
    for created, role, fallback, error, latency, conversation_id, rating in rows:
        d = days.setdefault(
            created.date().isoformat(),
            {
                "conversations": set(),
                "questions": 0,
                "answers": 0,
                "fallbacks": 0,
                "errors": 0,
                "up": 0,
                "down": 0,
                "latencies": [],
            },
        )
        d["conversations"].add(conversation_id)
        if role == "user":
            d["questions"] += 1
            continue
        d["answers"] += 1
        d["fallbacks"] += bool(fallback)
        d["errors"] += bool(error)
        d["up"] += rating == "up"
        d["down"] += rating == "down"
        if latency is not None and not error:
            d["latencies"].append(latency)
    out = []
    for day in sorted(days):
        d = days[day]
        lat = sorted(d["latencies"])
        rated = d["up"] + d["down"]
        out.append(
            {
                "date": day,
                "conversations": len(d["conversations"]),
                "questions": d["questions"],
                "answers": d["answers"],
                "errors": d["errors"],
                "thumbs_up": d["up"],
                "thumbs_down": d["down"],
                "thumbs_up_rate": round(d["up"] / rated, 4) if rated else None,
                "fallback_rate": round(d["fallbacks"] / d["answers"], 4) if d["answers"] else None,
                "latency_ms_avg": round(sum(lat) / len(lat)) if lat else None,
                "latency_ms_p50": lat[len(lat) // 2] if lat else None,
                "latency_ms_p95": lat[min(len(lat) - 1, int(len(lat) * 0.95))] if lat else None,
            }
        )
    return {"days": out}
