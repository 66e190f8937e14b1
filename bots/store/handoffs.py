"""The hand-off inbox in SQL: a request's status and assignee, the team's replies (stored as
messages of the conversation, role "staff", so the customer's history shows them) and the
e-mails and webhooks sent about it."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bots.store import tables as t
from bots.store.conversations import handoff_out, message_out, messages

STAFF_ROLE = "staff"


def find(s: Session, bot_id: str, handoff_id: str) -> t.HandoffRequest | None:
    row = s.get(t.HandoffRequest, handoff_id)
    return row if row is not None and row.bot_id == bot_id else None


def assign(s: Session, row: t.HandoffRequest, assignee: str | None) -> None:
    """Someone takes it (a closed one reopens); no one: back to new, unless already answered."""
    row.assignee = assignee
    if assignee:
        row.status = "assigned" if row.status in ("new", "closed") else row.status
    elif row.status == "assigned":
        row.status = "new"
    row.updated_at = t.now()
    s.commit()


def close(s: Session, row: t.HandoffRequest) -> None:
    row.status = "closed"
    row.updated_at = t.now()
    s.commit()


def add_reply(s: Session, row: t.HandoffRequest, text: str, author: str | None) -> t.Message:
    """The reply joins the conversation, so the widget (which reads the history) shows it."""
    message = t.Message(
        id=t.new_id("msg"),
        conversation_id=row.conversation_id,
        bot_id=row.bot_id,
        role=STAFF_ROLE,
        content=text,
        citations=[],
        # Who wrote it, for the team; the public history never shows this.
        debug={"author": author} if author else None,
    )
    s.add(message)
    # Counted like any message, so the conversation's length stays true; a person's reply is
    # never refused for length, though: the customer asked for it.
    s.execute(
        update(t.Conversation)
        .where(t.Conversation.id == row.conversation_id)
        .values(message_count=t.Conversation.message_count + 1, updated_at=t.now())
    )
    row.status = "answered"
    if author and not row.assignee:
        row.assignee = author
    row.updated_at = t.now()
    s.commit()
    return message


def add_delivery(s: Session, handoff_id: str, kind: str, target: str) -> t.HandoffDelivery:
    row = t.HandoffDelivery(id=t.new_id("dlv"), handoff_id=handoff_id, kind=kind, target=target, status="pending")
    s.add(row)
    s.commit()
    return row


def finish_delivery(s: Session, delivery_id: str, error: str | None) -> None:
    row = s.get(t.HandoffDelivery, delivery_id)
    if row is None:  # the hand-off was deleted with its bot meanwhile
        return
    row.status = "failed" if error else "sent"
    row.error = error
    row.finished_at = t.now()
    s.commit()


def deliveries(s: Session, handoff_id: str) -> list[t.HandoffDelivery]:
    return list(
        s.scalars(
            select(t.HandoffDelivery)
            .where(t.HandoffDelivery.handoff_id == handoff_id)
            .order_by(t.HandoffDelivery.created_at, t.HandoffDelivery.id)
        )
    )


def detail(s: Session, row: t.HandoffRequest) -> dict:
    sent = deliveries(s, row.id)
    conversation = s.get(t.Conversation, row.conversation_id)
    return {
        "handoff": handoff_out(row, sum(d.status == "failed" for d in sent)),
        "channel": conversation.channel if conversation else "",
        "messages": [message_out(m) for m in messages(s, row.conversation_id)],
        "deliveries": [
            {
                "id": d.id,
                "kind": d.kind,
                "target": d.target,
                "status": d.status,
                "error": d.error,
                "created_at": d.created_at.isoformat(),
                "finished_at": d.finished_at.isoformat() if d.finished_at else None,
            }
            for d in sent
        ],
    }
