"""The SQL behind knowledge gaps and resolution analytics: questions the bot answered badly,
and per day and version how conversations ended. Each function is a fixed number of
statements, bounded by the period asked (and a row cap for gaps), whatever the volume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from bots.store import tables as t

# Conversations from the builder's playground are the team's own tries, not customers'.
CUSTOMER_CHANNELS = ("api", "widget", "openai")


@dataclass
class GapQuestion:
    id: str
    text: str
    created_at: datetime
    conversation_id: str
    reasons: set[str]  # fallback | handoff | thumbs_down | low_score


def _channel_condition(channels: tuple[str, ...] | None):
    return t.Conversation.channel.in_(channels) if channels else True


def gap_questions(
    s: Session,
    bot_id: str,
    since: datetime,
    until: datetime,
    *,
    low_score: float,
    channels: tuple[str, ...] | None = CUSTOMER_CHANNELS,
    limit: int = 5000,
) -> tuple[list[GapQuestion], bool]:
    """Questions asked in [since, until) whose answer fell back, was rated down, or rested on
    a top passage scoring under `low_score`, and the last question before each hand-off
    request; the `limit` most recent (and whether more were left out). Two statements."""
    q, a = aliased(t.Message), aliased(t.Message)
    # The top hit's cosine similarity, stored with every answer (bots.chat.compact_debug).
    top_score = a.debug[("hits", 0, "dense_score")].as_float()
    bad_answer = or_(a.fallback.is_(True), t.Feedback.rating == "down", top_score < low_score)
    rows = s.execute(
        select(q.id, q.content, q.created_at, q.conversation_id, a.fallback, t.Feedback.rating, top_score)
        .select_from(a)
        .join(q, q.id == a.reply_to)
        .join(t.Conversation, t.Conversation.id == a.conversation_id)
        .outerjoin(t.Feedback, t.Feedback.message_id == a.id)
        .where(
            a.bot_id == bot_id,
            a.role == "assistant",
            a.created_at >= since,
            a.created_at < until,
            _channel_condition(channels),
            bad_answer,
        )
        .order_by(a.created_at.desc(), a.id)
        .limit(limit + 1)
    ).all()
    found: dict[str, GapQuestion] = {}
    for qid, text, at, cid, fallback, rating, score in rows[:limit]:
        reasons = set()
        if fallback:
            reasons.add("fallback")
        if rating == "down":
            reasons.add("thumbs_down")
        if score is not None and score < low_score:
            reasons.add("low_score")
        found[qid] = GapQuestion(qid, text, at, cid, reasons)
    truncated = len(rows) > limit
    # The question a hand-off followed: the conversation's last question before the request.
    asked = aliased(t.Message)  # its own alias: the subquery must not correlate with `q`
    last_question = (
        select(asked.id)
        .where(asked.conversation_id == t.HandoffRequest.conversation_id, asked.role == "user")
        .where(asked.created_at <= t.HandoffRequest.created_at)
        .order_by(asked.created_at.desc(), asked.id.desc())
        .limit(1)
        .scalar_subquery()
        .correlate(t.HandoffRequest)
    )
    handed = s.execute(
        select(q.id, q.content, q.created_at, q.conversation_id)
        .select_from(t.HandoffRequest)
        .join(q, q.id == last_question)
        .join(t.Conversation, t.Conversation.id == t.HandoffRequest.conversation_id)
        .where(
            t.HandoffRequest.bot_id == bot_id,
            t.HandoffRequest.created_at >= since,
            t.HandoffRequest.created_at < until,
            _channel_condition(channels),
        )
        .order_by(t.HandoffRequest.created_at.desc())
        .limit(limit + 1)
    ).all()
    truncated = truncated or len(handed) > limit
    for qid, text, at, cid in handed[:limit]:
        if qid in found:
            found[qid].reasons.add("handoff")
        else:
            found[qid] = GapQuestion(qid, text, at, cid, {"handoff"})
    ordered = sorted(found.values(), key=lambda g: g.created_at, reverse=True)
    return ordered[:limit], truncated or len(ordered) > limit


# --- resolution analytics ------------------------------------------------------------------
RESOLUTION_DEFINITION = (
    "A conversation is resolved when it got at least one answer, none of its answers was the "
    "fallback, nobody asked for a human (no hand-off request), and its last answer was neither "
    "rated thumbs-down nor a provider error. Conversations count on the day they started."
)


def _iso(day: str | date) -> str:
    return day if isinstance(day, str) else day.isoformat()


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(case((condition, 1)))


def _has_error(m) -> ColumnElement[bool]:
    return func.coalesce(m.error, "") != ""


def resolution(
    s: Session,
    bot_id: str,
    since: datetime | None,
    until: datetime | None,
    channels: tuple[str, ...] | None = CUSTOMER_CHANNELS,
    version: int | None = None,
) -> dict:
    """Rows per (day, version) of messages and conversations, plus totals per version and
    overall; see RESOLUTION_DEFINITION. Three statements whatever the volume."""
    conv_where = [t.Conversation.bot_id == bot_id, _channel_condition(channels)]
    if since:
        conv_where.append(t.Conversation.created_at >= since)
    if until:
        conv_where.append(t.Conversation.created_at < until)
    if version is not None:
        conv_where.append(t.Conversation.version == version)
    m = t.Message
    day = func.date(t.Conversation.created_at)
    ver = t.Conversation.version
    answer = m.role == "assistant"
    timed = and_(answer, m.latency_ms.is_not(None), ~_has_error(m))
    message_rows = s.execute(
        select(
            day.label("day"),
            ver.label("version"),
            _count_if(m.role == "user").label("questions"),
            _count_if(answer).label("answers"),
            _count_if(m.answered_by == "model").label("by_model"),
            _count_if(m.answered_by == "corrected").label("by_corrected"),
            _count_if(m.answered_by == "fallback").label("by_fallback"),
            _count_if(and_(answer, _has_error(m))).label("errors"),
            _count_if(and_(answer, t.Feedback.rating == "up")).label("thumbs_up"),
            _count_if(and_(answer, t.Feedback.rating == "down")).label("thumbs_down"),
            func.coalesce(func.sum(m.prompt_tokens), 0).label("prompt_tokens"),
            func.coalesce(func.sum(m.completion_tokens), 0).label("completion_tokens"),
        )
        .select_from(m)
        .join(t.Conversation, t.Conversation.id == m.conversation_id)
        .outerjoin(t.Feedback, t.Feedback.message_id == m.id)
        .where(*conv_where)
        .group_by(day, ver)
    ).all()
    # Per conversation: any fallback, any hand-off request, and its last answer's state.
    a = aliased(t.Message)
    last_answer = (
        select(a.id)
        .where(a.conversation_id == t.Conversation.id, a.role == "assistant")
        .order_by(a.created_at.desc(), a.id.desc())
        .limit(1)
        .scalar_subquery()
        .correlate(t.Conversation)
    )
    fallbacks = (
        select(func.count())
        .select_from(a)
        .where(a.conversation_id == t.Conversation.id, a.role == "assistant", a.fallback.is_(True))
        .scalar_subquery()
        .correlate(t.Conversation)
    )
    handoffs = (
        select(func.count())
        .select_from(t.HandoffRequest)
        .where(t.HandoffRequest.conversation_id == t.Conversation.id)
        .scalar_subquery()
        .correlate(t.Conversation)
    )
    per_conversation = (
        select(
            day.label("day"),
            ver.label("version"),
            last_answer.label("last_answer"),
            fallbacks.label("fallbacks"),
            handoffs.label("handoffs"),
        )
        .where(*conv_where)
        .subquery()
    )
    last = aliased(t.Message)
    last_rating = aliased(t.Feedback)
    pc = per_conversation.c
    resolved = and_(
        pc.last_answer.is_not(None),
        pc.fallbacks == 0,
        pc.handoffs == 0,
        func.coalesce(last_rating.rating, "") != "down",
        ~_has_error(last),
    )
    conversation_rows = s.execute(
        select(
            pc.day,
            pc.version,
            func.count().label("conversations"),
            _count_if(pc.handoffs > 0).label("handoff_conversations"),
            _count_if(resolved).label("resolved"),
        )
        .select_from(per_conversation)
        .outerjoin(last, last.id == pc.last_answer)
        .outerjoin(last_rating, last_rating.message_id == pc.last_answer)
        .group_by(pc.day, pc.version)
    ).all()
    by_day, by_version, overall_latency = _latencies(s, conv_where, timed, day, ver)

    rows: dict[tuple, dict] = {}
    for r in message_rows:
        rows[(_iso(r.day), r.version)] = dict(r._mapping, day=_iso(r.day))
    for c in conversation_rows:
        key = (_iso(c.day), c.version)
        rows.setdefault(key, {"day": key[0], "version": key[1]}).update(
            conversations=c.conversations, handoff_conversations=c.handoff_conversations, resolved=c.resolved
        )
    out = []
    for key in sorted(rows, key=lambda k: (k[0], -1 if k[1] is None else k[1])):
        out.append(_finish(rows[key], by_day.get(key, (None, None))))
    versions: dict = {}
    for row in out:
        versions.setdefault(row["version"], []).append(row)
    totals = [
        _finish(_sum(rs, version=v), by_version.get((v,), (None, None)))
        for v, rs in sorted(versions.items(), key=lambda kv: -1 if kv[0] is None else kv[0])
    ]
    overall = _finish(_sum(out), overall_latency)
    return {"days": out, "versions": totals, "overall": overall, "resolution_definition": RESOLUTION_DEFINITION}


COUNTS = (
    "conversations",
    "resolved",
    "handoff_conversations",
    "questions",
    "answers",
    "by_model",
    "by_corrected",
    "by_fallback",
    "errors",
    "thumbs_up",
    "thumbs_down",
    "prompt_tokens",
    "completion_tokens",
)


def _sum(rows: list[dict], **extra) -> dict:
    return {**{name: sum(r.get(name) or 0 for r in rows) for name in COUNTS}, **extra}


def _finish(row: dict, latency: tuple[int | None, int | None]) -> dict:
    for name in COUNTS:
        row[name] = int(row.get(name) or 0)
    answered = row["by_model"] + row["by_corrected"] + row["by_fallback"]
    conversations = row["conversations"]

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    row.update(
        resolution_rate=share(row["resolved"], conversations),
        handoff_rate=share(row["handoff_conversations"], conversations),
        share_model=share(row["by_model"], answered),
        share_corrected=share(row["by_corrected"], answered),
        share_fallback=share(row["by_fallback"], answered),
        latency_ms_p50=latency[0],
        latency_ms_p95=latency[1],
    )
    return row


def _latencies(s: Session, conv_where: list, timed, day, ver) -> tuple[dict, dict, tuple]:
    """p50 and p95 of answer latencies per (day, version), per version and overall, from one
    statement that returns the period's latencies (one integer per answer) for Python to rank:
    at 50,000 answers on a busy machine 1.7 s, where three window-function passes of SQLite
    took 2.3 s. Ranks as conversations.stats: 0-based n // 2 and 95 * n // 100, sorted."""
    m = t.Message
    per_day: dict[tuple, list[int]] = {}
    for d, v, latency in s.execute(
        select(day, ver, m.latency_ms)
        .select_from(m)
        .join(t.Conversation, t.Conversation.id == m.conversation_id)
        .where(timed, *conv_where)
    ):
        per_day.setdefault((_iso(d), v), []).append(latency)
    per_version: dict[tuple, list[int]] = {}
    for (_, v), values in per_day.items():
        per_version.setdefault((v,), []).extend(values)

    def p50_p95(values: list[int]) -> tuple[int | None, int | None]:
        values = sorted(values)
        return values[len(values) // 2], values[95 * len(values) // 100]

    everything = [x for values in per_day.values() for x in values]
    return (
        {k: p50_p95(v) for k, v in per_day.items()},
        {k: p50_p95(v) for k, v in per_version.items()},
        p50_p95(everything) if everything else (None, None),
    )
