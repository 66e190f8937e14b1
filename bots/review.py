"""The review inbox: one queue per bot of the answers worth a person's look, and what the
reviewer does with them (write the correct answer, add the case to a test set, mark reviewed),
each recorded in `review_actions` with who and when.

Reasons an answer is in the queue: "thumbs_down" (with the comment), "fallback",
"handoff" (the bot offered a person, or the customer asked for one in that conversation),
"low_score" (a grounded answer whose best passage's dense similarity is below the bot's
`review.low_score`), "cut" (stopped at the token limit), "error" (the provider or the
pipeline failed). An answer leaves the queue once it is marked reviewed or corrected.

Bounded: one query reads at most SCAN_LIMIT of the newest unreviewed answers within the
filters (indexes on bot_id and created_at), the rest is done in memory; an older window is
reached with the date filters. Sorted by how many similar questions an item stands for
(`question_key`: the normalised text for now; the knowledge-gaps clustering can replace that
one function), then newest first.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from bots import corrected_answers as ca
from bots.core.errors import DomainError
from bots.core.masking import mask_contacts
from bots.schemas.review import REASONS as REASONS  # the routes and the builder filter by them
from bots.store import evaluation as ev
from bots.store import tables as t
from bots.store.versions import spec_model
from bots.test_sets import Case

SCAN_LIMIT = 2000
# Actions that take an answer out of the queue; adding it to a test set does not.
RESOLVING = ("reviewed", "corrected")


class ReviewItemNotFound(DomainError):
    code = "review_item_not_found"  # values: id


@dataclass
class Filters:
    reasons: list[str] | None = None
    version: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None
    language: str | None = None


def question_key(text: str) -> str:
    """Which questions count as the same: lower case, no accents or punctuation. One
    function so that the knowledge-gaps clustering can take its place."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", folded))


def _best_dense(debug: dict | None) -> float | None:
    scores = [h.get("dense_score") for h in (debug or {}).get("hits", []) if h.get("dense_score") is not None]
    return max(scores) if scores else None


def reasons_of(message: t.Message, rating: str | None, handoff_requested: bool, low_score: float) -> list[str]:
    debug = message.debug or {}
    found = []
    if rating == "down":
        found.append("thumbs_down")
    if message.fallback:
        found.append("fallback")
    if message.handoff or handoff_requested:
        found.append("handoff")
    best = _best_dense(debug)
    grounded = debug.get("reason") == "grounded" and message.answered_by != "corrected"
    if grounded and best is not None and best < low_score:
        found.append("low_score")
    if debug.get("cut_at_tokens"):
        found.append("cut")
    if message.error:
        found.append("error")
    return found


def _resolved():
    return exists().where(t.ReviewAction.message_id == t.Message.id, t.ReviewAction.action.in_(RESOLVING))


def inbox(s: Session, bot: t.Bot, f: Filters, limit: int = 50, offset: int = 0) -> dict:
    spec = spec_model(bot, bot.spec)
    low_score = spec.review.low_score_for(bot.embedding_model)
    question = aliased(t.Message)
    conditions = [t.Message.bot_id == bot.id, t.Message.role == "assistant", ~_resolved()]
    if f.version is not None:
        conditions.append(t.Message.version == f.version)
    if f.since:
        conditions.append(t.Message.created_at >= f.since)
    if f.until:
        conditions.append(t.Message.created_at < f.until)
    if f.channel:
        conditions.append(t.Conversation.channel == f.channel)
    # First the ids, newest first, along the (bot_id, role, created_at) index: the walk stops
    # at SCAN_LIMIT rows whatever the table holds. Then the rows themselves, by primary key.
    ids_query = select(t.Message.id).where(and_(*conditions))
    if f.channel:
        ids_query = ids_query.join(t.Conversation, t.Conversation.id == t.Message.conversation_id)
    ids = list(s.scalars(ids_query.order_by(t.Message.created_at.desc(), t.Message.id.desc()).limit(SCAN_LIMIT)))
    handoff_requested = exists().where(t.HandoffRequest.conversation_id == t.Message.conversation_id)
    rows = s.execute(
        select(t.Message, question.content, t.Conversation.channel, t.Feedback, handoff_requested)
        .join(t.Conversation, t.Conversation.id == t.Message.conversation_id)
        .outerjoin(question, question.id == t.Message.reply_to)
        .outerjoin(t.Feedback, t.Feedback.message_id == t.Message.id)
        .where(t.Message.id.in_(ids))
        .order_by(t.Message.created_at.desc(), t.Message.id.desc())
    ).all()
    items = []
    for message, asked, channel, feedback, requested in rows:
        reasons = reasons_of(message, feedback.rating if feedback else None, bool(requested), low_score)
        if not reasons or (f.reasons and not set(reasons) & set(f.reasons)):
            continue
        language = (message.debug or {}).get("language")
        if f.language and language != f.language:
            continue
        items.append((message, asked or "", channel, feedback, reasons, language))
    counts = Counter(question_key(i[1]) for i in items)
    # Newest first within equal counts: rows came newest first and sorted() is stable.
    items = sorted(items, key=lambda i: -counts[question_key(i[1])])
    mask = spec.review.mask_contacts
    page = [
        item_out(m, asked, channel, fb, reasons, language, counts[question_key(asked)], mask=mask)
        for m, asked, channel, fb, reasons, language in items[offset : offset + limit]
    ]
    return {"total": len(items), "scanned": len(rows), "scan_limit": SCAN_LIMIT, "items": page}


def _masked(text: str | None, mask: bool) -> str:
    return mask_contacts(text or "") if mask else (text or "")


def item_out(
    m: t.Message,
    asked: str,
    channel: str,
    fb: t.Feedback | None,
    reasons: list[str],
    language: str | None,
    similar: int,
    *,
    mask: bool,
) -> dict:
    debug = dict(m.debug or {})
    prompt = debug.pop("prompt", _NOT_RECORDED)
    return {
        "message_id": m.id,
        "conversation_id": m.conversation_id,
        "question": _masked(asked, mask),
        "answer": _masked(m.content, mask),
        "reasons": reasons,
        "feedback_comment": _masked(fb.comment, mask) if fb and fb.comment else None,
        "similar": similar,
        "version": m.version,
        "channel": channel,
        "language": language,
        "answered_by": m.answered_by,
        "created_at": m.created_at.isoformat(),
        "best_score": _best_dense(debug),
        "passages": [
            {
                "chunk_id": h.get("chunk_id"),
                "source": h.get("source"),
                "page": h.get("page"),
                "score": h.get("score"),
                "dense_score": h.get("dense_score"),
            }
            for h in debug.get("hits", [])
        ],
        # The prompt the model was given, masked like the rest of the item; None with a
        # status when no model was called or the answer predates keeping it.
        "prompt": [{"role": p["role"], "content": _masked(p["content"], mask)} for p in prompt]
        if isinstance(prompt, list)
        else None,
        "prompt_status": "not_recorded" if prompt is _NOT_RECORDED else ("sent" if prompt else "no_model_call"),
        "debug": debug,
    }


# An answer stored before the prompt was kept (bots.prompt_record) has no "prompt" key.
_NOT_RECORDED = object()


def detail(s: Session, bot: t.Bot, message_id: str) -> dict:
    """One item with its conversation (masked like the queue) and the actions taken on it."""
    m = _answer(s, bot.id, message_id)
    spec = spec_model(bot, bot.spec)
    mask = spec.review.mask_contacts
    question = s.get(t.Message, m.reply_to) if m.reply_to else None
    asked = question.content if question else ""
    fb = s.get(t.Feedback, m.id)
    conversation = s.get(t.Conversation, m.conversation_id)
    requested = s.scalar(select(func.count()).where(t.HandoffRequest.conversation_id == m.conversation_id)) or 0
    low_score = spec.review.low_score_for(bot.embedding_model)
    reasons = reasons_of(m, fb.rating if fb else None, requested > 0, low_score)
    language = (m.debug or {}).get("language")
    channel = conversation.channel if conversation else ""
    out = item_out(m, asked, channel, fb, reasons, language, 1, mask=mask)
    messages = s.scalars(
        select(t.Message)
        .where(t.Message.conversation_id == m.conversation_id)
        .order_by(t.Message.created_at, t.Message.role.desc(), t.Message.id)
        .limit(200)
    )
    out["conversation"] = [
        {"id": x.id, "role": x.role, "content": _masked(x.content, mask), "created_at": x.created_at.isoformat()}
        for x in messages
    ]
    out["actions"] = [action_out(a) for a in actions(s, bot.id, m.id)]
    return out


def _answer(s: Session, bot_id: str, message_id: str) -> t.Message:
    m = s.get(t.Message, message_id)
    if m is None or m.bot_id != bot_id or m.role != "assistant":
        raise ReviewItemNotFound(id=message_id)
    return m


def actions(s: Session, bot_id: str, message_id: str) -> list[t.ReviewAction]:
    return list(
        s.scalars(
            select(t.ReviewAction)
            .where(t.ReviewAction.bot_id == bot_id, t.ReviewAction.message_id == message_id)
            .order_by(t.ReviewAction.id)
        )
    )


def action_out(a: t.ReviewAction) -> dict:
    return {
        "action": a.action,
        "note": a.note,
        "detail": a.detail or {},
        "actor": a.actor,
        "created_at": a.created_at.isoformat(),
    }


def _record(s: Session, bot_id: str, message_id: str, action: str, note: str, detail: dict, actor: str) -> None:
    s.add(t.ReviewAction(bot_id=bot_id, message_id=message_id, action=action, note=note, detail=detail, actor=actor))
    s.flush()


def mark_reviewed(s: Session, bot_id: str, message_id: str, note: str = "", actor: str = "admin") -> None:
    _answer(s, bot_id, message_id)
    _record(s, bot_id, message_id, "reviewed", note, {}, actor)


def correct(s: Session, bot_id: str, message_id: str, data: dict, actor: str = "admin") -> t.CorrectedAnswer:
    """A corrected answer from the customer's question (or the reviewer's wording of it)."""
    m = _answer(s, bot_id, message_id)
    asked = s.get(t.Message, m.reply_to) if m.reply_to else None
    fields = {k: data[k] for k in ("answer", "paraphrases", "sources") if k in data}
    fields["question"] = (data.get("question") or "").strip() or (asked.content if asked else "")
    row = ca.create(s, bot_id, fields, actor)
    _record(s, bot_id, message_id, "corrected", data.get("note", "") or "", {"corrected_answer_id": row.id}, actor)
    return row


def add_to_test_set(
    s: Session,
    bot_id: str,
    message_id: str,
    set_name: str,
    *,
    reference: str | None = None,
    expected_source: str | None = None,
    actor: str = "admin",
) -> dict:
    """The question as a new case at the end of the set (created if new). The reference is
    the given one, else the corrected answer written for this item, else none."""
    m = _answer(s, bot_id, message_id)
    asked = s.get(t.Message, m.reply_to) if m.reply_to else None
    if reference is None:
        for a in reversed(actions(s, bot_id, message_id)):
            answer_id = (a.detail or {}).get("corrected_answer_id")
            corrected = s.get(t.CorrectedAnswer, answer_id) if answer_id else None
            if corrected is not None and corrected.bot_id == bot_id:
                reference = corrected.answer
                break
    case = Case(
        question=asked.content if asked else "",
        reference_answer=reference,
        expected_sources=[expected_source] if expected_source else [],
    ).stored()
    test_set = s.scalar(select(t.TestSet).where(t.TestSet.bot_id == bot_id, t.TestSet.name == set_name))
    if test_set is None:
        test_set = ev.replace_set(s, bot_id, set_name, [case])
        ordinal = 0
    else:
        last = s.scalar(select(func.max(t.TestCase.ordinal)).where(t.TestCase.set_id == test_set.id))
        ordinal = (last if last is not None else -1) + 1
        s.add(t.TestCase(set_id=test_set.id, ordinal=ordinal, data=case))
        test_set.updated_at = t.now()
    detail = {"set": set_name, "ordinal": ordinal, "case": case}
    _record(s, bot_id, message_id, "added_to_test_set", "", detail, actor)
    return detail
