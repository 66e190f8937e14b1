"""A provider 429 storm across two servers (issue #17, "Faults"): the bot's model answers 429
to every request while many widget customers ask at once, half of them through one server,
half through another sharing the same database and knowledge.

Expected: retries are ours and bounded (the scripted provider sees at most
customers x (1 + max_retries) requests), every customer is told to try again (an SSE `error`
event `model_rate_limited` with the "try again" sentence, or a 503 with Retry-After on the
JSON chat), nobody waits longer than the retry budget (no queue builds up), and once the
provider recovers the next question is answered normally.

Two servers, each with its own runtime (its provider client, retry loop and rate limits),
share one SQLite database and one Chroma directory. Both run in the test process (`LiveServer`
threads, one embedding model between them): a retry budget is per request, so a second OS
process changes nothing here; it only added a model load (7 s against 75-140 s for this test
on a busy machine). tests/test_several_processes.py covers requests across real processes."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from bots.core.phrases import phrase
from tests.conftest import LiveServer, seed_database
from tests.public_api_support import ORIGIN, bearer, make_bot, parse_sse, publishable_key
from tests.scripted_openai import Reply, ScriptedOpenAI

CUSTOMERS = 16
MAX_RETRIES = 2
RETRY_AFTER_S = 1  # the provider's Retry-After: our retries wait exactly this long
# Each customer waits at most MAX_RETRIES x Retry-After for the model, plus retrieval and
# HTTP on a busy 2-core machine; a queue (customers served one after another) would take
# CUSTOMERS x that.
WAIT_BUDGET_S = MAX_RETRIES * RETRY_AFTER_S + 6
QUESTION = "Can I return an item for a refund?"
HIGH_LIMITS = {"PROMPTEUR_RATE_PER_IP": "100000", "PROMPTEUR_RATE_PER_SESSION": "100000"}


@pytest.fixture
def provider():
    server = ScriptedOpenAI().start()
    yield server
    server.close()


@pytest.fixture
def two_servers(isolated_home, migrated_database, provider):
    seed_database(isolated_home, migrated_database)
    first = LiveServer(isolated_home, HIGH_LIMITS).start()
    second = None
    try:
        with httpx.Client(base_url=first.url, headers=bearer(first.admin_token), timeout=60) as admin:
            bot_id = make_bot(admin, provider.base_url, model={**_model(provider.base_url)})
            key = publishable_key(admin, bot_id)
        second = LiveServer(isolated_home, HIGH_LIMITS).start()
        servers = [first, second]
        # The embedding model loads on the first question: asked before the storm, so the
        # storm's timings measure retries, not a cold start.
        for server in servers:
            _answered_normally(server, bot_id, key, provider)
        provider.requests.clear()
        yield servers, bot_id, key
    finally:
        if second is not None:
            second.stop()
        first.stop()


def _model(base_url: str) -> dict:
    return {
        "provider": "openai_compatible",
        "base_url": base_url,
        "model": "scripted",
        "api_key": "sk-provider-secret-123",
        "max_retries": MAX_RETRIES,
    }


def _customer(url: str, bot_id: str, key: str, stream: bool, out: list) -> None:
    """One widget visitor: opens a session, asks one question, records what it got."""
    widget = {"Origin": ORIGIN}
    with httpx.Client(base_url=url, timeout=60) as client:
        session = client.post(f"/v1/bots/{bot_id}/sessions", json={}, headers={**bearer(key), **widget})
        assert session.status_code == 200, session.text
        started = time.monotonic()
        res = client.post(
            f"/v1/bots/{bot_id}/chat",
            json={"message": QUESTION, "stream": stream},
            headers={**bearer(session.json()["token"]), **widget},
        )
        out.append({"stream": stream, "status": res.status_code, "res": res, "s": time.monotonic() - started})


def test_a_429_storm_is_bounded_and_every_customer_is_told_to_retry(two_servers, provider):
    servers, bot_id, key = two_servers
    # More 429s queued than the bound allows: a runaway retry loop would be seen, not starved.
    provider.queue(*[Reply.error(429, "slow down", {"Retry-After": str(RETRY_AFTER_S)})] * (CUSTOMERS * 5))
    results: list[dict] = []
    threads = [
        threading.Thread(
            target=_customer, args=(servers[i % 2].url, bot_id, key, i % 4 != 0, results), daemon=True
        )  # three in four stream, as the widget does; the rest use the JSON chat
        for i in range(CUSTOMERS)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    storm_s = time.monotonic() - started
    assert len(results) == CUSTOMERS, "a customer never got an answer"

    asked = len(provider.requests)
    assert CUSTOMERS <= asked <= CUSTOMERS * (1 + MAX_RETRIES), f"{asked} provider requests for {CUSTOMERS} customers"

    try_again = phrase("model_rate_limited", "en")
    for r in results:
        res = r["res"]
        if r["stream"]:
            assert res.status_code == 200, res.text
            name, data = parse_sse(res.text)[-1]
            assert (name, data["code"], data["message"]) == ("error", "model_rate_limited", try_again), res.text
        else:
            assert res.status_code == 503, res.text
            assert res.json()["error"]["code"] == "model_rate_limited"
            assert res.json()["error"]["message"] == try_again
            assert res.headers["Retry-After"] == str(RETRY_AFTER_S)
    slowest = max(r["s"] for r in results)
    assert slowest < WAIT_BUDGET_S, f"a customer waited {slowest:.1f}s (storm took {storm_s:.1f}s)"

    # The storm ends: the next question, on either process, is answered normally.
    with provider._lock:
        provider.replies.clear()
    for server in servers:
        _answered_normally(server, bot_id, key, provider)


def _answered_normally(server: LiveServer, bot_id: str, key: str, provider: ScriptedOpenAI) -> None:
    provider.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    got: list[dict] = []
    _customer(server.url, bot_id, key, True, got)
    name, data = parse_sse(got[0]["res"].text)[-1]
    assert name == "done", got[0]["res"].text
    assert data["text"].startswith("Unused items can be returned within 30 days")
