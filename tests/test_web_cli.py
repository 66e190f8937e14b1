"""`prompteur kb crawl` and `kb sync` against a real server and a site on 127.0.0.1, in the
exact forms the issue gives (JSON out, exit 1 when the start address is refused)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import LiveServer
from tests.web_site import Site


@pytest.fixture
def server(isolated_home):
    live = LiveServer(isolated_home, {"PROMPTEUR_FETCH_ALLOW": "127.0.0.1", "PROMPTEUR_CRAWL_DELAY_S": "0"}).start()
    yield live
    live.stop()


def test_crawl_search_and_sync_from_the_command_line(server):
    with Site() as site:
        site.page("/", "Help", "<p>Orders and delivery questions.</p>", links=["/delivery", "/private/x"])
        site.page("/delivery", "Delivery", "<p>Deliveries to Lyon take two days by courier.</p>")
        site.page("/private/x", "Private", "<p>Internal notes.</p>")
        bot = json.loads(server.cli("bot", "create", "Shop", "--json").stdout)["id"]

        done = server.cli("kb", "crawl", bot, f"{site.url}/", "--exclude", "/private/*", "--wait", "--json")
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert out["pages"] == {"indexed": 2, "unchanged": 0, "removed": 0, "failed": 0}
        assert out["source_id"].startswith("web_")

        hits = json.loads(server.cli("kb", "search", bot, "delivery to Lyon", "--json").stdout)["hits"]
        assert hits[0]["source"] == f"{site.url}/delivery"

        del site.pages["/delivery"]
        synced = server.cli("kb", "sync", bot, out["source_id"], "--wait", "--json")
        assert synced.returncode == 0, synced.stderr
        assert json.loads(synced.stdout)["pages"] == {"indexed": 0, "unchanged": 1, "removed": 1, "failed": 0}

        refused = server.cli("kb", "crawl", bot, "http://169.254.169.254/latest/", "--wait", "--json")
        assert refused.returncode == 1
        assert "169.254.169.254" in refused.stderr and "PROMPTEUR_FETCH_ALLOW" in refused.stderr

        missing = server.cli("kb", "crawl", bot, f"{site.url}/gone", "--wait", "--json")
        assert missing.returncode == 1 and "404" in missing.stderr
