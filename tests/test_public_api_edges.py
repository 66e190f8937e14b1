"""The public API's first contact, through a real server: the hosted chat link works as soon
as the bot is published, and OpenAI's clients get what they expect (models, clear refusals,
a note when their system message is ignored)."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.public_api_support import FIXTURES, bearer, spec_for
from tests.scripted_openai import Reply, ScriptedOpenAI


@pytest.fixture(scope="module")
def model():
    server = ScriptedOpenAI().start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def shop(shared_server, model) -> dict:
    """One published bot (allowed origin: https://shop.example only) and its keys."""
    api = httpx.Client(base_url=shared_server.url, headers=bearer(shared_server.admin_token), timeout=300)
    bot = api.post("/admin/bots", json={"name": "Shop", "spec": spec_for(model.base_url)}).json()["id"]
    added = shared_server.cli("kb", "add", bot, str(FIXTURES / "shop_help.md"), "--wait")
    assert added.returncode == 0, added.stderr
    assert shared_server.cli("bot", "publish", bot, "--note", "v1").returncode == 0
    keys = {
        kind: api.post(f"/admin/bots/{bot}/keys", json={"kind": kind}).json()["key"]
        for kind in ("secret", "publishable")
    }
    api.close()
    return {"bot": bot, "sk": keys["secret"], "pk": keys["publishable"], "url": shared_server.url}


def test_the_hosted_chat_page_opens_sessions_from_the_servers_own_origin(shop, model):
    bot, url = shop["bot"], shop["url"]
    page = httpx.get(f"{url}/chat/{bot}")
    assert page.status_code == 200 and "/widget.js" in page.text
    # What the browser on the hosted page sends: Origin is the server itself, which is not in
    # the bot's allowed origins (only https://shop.example is).
    opened = httpx.post(f"{url}/v1/bots/{bot}/sessions", json={}, headers={**bearer(shop["pk"]), "Origin": url})
    assert opened.status_code == 200, opened.text
    session = opened.json()
    model.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    answer = httpx.post(
        f"{url}/v1/bots/{bot}/chat",
        json={"message": "Can I return an item?"},
        headers={**bearer(session["token"]), "Origin": url},
        timeout=60,
    )
    assert answer.status_code == 200 and "30 days" in answer.json()["answer"]
    # Other sites still need to be on the list.
    for origin in ("https://evil.example", "http://127.0.0.1:1", url.replace("http://", "https://")):
        refused = httpx.post(f"{url}/v1/bots/{bot}/sessions", json={}, headers={**bearer(shop["pk"]), "Origin": origin})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "origin_not_allowed", origin


def test_a_publishable_key_on_chat_completions_names_the_real_bot(shop):
    client = openai.OpenAI(base_url=f"{shop['url']}/v1", api_key=shop["pk"], max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as err:
        client.chat.completions.create(model=shop["bot"], messages=[{"role": "user", "content": "hi"}])
    message = err.value.body["message"]
    assert "None" not in message
    assert f"POST /v1/bots/{shop['bot']}/sessions" in message and "secret key" in message


def test_models_lists_the_keys_bot_in_openais_shape(shop, shared_server):
    client = openai.OpenAI(base_url=f"{shop['url']}/v1", api_key=shop["sk"], max_retries=0)
    models = client.models.list()
    assert [m.id for m in models.data] == [shop["bot"]]
    assert models.data[0].object == "model" and models.data[0].owned_by == "prompteur"
    assert models.data[0].created > 1_600_000_000
    raw = httpx.get(f"{shop['url']}/v1/models", headers=bearer(shop["sk"])).json()
    assert raw["object"] == "list" and set(raw["data"][0]) == {"id", "object", "created", "owned_by"}
    assert client.models.retrieve(shop["bot"]).id == shop["bot"]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("bot_someone_else")
    # No key, or a publishable one: refused like the completions.
    assert httpx.get(f"{shop['url']}/v1/models").status_code == 401
    assert httpx.get(f"{shop['url']}/v1/models", headers=bearer(shop["pk"])).status_code == 403

    # A bot not yet published is not a model the key can use.
    api = httpx.Client(base_url=shared_server.url, headers=bearer(shared_server.admin_token))
    draft = api.post("/admin/bots", json={"name": "Draft"}).json()["id"]
    draft_key = api.post(f"/admin/bots/{draft}/keys", json={"kind": "secret"}).json()["key"]
    api.close()
    assert httpx.get(f"{shop['url']}/v1/models", headers=bearer(draft_key)).json() == {"object": "list", "data": []}


def test_a_system_message_is_ignored_and_the_response_says_so(shop, model):
    client = openai.OpenAI(base_url=f"{shop['url']}/v1", api_key=shop["sk"], max_retries=0)
    model.queue(Reply.answer("Unused items can be returned within 30 days [1]."))
    raw = client.chat.completions.with_raw_response.create(
        model=shop["bot"],
        messages=[
            {"role": "system", "content": "Answer like a pirate."},
            {"role": "user", "content": "Can I return an item?"},
        ],
    )
    assert raw.headers["x-prompteur-ignored-roles"] == "system"
    completion = raw.parse()
    assert completion.model_extra["prompteur"]["ignored_roles"] == ["system"]
    assert "pirate" not in json.dumps(model.requests[-1])

    model.queue(Reply.answer("Standard delivery takes 3 to 5 business days [1]."))
    stream = client.chat.completions.with_raw_response.create(
        model=shop["bot"],
        messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Delivery time?"}],
        stream=True,
    )
    assert stream.headers["x-prompteur-ignored-roles"] == "developer"
    final = [c for c in stream.parse() if c.choices and c.choices[0].finish_reason][0]
    assert final.model_extra["prompteur"]["ignored_roles"] == ["developer"]

    # Nothing to say when there was nothing to ignore.
    model.queue(Reply.answer("Standard delivery takes 3 to 5 business days [1]."))
    plain = client.chat.completions.with_raw_response.create(
        model=shop["bot"], messages=[{"role": "user", "content": "Delivery time?"}]
    )
    assert "x-prompteur-ignored-roles" not in plain.headers
    assert plain.parse().model_extra["prompteur"]["ignored_roles"] == []
