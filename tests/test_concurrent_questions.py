"""Two server processes storing the same question at the same moment (issue #17): two
runtimes on one database, each with its own engine and pool as two processes have, and the
race forced: both have looked for an earlier copy of the question before either stores it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from bots.chat import Chat
from bots.http.app import create_app
from bots.runtime import Runtime
from bots.store import tables as t
from tests.conftest import RuntimeClient, shared_embedders
from tests.public_api_support import ORIGIN, bearer, make_bot, publishable_key, secret_key
from tests.scripted_openai import Reply


@pytest.fixture
def two_processes(settings):
    """A and B; only A ingests, so the test knows which one did."""
    clients = []
    for ingest_workers in (1, 0):
        own = settings.model_copy(update={"ingest_workers": ingest_workers})
        runtime = Runtime.build(own, embedders=shared_embedders())
        client = RuntimeClient(create_app(own, runtime=runtime)).__enter__()
        client.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        client.runtime = runtime
        clients.append(client)
    yield clients
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def raced(monkeypatch):
    """The first two looks for an earlier copy both finish before either request goes on."""
    barrier = threading.Barrier(2)
    looks = iter(range(1_000_000))
    original = Chat._replay

    def replay(self, s, q):
        found = original(self, s, q)
        if next(looks) < 2:
            try:
                barrier.wait(timeout=120)  # a fresh app's first request is slow on a busy machine
            except threading.BrokenBarrierError:
                pass  # the other request did not come: the assertions will say why
        return found

    monkeypatch.setattr(Chat, "_replay", replay)


def _at_once(*calls):
    results: list = [None] * len(calls)

    def run(i, call):
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _slow(text: str):
    """An answer that streams for a while: the other request arrives while it is written."""
    import time

    yield text
    for i in range(5):
        time.sleep(0.1)
        yield f" Detail {i}."


def test_one_keyed_request_on_two_processes_is_answered_once(two_processes, model, raced):
    a, b = two_processes
    bot = make_bot(a, model.base_url)
    key = secret_key(a, bot)
    model.queue(Reply.stream(_slow("Returns are free within 30 days.")))  # one: a second call would get a 500
    ask = lambda api: api.post(  # noqa: E731
        f"/v1/bots/{bot}/chat",
        json={"message": "Are returns free?"},
        headers={**bearer(key), "Idempotency-Key": "order-42"},
    )
    first, second = _at_once(lambda: ask(a), lambda: ask(b))
    assert sorted([first.status_code, second.status_code]) in ([200, 200], [200, 409]), (first.text, second.text)
    refused = [r.json() for r in (first, second) if r.status_code == 409]
    assert all(r["error"]["code"] == "request_in_progress" for r in refused)
    retry = ask(b).json()
    assert {r.json()["message_id"] for r in (first, second) if r.status_code == 200} == {retry["message_id"]}
    with a.runtime.sessions() as s:
        stored = s.scalars(select(t.Message).where(t.Message.request_key == "order-42")).all()
    assert len(stored) == 1 and len(model.requests) == 1


def test_the_first_two_questions_of_a_session_on_two_processes_are_both_answered(two_processes, model, raced):
    """Both create the session's conversation: one insert wins, the other reads it and goes on."""
    a, b = two_processes
    bot = make_bot(a, model.base_url)
    session = a.post(
        f"/v1/bots/{bot}/sessions", json={}, headers={**bearer(publishable_key(a, bot)), "Origin": ORIGIN}
    ).json()
    model.queue(Reply.answer("Delivery takes 3 days [1]."), Reply.answer("Returns are free [1]."))
    ask = lambda api, text: api.post(  # noqa: E731
        f"/v1/bots/{bot}/chat", json={"message": text}, headers={**bearer(session["token"]), "Origin": ORIGIN}
    )
    first, second = _at_once(lambda: ask(a, "How long is delivery?"), lambda: ask(b, "Are returns free?"))
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    with a.runtime.sessions() as s:
        conversation = s.get(t.Conversation, session["conversation_id"])
        assert conversation.message_count == 4
        roles = s.scalars(select(t.Message.role).where(t.Message.conversation_id == conversation.id)).all()
    assert sorted(roles) == ["assistant", "assistant", "user", "user"]
