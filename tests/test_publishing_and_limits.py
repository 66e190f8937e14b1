"""Versions, playground and limits through the real app, with a scripted model server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from bots.http.app import create_app
from bots.http.public_auth import client_ip
from bots.runtime import Runtime
from bots.settings import Settings
from tests.public_api_support import bearer, make_bot, secret_key
from tests.scripted_openai import Reply


def test_publish_freezes_a_version_and_rollback_serves_it_again(api, model):
    bot = make_bot(api, model.base_url)
    key = secret_key(api, bot)
    spec = api.get(f"/admin/bots/{bot}").json()["spec"]
    api.patch(f"/admin/bots/{bot}", json={"spec": {**spec, "widget": {"title": "Shop v2"}}})
    assert api.get(f"/v1/bots/{bot}/config").json()["title"] == "Shop"  # the draft is not served
    both = api.get(f"/admin/bots/{bot}/spec").json()
    assert both["draft_differs"] and both["draft"]["widget"]["title"] == "Shop v2"

    assert api.post(f"/admin/bots/{bot}/versions", json={"note": "new title"}).json()["number"] == 2
    assert api.get(f"/v1/bots/{bot}/config").json()["title"] == "Shop v2"
    model.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    answer = api.post(f"/v1/bots/{bot}/chat", json={"message": "Can I return an item?"}, headers=bearer(key)).json()

    rolled = api.post(f"/admin/bots/{bot}/versions/1/rollback").json()
    assert rolled["published"] is True
    assert api.get(f"/v1/bots/{bot}/config").json()["title"] == "Shop"
    listed = api.get(f"/admin/bots/{bot}/versions").json()
    assert listed["published_version"] == 1 and [v["number"] for v in listed["versions"]] == [2, 1]
    assert listed["versions"][0]["note"] == "new title"
    conversation = api.get(f"/admin/bots/{bot}/conversations/{answer['conversation_id']}").json()
    assert conversation["messages"][1]["version"] == 2
    assert api.get(f"/admin/bots/{bot}/conversations", params={"version": 2}).json()["total"] == 1
    assert api.get(f"/admin/bots/{bot}/conversations", params={"version": 1}).json()["total"] == 0
    assert api.post(f"/admin/bots/{bot}/versions/9/rollback").status_code == 404


def test_playground_answers_the_draft_with_debug_and_compares_versions(api, model):
    bot = make_bot(api, model.base_url)
    model.queue(Reply.answer("Express delivery costs 9 euros [1]."))
    r = api.post(f"/admin/bots/{bot}/playground", json={"message": "How much is express delivery?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == "draft" and "9 euros" in body["answer"]
    debug = body["debug"]
    assert debug["hits"] and debug["hits"][0]["dense_score"] is not None and debug["hits"][0]["used"]
    assert debug["prompt"][0]["role"] == "system" and debug["tokens"]["prompt_tokens"] == 11
    assert debug["fallback"] is False and debug["reason"] == "grounded"

    model.queue(Reply.answer("Express: 9 euros [1]."), Reply.answer("Express delivery is 9 euros [1]."))
    results = api.post(f"/admin/bots/{bot}/compare", json={"message": "Express delivery price?"}).json()["results"]
    assert [x["version"] for x in results] == ["draft", 1] and all("debug" in x for x in results)
    # Playground conversations are kept apart from customers'.
    assert api.get(f"/admin/bots/{bot}/conversations", params={"channel": "api"}).json()["total"] == 0


@pytest.fixture
def strict_api(isolated_home, embedders):
    settings = Settings(home=isolated_home, rate_per_session=2, rate_per_ip=3, max_conversation_messages=3)
    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        yield client


def test_rate_limits_answer_429_with_retry_after(strict_api, model):
    bot = make_bot(strict_api, model.base_url)
    key = secret_key(strict_api, bot)
    for _ in range(2):
        model.queue(Reply.answer("Refunds take 5 business days [1]."))
        assert (
            strict_api.post(f"/v1/bots/{bot}/chat", json={"message": "Refund delay?"}, headers=bearer(key)).status_code
            == 200
        )
    r = strict_api.post(f"/v1/bots/{bot}/chat", json={"message": "Refund delay?"}, headers=bearer(key))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited" and r.json()["error"]["retry_after"] >= 1
    assert len(model.requests) == 2
    # Per IP: a forged X-Forwarded-For from an untrusted peer changes nothing.
    other = secret_key(strict_api, bot)
    r = strict_api.post(
        f"/v1/bots/{bot}/chat",
        json={"message": "Refund delay?"},
        headers={**bearer(other), "X-Forwarded-For": "203.0.113.9"},
    )
    assert r.status_code == 429


def test_conversation_length_is_limited(strict_api, model):
    bot = make_bot(strict_api, model.base_url)
    key = secret_key(strict_api, bot)
    model.queue(Reply.answer("Refunds take 5 business days [1]."))
    first = strict_api.post(f"/v1/bots/{bot}/chat", json={"message": "Refund delay?"}, headers=bearer(key)).json()
    r = strict_api.post(
        f"/v1/bots/{bot}/chat",
        json={"message": "And express delivery?", "conversation_id": first["conversation_id"]},
        headers=bearer(key),
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "conversation_too_long"
    assert len(model.requests) == 1


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 1234)})


def test_x_forwarded_for_is_trusted_only_from_configured_proxies():
    assert client_ip(_request("198.51.100.7", "203.0.113.9"), []) == "198.51.100.7"
    assert client_ip(_request("198.51.100.7", "203.0.113.9"), ["10.0.0.0/8"]) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "203.0.113.9"), ["10.0.0.0/8"]) == "203.0.113.9"
    # The client may prepend anything; the right-most untrusted hop is the one the proxy saw.
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.5"), ["10.0.0.0/8"]) == "203.0.113.9"
