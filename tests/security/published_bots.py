"""Bots for the security tests that need callers but no answers worth reading: published,
with no documents, so every question gets the fallback and no model is ever called (its
address is a closed port). Works with the app's TestClient and with an httpx client of a live
server, both authenticated as admin."""

from __future__ import annotations

ORIGIN = "https://shop.example"
UNUSED_MODEL = {"provider": "openai_compatible", "base_url": "http://127.0.0.1:9/v1", "max_retries": 0}


def published_bot(admin, name: str = "Shop", **spec) -> str:
    spec = {"model": UNUSED_MODEL, "allowed_origins": [ORIGIN], **spec}
    created = admin.post("/admin/bots", json={"name": name, "spec": spec})
    assert created.status_code == 201, created.text
    bot_id = created.json()["id"]
    published = admin.post(f"/admin/bots/{bot_id}/versions", json={"note": "first"})
    assert published.status_code == 201, published.text
    return bot_id


def new_key(admin, bot_id: str, kind: str = "secret") -> str:
    created = admin.post(f"/admin/bots/{bot_id}/keys", json={"kind": kind})
    assert created.status_code == 201, created.text
    return created.json()["key"]


def widget_session(admin, bot_id: str, publishable: str) -> dict:
    """{"token", "conversation_id", "expires_at"}: what the widget gets for one visitor."""
    opened = admin.post(
        f"/v1/bots/{bot_id}/sessions", json={}, headers={"Authorization": f"Bearer {publishable}", "Origin": ORIGIN}
    )
    assert opened.status_code == 200, opened.text
    return opened.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
