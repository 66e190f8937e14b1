"""Many visitors at once against a small database pool (issue #17): every request is served,
none waits for the pool timeout and gets a 503.

FastAPI runs each sync dependency and then the route as separate calls on one thread pool
(40 threads). A request that kept a pooled connection from its `BotDep` until its route
held that connection while it queued for the next thread; once every thread was blocked
waiting for a connection, nothing moved until the pool timeout, and then every waiting
request failed. With `scale_load` at 200 visitors that was a 503 on every session request.
Here the pool has one connection: twice as many visitors as threads show it in seconds."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import select

from bots.http.deps import get_session, release
from bots.store import tables as t
from bots.store.db import make_engine, session_factory
from tests.conftest import LiveServer, seed_database
from tests.public_api_support import ORIGIN, bearer, make_bot, publishable_key
from tests.scripted_openai import ScriptedOpenAI

VISITORS = 80  # twice anyio's default thread pool
ONE_CONNECTION = {
    "PROMPTEUR_DATABASE_POOL_SIZE": "1",
    "PROMPTEUR_DATABASE_MAX_OVERFLOW": "0",
    "PROMPTEUR_DATABASE_POOL_TIMEOUT_S": "3",
    "PROMPTEUR_RATE_PER_IP": "100000",
}


@pytest.fixture
def server(isolated_home, migrated_database):
    seed_database(isolated_home, migrated_database)
    model = ScriptedOpenAI().start()  # named in the bot's spec; opening a session calls no model
    live = LiveServer(isolated_home, ONE_CONNECTION).start()
    try:
        with httpx.Client(base_url=live.url, headers=bearer(live.admin_token), timeout=60) as admin:
            bot_id = make_bot(admin, model.base_url)
            key = publishable_key(admin, bot_id)
        yield live, bot_id, key
    finally:
        live.stop()
        model.close()


def test_twice_as_many_visitors_as_threads_all_get_a_session_from_a_one_connection_pool(server):
    live, bot_id, key = server
    statuses: list[int | str] = []
    start = threading.Barrier(VISITORS)

    def visitor() -> None:
        with httpx.Client(base_url=live.url, timeout=60) as client:
            start.wait(timeout=60)
            try:
                config = client.get(f"/v1/bots/{bot_id}/config")
                res = client.post(f"/v1/bots/{bot_id}/sessions", json={}, headers={**bearer(key), "Origin": ORIGIN})
                statuses.extend([config.status_code, res.status_code])
            except httpx.HTTPError as error:
                statuses.append(type(error).__name__)

    threads = [threading.Thread(target=visitor, daemon=True) for _ in range(VISITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    refused = [s for s in statuses if s != 200]
    assert len(statuses) == 2 * VISITORS and not refused, f"{len(refused)} of {len(statuses)} failed: {refused[:10]}"


def _bot(name: str) -> t.Bot:
    return t.Bot(name=name, embedding_model="all-MiniLM-L6-v2", vector_collection=f"c_{name}")


def test_release_gives_the_connection_back_and_stores_what_closing_would_have(settings):
    """What `ReleasingRoute` does when a route returns, on a real database: a route that read
    after committing, one that flushed and did not commit, one that raised. What is stored
    stays what closing the session after the response stored before."""
    engine = make_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    holding = {}
    for case in ("committed, then read", "flushed only", "raised"):
        dependency = get_session(SimpleNamespace(sessions=sessions))  # as a route gets it
        session = next(dependency)
        session.add(_bot(case))
        if case == "committed, then read":
            session.commit()
            session.get(t.Bot, "bot_nothing")  # the read holds a connection again
        else:
            session.flush()
        release(session, failed=case == "raised")
        holding[case] = session.in_transaction()
        dependency.close()  # after the response
    # Only the unsaved flush keeps its transaction, for the close to roll back.
    assert holding == {"committed, then read": False, "flushed only": True, "raised": False}
    with sessions() as s:
        stored = set(s.scalars(select(t.Bot.name)))
    engine.dispose()
    assert stored == {"committed, then read"}
