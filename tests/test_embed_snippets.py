"""The admin API gives the snippets that publish a bot (script tag, iframe, hosted page, curl,
the openai SDK); the live test runs the curl and Python snippets against a real server."""

from __future__ import annotations

import subprocess
import sys

import httpx
from fastapi.testclient import TestClient

from bots.cli.client import AdminClient
from bots.http.app import create_app
from bots.runtime import Runtime
from tests.public_api_support import bearer, publishable_key, secret_key, spec_for
from tests.scripted_openai import Reply, ScriptedOpenAI


def new_bot(api, name: str = "Shop") -> str:
    return api.post("/admin/bots", json={"name": name}).json()["id"]


def test_snippets_without_a_key_carry_a_clear_placeholder(api):
    bot = new_bot(api)
    r = api.get(f"/admin/bots/{bot}/embed")
    assert r.status_code == 200, r.text
    s = r.json()
    assert set(s) == {"script", "iframe", "hosted_url", "curl", "python"}
    base = "http://testserver"  # no PROMPTEUR_PUBLIC_URL: the address the request came to
    assert s["script"] == (
        f'<script src="{base}/widget.js" data-bot="{bot}" data-key="pk_YOUR_PUBLISHABLE_KEY" async></script>'
    )
    assert s["hosted_url"] == f"{base}/chat/{bot}?key=pk_YOUR_PUBLISHABLE_KEY"
    assert s["iframe"].startswith(f'<iframe src="{s["hosted_url"]}"') and s["iframe"].endswith("</iframe>")
    assert f"{base}/v1/bots/{bot}/chat" in s["curl"] and "Bearer sk_YOUR_SECRET_KEY" in s["curl"]
    assert f'base_url="{base}/v1"' in s["python"] and f'model="{bot}"' in s["python"]
    compile(s["python"], "snippet.py", "exec")


def test_snippets_carry_the_given_publishable_key_and_refuse_any_other(api):
    bot, other = new_bot(api), new_bot(api, "Other")
    pk = publishable_key(api, bot)
    s = api.get(f"/admin/bots/{bot}/embed", params={"key": pk}).json()
    assert f'data-key="{pk}"' in s["script"] and s["hosted_url"].endswith(f"?key={pk}")
    assert f"?key={pk}" in s["iframe"]
    assert "pk_" not in s["curl"] + s["python"]  # server-side examples never use the public key

    # A secret key must never be pasted into a web page; nor another bot's or a revoked key.
    revoked = api.post(f"/admin/bots/{bot}/keys", json={"kind": "publishable"}).json()
    api.delete(f"/admin/bots/{bot}/keys/{revoked['id']}")
    for wrong in (secret_key(api, bot), publishable_key(api, other), revoked["key"], "pk_made_up"):
        r = api.get(f"/admin/bots/{bot}/embed", params={"key": wrong})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "not_a_publishable_key"
        assert wrong not in r.text

    assert api.get("/admin/bots/bot_missing/embed").status_code == 404
    anonymous = api.get(f"/admin/bots/{bot}/embed", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_public_url_setting_is_used_in_every_snippet(settings, embedders):
    public = settings.model_copy(update={"public_url": "https://chat.example.com/"})
    runtime = Runtime.build(public, embedders=embedders)
    with TestClient(create_app(public, runtime=runtime)) as api:
        api.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        bot = new_bot(api)
        s = api.get(f"/admin/bots/{bot}/embed").json()
    for name, text in s.items():
        assert "https://chat.example.com/" in text and "testserver" not in text, name
    assert 'src="https://chat.example.com/widget.js"' in s["script"]


def test_curl_and_python_snippets_work_against_a_live_server(live_server):
    model = ScriptedOpenAI().start()
    try:
        with httpx.Client(base_url=live_server.url, headers=bearer(live_server.admin_token), timeout=120) as api:
            bot = api.post("/admin/bots", json={"name": "Shop", "spec": spec_for(model.base_url)}).json()["id"]
            assert api.post(f"/admin/bots/{bot}/versions", json={}).status_code == 201
            key = api.post(f"/admin/bots/{bot}/keys", json={"kind": "secret"}).json()["key"]
        client = AdminClient(live_server.url, live_server.admin_token)
        try:
            s = client.embed(bot).model_dump()
        finally:
            client.close()
        assert s["script"].startswith(f'<script src="{live_server.url}/widget.js"')

        model.queue(Reply.answer("Parcels arrive in 3 days."))
        model.queue(Reply.answer("Parcels arrive in 3 days."))
        curl = subprocess.run(
            ["bash", "-c", s["curl"].replace("sk_YOUR_SECRET_KEY", key)], capture_output=True, text=True, timeout=120
        )
        assert curl.returncode == 0, curl.stderr
        assert '"answer"' in curl.stdout and '"conversation_id"' in curl.stdout, curl.stdout
        python = subprocess.run(
            [sys.executable, "-c", s["python"].replace("sk_YOUR_SECRET_KEY", key)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert python.returncode == 0, python.stderr
        assert python.stdout.strip(), "the SDK example should print the bot's answer"
    finally:
        model.close()
