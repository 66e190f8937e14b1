"""The Knowledge page's Website tab through Streamlit's AppTest, against a real server that
may crawl a site served on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from bots.cli.client import AdminClient
from tests.builder.test_pages import app, goto, texts
from tests.conftest import LiveServer
from tests.web_site import Site


@pytest.fixture
def web_ui(isolated_home, monkeypatch):
    server = LiveServer(isolated_home, {"PROMPTEUR_FETCH_ALLOW": "127.0.0.1", "PROMPTEUR_CRAWL_DELAY_S": "0"}).start()
    monkeypatch.setenv("PROMPTEUR_SERVER_URL", server.url)
    monkeypatch.setenv("PROMPTEUR_HOME", str(server.home))
    monkeypatch.setenv("PROMPTEUR_UI_LANGUAGE", "en")
    client = AdminClient(server.url, server.admin_token)
    yield client
    client.close()
    server.stop()


def test_add_a_site_follow_the_crawl_and_set_its_schedule(web_ui):
    client = web_ui
    bot = client.create_bot("Shop", "en", {"name": "Shop"})
    with Site() as site:
        site.page("/", "Help", "<p>Orders and delivery questions.</p>", links=["/delivery", "/out.zip"])
        site.page("/delivery", "Delivery", "<p>Deliveries to Lyon take two days by courier.</p>")
        site.pages["/out.zip"] = (200, {"Content-Type": "application/zip"}, b"PK\x03\x04")
        at = goto(app(), "knowledge")
        at.text_input(key="web_url").set_value(f"{site.url}/")
        at.button(key="web_submit").click()
        at.run()
        assert not at.exception, at.exception
        source = client.web_sources(bot.id)[0]
        deadline = time.monotonic() + 120
        while client.web_sources(bot.id)[0].last_sync.status not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        at.run()
        assert not at.exception, at.exception
        shown = texts(at)
        assert "2 page(s) indexed" in shown
        assert "Last sync done: 2 indexed, 0 unchanged, 0 removed, 0 failed, 1 skipped" in shown

        at.selectbox(key=f"web_sched_{source.id}").set_value("weekly")
        at.run()
        assert not at.exception, at.exception
        assert client.web_sources(bot.id)[0].schedule == "weekly"
        assert {d.source for d in client.documents(bot.id)} == {f"{site.url}/", f"{site.url}/delivery"}
