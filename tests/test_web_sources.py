"""Website knowledge end to end through the admin API: a help centre served on 127.0.0.1 is
crawled (links, robots.txt, redirects, a canonical duplicate, a PDF), searched with page
addresses as sources, then changed and synced; sitemaps, traps and other bots' knowledge."""

from __future__ import annotations

import gzip
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from bots.store import tables as t
from bots.web_sync import page_title
from knowledge.embedding import MINILM
from tests.conftest import create_bot, documents, search
from tests.sample_files import pdf
from tests.web_site import Site


@pytest.fixture
def web_settings(isolated_home) -> Settings:
    # What an operator sets to let crawls reach a site on this machine.
    return Settings(home=isolated_home, fetch_allow="127.0.0.1", crawl_delay_s=0, web_schedule_check_s=3600)


@pytest.fixture
def web_api(web_settings, embedders):
    runtime = Runtime.build(web_settings, embedders=embedders)
    with TestClient(create_app(web_settings, runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        client.runtime = runtime
        yield client


@pytest.fixture
def site():
    with Site() as s:
        s.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
        s.page(
            "/",
            "Contoso help centre",
            "<p>Answers about orders, shipping and returns at Contoso.</p>",
            links=[
                "/shipping",
                "/returns",
                "/returns?utm_source=mail",
                "/old-returns",
                "/returns-copy",
                "/private/salaries",
                "/guide.pdf",
                "http://example.com/elsewhere",
            ],
        )
        s.page(
            "/shipping",
            "Shipping",
            "<h2>Delivery times</h2><p>Standard shipping takes 3 to 5 business days within France.</p>",
            links=["/", "/shipping/international"],
        )
        s.page(
            "/shipping/international",
            "International shipping",
            "<p>Parcels to Canada arrive in 7 to 12 business days; customs fees are paid on delivery.</p>",
        )
        returns = "<p>You can return any unworn item within 30 days for a full refund to the original card.</p>"
        s.page("/returns", "Returns", returns)
        s.page("/returns?utm_source=mail", "Returns", returns, canonical="/returns")
        s.pages["/old-returns"] = (301, {"Location": "/returns"}, b"")
        s.page("/returns-copy", "Returns", returns)  # the same text under another address
        s.page("/private/salaries", "Salaries", "<p>Confidential salary grid of the support team.</p>")
        s.pages["/guide.pdf"] = (
            200,
            {"Content-Type": "application/pdf"},
            pdf(["Warranty guide", "The Contoso kettle has a two year warranty covering the heating element."]),
        )
        yield s


def wait_sync(api, bot_id: str, sync_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sync = api.get(f"/admin/bots/{bot_id}/web-syncs/{sync_id}").json()
        if sync["status"] in ("done", "failed"):
            return sync
        time.sleep(0.1)
    raise AssertionError(f"sync {sync_id} did not finish: {sync}")


def crawl(api, bot_id: str, url: str, **fields) -> tuple[str, dict]:
    response = api.post(f"/admin/bots/{bot_id}/web-sources", json={"url": url, **fields})
    assert response.status_code == 202, response.text
    body = response.json()
    return body["source"]["id"], wait_sync(api, bot_id, body["sync_id"])


def resync(api, bot_id: str, source_id: str) -> dict:
    response = api.post(f"/admin/bots/{bot_id}/web-sources/{source_id}/sync")
    assert response.status_code == 202, response.text
    return wait_sync(api, bot_id, response.json()["sync_ids"][0])


def test_crawl_a_help_centre_then_sync_its_changes(web_api, site):
    bot = create_bot(web_api)
    source_id, sync = crawl(web_api, bot["id"], f"{site.url}/")
    assert sync["status"] == "done", sync
    u = site.url
    docs = documents(web_api, bot["id"])
    assert set(docs) == {f"{u}/", f"{u}/shipping", f"{u}/shipping/international", f"{u}/returns", f"{u}/guide.pdf"}
    assert all(d["status"] == "ready" for d in docs.values())
    reasons = {e["url"]: e["reason"] for e in sync["events"] if e["event"] == "skipped"}
    assert reasons[f"{u}/private/salaries"] == "disallowed by robots.txt"
    assert site.fetched("/private/salaries") == 0
    assert "canonical" in reasons[f"{u}/returns?utm_source=mail"]
    assert reasons[f"{u}/returns-copy"] == f"same content as {u}/returns"
    assert reasons["http://example.com/elsewhere"] == "outside the site"
    assert sync["counts"]["indexed"] == 5 and sync["counts"]["failed"] == 0

    # Passages carry their page's address; navigation and footers were left out.
    hits = search(web_api, bot["id"], "how long does standard shipping take")
    assert hits[0]["source"] == f"{u}/shipping"
    assert "3 to 5 business days" in hits[0]["text"]
    assert not any("Copyright" in h["text"] or "cookies" in h["text"] for h in hits)
    assert search(web_api, bot["id"], "kettle warranty heating element")[0]["source"] == f"{u}/guide.pdf"
    # A PDF without a title is titled by its file name, as an upload is: not by its address,
    # whose scheme and host would be in every passage's search text.
    with web_api.runtime.sessions() as s:
        guide = s.scalars(select(t.Chunk.search_text).join(t.Document).where(t.Document.source == f"{u}/guide.pdf"))
        assert all(text.startswith("guide") and "127.0.0.1" not in text for text in guide)

    # An unchanged re-sync asks with the validators it kept and embeds nothing.
    before = {source: d["updated_at"] for source, d in docs.items()}
    again = resync(web_api, bot["id"], source_id)
    assert again["counts"]["indexed"] == 0 and again["counts"]["unchanged"] == 5, again
    assert {s: d["updated_at"] for s, d in documents(web_api, bot["id"]).items()} == before
    assert [h for _, p, h in site.requests if p == "/shipping"][-1].get("if-none-match")

    # The site changes: one page edited, one deleted, one added, one failing for now.
    site.page(
        "/shipping",
        "Shipping",
        "<p>Standard shipping now takes 2 business days within France.</p>",
        links=["/shipping/international"],
    )
    del site.pages["/returns"]
    site.page("/", "Contoso help centre", "<p>Answers about orders.</p>", links=["/shipping", "/returns", "/gifts"])
    site.page("/gifts", "Gift cards", "<p>Gift cards are valid for one year and can be used online.</p>")
    site.pages["/shipping/international"] = (503, {}, b"busy")
    synced = resync(web_api, bot["id"], source_id)
    events = {(e["url"], e["event"]) for e in synced["events"]}
    assert (f"{u}/shipping", "changed") in events
    assert (f"{u}/gifts", "added") in events
    assert (f"{u}/returns", "removed") in events
    assert (f"{u}/shipping/international", "failed") in events
    assert synced["counts"]["removed"] == 1 and synced["counts"]["failed"] == 1

    docs = documents(web_api, bot["id"])
    assert f"{u}/returns" not in docs and f"{u}/gifts" in docs
    assert search(web_api, bot["id"], "how long does standard shipping take")[0]["text"].count("2 business days")
    # The page that failed for now keeps its last good version, searchable.
    assert search(web_api, bot["id"], "parcels to Canada customs fees")[0]["source"] == f"{u}/shipping/international"

    history = web_api.get(f"/admin/bots/{bot['id']}/web-sources/{source_id}/syncs").json()["syncs"]
    assert [h["counts"]["indexed"] for h in history] == [3, 0, 5]  # newest first (home, shipping, gifts)


def test_a_crawl_never_adds_pages_to_another_bot(web_api, site):
    first, second = create_bot(web_api, "First"), create_bot(web_api, "Second")
    crawl(web_api, first["id"], f"{site.url}/shipping", max_depth=0)
    assert set(documents(web_api, first["id"])) == {f"{site.url}/shipping"}
    assert documents(web_api, second["id"]) == {}
    source_id, _ = crawl(web_api, second["id"], f"{site.url}/shipping", max_depth=0)
    # Each bot has its own copy; deleting the second's source leaves the first's alone.
    assert web_api.delete(f"/admin/bots/{second['id']}/web-sources/{source_id}").status_code == 204
    assert documents(web_api, second["id"]) == {}
    assert set(documents(web_api, first["id"])) == {f"{site.url}/shipping"}
    assert search(web_api, first["id"], "standard shipping")[0]["source"] == f"{site.url}/shipping"
    other = web_api.get(f"/admin/bots/{first['id']}/web-sources/{source_id}")
    assert other.status_code == 404


def test_refused_and_unreachable_start_addresses_say_why(web_api, site):
    bot = create_bot(web_api)
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[::1]/", "file:///etc/passwd"):
        response = web_api.post(f"/admin/bots/{bot['id']}/web-sources", json={"url": url})
        assert response.status_code == 422, response.text
    _, sync = crawl(web_api, bot["id"], f"{site.url}/no-such-page")
    assert sync["status"] == "failed" and "404" in sync["error"]
    assert documents(web_api, bot["id"]) == {}


@pytest.mark.parametrize("status", [404, 403])
def test_a_robots_txt_the_site_says_is_missing_allows_every_page(web_api, site, status):
    # RFC 9309 2.3.1.3: any 4xx (401 and 403 included) means there are no rules. The error
    # page's body is not read as rules even when it looks like some.
    site.pages["/robots.txt"] = (status, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n")
    bot = create_bot(web_api)
    _, sync = crawl(web_api, bot["id"], f"{site.url}/private/salaries", max_depth=0)
    assert sync["status"] == "done" and sync["counts"]["indexed"] == 1, sync
    assert sync["error"] is None


def test_a_robots_txt_over_500_kib_is_read_up_to_there(web_api, site):
    # RFC 9309 2.5: a crawler reads at least 500 KiB; a longer file is not "unreachable".
    rules = b"User-agent: *\nDisallow: /private/\n" + b"# a long comment line\n" * 40_000
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"}, rules)
    listing = f"<urlset><url><loc>{site.url}/shipping</loc></url><url><loc>{site.url}/private/salaries</loc></url>"
    site.pages["/sitemap.xml"] = (200, {}, (listing + "</urlset>").encode())
    bot = create_bot(web_api)
    _, sync = crawl(web_api, bot["id"], f"{site.url}/sitemap.xml", kind="sitemap")
    assert sync["status"] == "done" and sync["error"] is None, sync
    assert set(documents(web_api, bot["id"])) == {f"{site.url}/shipping"}
    assert site.fetched("/private/salaries") == 0


def hang_up(handler) -> None:
    handler.close_connection = True  # no status line at all: the server is unreachable


@pytest.mark.parametrize(
    "robots",
    [(503, {}, b"busy"), (500, {}, b""), (429, {"Retry-After": "60"}, b""), hang_up],
    ids=["503", "500", "429", "no answer"],
)
def test_a_robots_txt_that_cannot_be_read_disallows_every_page_and_loses_nothing(web_api, site, robots):
    bot = create_bot(web_api)
    u = site.url
    source_id, sync = crawl(web_api, bot["id"], f"{u}/shipping", max_depth=0)
    assert sync["status"] == "done", sync
    before = {source: d["updated_at"] for source, d in documents(web_api, bot["id"]).items()}

    # RFC 9309 2.3.1.4: unreachable means complete disallow, not "no rules".
    site.pages["/robots.txt"] = robots
    site.requests.clear()
    failed = resync(web_api, bot["id"], source_id)
    assert failed["status"] == "failed"
    assert f"{u}/robots.txt could not be read" in failed["error"], failed
    assert "every page" in failed["error"] and "next sync asks again" in failed["error"]
    if not callable(robots):
        assert f"answered {robots[0]}" in failed["error"]
    assert [e["event"] for e in failed["events"]] == ["failed"]
    assert site.fetched("/shipping") == 0
    # The page indexed before is kept as it was, still searchable.
    assert {source: d["updated_at"] for source, d in documents(web_api, bot["id"]).items()} == before
    assert search(web_api, bot["id"], "how long does standard shipping take")[0]["source"] == f"{u}/shipping"

    # A sitemap's pages are skipped, not removed, and the finished sync says why.
    site.pages["/sitemap.xml"] = (200, {}, f"<urlset><url><loc>{u}/shipping</loc></url></urlset>".encode())
    listed_id, listed = crawl(web_api, bot["id"], f"{u}/sitemap.xml", kind="sitemap")
    assert listed["status"] == "done" and listed["counts"]["skipped"] == 1, listed
    assert "robots.txt could not be read" in listed["error"]
    assert {e["event"] for e in listed["events"]} == {"failed", "skipped"}
    assert site.fetched("/shipping") == 0

    # Once it answers again, the next sync goes on.
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n")
    again = resync(web_api, bot["id"], source_id)
    assert again["status"] == "done" and again["counts"]["unchanged"] == 1 and again["error"] is None, again


def test_a_section_page_of_links_is_followed_and_related_articles_stay_out_of_passages(web_api, site):
    def article(text: str, related: tuple[str, str]) -> str:
        return (
            f"<p>{text}</p><section><h2>Related articles</h2>"
            f"<ul><li><a href='{related[0]}'>{related[1]}</a></li></ul></section>"
        )

    site.pages["/hc"] = (
        200,
        {},
        b"<html><body><main><h1>Deliveries</h1><ul><li><a href='/hc/1'>Where is my parcel?</a></li>"
        b"<li><a href='/hc/2'>Can I change my delivery address?</a></li></ul></main></body></html>",
    )
    site.page("/hc/1", "Where is my parcel?", article("Parcels leave within 2 days.", ("/hc/2", "Address change")))
    site.page("/hc/2", "Address change", article("Write to us before it ships.", ("/hc/1", "Where is my parcel?")))
    bot = create_bot(web_api)
    _, sync = crawl(web_api, bot["id"], f"{site.url}/hc", max_depth=1)
    assert sync["status"] == "done" and sync["counts"]["indexed"] == 2 and sync["counts"]["failed"] == 0, sync
    reasons = {e["url"]: e["reason"] for e in sync["events"] if e["event"] == "skipped"}
    assert reasons[f"{site.url}/hc"] == "no text besides links to other pages; its links are followed"
    hits = search(web_api, bot["id"], "where is my parcel")
    assert hits[0]["source"] == f"{site.url}/hc/1"
    assert not any("Related" in h["text"] or "Address change" in h["text"] for h in hits if h["source"].endswith("/1"))
    assert not any("parcel" in h["text"] for h in hits if h["source"].endswith("/2"))


def test_one_answer_to_different_questions_is_not_a_duplicate_page_and_a_new_heading_is_a_change(web_api, site):
    # A government FAQ gives 290 questions the same answer ("the answer is on the ministry's
    # site"): each page is found by its own question, so none may be dropped as a copy.
    answer = "<p>The answer is on the website of the Ministry of Labour.</p>"
    site.page("/faq", "Travel and work FAQ", "<p>Questions asked since March.</p>", links=["/faq/1", "/faq/2"])
    site.page("/faq/1", "Can I travel abroad for work?", answer)
    site.page("/faq/2", "Who pays my sick leave?", answer)
    bot = create_bot(web_api)
    source_id, sync = crawl(web_api, bot["id"], f"{site.url}/faq", max_depth=1)
    assert sync["status"] == "done" and sync["counts"]["indexed"] == 3 and sync["counts"]["skipped"] == 0, sync
    assert search(web_api, bot["id"], "who pays my sick leave")[0]["source"] == f"{site.url}/faq/2"
    # A heading renamed over the same text changes what the page is found by: re-indexed.
    site.page("/faq/2", "Who pays my sick leave during lockdown?", answer)
    again = resync(web_api, bot["id"], source_id)
    assert again["counts"]["indexed"] == 1 and again["counts"]["unchanged"] == 2, again


def test_sitemap_index_with_a_gzipped_sitemap_and_removal_when_unlisted(web_api, site):
    u = site.url
    site.pages["/sitemap.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        f"<?xml version='1.0'?><sitemapindex><sitemap><loc>{u}/pages.xml.gz</loc></sitemap></sitemapindex>".encode(),
    )

    def listing(paths):
        locs = "".join(f"<url><loc>{u}{p}</loc></url>" for p in paths)
        return (200, {"Content-Type": "application/gzip"}, gzip.compress(f"<urlset>{locs}</urlset>".encode()))

    site.pages["/pages.xml.gz"] = listing(["/shipping", "/returns"])
    bot = create_bot(web_api)
    source_id, sync = crawl(web_api, bot["id"], f"{u}/sitemap.xml", kind="sitemap")
    assert sync["status"] == "done", sync
    assert set(documents(web_api, bot["id"])) == {f"{u}/shipping", f"{u}/returns"}  # links not followed
    site.pages["/pages.xml.gz"] = listing(["/shipping"])
    synced = resync(web_api, bot["id"], source_id)
    assert synced["counts"]["removed"] == 1 and synced["counts"]["unchanged"] == 1
    assert set(documents(web_api, bot["id"])) == {f"{u}/shipping"}


def test_a_sitemap_of_a_million_addresses_and_a_calendar_trap_stop_at_the_page_limit(web_api, site):
    u = site.url

    def sitemap(count: int) -> tuple[int, dict, bytes]:
        locs = b"".join(b"<url><loc>%s/day/%d</loc></url>" % (u.encode(), i) for i in range(count))
        return (200, {"Content-Type": "application/xml"}, b"<urlset>" + locs + b"</urlset>")

    site.pages["/huge.xml"] = sitemap(1_000_000)  # ~50 MB
    site.pages["/long.xml"] = sitemap(20_000)
    for i in range(3):
        site.page(f"/day/{i}", f"Day {i}", f"<p>Opening hours on day {i}: nine to five.</p>")
    bot = create_bot(web_api)
    _, huge = crawl(web_api, bot["id"], f"{u}/huge.xml", kind="sitemap", max_pages=3)
    assert huge["status"] == "failed" and "larger than 10 MB" in huge["error"]
    _, sync = crawl(web_api, bot["id"], f"{u}/long.xml", kind="sitemap", max_pages=3)
    assert sync["status"] == "done" and "more than 3 pages" in sync["error"]
    assert len(documents(web_api, bot["id"])) == 3

    def calendar(handler):  # every month links to the next one, forever
        month = int(handler.path.split("=")[1])
        body = f"<p>Events in month {month}: none planned yet for month number {month}.</p>"
        handler._send(200, {}, site_page(f"Month {month}", body, [f"/calendar?m={month + 1}"]))

    from tests.web_site import html_page as site_page

    for i in range(200):
        site.pages[f"/calendar?m={i}"] = calendar
    _, trap = crawl(web_api, bot["id"], f"{u}/calendar?m=0", max_pages=4, max_depth=50)
    assert trap["status"] == "done" and "limit of 4 pages" in trap["error"]
    assert trap["counts"]["fetched"] == 4


def test_schedule_queues_due_sources_only(web_api, site):
    bot = create_bot(web_api)
    source_id, _ = crawl(web_api, bot["id"], f"{site.url}/shipping", max_depth=0, schedule="daily")
    runner = web_api.runtime.web
    assert runner.tick() == []  # just synced
    with web_api.runtime.sessions.begin() as s:
        s.get(t.WebSource, source_id).last_sync_at = t.now().replace(year=2000)
    queued = runner.tick()
    assert len(queued) == 1
    assert wait_sync(web_api, bot["id"], queued[0])["trigger"] == "schedule"
    assert runner.tick() == []
    with web_api.runtime.sessions() as s:
        assert len(s.scalars(select(t.WebSync).where(t.WebSync.source_id == source_id)).all()) == 2


def test_a_sync_cut_off_by_a_stop_resumes_at_the_next_start(web_settings, embedders, site):
    """The server stopped mid-crawl: the sync is still `running` in the database, with a page
    whose ingest never finished. The next start resumes it into the same document."""
    runtime = Runtime.build(web_settings, embedders=embedders)
    with runtime.sessions.begin() as s:
        bot = t.Bot(id="bot_cut", name="Cut", embedding_model=MINILM)
        bot.vector_collection = "bot_cut-c"
        s.add(bot)
        s.flush()
        s.add(t.WebSource(id="web_cut", bot_id=bot.id, kind="crawl", url=f"{site.url}/shipping", max_depth=0))
        s.flush()
        s.add(
            t.Document(
                id="doc_cut",
                bot_id=bot.id,
                source=f"{site.url}/shipping",
                stored_name="x.html",
                content_hash="",
                size=0,
                status="processing",
            )
        )
        s.flush()
        s.add(t.WebPage(source_id="web_cut", url=f"{site.url}/shipping", document_id="doc_cut", links=[]))
        s.add(t.WebSync(id="sync_cut", source_id="web_cut", bot_id=bot.id, status="running", counts={}, events=[]))
    runtime.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            with runtime.sessions() as s:
                sync = s.get(t.WebSync, "sync_cut")
                if sync.status in ("done", "failed") or time.monotonic() > deadline:
                    break
            time.sleep(0.1)
        assert sync.status == "done", sync.error
        with runtime.sessions() as s:
            docs = s.scalars(select(t.Document).where(t.Document.bot_id == "bot_cut")).all()
        assert [(d.id, d.status) for d in docs] == [("doc_cut", "ready")]
        assert runtime.kb.search("bot_cut", "standard shipping business days")[0].source == f"{site.url}/shipping"
    finally:
        runtime.stop()


def test_a_start_page_that_moves_to_another_origin_takes_the_crawl_with_it(web_api, site):
    """http://site → https://site or www.site: the crawl follows the site where it landed
    (here localhost → 127.0.0.1, two origins of the same local server)."""
    site.pages["/moved"] = (301, {"Location": f"{site.url}/shipping"}, b"")
    bot = create_bot(web_api)
    _, sync = crawl(web_api, bot["id"], f"http://localhost:{site.port}/moved", max_depth=1)
    assert sync["status"] == "done", sync
    assert {f"{site.url}/shipping", f"{site.url}/shipping/international"} <= set(documents(web_api, bot["id"]))


def test_a_page_without_a_title_is_named_by_its_file_not_its_address():
    assert page_title("https://help.example.com/plans/Northwind_Health_Plan.pdf") == "Northwind Health Plan"
    assert page_title("https://help.example.com/returns-policy?ref=mail") == "returns policy"
    assert page_title("https://help.example.com/") == "help.example.com"
