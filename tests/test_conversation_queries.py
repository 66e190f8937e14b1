"""The builder's conversation list, hand-offs, export and stats: the same answers as the
row-by-row code they replaced, in a number of SQL statements that does not grow with the page
(counted with a cursor event on a real SQLite file). The golden answers are checked on a real
Postgres too: its dates, datetimes and day grouping must give the same JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bots.store import conversations as conv
from bots.store import tables as t
from bots.store.db import make_engine, migrate, session_factory
from tests.sql_statements import counted_statements

BOT, OTHER_BOT = "bot_golden", "bot_other"
DAY1 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)


@pytest.fixture
def engine(empty_database_url):
    engine = make_engine(empty_database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


def _add(s: Session, row: t.Base) -> None:
    # The tables have foreign keys but the models no relationships, so the unit of work does
    # not order inserts by table: each row is flushed as it is added, parents first.
    s.add(row)
    s.flush()


def _bot(s: Session, bot_id: str) -> None:
    _add(s, t.Bot(id=bot_id, name=bot_id, embedding_model="m", vector_collection=f"c_{bot_id}", spec={}))


def _conversation(s: Session, cid: str, channel: str, version: int | None, at: datetime, bot: str = BOT) -> None:
    _add(
        s,
        t.Conversation(
            id=cid, bot_id=bot, owner="admin", channel=channel, version=version, created_at=at, updated_at=at
        ),
    )


def _message(s: Session, mid: str, cid: str, role: str, content: str, at: datetime, bot: str = BOT, **kw) -> None:
    _add(s, t.Message(id=mid, conversation_id=cid, bot_id=bot, role=role, content=content, created_at=at, **kw))


def _feedback(s: Session, mid: str, rating: str, comment: str = "") -> None:
    _add(s, t.Feedback(message_id=mid, rating=rating, comment=comment, created_at=DAY3))


def _handoff(s: Session, hid: str, cid: str, at: datetime, bot: str = BOT, email: str | None = "a@b.c") -> None:
    _add(
        s,
        t.HandoffRequest(
            id=hid,
            conversation_id=cid,
            bot_id=bot,
            name=f"n {hid}",
            email=email,
            phone=None,
            message="call me",
            created_at=at,
        ),
    )


def golden_data(s: Session) -> None:
    """Small, fixed and full of corners: a user question and its answer stamped the same
    instant, an empty-string error (not an error), an answer with an error and a latency (kept
    out of the latency figures), feedback on a user message, a conversation without messages,
    two conversations created the same instant, messages on a later day than their
    conversation, and another bot whose rows must never show."""
    _bot(s, BOT)
    _bot(s, OTHER_BOT)
    m = timedelta(minutes=1)

    _conversation(s, "cv_1", "widget", 1, DAY1)
    _message(s, "msg_1q", "cv_1", "user", "Where is my parcel?", DAY1, version=1)
    _message(s, "msg_1a", "cv_1", "assistant", "On its way.", DAY1, version=1, latency_ms=120, prompt_tokens=40)
    _message(s, "msg_1q2", "cv_1", "user", "And the refund?", DAY1 + m, version=1)
    _message(s, "msg_1a2", "cv_1", "assistant", "I don't know.", DAY1 + m, version=1, fallback=True, latency_ms=300)
    _message(s, "msg_1q3", "cv_1", "user", "A person please", DAY1 + 2 * m, version=1)
    _message(s, "msg_1a3", "cv_1", "assistant", "Here.", DAY1 + 2 * m, version=1, handoff=True, latency_ms=80)
    _feedback(s, "msg_1a", "up")
    _feedback(s, "msg_1a2", "down", "useless")
    _handoff(s, "hnd_1", "cv_1", DAY1 + 3 * m)

    _conversation(s, "cv_2", "api", None, DAY1 + 60 * m)
    _message(s, "msg_2q", "cv_2", "user", "long " * 60, DAY1 + 60 * m)
    _message(s, "msg_2a", "cv_2", "assistant", "", DAY1 + 61 * m, error="timeout", latency_ms=9000, partial=True)
    _message(s, "msg_2q2", "cv_2", "user", "again?", DAY1 + 62 * m)
    _message(s, "msg_2a2", "cv_2", "assistant", "Yes.", DAY1 + 63 * m, error="", latency_ms=70)
    _message(
        s,
        "msg_2a3",
        "cv_2",
        "assistant",
        "See the manual.",
        DAY1 + 64 * m,
        latency_ms=20,
        citations=[{"source": "manual.pdf", "page": 3}, {"source": "faq.csv"}],
    )
    _feedback(s, "msg_2q", "down", "feedback on a question")
    _feedback(s, "msg_2a3", "up", "thanks")

    _conversation(s, "cv_3", "playground", None, DAY2)  # no messages at all
    _handoff(s, "hnd_3a", "cv_3", DAY2 + m, email=None)
    _handoff(s, "hnd_3b", "cv_3", DAY2 + 2 * m)

    # Two conversations created the same instant; their messages come a day later.
    _conversation(s, "cv_4b", "openai", 2, DAY2 + 5 * m)
    _conversation(s, "cv_4a", "openai", 2, DAY2 + 5 * m)
    _message(s, "msg_4a0", "cv_4a", "assistant", "Hello, how can I help?", DAY3, version=2, latency_ms=500)
    _message(s, "msg_4aq", "cv_4a", "user", "Opening hours?", DAY3 + m, version=2)
    _message(s, "msg_4aa", "cv_4a", "assistant", "9 to 5.", DAY3 + 2 * m, version=2, latency_ms=150)
    _message(s, "msg_4bq", "cv_4b", "user", "Price?", DAY3 + 3 * m, version=2)
    _message(s, "msg_4ba", "cv_4b", "assistant", "10 EUR.", DAY3 + 4 * m, version=2, latency_ms=90)
    _feedback(s, "msg_4ba", "down")

    _conversation(s, "cv_x", "widget", 1, DAY1, bot=OTHER_BOT)
    _message(s, "msg_xq", "cv_x", "user", "other bot", DAY1, bot=OTHER_BOT)
    _message(s, "msg_xa", "cv_x", "assistant", "other", DAY1, bot=OTHER_BOT, latency_ms=1, fallback=True)
    _feedback(s, "msg_xa", "down")
    _handoff(s, "hnd_x", "cv_x", DAY1, bot=OTHER_BOT)
    s.commit()


# What each function answered on `golden_data` before the SQL was rewritten (commit 0b54bf8,
# row-by-row in Python); the file is that output, byte for byte: key order and JSON types too.
GOLDEN_CASES = {
    "list_all": lambda s: conv.list_conversations(s, BOT, conv.Filters(), 50, 0),
    "list_page": lambda s: conv.list_conversations(s, BOT, conv.Filters(), 2, 1),
    "list_last_page": lambda s: conv.list_conversations(s, BOT, conv.Filters(), 2, 4),
    "list_past_the_end": lambda s: conv.list_conversations(s, BOT, conv.Filters(), 2, 10),
    "list_down": lambda s: conv.list_conversations(s, BOT, conv.Filters(feedback="down"), 50, 0),
    "list_no_handoff": lambda s: conv.list_conversations(s, BOT, conv.Filters(handoff=False), 50, 0),
    "list_v2_since": lambda s: conv.list_conversations(s, BOT, conv.Filters(version=2, since=DAY2), 50, 0),
    "detail_1": lambda s: conv.detail(s, BOT, "cv_1"),
    "detail_3": lambda s: conv.detail(s, BOT, "cv_3"),
    "handoffs": lambda s: conv.handoffs(s, BOT, 50, 0),
    "handoffs_page": lambda s: conv.handoffs(s, BOT, 1, 1),
    "export": lambda s: conv.export_rows(s, BOT, conv.Filters()),
    "export_down": lambda s: conv.export_rows(s, BOT, conv.Filters(feedback="down", channel="openai")),
    "stats": lambda s: conv.stats(s, BOT, conv.Filters()),
    "stats_api": lambda s: conv.stats(s, BOT, conv.Filters(channel="api")),
    "stats_since": lambda s: conv.stats(s, BOT, conv.Filters(since=DAY2)),
    "stats_nothing": lambda s: conv.stats(s, BOT, conv.Filters(channel="nowhere")),
}
GOLDEN = Path(__file__).with_name("fixtures") / "conversation_queries_golden.json"


@pytest.mark.both_backends
def test_answers_are_those_of_the_row_by_row_code(sessions):
    with sessions() as s:
        golden_data(s)
    answers = {}
    for name, case in GOLDEN_CASES.items():
        with sessions() as s:  # a fresh session: nothing answered from the identity map
            answers[name] = case(s)
    assert json.dumps(answers, indent=1, ensure_ascii=False) + "\n" == GOLDEN.read_text(encoding="utf-8")


def many_conversations(s: Session, bot_id: str, n: int) -> None:
    """n conversations of two questions and two answers each, over a week, with feedback,
    fallbacks, errors and hand-offs sprinkled about."""
    _bot(s, bot_id)
    conversations, messages, feedback, handoffs = [], [], [], []
    for i in range(n):
        cid, at = f"cv_{bot_id}_{i:04d}", DAY1 + timedelta(hours=i)
        conversations.append(dict(id=cid, bot_id=bot_id, owner="admin", channel="widget", created_at=at, updated_at=at))
        for turn in range(2):
            q, a = f"msg_{bot_id}_{i}_{turn}q", f"msg_{bot_id}_{i}_{turn}a"
            when = at + timedelta(minutes=turn)
            messages.append(
                dict(id=q, conversation_id=cid, bot_id=bot_id, role="user", content=f"q{i}", created_at=when)
            )
            messages.append(
                dict(
                    id=a,
                    conversation_id=cid,
                    bot_id=bot_id,
                    role="assistant",
                    content=f"a{i}",
                    created_at=when,
                    fallback=i % 3 == 0,
                    error="timeout" if i % 7 == 0 and turn else None,
                    latency_ms=100 + (i * 37 + turn * 11) % 400,
                )
            )
            if (i + turn) % 2:
                feedback.append(dict(message_id=a, rating="up" if i % 4 else "down", comment=""))
        if i % 5 == 0:
            handoffs.append(
                dict(id=f"hnd_{bot_id}_{i}", conversation_id=cid, bot_id=bot_id, name="n", message="m", created_at=at)
            )
    for table, rows in ((t.Conversation, conversations), (t.Message, messages), (t.Feedback, feedback)):
        s.execute(insert(table), rows)
    if handoffs:
        s.execute(insert(t.HandoffRequest), handoffs)
    s.commit()


@pytest.fixture
def small_and_big(sessions):
    with sessions() as s:
        many_conversations(s, "bot_small", 5)
        many_conversations(s, "bot_big", 200)


def _count(engine, sessions, call) -> tuple[int, object]:
    with sessions() as s, counted_statements(engine) as statements:
        result = call(s)
    return len(statements), result


def _rows_fetched(engine, sessions, call) -> int:
    """How many rows the database sent back for `call`: its statements, replayed."""
    with sessions() as s, counted_statements(engine) as statements:
        call(s)
    raw = engine.raw_connection()
    try:
        return sum(len(raw.cursor().execute(sql, params).fetchall()) for sql, params in statements)
    finally:
        raw.close()


def test_a_page_of_200_conversations_costs_the_statements_a_page_of_5_does(engine, sessions, small_and_big):
    few, five = _count(engine, sessions, lambda s: conv.list_conversations(s, "bot_big", conv.Filters(), 5, 0))
    many, two_hundred = _count(
        engine, sessions, lambda s: conv.list_conversations(s, "bot_big", conv.Filters(), 200, 0)
    )
    assert few == many <= 2  # the total, then the page with its figures
    assert len(two_hundred["conversations"]) == 200 and two_hundred["total"] == 200
    assert five["conversations"] == two_hundred["conversations"][:5]
    # The figures are really there, not defaults: the newest conversation (i = 199).
    newest = two_hundred["conversations"][0]
    assert (newest["messages"], newest["first_question"], newest["thumbs_up"]) == (4, "q199", 1)


def test_handoffs_export_and_stats_cost_the_same_for_5_or_200_conversations(engine, sessions, small_and_big):
    calls = {
        "handoffs": lambda bot, n: lambda s: conv.handoffs(s, bot, n, 0),
        "export": lambda bot, n: lambda s: conv.export_rows(s, bot, conv.Filters()),
        "stats": lambda bot, n: lambda s: conv.stats(s, bot, conv.Filters()),
        "stats with filters": lambda bot, n: lambda s: conv.stats(s, bot, conv.Filters(feedback="any", handoff=False)),
    }
    for name, call in calls.items():
        few, _ = _count(engine, sessions, call("bot_small", 5))
        many, result = _count(engine, sessions, call("bot_big", 200))
        assert few == many <= 2, name
        assert result, name


def test_stats_fetch_a_few_rows_per_day_not_every_message(engine, sessions, small_and_big):
    with sessions() as s:
        days = len(conv.stats(s, "bot_big", conv.Filters())["days"])
    # 200 conversations an hour apart: 9 days, 800 messages. Per day: one row of counts and
    # sums, and the (at most two) latencies that are its median and 95th percentile.
    assert days == 9
    assert _rows_fetched(engine, sessions, lambda s: conv.stats(s, "bot_big", conv.Filters())) <= 3 * days


@pytest.mark.parametrize(
    "filters",
    [
        conv.Filters(version=1),
        conv.Filters(fallback=True),
        conv.Filters(fallback=False),
        conv.Filters(feedback="down"),
        conv.Filters(feedback="any"),
        conv.Filters(feedback="none"),
        conv.Filters(handoff=True),
    ],
    ids=repr,
)
def test_every_filter_works_for_the_list_the_export_and_the_stats(sessions, filters):
    """Filters are EXISTS subqueries over messages: in the export and the stats, which read
    messages themselves, they once correlated with the outer rows and raised (a 500)."""
    with sessions() as s:
        golden_data(s)
    with sessions() as s:
        listed = conv.list_conversations(s, BOT, filters, 100, 0)
        exported = conv.export_rows(s, BOT, filters)
        days = conv.stats(s, BOT, filters)["days"]
    with_messages = {c["id"] for c in listed["conversations"] if c["messages"]}
    assert {r["conversation_id"] for r in exported} == with_messages
    assert sum(d["conversations"] for d in days) == len(with_messages)
