"""The stored-conversation reports at volume: the review inbox, resolution analytics and
knowledge gaps over 100,000 messages (50,000 conversations of one question and answer).

    python -m benchmarks.review_inbox [--quick] [--conversations N]

The tests check what keeps these bounded (a fixed number of statements, each along an index:
tests/test_review_inbox.py, tests/test_gaps.py); this measures the time it comes to. Rows are
inserted in bulk into a real SQLite file, as the chat stores them: every 7th answer a
fallback, every 11th on a weak passage, every 50th rated thumbs-down, over 60 days. Each
report is timed `REPEAT` times (the median is shown), but the gaps report once: it embeds the
period's distinct questions each time, which takes a while on a small machine (the embedder is
loaded before timing).

Compared in the same run with the naive inbox: the same code without its scan limit (it reads
every unreviewed answer of the bot, then sorts and filters in memory), which is what the
limit saves. Analytics and gaps have no naive counterpart here: they are one grouped query
each, bounded by the period asked."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from benchmarks.report import arguments, table, write_json
from bots import gaps, resolution, review
from bots.runtime import Runtime
from bots.settings import Settings
from bots.store import tables as t
from knowledge.embedding import MINILM

BOT = "bot_volume"
REPEAT = 3
NOW = datetime.now(UTC).replace(microsecond=0)
HIT_OK = [{"chunk_id": "c1", "source": "help.md", "score": 0.03, "dense_score": 0.8}]
HIT_LOW = [{"chunk_id": "c2", "source": "help.md", "score": 0.02, "dense_score": 0.3}]
BAD_QUESTIONS = [f"{topic} problem number {k}" for topic in ("refund", "parcel", "login", "invoice") for k in range(10)]


def fill(runtime: Runtime, conversations: int, batch: int = 10_000) -> None:
    with runtime.sessions.begin() as s:
        s.add(t.Bot(id=BOT, name="Volume", embedding_model=MINILM, vector_collection="c_volume", spec={}))
    span = timedelta(days=60) / conversations
    for first in range(0, conversations, batch):
        convs, messages, feedback = [], [], []
        for i in range(first, min(first + batch, conversations)):
            at = NOW - span * (i + 1)
            cid = f"conv_{i:06d}"
            convs.append(
                dict(
                    id=cid,
                    bot_id=BOT,
                    owner="admin",
                    channel="widget",
                    version=1,
                    created_at=at,
                    updated_at=at,
                    message_count=2,
                )
            )
            bad = i % 7 == 0 or i % 50 == 0
            question = BAD_QUESTIONS[i % 40] if bad else f"question {i % 997}"
            common = dict(conversation_id=cid, bot_id=BOT, version=1, citations=[], partial=False, handoff=False)
            messages.append(
                dict(common, id=f"msg_q{i:06d}", role="user", content=question, fallback=False, created_at=at)
            )
            messages.append(
                dict(
                    common,
                    id=f"msg_a{i:06d}",
                    role="assistant",
                    content="An answer.",
                    reply_to=f"msg_q{i:06d}",
                    fallback=i % 7 == 0,
                    answered_by="fallback" if i % 7 == 0 else "model",
                    latency_ms=100 + i % 900,
                    prompt_tokens=500,
                    completion_tokens=50,
                    debug={"reason": "grounded", "language": "en", "hits": HIT_LOW if i % 11 == 0 else HIT_OK},
                    created_at=at + timedelta(seconds=1),
                )
            )
            if i % 50 == 0:
                feedback.append(dict(message_id=f"msg_a{i:06d}", rating="down", comment="", created_at=at))
        with runtime.sessions.begin() as s:
            s.execute(insert(t.Conversation), convs)
            s.execute(insert(t.Message), messages)
            if feedback:
                s.execute(insert(t.Feedback), feedback)


def timed(call: Callable[[], object], repeat: int = REPEAT) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def run(quick: bool, conversations: int | None = None) -> dict:
    n = conversations or (5_000 if quick else 50_000)
    with tempfile.TemporaryDirectory() as home:
        runtime = Runtime.build(Settings(home=Path(home)))
        try:
            started = time.perf_counter()
            fill(runtime, n)
            insert_s = time.perf_counter() - started
            since = NOW - timedelta(days=61)

            def inbox() -> dict:
                with runtime.sessions() as s:
                    return review.inbox(s, s.get(t.Bot, BOT), review.Filters(), limit=50)

            def naive_inbox() -> dict:
                limit = review.SCAN_LIMIT
                review.SCAN_LIMIT = 10 * n  # every answer of the bot
                try:
                    return inbox()
                finally:
                    review.SCAN_LIMIT = limit

            def analytics() -> dict:
                with runtime.sessions() as s:
                    return resolution.resolution_analytics(s, BOT, since)

            def gap_report() -> dict:
                return gaps.knowledge_gaps(runtime.sessions, runtime.kb.search, runtime.embedders, BOT, since)

            # Load the embedder first: the timing below is the report's own work (embedding
            # the period's distinct questions included, which dominates it).
            runtime.embedders.get(MINILM).embed_passages(["warm up"])
            rows = []
            for name, call, summary, repeat in (
                ("review inbox (scan limit)", inbox, lambda r: f"{r['scanned']} read, {r['total']} queued", REPEAT),
                (
                    "review inbox, naive (no limit)",
                    naive_inbox,
                    lambda r: f"{r['scanned']} read, {r['total']} queued",
                    REPEAT,
                ),
                ("resolution analytics", analytics, lambda r: f"{r['overall']['conversations']} conversations", REPEAT),
                ("knowledge gaps", gap_report, lambda r: f"{r['questions']} questions, {len(r['topics'])} topics", 1),
            ):
                seconds, result = timed(call, repeat)
                rows.append({"report": name, "median_seconds": round(seconds, 4), "result": summary(result)})
        finally:
            runtime.stop()
    return {"conversations": n, "messages": 2 * n, "insert_seconds": round(insert_s, 2), "repeat": REPEAT, "rows": rows}


def render(result: dict) -> str:
    head = f"{result['messages']:,} messages (inserted in {result['insert_seconds']} s), median of {result['repeat']}"
    body = table(
        ["report", "median s", "what it found"],
        [[r["report"], r["median_seconds"], r["result"]] for r in result["rows"]],
    )
    return f"{head}\n\n{body}"


def main() -> None:
    args = arguments(
        __doc__.split("\n\n")[0],
        lambda p: p.add_argument("--conversations", type=int, help="default 50,000 (5,000 with --quick)"),
    )
    result = run(args.quick, args.conversations)
    print(render(result))
    path = write_json("review_inbox", {"quick": args.quick, **result})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
