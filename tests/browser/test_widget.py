"""The website widget in a real chromium, embedded in a customer page served from another
port, talking to the real Prompteur server whose model is scripted (see conftest)."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Site, bot_spec, embed_page, payloads, start_deployment, tiny_png
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

STARTER = "How do I return an item?"
RETURN_ANSWER = (
    "You can return any item within **30 days** of delivery.\n\n"
    "1. Open *My orders*\n2. Click `Return`\n3. Print the label and drop the parcel off.\n\n"
    "See [our returns policy](https://shop.example/returns) or write to [support](mailto:help@shop.example)."
)
WIDGET = "prompteur-widget"


def open_page(context, url: str):
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (page.problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: "Content Security Policy" in m.text and page.problems.append(m.text))
    page.requested = []
    page.on("request", lambda r: page.requested.append(r.url))
    page.goto(url)
    return page


def widget(page):
    return page.locator(WIDGET)


def ask_and_wait(page, question: str):
    """Open the chat on a page, ask, and return the answer once it is complete (rateable)."""
    page.get_by_role("button", name="Open chat").click()
    widget(page).locator("textarea").fill(question)
    widget(page).locator("textarea").press("Enter")
    answer = widget(page).locator(".msg.bot").last
    expect(answer.locator(".fb")).to_be_visible()
    return answer


def stored_session(page, bot_id: str) -> dict | None:
    raw = page.evaluate("k => localStorage.getItem(k)", f"prompteur:{bot_id}")
    return json.loads(raw) if raw else None


def conversation(deployment, page, bot_id: str) -> dict:
    """What the server stored, read through the public API with the widget's own token."""
    s = stored_session(page, bot_id)
    assert s is not None, "the widget stored no session"
    r = httpx.get(
        f"{deployment.url}/v1/bots/{bot_id}/conversations/{s['conversation_id']}",
        headers={"Authorization": f"Bearer {s['token']}"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_customer_asks_gets_a_streamed_cited_answer_and_keeps_it_across_pages(
    browser, deployment, site, scripted_model, artifacts
):
    site.pages["/"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
    site.pages["/other"] = embed_page(deployment.url, deployment.bot_id, deployment.key, title="Another page")
    scripted_model.rules = [("return", RETURN_ANSWER)]
    scripted_model.pause_on = "Print the label"
    scripted_model.gate.clear()
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = open_page(context, site.origin + "/")

    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    page.screenshot(path=artifacts / "closed.png")

    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Acme Help")
    expect(dialog).to_be_visible()
    expect(widget(page).locator("textarea")).to_be_focused()
    expect(dialog).to_contain_text("Ask me about returns")
    page.screenshot(path=artifacts / "open.png")

    page.get_by_role("button", name=STARTER).click()
    answer = widget(page).locator(".msg.bot").last
    # The model is paused halfway: the first half is on screen, the answer isn't finished.
    expect(answer).to_contain_text("30 days")
    expect(answer).not_to_contain_text("drop the parcel off")
    expect(widget(page).locator(".log")).to_have_attribute("aria-busy", "true")
    expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_count(0)
    page.screenshot(path=artifacts / "answering.png")
    scripted_model.gate.set()

    expect(answer).to_contain_text("drop the parcel off")
    expect(answer.locator("strong")).to_have_text("30 days")
    policy = answer.get_by_role("link", name="our returns policy")
    expect(policy).to_have_attribute("href", "https://shop.example/returns")
    expect(policy).to_have_attribute("rel", "noopener noreferrer")
    expect(policy).to_have_attribute("target", "_blank")

    source = answer.locator(".sources summary").first
    expect(source).to_contain_text("acme-help.txt")
    source.click()
    cited = answer.locator(".sources blockquote").first
    expect(cited).to_be_visible()
    # The passage's Markdown link is a link in the snippet too, not raw brackets.
    expect(cited.get_by_role("link", name="our returns policy")).to_have_attribute(
        "href", "https://shop.example/returns"
    )
    expect(cited).not_to_contain_text("](")

    answer.get_by_role("button", name="Helpful", exact=True).click()
    expect(answer).to_contain_text("Thanks for your feedback.")
    stored = conversation(deployment, page, deployment.bot_id)
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"]
    assert stored["messages"][1]["feedback"]["rating"] == "up"

    # A reload and a navigation keep the conversation, the sources and the rating.
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(widget(page).locator(".msg.user")).to_have_text(["You: " + STARTER])
    expect(widget(page).locator(".msg.bot").last).to_contain_text("drop the parcel off")
    expect(widget(page).get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("link", name="Another page").click()
    expect(page).to_have_title("Another page")
    expect(widget(page).locator(".msg.bot").last).to_contain_text("drop the parcel off")
    expect(widget(page).locator(".sources summary").first).to_contain_text("acme-help.txt")

    # Escape closes and gives focus back to the launcher.
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name="Open chat")).to_be_focused()

    # Talk to a human: contact details are required, then the request is stored.
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Talk to a human").click()
    expect(page.get_by_label("Your name")).to_be_focused()
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("How can we help?").fill("My parcel never arrived, please call me.")
    page.get_by_role("button", name="Send request").click()
    expect(dialog).to_contain_text("Please give an email address or a phone number")
    page.get_by_label("Email").fill("ada@example.com")
    with page.expect_response(lambda r: r.url.endswith("/handoff")) as handoff:
        page.get_by_role("button", name="Send request").click()
    assert handoff.value.status == 201
    expect(dialog).to_contain_text("Thanks, Ada Lovelace.")
    deployment.assert_handoff_stored(
        stored_session(page, deployment.bot_id)["conversation_id"], name="Ada Lovelace", email="ada@example.com"
    )

    # New conversation starts over.
    page.get_by_role("button", name="New conversation").click()
    expect(widget(page).locator(".msg.user")).to_have_count(0)
    expect(page.get_by_role("button", name=STARTER)).to_be_visible()
    assert stored_session(page, deployment.bot_id) is None
    page.reload()
    expect(widget(page).locator(".msg.user")).to_have_count(0)

    assert page.problems == []
    allowed = (deployment.url, site.origin)
    assert [u for u in page.requested if not u.startswith(allowed)] == []
    context.close()


def test_phone_sized_screen_gets_a_full_screen_panel(browser, deployment, site, scripted_model, artifacts):
    site.pages["/"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
    scripted_model.rules = [("return", RETURN_ANSWER)]
    scripted_model.pause_on = None
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = open_page(context, site.origin + "/")
    page.get_by_role("button", name="Open chat").tap()
    panel = page.get_by_role("dialog")
    expect(panel).to_be_visible()
    page.get_by_role("button", name=STARTER).tap()
    expect(widget(page).locator(".msg.bot").last).to_contain_text("drop the parcel off")
    box = panel.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
    # The panel covers the bubble, so closing is the header's job.
    expect(widget(page).locator(".launcher")).to_be_hidden()
    page.screenshot(path=artifacts / "phone-390.png")
    # Keyboard users stay inside the panel that covers the page.
    for key in ["Tab"] * 12 + ["Shift+Tab"] * 12:
        page.keyboard.press(key)
        assert page.evaluate("document.activeElement.localName") == WIDGET
    page.get_by_role("button", name="Close chat").tap()
    expect(page.get_by_role("button", name="Open chat")).to_be_visible()
    assert page.problems == []
    context.close()


def test_payloads_from_the_model_the_documents_and_the_customer_do_nothing(
    browser, deployment, site, attacker, scripted_model, artifacts
):
    site.pages["/"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
    evil = payloads(attacker.origin)
    scripted_model.rules = [("warranty", "About the warranty: " + evil + " Anything else?")]
    scripted_model.pause_on = None
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = open_page(context, site.origin + "/")
    page.get_by_role("button", name="Open chat").click()
    box = widget(page).locator("textarea")
    box.fill(
        f"What does the warranty cover? <img src=x onerror=\"window.__pwned='input'\"> ![y]({attacker.origin}/leak3)"
    )
    box.press("Enter")
    answer = widget(page).locator(".msg.bot").last
    expect(answer).to_contain_text("Anything else?")
    expect(answer.locator(".fb")).to_be_visible()
    answer.locator(".sources summary").first.click()
    page.screenshot(path=artifacts / "xss.png")

    def assert_inert():
        # Shown as text, not markup; links only with safe schemes; nothing remote loaded.
        expect(answer).to_contain_text("<img src=x onerror=")
        expect(widget(page).locator(".msg.user").last).to_contain_text("<img src=x onerror=")
        assert page.evaluate("window.__pwned") is None
        shadow = page.locator(f"{WIDGET} .log")
        assert shadow.locator("img, svg[onload], iframe, script, object, embed").count() == 0
        for a in shadow.locator("a").all():
            href = a.get_attribute("href")
            assert href.startswith(("https://", "http://", "mailto:")), href
            assert a.get_attribute("rel") == "noopener noreferrer"
        assert attacker.hits == []

    snippets = answer.locator(".sources blockquote")
    expect(snippets.first).to_be_visible()
    cited = snippets.all_text_contents()
    assert any("onerror" in t for t in cited), f"the document's payload should be cited: {cited}"
    assert_inert()
    page.reload()
    answer = widget(page).locator(".msg.bot").last
    expect(answer).to_contain_text("Anything else?")
    answer.locator(".sources summary").first.click()
    assert_inert()
    assert page.problems == []
    context.close()


def test_clear_states_for_too_long_and_unreachable(browser, deployment, site, scripted_model):
    site.pages["/"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
    scripted_model.rules = [("return", RETURN_ANSWER)]
    scripted_model.pause_on = None
    context = browser.new_context()
    page = open_page(context, site.origin + "/")
    page.get_by_role("button", name="Open chat").click()
    box = widget(page).locator("textarea")
    send = page.get_by_role("button", name="Send", exact=True)

    box.fill("x" * 2001)
    expect(widget(page).locator(".counter")).to_have_text(
        "Your message is too long (2001/2000 characters). Please shorten it."
    )
    expect(send).to_be_disabled()
    expect(box).to_have_attribute("aria-invalid", "true")

    # Offline: the message is not lost, the customer is told, and it recovers.
    context.set_offline(True)
    box.fill("How do I return my order?")
    box.press("Enter")
    expect(widget(page).locator(".banner")).to_contain_text("We can’t reach the chat server")
    expect(box).to_have_value("How do I return my order?")
    expect(widget(page).locator(".msg.user")).to_have_count(0)
    context.set_offline(False)
    page.get_by_role("button", name="Try again").click()
    expect(widget(page).locator(".banner")).to_be_hidden()
    box.press("Enter")
    expect(widget(page).locator(".msg.bot").last).to_contain_text("drop the parcel off")
    assert [p for p in page.problems if "dialog" in p or "page error" in p] == []
    context.close()


def test_answer_cut_by_a_server_restart_reconnects_and_carries_on(
    browser, isolated_home, site, attacker, scripted_model, artifacts
):
    server, deployment = start_deployment(isolated_home, site, attacker, scripted_model, process=True)
    restarted = None
    try:
        site.pages["/restart"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
        scripted_model.rules = [("return", RETURN_ANSWER)]
        scripted_model.pause_on = "Print the label"
        scripted_model.gate.clear()
        context = browser.new_context()
        page = open_page(context, site.origin + "/restart")
        page.get_by_role("button", name="Open chat").click()
        page.get_by_role("button", name=STARTER).click()
        answer = widget(page).locator(".msg.bot").last
        # A fresh server process loads its embedding model on this first question.
        expect(answer).to_contain_text("30 days", timeout=120_000)

        server.kill()  # mid-answer, like a crash or a deploy
        scripted_model.gate.set()
        banner = widget(page).locator(".banner")
        expect(banner).to_contain_text("Connection lost. Reconnecting…")
        expect(answer).to_contain_text("The answer was interrupted.")
        page.screenshot(path=artifacts / "reconnecting.png")

        # Only the killed server needs its own process; the restart serves from this one.
        restarted = LiveServer(isolated_home, extra_env=server.env)
        restarted.port, restarted.url = server.port, server.url
        restarted.start()
        expect(banner).to_be_hidden(timeout=30_000)
        # Back on what the server stored, in the same conversation, and it carries on.
        expect(widget(page).locator(".msg.user")).to_have_text(["You: " + STARTER])
        scripted_model.pause_on = None
        widget(page).locator("textarea").fill("How do I return my order?")
        widget(page).locator("textarea").press("Enter")
        expect(widget(page).locator(".msg.bot").last).to_contain_text("drop the parcel off", timeout=120_000)
        expect(widget(page).locator(".msg.user")).to_have_count(2)
        context.close()
    finally:
        deployment.admin.close()
        server.stop()
        if restarted:
            restarted.stop()


def test_rate_limit_asks_the_customer_to_wait(browser, deployment, site, scripted_model, artifacts):
    site.pages["/limited"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
    scripted_model.rules = [("return", RETURN_ANSWER)]
    scripted_model.pause_on = None
    context = browser.new_context()
    page = open_page(context, site.origin + "/limited")
    page.get_by_role("button", name="Open chat").click()
    box = widget(page).locator("textarea")
    banner = widget(page).locator(".banner")
    allowed = deployment.messages_allowed
    for i in range(allowed):
        box.fill(f"How do I return item {i}?")
        box.press("Enter")
        expect(widget(page).locator(".fb")).to_have_count(i + 1)
    box.fill(f"How do I return item {allowed}?")
    box.press("Enter")
    expect(banner).to_contain_text("You’re sending messages too fast. Please wait")
    expect(banner).to_contain_text("second")
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    # The message that was refused is still there to send later.
    expect(box).to_have_value(f"How do I return item {allowed}?")
    page.screenshot(path=artifacts / "rate-limited.png")
    context.close()


def test_host_page_styles_and_widget_do_not_leak_into_each_other(browser, deployment, site, artifacts):
    hostile = """<style>
      * { font-family: "Comic Sans MS", fantasy !important; }
      div, button, section, textarea, header { display: block; border: 4px dashed red !important;
        color: red !important; font-size: 31px !important; background: yellow !important; }
      prompteur-widget { display: none !important; }
      h1 { color: rgb(0, 0, 128); }
    </style>"""
    site.pages["/hostile"] = embed_page(deployment.url, deployment.bot_id, deployment.key, extra_head=hostile)
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = open_page(context, site.origin + "/hostile")
    styles_before = page.evaluate("document.styleSheets.length")
    page.get_by_role("button", name="Open chat").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    title_size = widget(page).locator("header h2").evaluate("e => getComputedStyle(e).fontSize")
    assert title_size == "16px"
    assert "Comic" not in dialog.evaluate("e => getComputedStyle(e).fontFamily")
    # And the widget changes nothing outside its own shadow root.
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).color") == "rgb(0, 0, 128)"
    assert page.evaluate("document.styleSheets.length") == styles_before
    assert page.evaluate("document.body.children.length") == 4  # h1, p, script, the widget host
    page.screenshot(path=artifacts / "hostile-css.png")
    context.close()


def test_hosted_chat_page_and_iframe_follow_the_allowed_origins(browser, deployment, site, scripted_model, artifacts):
    scripted_model.rules = [("return", RETURN_ANSWER)]
    scripted_model.pause_on = None
    hosted = f"{deployment.url}/chat/{deployment.bot_id}?key={deployment.key}"
    context = browser.new_context(viewport={"width": 900, "height": 700})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    # Chromium asks every page for /favicon.ico by itself; everything else must load.
    page.on(
        "response",
        lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and problems.append(f"{r.status} {r.url}"),
    )
    response = page.goto(hosted)
    csp = response.headers["content-security-policy"]
    assert f"frame-ancestors {site.origin}" in csp and "default-src 'none'" in csp
    main = page.get_by_role("main", name="Acme Help")
    expect(main).to_be_visible()
    expect(page).to_have_title("Acme Help")
    page.get_by_role("button", name=STARTER).click()
    expect(widget(page).locator(".msg.bot").last).to_contain_text("drop the parcel off")
    page.screenshot(path=artifacts / "hosted.png")
    assert problems == []

    # The iframe snippet works on an allowed site and is refused everywhere else.
    frame_html = (
        f'<!doctype html><title>framed</title><iframe src="{hosted}" title="Chat" width="400" height="600"></iframe>'
    )
    site.pages["/framed"] = frame_html
    framed = context.new_page()
    framed.goto(site.origin + "/framed")
    expect(framed.frame_locator("iframe").get_by_role("main", name="Acme Help")).to_be_visible()
    blocked = context.new_page()
    blocked_frames = []
    blocked.on("console", lambda m: "frame-ancestors" in m.text and blocked_frames.append(m.text))
    blocked.goto(site.other_origin + "/framed")
    blocked.wait_for_load_state("load")
    expect(blocked.frame_locator("iframe").locator(WIDGET)).to_have_count(0)
    assert blocked_frames, "chromium should report the frame-ancestors refusal"
    context.close()


def test_script_tag_on_a_site_the_bot_does_not_allow_gets_no_session(browser, deployment, site):
    site.pages["/"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
    context = browser.new_context()
    page = open_page(context, site.other_origin + "/")
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name=STARTER).click()
    expect(widget(page).locator(".banner")).to_contain_text("This chat isn’t available on this page")
    expect(widget(page).locator(".msg.bot")).to_have_count(1)  # the welcome only
    assert stored_session(page, deployment.bot_id) is None
    context.close()


def test_ui_follows_the_bots_language(browser, deployment, site):
    site.pages["/fr"] = embed_page(deployment.url, deployment.fr_bot_id, deployment.fr_key)
    context = browser.new_context(locale="en-US")
    page = open_page(context, site.origin + "/fr")
    page.get_by_role("button", name="Ouvrir le chat").click()
    expect(widget(page).locator("textarea")).to_have_attribute("placeholder", "Posez votre question…")
    expect(page.get_by_role("button", name="Nouvelle conversation")).to_be_visible()
    expect(widget(page).locator(".pw")).to_have_attribute("lang", "fr")
    context.close()


def test_widget_script_is_served_cacheable_to_any_site(deployment):
    r = httpx.get(f"{deployment.url}/widget.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["access-control-allow-origin"] == "*"
    assert "max-age" in r.headers["cache-control"]
    again = httpx.get(f"{deployment.url}/widget.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    missing = httpx.get(f"{deployment.url}/chat/bot_doesnotexist")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "bot_not_found"


def test_thumbs_down_asks_for_an_optional_comment_that_is_stored(browser, deployment, site, scripted_model, artifacts):
    site.pages["/"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
    scripted_model.rules = [("return", RETURN_ANSWER)]
    scripted_model.pause_on = None
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = open_page(context, site.origin + "/")
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name=STARTER).click()
    answer = widget(page).locator(".msg.bot").last
    expect(answer).to_contain_text("drop the parcel off")

    answer.get_by_role("button", name="Not helpful").click()
    comment = answer.get_by_role("textbox", name="What went wrong? (optional)")
    expect(comment).to_be_focused()
    expect(answer.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
    # The rating counts before any comment is written.
    assert conversation(deployment, page, deployment.bot_id)["messages"][1]["feedback"] == {
        "rating": "down",
        "comment": "",
    }
    comment.fill("The label printer step is missing for parcels abroad.")
    page.screenshot(path=artifacts / "feedback-comment.png")
    with page.expect_response(lambda r: r.url.endswith("/feedback")) as sent:
        comment.press("Enter")
    assert sent.value.status == 204
    expect(comment).to_have_count(0)
    expect(answer).to_contain_text("Thanks for your feedback.")

    conversation_id = stored_session(page, deployment.bot_id)["conversation_id"]
    detail = deployment.admin.get(f"/admin/bots/{deployment.bot_id}/conversations/{conversation_id}").json()
    assert detail["messages"][1]["feedback"] == {
        "rating": "down",
        "comment": "The label printer step is missing for parcels abroad.",
    }
    # Changing one's mind to a thumbs-up asks nothing more.
    answer.get_by_role("button", name="Helpful", exact=True).click()
    expect(answer.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(answer.locator(".why")).to_have_count(0)
    assert page.problems == []
    context.close()


def test_interrupted_answer_keeps_its_marker_after_a_reload(browser, deployment, site, scripted_model, artifacts):
    site.pages["/"] = embed_page(deployment.url, deployment.bot_id, deployment.key)
    scripted_model.rules = [
        ("shipping", "Standard shipping takes 3 to 5 working days; express shipping takes 1 day and costs 9 euros.")
    ]
    scripted_model.pause_on = None
    scripted_model.cut_on = "Standard shipping"
    try:
        context = browser.new_context(viewport={"width": 1100, "height": 760})
        page = open_page(context, site.origin + "/")
        page.get_by_role("button", name="Open chat").click()
        page.get_by_role("button", name="How long does shipping take?").click()
        answer = widget(page).locator(".msg.bot").last
        expect(answer).to_contain_text("The answer was interrupted.")
        expect(answer).to_contain_text("Standard")
        live = answer.locator(".content").inner_text()

        page.reload()
        answer = widget(page).locator(".msg.bot").last
        expect(answer).to_contain_text("The answer was interrupted.")
        assert answer.locator(".content").inner_text() == live
        # Like live: an answer that never finished offers no rating.
        expect(answer.locator(".fb")).to_have_count(0)
        page.screenshot(path=artifacts / "interrupted-reloaded.png")
        assert conversation(deployment, page, deployment.bot_id)["messages"][1]["partial"] is True
        context.close()
    finally:
        scripted_model.cut_on = None


@pytest.fixture(scope="module")
def images():
    s = Site()
    s.pages["/label.png"] = tiny_png()
    yield s
    s.close()


def test_answer_images_load_only_from_the_bots_image_origins(
    browser, deployment, site, attacker, images, scripted_model, artifacts
):
    spec = bot_spec(scripted_model.base_url, deployment.origins, "en")
    spec["widget"]["image_origins"] = [images.origin]
    bot_id, key = deployment.publish_bot(
        "Acme Pictures",
        spec,
        "en",
        documents={
            "labels.txt": (
                "Parcel labels\n\nThe parcel label is a white sticker with a barcode, the return address and "
                "your order number. Print the parcel label and stick it on the parcel.\n"
            )
        },
    )
    assert deployment.admin.get(f"{deployment.url}/v1/bots/{bot_id}/config").json()["image_origins"] == [images.origin]
    scripted_model.rules = [
        (
            "label",
            f"Here is the label: ![parcel label]({images.origin}/label.png) "
            f"and ![tracker]({attacker.origin}/pixel.png?q=label)",
        )
    ]
    scripted_model.pause_on = None
    site.pages["/pictures"] = embed_page(deployment.url, bot_id, key)
    # A page may narrow the bot's list (here to nothing it allows), never widen it.
    site.pages["/narrowed"] = embed_page(
        deployment.url, bot_id, key, script_attrs=f' data-image-origins="{attacker.origin}"'
    )
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = open_page(context, site.origin + "/pictures")
    answer = ask_and_wait(page, "What does the parcel label look like?")
    picture = answer.get_by_role("img", name="parcel label")
    expect(picture).to_have_js_property("naturalWidth", 96)
    expect(answer.locator(".img-alt")).to_have_text("image: tracker")
    page.screenshot(path=artifacts / "answer-image.png")
    assert "/label.png" in images.hits

    narrowed = open_page(context, site.origin + "/narrowed")
    narrowed.get_by_role("button", name="Open chat").click()
    answer = widget(narrowed).locator(".msg.bot").last
    expect(answer).to_contain_text("Here is the label")
    expect(answer.locator("img")).to_have_count(0)
    expect(answer.locator(".img-alt")).to_have_text(["image: parcel label", "image: tracker"])

    # The hosted page's CSP lets the same origins through, and only those.
    hosted = open_page(context, f"{deployment.url}/chat/{bot_id}?key={key}")
    widget(hosted).locator("textarea").fill("Show me the parcel label")
    widget(hosted).locator("textarea").press("Enter")
    expect(widget(hosted).get_by_role("img", name="parcel label")).to_have_js_property("naturalWidth", 96)
    assert attacker.hits == []
    assert page.problems == [] and narrowed.problems == [] and hosted.problems == []
    context.close()


def test_passages_of_one_source_are_one_entry_with_each_snippet(browser, deployment, site, scripted_model):
    # Two sections too long to share a chunk: one document, two cited passages.
    gym = "Gym fees. " + "The PerksPlus plan pays back gym and fitness club fees up to 1000 dollars a year. " * 8
    ski = "Ski passes. " + "The PerksPlus plan also pays back ski passes and ski lessons during the winter. " * 8
    spec = bot_spec(scripted_model.base_url, deployment.origins, "en")
    bot_id, key = deployment.publish_bot("Acme Perks", spec, "en", documents={"perks.txt": f"{gym}\n\n{ski}\n"})
    scripted_model.rules = [("perks", "PerksPlus pays back gym fees [1] and ski passes [2].")]
    scripted_model.pause_on = None
    site.pages["/perks"] = embed_page(deployment.url, bot_id, key)
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    page = open_page(context, site.origin + "/perks")
    answer = ask_and_wait(page, "What do PerksPlus perks pay back for gym fees and ski passes?")
    stored = conversation(deployment, page, bot_id)["messages"][1]["citations"]
    assert [c["source"] for c in stored] == ["perks.txt", "perks.txt"], stored
    expect(answer.locator(".sources summary")).to_have_text(["perks.txt"])
    answer.locator(".sources summary").click()
    expect(answer.locator(".sources blockquote")).to_have_count(2)
    assert page.problems == []
    context.close()
