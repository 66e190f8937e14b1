"""POST /admin/providers/test: one real request with unsaved model settings, and the model's
reply or the provider's exact error (the first-run setup's "test connection")."""

from __future__ import annotations

from tests.conftest import free_port
from tests.scripted_openai import Reply


def test_the_models_reply_comes_back(api, model):
    model.queue(Reply.answer("Ready when you are."))
    body = {"provider": "openai_compatible", "model": "scripted", "base_url": model.base_url, "api_key": "sk-x"}
    result = api.post("/admin/providers/test", json=body)
    assert result.status_code == 200, result.text
    data = result.json()
    assert data["ok"] and data["reply"] == "Ready when you are." and data["model"] == "scripted"
    [sent] = model.requests
    assert sent["model"] == "scripted" and len(sent["messages"]) == 1, "exactly one short question"


def test_a_refused_connection_is_the_exact_error(api):
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = api.post("/admin/providers/test", json={"provider": "openai_compatible", "model": "m", "base_url": url})
    data = result.json()
    assert result.status_code == 200 and not data["ok"]
    assert data["error_code"] == "model_unavailable"
    assert "connection failed" in data["error"] and "running and reachable" in data["error"]


def test_a_rejected_key_is_not_retried(api, model):
    model.queue(Reply.error(401, "Incorrect API key provided"), Reply.answer("should not be asked"))
    body = {"provider": "openai_compatible", "model": "m", "base_url": model.base_url, "api_key": "sk-bad"}
    data = api.post("/admin/providers/test", json=body).json()
    assert not data["ok"] and data["error_code"] == "model_auth_failed"
    assert "Incorrect API key provided" in data["error"]
    assert len(model.requests) == 1


def test_settings_that_cannot_work_are_said_before_any_call(api):
    data = api.post("/admin/providers/test", json={"provider": "openai_compatible", "model": "m"}).json()
    assert not data["ok"] and data["error_code"] == "model_not_configured" and "base_url" in data["error"]
    bad = api.post("/admin/providers/test", json={"provider": "openai_compatible", "base_url": "ftp://x"})
    assert bad.status_code == 422, "a malformed URL is refused by the spec's own validation"


def test_needs_the_admin_token(api):
    api.headers.pop("Authorization")
    assert api.post("/admin/providers/test", json={"provider": "local"}).status_code == 401


def test_a_masked_key_stands_for_the_bots_saved_key_on_the_same_endpoint(api, model):
    spec = {
        "name": "Shop",
        "model": {"provider": "openai_compatible", "base_url": model.base_url, "api_key": "sk-saved"},
    }
    bot = api.post("/admin/bots", json={"name": "Shop", "language": "en", "spec": spec}).json()
    model.queue(Reply.answer("hi"), Reply.answer("hi"))
    masked = {"provider": "openai_compatible", "base_url": model.base_url, "api_key": "********"}
    assert api.post("/admin/providers/test", params={"bot_id": bot["id"]}, json=masked).json()["ok"]
    assert api.post("/admin/providers/test", json=masked).json()["ok"]
    assert model.auth == ["Bearer sk-saved", "Bearer no-key-needed"], "without the bot, the mask is never sent"
    elsewhere = f"http://127.0.0.1:{free_port()}/v1"
    data = api.post(
        "/admin/providers/test", params={"bot_id": bot["id"]}, json={**masked, "base_url": elsewhere}
    ).json()
    assert not data["ok"] and "sk-saved" not in str(data)
