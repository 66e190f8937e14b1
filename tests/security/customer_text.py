"""A conversation written by a customer, through the real public API: a published bot with
no documents (so it answers with its fallback and never calls a model), a secret key, a
question, feedback with a comment and a hand-off request. Works with the app's TestClient
and with an httpx client of a live server, both authenticated as admin."""

from __future__ import annotations

# A model that is never called: with no documents the bot falls back without it.
UNUSED_MODEL = {"provider": "openai_compatible", "base_url": "http://127.0.0.1:9/v1", "max_retries": 0}


def customer_conversation(admin, *, question: str, comment: str, handoff: str) -> tuple[str, str]:
    """(bot id, conversation id)"""
    bot = admin.post("/admin/bots", json={"name": "Shop", "spec": {"model": UNUSED_MODEL}}).json()
    bot_id = bot["id"]
    assert admin.post(f"/admin/bots/{bot_id}/versions", json={"note": "first"}).status_code == 201
    key = admin.post(f"/admin/bots/{bot_id}/keys", json={"kind": "secret"}).json()["key"]
    customer = {"Authorization": f"Bearer {key}"}
    reply = admin.post(f"/v1/bots/{bot_id}/chat", json={"message": question}, headers=customer)
    assert reply.status_code == 200, reply.text
    reply = reply.json()
    rated = admin.post(
        f"/v1/bots/{bot_id}/messages/{reply['message_id']}/feedback",
        json={"rating": "down", "comment": comment},
        headers=customer,
    )
    assert rated.status_code == 204, rated.text
    asked = admin.post(
        f"/v1/bots/{bot_id}/conversations/{reply['conversation_id']}/handoff",
        json={"name": "Eve", "email": "eve@example.com", "message": handoff},
        headers=customer,
    )
    assert asked.status_code == 201, asked.text
    return bot_id, reply["conversation_id"]
