"""Finding 8 (low): `X-Forwarded-For` from localhost bypassed the per-IP limit.

uvicorn trusts proxy headers from 127.0.0.1 by default and rewrote the client address before
the app saw it, so a local client (or anything a local reverse proxy passes through) could
pick a new IP per request while PROMPTEUR_TRUSTED_PROXIES was empty. Only the project's own
trusted-proxy setting decides now."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer


def _statuses(server: LiveServer, forwarded_for: list[str]) -> list[int]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return [
            client.post("/v1/bots/nobot/sessions", json={}, headers={"X-Forwarded-For": ip}).status_code
            for ip in forwarded_for
        ]


def test_forwarded_for_from_localhost_is_ignored_without_trusted_proxies(isolated_home):
    server = LiveServer(isolated_home, {"PROMPTEUR_RATE_PER_IP": "2"}).start()
    try:
        statuses = _statuses(server, ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"])
    finally:
        server.stop()
    assert statuses[2:] == [429, 429], f"every request counts against 127.0.0.1: {statuses}"


def test_forwarded_for_is_believed_from_a_configured_proxy(tmp_path):
    home = tmp_path / "proxied"
    home.mkdir()
    env = {"PROMPTEUR_RATE_PER_IP": "2", "PROMPTEUR_TRUSTED_PROXIES": '["127.0.0.1"]'}
    server = LiveServer(home, env).start()
    try:
        statuses = _statuses(server, ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"])
    finally:
        server.stop()
    assert 429 not in statuses, f"each forwarded client has its own bucket: {statuses}"
