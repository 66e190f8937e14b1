"""Finding 10 (low): revoking a publishable key (`pk_`) did not end the widget sessions it
had opened, though the revoke route says keys are refused everywhere immediately. Session
tokens now name the key that opened them, and each request checks that key is still active."""

from __future__ import annotations

from tests.security.customer_text import UNUSED_MODEL

ORIGIN = "https://shop.example"


def _open_session(api, bot_id: str, key: str) -> str:
    opened = api.post(
        f"/v1/bots/{bot_id}/sessions", json={}, headers={"Authorization": f"Bearer {key}", "Origin": ORIGIN}
    )
    assert opened.status_code == 200, opened.text
    return opened.json()["token"]


def _ask(api, bot_id: str, token: str):
    return api.post(f"/v1/bots/{bot_id}/chat", json={"message": "hello"}, headers={"Authorization": f"Bearer {token}"})


def test_revoking_a_publishable_key_ends_its_sessions(api):
    spec = {"model": UNUSED_MODEL, "allowed_origins": [ORIGIN]}
    bot_id = api.post("/admin/bots", json={"name": "Shop", "spec": spec}).json()["id"]
    assert api.post(f"/admin/bots/{bot_id}/versions", json={"note": "first"}).status_code == 201
    revoked, kept = (api.post(f"/admin/bots/{bot_id}/keys", json={"kind": "publishable"}).json() for _ in range(2))
    doomed, alive = _open_session(api, bot_id, revoked["key"]), _open_session(api, bot_id, kept["key"])
    assert _ask(api, bot_id, doomed).status_code == 200

    assert api.delete(f"/admin/bots/{bot_id}/keys/{revoked['id']}").status_code == 204

    refused = _ask(api, bot_id, doomed)
    assert refused.status_code == 401, refused.text
    assert "revoked" in refused.json()["error"]["message"]
    assert _ask(api, bot_id, alive).status_code == 200, "sessions of other keys go on"
