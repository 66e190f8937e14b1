"""Knowledge gaps and resolution analytics: the clustering on the real embedders, and the
admin routes over a real SQLite file filled with conversations (rows inserted directly, as
the chat stores them); their cost at volume is checked by statement count and query plan here,
and timed at 100,000 messages in benchmarks/review_inbox.py."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import delete, insert

from bots.cli import main as cli
from bots.store import tables as t
from knowledge import gaps
from knowledge.embedding import E5_SMALL, MINILM
from tests.sql_statements import counted_statements, full_scans, query_plans

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)

REFUND = ["How do I get a refund?", "can I get my money back", "I want a refund for my order"]
DELIVERY = ["Where is my parcel?", "my package has not arrived yet", "when will my parcel be delivered"]
PASSWORD = ["I forgot my password", "how do I reset my password"]


# --- clustering -----------------------------------------------------------------------------
def _topics(embedders, model: str, texts: list[str]) -> list[set[str]]:
    vectors = embedders.get(model).embed_passages(texts)
    return [{texts[i] for i in g} for g in gaps.cluster(vectors, gaps.threshold_for(model))]


def test_paraphrases_are_grouped_and_unrelated_questions_kept_apart(embedders):
    topics = _topics(embedders, MINILM, REFUND + DELIVERY + PASSWORD)
    assert sorted(map(sorted, topics)) == sorted(sorted(x) for x in (REFUND, DELIVERY, PASSWORD))


def test_french_paraphrases_are_grouped_with_the_multilingual_embedder(embedders):
    remboursement = [
        "Comment me faire rembourser ma commande ?",
        "je veux être remboursé de ma commande",
        "remboursement de ma commande",
    ]
    livraison = ["Où est mon colis ?", "où en est la livraison de mon colis", "mon colis n'est toujours pas arrivé"]
    topics = _topics(embedders, E5_SMALL, remboursement + livraison)
    assert set(remboursement) in topics
    # e5 puts every French customer question near 0.85: a paraphrase may stay apart (recall
    # is the price of purity, see benchmarks/gaps.py), but no topic mixes the two subjects.
    assert all(topic <= set(remboursement) or topic <= set(livraison) for topic in topics)
    assert set(livraison[:2]) <= next(topic for topic in topics if livraison[0] in topic)


def test_largest_topic_first_and_its_central_question_first():
    v = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.98, -0.2]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    groups = gaps.cluster(v, 0.9)
    assert [sorted(g) for g in groups] == [[0, 1, 3], [2]]
    assert groups[0][0] == 0  # the closest to its topic's centroid
    assert gaps.cluster(np.zeros((0, 2), dtype=np.float32), 0.9) == []


def test_labels_use_the_questions_own_words_without_stop_words():
    texts = ["Comment annuler mon abonnement ?", "je veux annuler l'abonnement", "Where is my parcel?", "parcel lost"]
    labels = gaps.label_topics(texts, [[0, 1], [2, 3]])
    assert labels[0].split(" · ")[0] in ("annuler abonnement", "annuler", "abonnement")
    assert "abonnement" in labels[0] and "annuler" in labels[0]
    assert labels[1].split(" · ")[0] == "parcel"  # in both questions: first
    assert not {"mon", "je", "veux", "is", "my", "l'abonnement"} & set(labels[0].replace(" · ", " ").split())


def test_many_noisy_questions_fall_into_their_topics():
    """Correctness at a size where the blocked similarity search matters; its speed at 10,000
    questions is measured in benchmarks/gaps.py."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(60, 384)).astype(np.float32)
    v = centres[rng.integers(0, 60, 2_000)] + rng.normal(0, 0.05, (2_000, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    groups = gaps.cluster(v, 0.6)
    assert len(groups) == 60


# --- stored conversations ---------------------------------------------------------------------
class Store:
    """Conversations written as the chat writes them: a question, its answer (reply_to), and
    feedback or hand-off requests on top."""

    def __init__(self, runtime, bot_id: str):
        self.sessions, self.bot_id, self.n = runtime.sessions, bot_id, 0

    def conversation(self, at: datetime, channel: str = "widget", version: int | None = None) -> str:
        self.n += 1
        cid = f"conv_{self.n:06d}"
        with self.sessions.begin() as s:
            s.add(
                t.Conversation(
                    id=cid, bot_id=self.bot_id, owner="admin", channel=channel, version=version, created_at=at
                )
            )
        return cid

    def turn(
        self,
        cid: str,
        question: str,
        at: datetime,
        *,
        fallback: bool = False,
        score: float = 0.8,
        rating: str | None = None,
        latency: int = 100,
        tokens: tuple[int, int] = (0, 0),
        answered_by: str | None = None,
        error: str | None = None,
    ) -> str:
        self.n += 1
        qid, aid = f"msg_q{self.n:06d}", f"msg_a{self.n:06d}"
        with self.sessions.begin() as s:
            s.add(
                t.Message(id=qid, conversation_id=cid, bot_id=self.bot_id, role="user", content=question, created_at=at)
            )
            s.flush()
            s.add(
                t.Message(
                    id=aid,
                    conversation_id=cid,
                    bot_id=self.bot_id,
                    role="assistant",
                    content="Sorry, I don't know." if fallback else "Here is how.",
                    fallback=fallback,
                    answered_by=None if error else (answered_by or ("fallback" if fallback else "model")),
                    error=error,
                    latency_ms=latency,
                    prompt_tokens=tokens[0],
                    completion_tokens=tokens[1],
                    reply_to=qid,
                    debug={"reason": "grounded", "hits": [{"chunk_id": "c", "dense_score": score}]},
                    created_at=at + timedelta(seconds=1),
                )
            )
            s.flush()
            if rating:
                s.add(t.Feedback(message_id=aid, rating=rating, comment=""))
        return aid

    def handoff(self, cid: str, at: datetime) -> None:
        with self.sessions.begin() as s:
            s.add(
                t.HandoffRequest(
                    conversation_id=cid, bot_id=self.bot_id, name="Ann", email="a@b.c", message="call me", created_at=at
                )
            )


@pytest.fixture
def bot(api) -> str:
    return api.post("/admin/bots", json={"name": "Shop", "language": "en"}).json()["id"]


@pytest.fixture
def store(runtime, bot) -> Store:
    return Store(runtime, bot)


def _gaps(api, bot, **params) -> dict:
    response = api.get(f"/admin/bots/{bot}/gaps", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_gaps_route_groups_badly_answered_questions_with_trend(api, bot, store):
    since = (NOW - 7 * DAY).isoformat()
    for q in REFUND:  # three fallbacks this week
        store.turn(store.conversation(NOW - DAY), q, NOW - DAY, fallback=True)
    c = store.conversation(NOW - 2 * DAY)  # parcels: thumbs-down, weak passage, hand-off
    store.turn(c, DELIVERY[0], NOW - 2 * DAY, rating="down")
    store.turn(store.conversation(NOW - 2 * DAY), DELIVERY[1], NOW - 2 * DAY, score=0.2)
    c = store.conversation(NOW - 3 * DAY)
    store.turn(c, DELIVERY[2], NOW - 3 * DAY)
    store.handoff(c, NOW - 3 * DAY + timedelta(minutes=1))
    store.turn(store.conversation(NOW - 9 * DAY), "I want my money back", NOW - 9 * DAY, fallback=True)  # before
    store.turn(store.conversation(NOW - 2 * DAY), "What are your opening hours?", NOW - 2 * DAY)  # answered well
    play = store.conversation(NOW - DAY, channel="playground")
    store.turn(play, "How do I get a refund quickly?", NOW - DAY, fallback=True)

    report = _gaps(api, bot, since=since)
    assert [(tp["count"], sorted(tp["questions"])) for tp in report["topics"]] == [
        (3, sorted(REFUND)),
        (3, sorted(DELIVERY)),
    ]
    refund, delivery = report["topics"]
    assert refund["previous_count"] == 1 and refund["trend"] == "up"
    assert delivery["trend"] == "new"
    assert delivery["reasons"] == {"handoff": 1, "low_score": 1, "thumbs_down": 1}
    assert refund["reasons"] == {"fallback": 3}
    assert "refund" in refund["label"] and "parcel" in delivery["label"]
    assert refund["closest_passage"] is None  # the bot has no documents
    assert report["questions"] == 6 and report["previous_questions"] == 1

    with_playground = _gaps(api, bot, since=since, include_playground=True)
    assert with_playground["topics"][0]["count"] == 4

    # The CLI's exact form, through the real client against the same app.
    out = _cli(api, ["gaps", bot, "--since", (NOW - 7 * DAY).date().isoformat(), "--json"])
    assert [(tp["label"], tp["count"]) for tp in out["topics"]] == [(refund["label"], 3), (delivery["label"], 3)]
    assert sorted(out["topics"][0]["questions"]) == sorted(REFUND)


def _cli(api, argv: list[str]):
    import contextlib
    import json

    from bots.cli.client import AdminClient

    client = AdminClient("http://testserver", None)
    client._http = api  # the TestClient is an httpx.Client over the app, admin token included
    out = io.StringIO()
    original = cli._client
    cli._client = lambda: client
    try:
        with contextlib.redirect_stdout(out):
            assert cli.main(argv) == 0
    finally:
        cli._client = original
    return json.loads(out.getvalue())


def test_gaps_todo_lists_and_closest_passage(api, bot, store, tmp_path):
    from tests.conftest import wait_ingested

    doc = tmp_path / "returns.md"
    doc.write_text("# Returns\n\nYou can return an item within 30 days for a full refund of your order.\n")
    with doc.open("rb") as f:
        job = api.post(f"/admin/bots/{bot}/documents", files=[("files", ("returns.md", f, "text/markdown"))]).json()
    assert wait_ingested(api, job["job_id"])["status"] == "done"
    for q in REFUND:
        store.turn(store.conversation(NOW - DAY), q, NOW - DAY, fallback=True)
    store.turn(store.conversation(NOW - DAY), '=HYPERLINK("http://x") [click](http://x)', NOW - DAY, fallback=True)

    topic = _gaps(api, bot)["topics"][0]
    assert topic["closest_passage"]["source"] == "returns.md"
    assert 0 < topic["closest_passage"]["score"] <= 1

    md = api.get(f"/admin/bots/{bot}/gaps", params={"format": "markdown"})
    assert md.headers["content-type"].startswith("text/markdown")
    assert "- [ ] **" in md.text and "returns.md" in md.text and "How do I get a refund?" in md.text
    assert "[click](http" not in md.text  # customers' text cannot make links in the file
    rows = list(csv.DictReader(io.StringIO(api.get(f"/admin/bots/{bot}/gaps", params={"format": "csv"}).text)))
    assert rows[0]["count"] == "3" and rows[0]["closest_source"] == "returns.md"
    assert all(not r["questions"].startswith("=") for r in rows)


def test_gaps_refuse_a_backwards_period(api, bot):
    r = api.get(f"/admin/bots/{bot}/gaps", params={"since": "2026-02-01", "until": "2026-01-01"})
    assert r.status_code == 422 and "before" in r.json()["error"]["message"]
    r = api.get(f"/admin/bots/{bot}/gaps", params={"since": (NOW + 3 * DAY).isoformat()})
    assert r.status_code == 422
    assert api.get(f"/admin/bots/{bot}/gaps", params={"since": "yesterday"}).status_code == 422
    assert api.get("/admin/bots/bot_nope/gaps").status_code == 404


# --- resolution analytics ---------------------------------------------------------------------
def test_analytics_counts_resolution_handoffs_and_who_answered(api, bot, store):
    day1, day2 = NOW - 2 * DAY, NOW - DAY
    c = store.conversation(day1, version=1)  # resolved: answered, nothing went wrong
    store.turn(c, "a", day1, latency=100, tokens=(1000, 100), rating="up")
    c = store.conversation(day1, version=1)  # not resolved: a fallback
    store.turn(c, "b", day1, latency=300, fallback=True)
    store.turn(c, "c", day1, latency=200, answered_by="corrected")
    c = store.conversation(day1, version=1)  # resolved: a thumbs-down, but not on the last answer
    store.turn(c, "d", day1, rating="down", latency=400)
    store.turn(c, "e", day1, latency=500)
    c = store.conversation(day2, version=1)  # not resolved: a hand-off
    store.turn(c, "f", day2)
    store.handoff(c, day2)
    c = store.conversation(day2, version=1)  # not resolved: the last answer rated down
    store.turn(c, "g", day2, rating="down")
    c = store.conversation(day2, version=1)  # not resolved: the last answer an error
    store.turn(c, "h", day2, error="provider_error")
    store.conversation(day2, version=1)  # not resolved: never answered
    play = store.conversation(day2, channel="playground")
    store.turn(play, "i", day2)

    report = api.get(f"/admin/bots/{bot}/analytics").json()
    d1, d2 = report["days"]
    assert (d1["day"], d1["version"]) == (day1.date().isoformat(), 1)
    assert (d1["conversations"], d1["resolved"], d1["resolution_rate"]) == (3, 2, round(2 / 3, 4))
    assert (d1["questions"], d1["by_model"], d1["by_corrected"], d1["by_fallback"]) == (5, 3, 1, 1)
    assert (d1["share_corrected"], d1["thumbs_up"], d1["thumbs_down"]) == (0.2, 1, 1)
    assert (d1["latency_ms_p50"], d1["latency_ms_p95"]) == (300, 500)
    assert (d2["conversations"], d2["resolved"], d2["handoff_conversations"], d2["errors"]) == (4, 0, 1, 1)
    overall = report["overall"]
    assert (overall["conversations"], overall["resolved"], overall["handoff_rate"]) == (7, 2, round(1 / 7, 4))
    assert (overall["prompt_tokens"], overall["completion_tokens"]) == (1000, 100)
    assert "thumbs-down" in report["resolution_definition"]
    assert overall["cost_usd"] is None  # version 1 was never published here: no spec, no price
    assert report["versions"][0]["version"] == 1

    with_playground = api.get(f"/admin/bots/{bot}/analytics", params={"include_playground": True}).json()
    assert with_playground["overall"]["conversations"] == 8
    draft = [v for v in with_playground["versions"] if v["version"] is None][0]
    assert draft["cost_usd"] == 0.0  # the draft uses the bundled model

    rows = list(csv.DictReader(io.StringIO(api.get(f"/admin/bots/{bot}/analytics", params={"format": "csv"}).text)))
    assert [(r["day"], r["version"], r["conversations"]) for r in rows] == [
        (day1.date().isoformat(), "1", "3"),
        (day2.date().isoformat(), "1", "4"),
        ("total", "1", "7"),
    ]
    assert api.get(f"/admin/bots/{bot}/analytics", params={"version": 2}).json()["overall"]["conversations"] == 0


def test_a_deleted_conversation_leaves_gaps_and_analytics(api, bot, store, runtime):
    keep = store.conversation(NOW - DAY)
    store.turn(keep, REFUND[0], NOW - DAY, fallback=True)
    gone = store.conversation(NOW - DAY)
    store.turn(gone, REFUND[1], NOW - DAY, rating="down")
    store.handoff(gone, NOW - DAY + timedelta(minutes=5))
    assert _gaps(api, bot)["topics"][0]["count"] == 2
    with runtime.sessions.begin() as s:
        s.execute(delete(t.Conversation).where(t.Conversation.id == gone))
    assert [tp["questions"] for tp in _gaps(api, bot)["topics"]] == [[REFUND[0]]]
    overall = api.get(f"/admin/bots/{bot}/analytics").json()["overall"]
    assert (overall["conversations"], overall["questions"], overall["thumbs_down"]) == (1, 1, 0)


def bulk_conversations(runtime, bot: str, n: int, *, start: int = 0) -> None:
    """n conversations of one question and answer, one every 1.7 minutes back from NOW, 2% of
    them badly answered (a fallback or a thumbs-down) with 40 distinct questions: inserted in
    bulk (executemany), as benchmarks/review_inbox.py does at 100,000 messages."""
    conversations, messages, feedback = [], [], []
    bad_questions = [
        f"{topic} problem number {k}" for topic in ("refund", "parcel", "login", "invoice") for k in range(10)
    ]
    for i in range(start, start + n):
        at = NOW - timedelta(minutes=i * 1.7)
        cid = f"c{i:06d}"
        bad = i % 50 == 0
        conversations.append(
            {
                "id": cid,
                "bot_id": bot,
                "owner": "admin",
                "channel": "widget",
                "version": 1,
                "created_at": at,
                "updated_at": at,
                "message_count": 2,
            }
        )
        q = bad_questions[(i // 50) % 40] if bad else f"question {i % 997}"
        common = {"conversation_id": cid, "bot_id": bot, "citations": [], "handoff": False, "partial": False}
        messages.append(
            {**common, "id": f"q{i:06d}", "role": "user", "content": q, "created_at": at, "fallback": False}
        )
        messages.append(
            {
                **common,
                "id": f"a{i:06d}",
                "role": "assistant",
                "content": "answer",
                "created_at": at + timedelta(seconds=1),
                "fallback": bad and i % 100 == 0,
                "reply_to": f"q{i:06d}",
                "answered_by": "fallback" if bad and i % 100 == 0 else "model",
                "latency_ms": i % 1000,
                "prompt_tokens": 500,
                "completion_tokens": 50,
                "debug": {"reason": "grounded", "hits": [{"chunk_id": "c", "dense_score": 0.8}]},
            }
        )
        if bad and i % 100:
            feedback.append({"message_id": f"a{i:06d}", "rating": "down", "comment": "", "created_at": at})
    with runtime.sessions.begin() as s:
        s.execute(insert(t.Conversation), conversations)
        s.execute(insert(t.Message), messages)
        if feedback:
            s.execute(insert(t.Feedback), feedback)


def _routes(api, bot) -> tuple[dict, dict]:
    since = (NOW - 60 * DAY).isoformat()
    analytics = api.get(f"/admin/bots/{bot}/analytics", params={"since": since})
    assert analytics.status_code == 200, analytics.text
    # One search per topic shown for its closest passage: bounded by max_topics, not by volume.
    return analytics.json(), _gaps(api, bot, since=since, max_topics=1)


def test_gaps_and_analytics_cost_the_same_statements_for_100_or_1000_conversations(api, bot, runtime):
    """What keeps the routes fast at 100,000 messages (timed in benchmarks/review_inbox.py): a
    fixed number of statements whatever the volume, each along an index (next test)."""
    bulk_conversations(runtime, bot, 100)
    _routes(api, bot)  # loads the embedder and warms the caches: the counts below are the routes' own
    with counted_statements(runtime.engine) as few:
        report, gap_report = _routes(api, bot)
    assert report["overall"]["questions"] == 100 and report["overall"]["resolved"] == 98
    assert gap_report["questions"] == 2
    bulk_conversations(runtime, bot, 900, start=100)
    with counted_statements(runtime.engine) as many:
        report, gap_report = _routes(api, bot)
    assert report["overall"]["questions"] == 1000 and report["overall"]["resolved"] == 980
    assert gap_report["questions"] == 20 and len(gap_report["topics"]) == 1
    assert len(few) == len(many), [s for s, _ in many]


def test_gaps_and_analytics_read_messages_along_an_index(api, bot, runtime):
    bulk_conversations(runtime, bot, 100)
    _routes(api, bot)
    with counted_statements(runtime.engine) as statements:
        _routes(api, bot)
    plans = query_plans(runtime.engine, statements, "messages")
    assert not full_scans(plans, "messages"), plans
    # The badly answered questions of the period: a range of the (bot_id, role, created_at)
    # index, not every answer the bot ever gave.
    gap_walks = [lines for sql, lines in plans if "JSON_EXTRACT" in sql]
    assert len(gap_walks) == 2, "this period and the one before"
    for lines in gap_walks:
        assert any("ix_messages_bot_role_created (bot_id=? AND role=? AND created_at>" in x for x in lines), lines


def test_cli_refuses_a_date_it_cannot_read(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["gaps", "some-bot", "--since", "last week", "--json"])
    assert exited.value.code == 2
    assert "invalid date value: 'last week'" in capsys.readouterr().err
