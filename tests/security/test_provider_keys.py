"""Finding 2 (medium): provider keys could be sent anywhere.

A PATCH that kept the masked key ("********") and changed `base_url` made the next question
send the stored key to the new address; provider `openai` with a custom `base_url` and no key
of its own sent the server-wide OPENAI_API_KEY there. A stored key is now dropped when the
provider or base_url changes, and the server-wide key goes only to OpenAI's own endpoint."""

from __future__ import annotations

import pytest

from bots.core.spec import SECRET_MASK, ModelSettings
from bots.llm.errors import ModelConfigError
from bots.llm.providers import PLACEHOLDER_KEY, OpenAIChatModel
from bots.store import tables as t
from bots.store.versions import spec_model

SECRET = "sk-provider-secret-123"
FIRST = "http://127.0.0.1:9/v1"
ELSEWHERE = "https://collector.example/v1"


def _stored_key(runtime, bot_id: str) -> str | None:
    with runtime.sessions() as s:
        bot = s.get(t.Bot, bot_id)
        key = spec_model(bot, bot.spec).model.api_key
    return key.get_secret_value() if key else None


def _client_key(runtime, bot_id: str) -> str:
    with runtime.sessions() as s:
        bot = s.get(t.Bot, bot_id)
        return runtime.chat_model(spec_model(bot, bot.spec).model)._client.api_key


@pytest.fixture
def bot(api):
    model = {"provider": "openai_compatible", "base_url": FIRST, "model": "m", "api_key": SECRET}
    created = api.post("/admin/bots", json={"name": "Shop", "spec": {"model": model}})
    assert created.status_code == 201, created.text
    assert created.json()["spec"]["model"]["api_key"] == SECRET_MASK
    return created.json()


def _patch_model(api, bot: dict, **changes) -> dict:
    spec = bot["spec"]  # as shown to the admin: the key masked
    response = api.patch(f"/admin/bots/{bot['id']}", json={"spec": {**spec, "model": {**spec["model"], **changes}}})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_masked_key_is_kept_for_the_same_endpoint(api, runtime, bot):
    updated = _patch_model(api, bot, temperature=0.5)
    assert updated["spec"]["model"]["api_key"] == SECRET_MASK
    assert _stored_key(runtime, bot["id"]) == SECRET


def test_changing_base_url_drops_the_stored_key(api, runtime, bot):
    updated = _patch_model(api, bot, base_url=ELSEWHERE)
    assert updated["spec"]["model"]["api_key"] is None, "the admin sees that the key must be entered again"
    assert _stored_key(runtime, bot["id"]) is None
    assert _client_key(runtime, bot["id"]) == PLACEHOLDER_KEY, "the new address never gets the old key"


def test_changing_provider_drops_the_stored_key(api, runtime, bot):
    updated = _patch_model(api, bot, provider="openai", base_url=None)
    assert updated["spec"]["model"]["api_key"] is None
    assert _stored_key(runtime, bot["id"]) is None


def test_a_new_key_sent_with_the_new_base_url_is_kept(api, runtime, bot):
    _patch_model(api, bot, base_url=ELSEWHERE, api_key="sk-for-elsewhere")
    assert _stored_key(runtime, bot["id"]) == "sk-for-elsewhere"


def test_the_server_wide_openai_key_goes_only_to_openai():
    server_keys = {"openai": "sk-server-wide"}
    for base_url in (None, "https://api.openai.com/v1", "https://api.openai.com/v1/"):
        model = OpenAIChatModel.from_settings(ModelSettings(provider="openai", base_url=base_url), keys=server_keys)
        assert model._client.api_key == "sk-server-wide"

    for base_url in (ELSEWHERE, "https://api.openai.com.collector.example/v1", "http://api.openai.com/v1"):
        with pytest.raises(ModelConfigError, match="own API key"):
            OpenAIChatModel.from_settings(ModelSettings(provider="openai", base_url=base_url), keys=server_keys)

    own = ModelSettings(provider="openai", base_url=ELSEWHERE, api_key="sk-bot-own")
    assert OpenAIChatModel.from_settings(own, keys=server_keys)._client.api_key == "sk-bot-own"


def test_the_settings_page_says_the_key_must_be_entered_again(live_server, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from bots.cli.client import AdminClient
    from tests.conftest import ROOT

    monkeypatch.setenv("PROMPTEUR_SERVER_URL", live_server.url)
    monkeypatch.setenv("PROMPTEUR_HOME", str(live_server.home))
    monkeypatch.setenv("PROMPTEUR_UI_LANGUAGE", "en")
    client = AdminClient(live_server.url, live_server.admin_token)
    model = {"provider": "openai_compatible", "base_url": FIRST, "model": "m", "api_key": SECRET}
    bot = client.create_bot("Shop", "en", {"name": "Shop", "model": model})
    client.close()
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
    at.run()
    at.switch_page("builder/pages/settings.py")
    at.run()
    assert not at.exception, at.exception
    bid = bot.id
    assert at.text_input(key=f"set_key_{bid}_0").placeholder.startswith("A key is saved")
    at.text_input(key=f"set_base_url_{bid}").input(ELSEWHERE)
    at.button(key=f"settings_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Enter the key for the new address" in w.value for w in at.warning)
    assert at.text_input(key=f"set_key_{bid}_1").placeholder == "No key saved"
