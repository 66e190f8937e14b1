"""Shared setup for the public API tests: a published bot whose model is a scripted
OpenAI-compatible server (the one piece we don't own), with real ingestion and retrieval."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import wait_ingested

FIXTURES = Path(__file__).with_name("fixtures")
ORIGIN = "https://shop.example"


def spec_for(base_url: str, **extra) -> dict:
    return {
        "persona": {"role": "the help assistant", "company": "Shop", "instructions": "SECRET-PROMPT-TEXT"},
        "model": {
            "provider": "openai_compatible",
            "base_url": base_url,
            "model": "scripted",
            "api_key": "sk-provider-secret-123",
            "max_retries": 0,
        },
        "fallback": {"handoff": {"enabled": True, "kind": "form"}},
        "allowed_origins": [ORIGIN],
        **extra,
    }


def make_bot(api, base_url: str, name: str = "Shop", publish: bool = True, **extra) -> str:
    bot = api.post("/admin/bots", json={"name": name, "spec": spec_for(base_url, **extra)}).json()
    with (FIXTURES / "shop_help.md").open("rb") as f:
        job = api.post(f"/admin/bots/{bot['id']}/documents", files=[("files", ("shop_help.md", f))]).json()
    assert wait_ingested(api, job["job_id"])["status"] == "done"
    if publish:
        assert api.post(f"/admin/bots/{bot['id']}/versions", json={"note": "first"}).status_code == 201
    return bot["id"]


def secret_key(api, bot_id: str) -> str:
    return api.post(f"/admin/bots/{bot_id}/keys", json={"kind": "secret"}).json()["key"]


def publishable_key(api, bot_id: str) -> str:
    return api.post(f"/admin/bots/{bot_id}/keys", json={"kind": "publishable"}).json()["key"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def parse_sse(text: str) -> list[tuple[str, dict]]:
    import json

    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines["event"], json.loads(lines["data"])))
    return events
