"""Knowledge gaps: the questions a bot answered badly over a period (fallbacks, hand-offs,
thumbs-down, answers resting on a weak passage), grouped into topics with a label in the
questions' own words, the count, the trend against the previous period of the same length,
example questions, and the closest passage the bot has. Exported as a to-do list for the
people who write the documentation (CSV or Markdown)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy.orm import sessionmaker

from bots.core.errors import BotNotFound
from bots.store import analytics
from bots.store import tables as t
from bots.store.versions import spec_model
from knowledge import gaps as clustering
from knowledge.documents import Hit
from knowledge.embedding import EmbedderCache

DEFAULT_PERIOD = timedelta(days=30)
# An answer whose top passage scores under the bot's relevance threshold plus this margin
# was given on thin evidence (at the threshold it would have been the fallback).
LOW_SCORE_MARGIN = 0.05
MAX_QUESTIONS = 5000  # per period: the most recent; the report says when more were left out
EXAMPLES = 5
PASSAGE_CHARS = 300

Search = Callable[[str, str, int], list[Hit]]


def knowledge_gaps(
    sessions: sessionmaker,
    search: Search,
    embedders: EmbedderCache,
    bot_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    include_playground: bool = False,
    max_topics: int = 50,
    threshold: float | None = None,
) -> dict:
    until = _aware(until) or datetime.now(UTC)
    since = _aware(since) or until - DEFAULT_PERIOD
    if since >= until:
        raise ValueError("`since` must be before `until`")
    previous_since = since - (until - since)
    channels = None if include_playground else analytics.CUSTOMER_CHANNELS
    with sessions() as s:
        bot = s.get(t.Bot, bot_id)
        if bot is None:
            raise BotNotFound(bot_id)
        model = bot.embedding_model
        spec = spec_model(bot, bot.spec)
        low_score = spec.retrieval.threshold_for(model) + LOW_SCORE_MARGIN
        current, cut_now = analytics.gap_questions(
            s, bot_id, since, until, low_score=low_score, channels=channels, limit=MAX_QUESTIONS
        )
        previous, cut_before = analytics.gap_questions(
            s, bot_id, previous_since, since, low_score=low_score, channels=channels, limit=MAX_QUESTIONS
        )
    cluster_threshold = threshold if threshold is not None else clustering.threshold_for(model)
    topic_rows: list[dict] = []
    report = {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "previous_since": previous_since.isoformat(),
        "questions": len(current),
        "previous_questions": len(previous),
        "truncated": cut_now or cut_before,
        "threshold": cluster_threshold,
        "low_score": round(low_score, 4),
        "topics": topic_rows,
    }
    if not current:
        return report
    everything = current + previous
    texts = [q.text for q in everything]
    # Identical questions are embedded once (customers repeat themselves word for word).
    distinct = list(dict.fromkeys(texts))
    vectors_of = dict(zip(distinct, embedders.get(model).embed_passages(distinct), strict=True))
    groups = clustering.cluster(np.stack([vectors_of[x] for x in texts]), cluster_threshold)
    n_now = len(current)
    topics = []
    for members in groups:
        now = [i for i in members if i < n_now]
        if not now:
            continue  # only asked before: solved, or no longer asked
        topics.append((now, len(members) - len(now)))
    topics.sort(key=lambda tp: (-len(tp[0]), tp[0][0]))
    topics = topics[:max_topics]
    labels = clustering.label_topics([q.text for q in current], [now for now, _ in topics])
    for (now, before), label in zip(topics, labels, strict=True):
        questions = list(dict.fromkeys(current[i].text for i in now))
        reasons: Counter = Counter()
        for i in now:
            reasons.update(current[i].reasons)
        topic_rows.append(
            {
                "label": label,
                "count": len(now),
                "previous_count": before,
                "trend": _trend(len(now), before),
                "questions": questions[:EXAMPLES],
                "distinct_questions": len(questions),
                "reasons": dict(sorted(reasons.items())),
                "conversation_ids": list(dict.fromkeys(current[i].conversation_id for i in now))[:EXAMPLES],
                "last_asked": max(current[i].created_at for i in now).isoformat(),
                "closest_passage": _closest(search, bot_id, questions[0]),
            }
        )
    return report


def _aware(when: datetime | None) -> datetime | None:
    # A date given without a zone is UTC, the zone timestamps are stored in.
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def _trend(now: int, before: int) -> str:
    if before == 0:
        return "new"
    if now > before:
        return "up"
    return "down" if now < before else "same"


def _closest(search: Search, bot_id: str, question: str) -> dict | None:
    """The bot's best passage for the topic's central question: what to extend, or proof that
    nothing covers it yet."""
    try:
        hits = search(bot_id, question, 1)
    except LookupError:
        return None
    if not hits:
        return None
    h = hits[0]
    text = " ".join(h.text.split())
    return {
        "source": h.source,
        "page": h.page,
        "chunk_id": h.chunk_id,
        "score": round(h.dense_score, 4) if h.dense_score is not None else None,
        "text": text if len(text) <= PASSAGE_CHARS else text[: PASSAGE_CHARS - 1] + "…",
    }


# --- the to-do list -------------------------------------------------------------------------
CSV_FIELDS = ["topic", "count", "previous_count", "trend", "reasons", "questions", "closest_source", "closest_score"]


def _inert(value):
    # As in bots.store.conversations.to_csv: customers write these cells, and a spreadsheet
    # runs one starting with = + - @ as a formula; a leading ' keeps it text.
    starts = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
    if isinstance(value, str) and value.lstrip(" ").startswith(starts):
        return "'" + value
    return value


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for topic in report["topics"]:
        closest = topic.get("closest_passage") or {}
        row = {
            "topic": topic["label"],
            "count": topic["count"],
            "previous_count": topic["previous_count"],
            "trend": topic["trend"],
            "reasons": "; ".join(f"{k} {v}" for k, v in topic["reasons"].items()),
            "questions": " | ".join(topic["questions"]),
            "closest_source": closest.get("source", ""),
            "closest_score": closest.get("score", ""),
        }
        writer.writerow({k: _inert(v) for k, v in row.items()})
    return out.getvalue()


def to_markdown(report: dict, bot_name: str = "") -> str:
    title = f"Knowledge gaps{' of ' + bot_name if bot_name else ''}"
    lines = [
        f"# {title}",
        "",
        f"{report['since'][:10]} to {report['until'][:10]}: {report['questions']} questions the bot "
        f"answered badly, in {len(report['topics'])} topics.",
        "",
    ]
    for topic in report["topics"]:
        lines.append(
            f"- [ ] **{_md(topic['label'])}** — {topic['count']} questions "
            f"({topic['trend']}, {topic['previous_count']} the period before)"
        )
        lines += [f"  - “{_md(q)}”" for q in topic["questions"]]
        closest = topic.get("closest_passage")
        if closest:
            lines.append(f"  - closest passage: {_md(closest['source'])} (score {closest['score']})")
        else:
            lines.append("  - closest passage: none (the bot has no documents)")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    # Customers' words in a Markdown file: no link, image or HTML they could slip in.
    text = " ".join(str(text).split())
    for ch in "\\`*_[]<>!|#":
        text = text.replace(ch, "\\" + ch)
    return text
