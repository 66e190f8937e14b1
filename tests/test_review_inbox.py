"""The review inbox through the real app and real SQLite: which answers are in the queue and
why, filters, the sort (most-asked first, then newest), actions recorded with who and when
(reviewed and corrected items leave the queue; a case lands in a test set), masking of
customers' contacts, another bot's answers out of reach, and a bounded query (statement
count and query plans here; timed at 100,000 messages in benchmarks/review_inbox.py). Rows
are inserted directly: the answers' content is not the point here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bots import review
from bots.core.masking import mask_contacts
from bots.store import tables as t
from tests.conftest import create_bot
from tests.public_api_support import make_bot
from tests.scripted_openai import Reply, ScriptedOpenAI
from tests.sql_statements import counted_statements, full_scans, query_plans

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HIT_OK = [{"chunk_id": "c1", "source": "help.md", "page": None, "score": 0.03, "dense_score": 0.8}]
HIT_LOW = [{"chunk_id": "c2", "source": "help.md", "page": None, "score": 0.02, "dense_score": 0.42}]


def debug(hits=HIT_OK, reason="grounded", cut=None, language="en") -> dict:
    return {"reason": reason, "language": language, "cut_at_tokens": cut, "hits": hits, "passages": []}


class Rows:
    """Conversations of one question and one answer each, inserted as the chat stores them."""

    def __init__(self, runtime, bot_id: str):
        self.sessions, self.bot_id, self.n = runtime.sessions, bot_id, 0

    def turn(self, question: str, answer: str = "An answer.", *, channel="api", version=1, at=None, **answer_kw):
        self.n += 1
        at = at or T0 + timedelta(minutes=self.n)
        cid, qid, aid = (
            f"conv_{self.bot_id}_{self.n}",
            f"msg_q{self.bot_id[-6:]}{self.n}",
            f"msg_a{self.bot_id[-6:]}{self.n}",
        )
        answer_kw.setdefault("debug", debug())
        answer_kw.setdefault("answered_by", "fallback" if answer_kw.get("fallback") else "model")
        with self.sessions.begin() as s:
            s.add(
                t.Conversation(
                    id=cid, bot_id=self.bot_id, owner="admin", channel=channel, version=version, created_at=at
                )
            )
            s.flush()
            s.add(
                t.Message(
                    id=qid,
                    conversation_id=cid,
                    bot_id=self.bot_id,
                    role="user",
                    content=question,
                    version=version,
                    created_at=at,
                )
            )
            s.flush()
            s.add(
                t.Message(
                    id=aid,
                    conversation_id=cid,
                    bot_id=self.bot_id,
                    role="assistant",
                    content=answer,
                    version=version,
                    reply_to=qid,
                    created_at=at + timedelta(seconds=1),
                    **answer_kw,
                )
            )
        return aid

    def feedback(self, message_id: str, rating: str, comment: str = ""):
        with self.sessions.begin() as s:
            s.add(t.Feedback(message_id=message_id, rating=rating, comment=comment))

    def handoff_request(self, message_id: str):
        with self.sessions.begin() as s:
            m = s.get(t.Message, message_id)
            s.add(t.HandoffRequest(conversation_id=m.conversation_id, bot_id=self.bot_id, name="Jo", message="call me"))


def queue(api, bot: str, **params) -> dict:
    r = api.get(f"/admin/bots/{bot}/review", params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def bot(api) -> str:
    return create_bot(api)["id"]


def test_the_queue_holds_the_answers_worth_a_look_and_why(api, runtime, bot):
    rows = Rows(runtime, bot)
    fine = rows.turn("What are your opening hours?")
    rows.feedback(fine, "up")
    down = rows.turn("Can I return shoes?", "No.")
    rows.feedback(down, "down", "Wrong, the policy says 30 days")
    fallback = rows.turn(
        "Do you sell bikes?", "Sorry.", fallback=True, handoff=True, debug=debug([], "no_relevant_passage")
    )
    requested = rows.turn("Where is my parcel?")
    rows.handoff_request(requested)
    low = rows.turn("Is there a student discount?", debug=debug(HIT_LOW))
    cut = rows.turn("Explain delivery.", debug=debug(cut=256))
    error = rows.turn("Price of express?", "", error="model_unavailable", answered_by=None)
    corrected = rows.turn("Can I pay by gift card?", answered_by="corrected", debug=debug([], "corrected"))

    got = {i["message_id"]: i for i in queue(api, bot)["items"]}
    assert set(got) == {down, fallback, requested, low, cut, error}, "fine and corrected answers are not in it"
    assert got[down]["reasons"] == ["thumbs_down"] and got[down]["feedback_comment"] == "Wrong, the policy says 30 days"
    assert got[fallback]["reasons"] == ["fallback", "handoff"]
    assert got[requested]["reasons"] == ["handoff"]
    assert got[low]["reasons"] == ["low_score"] and got[low]["best_score"] == 0.42
    assert got[low]["passages"][0]["dense_score"] == 0.42 and got[low]["passages"][0]["source"] == "help.md"
    assert got[cut]["reasons"] == ["cut"]
    assert got[error]["reasons"] == ["error"]
    assert got[down]["question"] == "Can I return shoes?" and got[down]["answer"] == "No."
    assert corrected not in got

    detail = api.get(f"/admin/bots/{bot}/review/{down}").json()
    assert [m["role"] for m in detail["conversation"]] == ["user", "assistant"]
    assert detail["actions"] == []


def test_filters_and_the_sort_most_asked_first_then_newest(api, runtime, bot):
    rows = Rows(runtime, bot)
    fb = dict(fallback=True, debug=debug([], "no_relevant_passage"))
    old_single = rows.turn("Do you ship to Mars?", **fb)
    repeated = [rows.turn(q, **fb) for q in ("Do you sell bikes?", "do you sell BIKES", "Do you sell bikes ?!")]
    french = rows.turn(
        "Vendez-vous des vélos ?",
        channel="widget",
        version=2,
        **{**fb, "debug": debug([], "no_relevant_passage", language="fr")},
    )
    newest_single = rows.turn("Gift wrapping?", **fb)

    order = [i["message_id"] for i in queue(api, bot)["items"]]
    assert order[:3] == list(reversed(repeated))  # three of the same question, newest first
    assert order[3:] == [newest_single, french, old_single]
    assert queue(api, bot)["items"][0]["similar"] == 3

    assert [i["message_id"] for i in queue(api, bot, channel="widget")["items"]] == [french]
    assert [i["message_id"] for i in queue(api, bot, version=2)["items"]] == [french]
    assert [i["message_id"] for i in queue(api, bot, language="fr")["items"]] == [french]
    assert queue(api, bot, reason="thumbs_down")["items"] == []
    assert len(queue(api, bot, reason="fallback")["items"]) == 6
    since = (T0 + timedelta(minutes=5)).isoformat()
    assert [i["message_id"] for i in queue(api, bot, since=since)["items"]] == [newest_single, french]
    assert api.get(f"/admin/bots/{bot}/review", params={"reason": "bogus"}).status_code == 422


def test_actions_are_recorded_and_resolved_items_leave_the_queue(api, runtime, bot):
    rows = Rows(runtime, bot)
    down = rows.turn("Can I return shoes?", "No.")
    rows.feedback(down, "down")
    other = rows.turn("Do you sell bikes?", fallback=True, debug=debug([], "no_relevant_passage"))

    r = api.post(f"/admin/bots/{bot}/review/{other}/reviewed", json={"note": "out of scope, fine"})
    assert r.status_code == 204
    r = api.post(
        f"/admin/bots/{bot}/review/{down}/correct",
        json={"answer": "Yes, within 30 days of delivery.", "sources": [{"source": "shop_help.md"}]},
    )
    assert r.status_code == 201, r.text
    answer_id = r.json()["corrected_answer_id"]
    created = api.get(f"/admin/bots/{bot}/corrected-answers/{answer_id}").json()
    assert created["question"] == "Can I return shoes?" and created["answer"] == "Yes, within 30 days of delivery."
    assert queue(api, bot)["items"] == []

    r = api.post(
        f"/admin/bots/{bot}/review/{down}/test-case", json={"set": "from review", "expected_source": "shop_help.md"}
    )
    assert r.status_code == 201, r.text
    cases = api.get(f"/admin/bots/{bot}/test-sets/from review").json()["cases"]
    assert cases == [
        {
            "question": "Can I return shoes?",
            "expected_sources": ["shop_help.md"],
            "reference_answer": "Yes, within 30 days of delivery.",
        }
    ]
    actions = api.get(f"/admin/bots/{bot}/review/{down}").json()["actions"]
    assert [(a["action"], a["actor"]) for a in actions] == [("corrected", "admin"), ("added_to_test_set", "admin")]
    assert all(a["created_at"] for a in actions)
    reviewed = api.get(f"/admin/bots/{bot}/review/{other}").json()["actions"]
    assert [(a["action"], a["note"]) for a in reviewed] == [("reviewed", "out of scope, fine")]

    # Bad input: a clear error, nothing recorded.
    assert api.post(f"/admin/bots/{bot}/review/{down}/correct", json={"answer": " "}).status_code == 422
    assert api.post(f"/admin/bots/{bot}/review/msg_nope/reviewed", json={}).status_code == 404
    assert len(api.get(f"/admin/bots/{bot}/review/{down}").json()["actions"]) == 2


def test_another_bots_answers_are_out_of_reach(api, runtime, bot):
    other = create_bot(api, name="Other")["id"]
    theirs = Rows(runtime, other).turn("Secret question?", fallback=True, debug=debug([], "no_relevant_passage"))
    assert queue(api, bot)["items"] == []
    for path, body in (("", None), ("/reviewed", {}), ("/correct", {"answer": "x"}), ("/test-case", {"set": "s"})):
        r = (
            api.post(f"/admin/bots/{bot}/review/{theirs}{path}", json=body)
            if body is not None
            else api.get(f"/admin/bots/{bot}/review/{theirs}")
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "review_item_not_found", path
    assert len(queue(api, other)["items"]) == 1


def test_contacts_are_masked_in_the_inbox_and_exports_when_the_bot_says_so(api, runtime, bot):
    rows = Rows(runtime, bot)
    down = rows.turn("I am jo@example.com, call me on +33 6 12 34 56 78 about order 1234", "Sure.")
    rows.feedback(down, "down", "reach me at jo@example.com")
    item = queue(api, bot)["items"][0]
    assert "jo@example.com" in item["question"]  # off by default
    assert api.patch(f"/admin/bots/{bot}", json={"spec": {"review": {"mask_contacts": True}}}).status_code == 200
    item = queue(api, bot)["items"][0]
    assert item["question"] == "I am [email], call me on [phone] about order 1234"
    assert item["feedback_comment"] == "reach me at [email]"
    detail = api.get(f"/admin/bots/{bot}/review/{down}").json()
    assert "jo@example.com" not in str(detail) and "12 34 56 78" not in str(detail)
    exported = api.get(f"/admin/bots/{bot}/export", params={"format": "csv"}).text
    assert "jo@example.com" not in exported and "[email]" in exported


def test_masking_leaves_dates_amounts_and_short_numbers_alone():
    assert mask_contacts("Refund of 49.90 euros on 2024-05-01 for order 12345, 5 days") == (
        "Refund of 49.90 euros on 2024-05-01 for order 12345, 5 days"
    )
    assert mask_contacts("(555) 123-4567 or 06.12.34.56.78 or a.b@c.fr") == "[phone] or [phone] or [email]"


def bulk_answers(runtime, bot: str, n: int, *, start: int = 0) -> None:
    """n conversations of one question and answer, inserted in bulk (executemany): every
    7th answer a fallback, every 11th on a weak passage, 300 distinct questions."""
    conversations, messages = [], []
    for i in range(start, start + n):
        at = T0 + timedelta(seconds=i)
        cid = f"conv_big_{i}"
        conversations.append(
            {
                "id": cid,
                "bot_id": bot,
                "owner": "admin",
                "channel": "api",
                "version": 1,
                "created_at": at,
                "updated_at": at,
                "message_count": 2,
            }
        )
        common = {"conversation_id": cid, "bot_id": bot, "version": 1, "citations": [], "partial": False}
        messages.append(
            {
                **common,
                "id": f"msg_bq{i}",
                "role": "user",
                "content": f"Question number {i % 300}?",
                "fallback": False,
                "handoff": False,
                "created_at": at,
            }
        )
        messages.append(
            {
                **common,
                "id": f"msg_ba{i}",
                "role": "assistant",
                "content": "An answer.",
                "reply_to": f"msg_bq{i}",
                "fallback": i % 7 == 0,
                "handoff": False,
                "answered_by": "fallback" if i % 7 == 0 else "model",
                "debug": debug(HIT_LOW if i % 11 == 0 else HIT_OK),
                "created_at": at + timedelta(milliseconds=1),
            }
        )
    with runtime.sessions.begin() as s:
        s.execute(insert(t.Conversation), conversations)
        s.execute(insert(t.Message), messages)


def test_the_inbox_reads_at_most_its_scan_limit_in_the_same_statements_whatever_the_volume(
    api, runtime, bot, monkeypatch
):
    """What keeps the inbox fast at 100,000 messages (timed in benchmarks/review_inbox.py): the
    walk stops at the scan limit (made small here, so that a few hundred rows are past it) in
    a fixed number of statements, each along an index (next test)."""
    monkeypatch.setattr(review, "SCAN_LIMIT", 60)
    bulk_answers(runtime, bot, 40)
    queue(api, bot, limit=50)
    with counted_statements(runtime.engine) as few:
        got = queue(api, bot, limit=50)
    assert got["scanned"] == 40 and got["total"] == 9  # 0, 7, 11, 14, 21, 22, 28, 33, 35
    bulk_answers(runtime, bot, 400, start=40)
    with counted_statements(runtime.engine) as many:
        got = queue(api, bot, limit=50)
    assert got["scanned"] == got["scan_limit"] == 60
    # The newest 60 answers are numbers 380 to 439: the fallbacks and weak passages among them.
    expected = {f"msg_ba{i}" for i in range(380, 440) if i % 7 == 0 or i % 11 == 0}
    assert {i["message_id"] for i in got["items"]} == expected
    assert all(set(i["reasons"]) & {"fallback", "low_score"} for i in got["items"])
    assert len(few) == len(many), [s for s, _ in many]


def test_the_inbox_reads_messages_along_an_index(api, runtime, bot):
    bulk_answers(runtime, bot, 100)
    queue(api, bot, limit=50)
    for params in ({}, {"channel": "api"}, {"version": 1, "since": T0.isoformat()}):
        with counted_statements(runtime.engine) as statements:
            queue(api, bot, limit=50, **params)
        plans = query_plans(runtime.engine, statements, "messages")
        assert not full_scans(plans, "messages"), (params, plans)
        # The walk: newest first along (bot_id, role, created_at), so it stops at the scan
        # limit; without that index SQLite would read all the bot's answers and sort them.
        walk = next(lines for sql, lines in plans if sql.lstrip().startswith("SELECT messages.id"))
        assert any("ix_messages_bot_role_created" in line for line in walk), (params, walk)
        # A sort of the whole walk would read every row first; only ties on created_at are
        # sorted by id ("RIGHT PART OF ORDER BY"), as the rows stream.
        assert not any("B-TREE FOR ORDER BY" in line for line in walk), (params, walk)
    with counted_statements(runtime.engine) as statements:
        api.get(f"/admin/bots/{bot}/review/msg_ba7").raise_for_status()
    assert not full_scans(query_plans(runtime.engine, statements, "messages"), "messages")


def test_an_item_shows_the_prompt_the_model_was_given_bounded_with_secrets_and_contacts_out(api, runtime):
    model = ScriptedOpenAI().start()
    try:
        bot = make_bot(api, model.base_url, publish=False, review={"mask_contacts": True})
        model.queue(Reply.answer("Refunds take 5 business days [1]."))
        question = "I am jo@example.com, how long do refunds take? My token is sk-live-abcdefgh123456"
        generated = api.post(f"/admin/bots/{bot}/playground", json={"message": question, "version": "draft"}).json()
        sent = model.requests[0]["messages"]
    finally:
        model.close()
    extractive = make_bot(api, "http://127.0.0.1:9/v1", name="Quoting", publish=False, answer={"style": "extractive"})
    quoted = api.post(f"/admin/bots/{extractive}/playground", json={"message": "How long do refunds take?"}).json()
    for answer in (generated, quoted):
        Rows(runtime, "").feedback(answer["message_id"], "down")

    item = api.get(f"/admin/bots/{bot}/review/{generated['message_id']}").json()
    assert item["prompt_status"] == "sent"
    assert [m["role"] for m in item["prompt"]] == [m["role"] for m in sent]
    system, asked = item["prompt"][0]["content"], item["prompt"][-1]["content"]
    assert "SECRET-PROMPT-TEXT" in system and "5 business days" in system  # instructions and passages
    canary = sent[0]["content"].splitlines()[0]
    assert canary.startswith("[ref ") and canary not in system and "[ref ...]" in system
    assert asked == "I am [email], how long do refunds take? My token is sk-[redacted]"
    assert "prompt" not in item["debug"] and "jo@example.com" not in str(item)
    assert queue(api, bot)["items"][0]["prompt"] == item["prompt"]
    # Not repeated with every message of the conversation views.
    conversation = api.get(f"/admin/bots/{bot}/conversations/{generated['conversation_id']}").json()
    assert all("prompt" not in (m.get("debug") or {}) for m in conversation["messages"])

    no_model = api.get(f"/admin/bots/{extractive}/review/{quoted['message_id']}").json()
    assert (no_model["prompt_status"], no_model["prompt"]) == ("no_model_call", None)


def test_an_answer_stored_before_prompts_were_kept_says_so(api, runtime, bot):
    rows = Rows(runtime, bot)
    old = rows.turn("Can I return shoes?", "No.")
    rows.feedback(old, "down")
    item = queue(api, bot)["items"][0]
    assert (item["prompt_status"], item["prompt"]) == ("not_recorded", None)


def test_a_kept_prompt_is_bounded_and_says_what_was_cut():
    from bots import prompt_record

    system = "[ref 0123456789ab]\nInstructions. api_key=sk-abcdefghijk\n" + "passage " * 3000
    turns = [{"role": "user", "content": f"turn {i} " * 400} for i in range(6)]
    kept = prompt_record.kept([{"role": "system", "content": system}, *turns, {"role": "user", "content": "Refund?"}])
    assert sum(len(m["content"]) for m in kept) <= prompt_record.MAX_CHARS + 100
    assert kept[0]["content"].startswith("[ref ...]\nInstructions. api_key=[redacted]")
    assert "characters not kept]" in kept[0]["content"]
    assert kept[1] == {"role": "note", "content": "[6 earlier messages not kept]"}
    assert kept[-1] == {"role": "user", "content": "Refund?"}
    assert prompt_record.kept([]) is None
