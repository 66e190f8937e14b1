"""The support lead's whole journey in Debian's chromium (issue #15's proof), one step after the
other on one real server: create a bot from a template, set its persona, upload a file (its own
progress line shows while it is indexed), try it in the playground, publish, open the hosted
chat link, put the Publish page's snippet on a page of another origin, where a customer asks
for a person; the team replies from the builder's hand-off inbox, the customer sees the reply
without reloading, and the e-mail reaches a local SMTP sink.

The model is the scripted OpenAI-compatible server (the one part we don't own), answering by
rule. Every step is photographed at 1280 and 1440 px wide into test-artifacts/journey/, and
the builder's pages also at 390 px (a phone) into test-artifacts/builder/, for a person to look at.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from bots.cli.client import AdminClient
from tests.browser import test_builder
from tests.browser.test_builder import ROOT, assert_no_exception, open_page, settle, shoot, wait_for_outcome
from tests.browser.test_widget import widget
from tests.conftest import LiveServer, seed_database
from tests.test_handoff_inbox import sink as smtp  # noqa: F401 (the local SMTP sink fixture)

pytestmark = pytest.mark.browser

ui = test_builder.ui  # the builder (`streamlit run`) against this module's `live_server`
JOURNEY = ROOT / "test-artifacts" / "journey"
WIDTHS = (1280, 1440)
TEAM = "support@shop.example"
QUESTION = "What does PerksPlus pay for?"
ANSWER = "PerksPlus pays up to $1000 a year for fitness programs [1]."
REPLY = "Hi Ada, gym memberships count too: **send us the receipt**."


@pytest.fixture
def live_server(isolated_home, migrated_database, smtp):  # noqa: F811
    """The real server, sending hand-off e-mails to the SMTP sink (set as `prompteur serve`
    reads it: the environment)."""
    seed_database(isolated_home, migrated_database)
    server = LiveServer(
        isolated_home,
        extra_env={
            "PROMPTEUR_SMTP_HOST": "127.0.0.1",
            "PROMPTEUR_SMTP_PORT": str(smtp[1]),
            "PROMPTEUR_SMTP_STARTTLS": "false",
            "PROMPTEUR_SMTP_FROM": "bot@shop.example",
            "PROMPTEUR_HANDOFF_NOTIFY_EMAILS": f'["{TEAM}"]',
        },
    ).start()
    yield server
    server.stop()


def shots(page, name: str) -> None:
    """The step at both desktop widths the issue asks to look at; the page stays at 1280."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(300)  # Streamlit lays its columns out again
        shoot(page, f"{name}-{width}", JOURNEY)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def site_shots(page, name: str) -> None:
    """A customer's page (not Streamlit): the viewport is the page."""
    JOURNEY.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.wait_for_timeout(200)
        page.screenshot(path=str(JOURNEY / f"{name}-{width}.png"))
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})


def until(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_the_support_leads_whole_journey(ui, live_server, browser, scripted_model, site, smtp):  # noqa: F811
    sink = smtp[0]
    scripted_model.rules = [("perksplus", ANSWER)]
    scripted_model.pause_on = scripted_model.cut_on = None
    client = AdminClient(live_server.url, live_server.admin_token)
    page = browser.new_page(viewport={"width": WIDTHS[0], "height": 900})
    page.goto(ui)
    settle(page)
    assert_no_exception(page)
    # First run: the setup asks which model answers; the offline default goes straight on.
    page.get_by_role("button", name="Continue").click()
    settle(page)

    # 1. A bot from a template.
    page.get_by_label("Name").fill("Shop help")
    page.get_by_test_id("stSelectbox").filter(has_text="Template").click()
    page.get_by_role("option", name="Friendly retail support").click()
    page.get_by_role("button", name="Create").click()
    settle(page)
    assert_no_exception(page)
    [bot] = client.bots()
    assert bot.spec["persona"]["company"] == "Acme Store"
    shots(page, "01-bots")

    # 2. The persona: the template's, plus a human hand-off through the widget's form.
    open_page(page, "Persona")
    assert_no_exception(page)
    assert page.get_by_role("textbox", name="Company").input_value() == "Acme Store"
    page.get_by_text("Offer a human hand-off").click()
    settle(page)
    page.get_by_role("button", name="Save the draft").click()
    settle(page)
    assert_no_exception(page)
    assert client.bot(bot.id).spec["fallback"]["handoff"]["enabled"] is True
    shots(page, "02-persona")

    # 3. Knowledge: the file's own progress line shows while it is indexed, then the outcome.
    open_page(page, "Knowledge")
    page.locator('input[type="file"]').set_input_files(str(ROOT / "tests" / "fixtures" / "PerksPlus.pdf"))
    page.get_by_text("PerksPlus.pdf").wait_for()  # the uploader has the file
    page.get_by_role("button", name="Upload and index").click()
    progress = page.get_by_text(
        re.compile(r"PerksPlus\.pdf — (waiting its turn|reading|cutting|embedding passage|making it searchable)")
    )
    progress.first.wait_for(timeout=60_000)
    shots(page, "03-knowledge-progress")
    settle(page)
    assert_no_exception(page)
    wait_for_outcome(page, "ready to answer questions")
    page.get_by_role("textbox", name="A customer's question").fill(QUESTION)
    page.get_by_role("button", name="Search", exact=True).and_(
        page.get_by_test_id("stBaseButton-secondaryFormSubmit")
    ).click()
    settle(page)
    page.get_by_test_id("stMarkdown").filter(has_text="1. PerksPlus.pdf").first.wait_for()
    shots(page, "04-knowledge")

    open_page(page, "Settings")
    assert_no_exception(page)
    shots(page, "05-settings")

    # 4. The playground. The provider is the one part we don't own: the scripted server answers.
    spec = client.bot(bot.id).spec
    client.update_bot(
        bot.id,
        spec={
            **spec,
            "model": {**spec["model"], "provider": "openai_compatible", "base_url": scripted_model.base_url},
        },
    )
    open_page(page, "Playground")
    page.get_by_test_id("stChatInputTextArea").fill(QUESTION)
    page.keyboard.press("Enter")
    settle(page)
    assert_no_exception(page)
    wait_for_outcome(page, "PerksPlus pays up to $1000")
    shots(page, "06-playground")

    # 5. Publish: the customer's site is allowed, the draft goes live, a key makes the snippet.
    open_page(page, "Publish")
    origins = page.get_by_role("textbox", name="Websites allowed to embed the bot (one per line)")
    origins.fill(site.origin)
    origins.press("Control+Enter")  # a text area's value reaches the script when committed
    settle(page)
    page.get_by_role("button", name="Save to the draft").click()
    settle(page)
    assert client.bot(bot.id).spec["allowed_origins"] == [site.origin]
    page.get_by_role("textbox", name="What changed").fill("First version")
    page.get_by_role("button", name="Publish the draft").click()
    settle(page)
    wait_for_outcome(page, "Version 1 is live.")
    page.get_by_role("button", name="Create key").click()
    settle(page)
    assert_no_exception(page)
    code = page.get_by_test_id("stCode").filter(has_text="widget.js").first
    # Until the rerun the click asked for has drawn the new key, the snippet shows the
    # placeholder (on a busy machine that rerun can start after settle gave up waiting).
    expect(code).not_to_contain_text("pk_YOUR_PUBLISHABLE_KEY", timeout=120_000)
    snippet = code.inner_text()
    assert f'data-bot="{bot.id}"' in snippet and 'data-key="pk_' in snippet
    code.hover()
    code.get_by_role("button", name="Copy to clipboard").click()
    page.wait_for_timeout(1500)  # the widget preview iframe loads its script
    shots(page, "07-publish")
    page.get_by_role("tab", name="Hosted chat link").click()
    hosted_url = (
        page.get_by_test_id("stCode").filter(has_text=re.compile(r"^\s*http\S*/chat/")).first.inner_text().strip()
    )

    # 6. The hosted chat link answers (its own origin, not in the list, is not refused).
    customer = browser.new_context(viewport={"width": WIDTHS[0], "height": 800})
    hosted = customer.new_page()
    response = hosted.goto(hosted_url)
    assert response is not None and response.status == 200
    widget(hosted).locator("textarea").fill(QUESTION)
    widget(hosted).locator("textarea").press("Enter")
    expect(widget(hosted).locator(".msg.bot").last).to_contain_text("PerksPlus pays up to $1000")
    site_shots(hosted, "08-hosted-link")

    # 7. The snippet on a page of another origin, as the customer's site would carry it.
    # Polled every 2 s instead of 20, so the test does not wait for the team's reply.
    snippet_here = snippet.replace("<script ", '<script data-poll-seconds="2" ', 1)
    site.pages["/"] = (
        '<!doctype html><html><head><meta charset="utf-8"><title>Acme Store</title></head>'
        f"<body><h1>Acme Store</h1><p>Welcome to our shop.</p>{snippet_here}</body></html>"
    )
    shop = customer.new_page()
    problems: list[str] = []
    shop.on("pageerror", lambda e: problems.append(str(e)))
    shop.goto(site.origin + "/")
    shop.get_by_role("button", name="Open chat").click()
    widget(shop).locator("textarea").fill(QUESTION)
    widget(shop).locator("textarea").press("Enter")
    answer = widget(shop).locator(".msg.bot").last
    expect(answer.locator(".fb")).to_be_visible()
    expect(answer).to_contain_text("PerksPlus pays up to $1000")
    site_shots(shop, "09-widget-answer")

    # 8. The customer asks for a person; the team hears of it by e-mail.
    shop.get_by_role("button", name="Talk to a person").click()
    shop.get_by_label("Your name").fill("Ada Lovelace")
    shop.get_by_label("Email").fill("ada@example.com")
    shop.get_by_label("How can we help?").fill("Does my gym count?")
    site_shots(shop, "10-widget-handoff-form")
    shop.get_by_role("button", name="Send request").click()
    expect(widget(shop)).to_contain_text("Thanks, Ada Lovelace.")
    team_mail = until(lambda: [m for to, m in sink.messages if to == [TEAM]])
    assert "Ada Lovelace" in team_mail[0]["Subject"] and "Does my gym count?" in team_mail[0].get_content()

    # 9. The team replies from the builder's hand-off inbox.
    open_page(page, "Conversations")
    assert_no_exception(page)
    page.get_by_role("tab", name="Hand-off requests").click()
    page.get_by_text("They wrote: Does my gym count?").wait_for()
    assignee = page.get_by_role("textbox", name="Assigned to")
    assignee.fill("Marie")
    assignee.press("Enter")
    settle(page)
    page.get_by_role("button", name="Assign", exact=True).click()
    settle(page)
    wait_for_outcome(page, "Assigned.")
    box = page.get_by_role("textbox", name="Reply to the customer")
    box.fill(REPLY)
    box.press("Control+Enter")
    settle(page)
    page.get_by_role("button", name="Send the reply").click()
    settle(page)
    assert_no_exception(page)
    wait_for_outcome(page, "Reply sent.")
    shots(page, "11-handoff-inbox")

    # 10. The customer sees it in the widget without reloading, labelled as the team's...
    staff = widget(shop).locator(".msg.staff")
    expect(staff).to_have_count(1, timeout=15_000)
    expect(staff).to_contain_text("gym memberships count too")
    expect(staff.locator(".who")).to_have_text("Support team")
    expect(staff.locator("strong")).to_have_text("send us the receipt")  # Markdown, as the bot's answers
    assert "Marie" not in widget(shop).inner_text()  # who on the team wrote it stays inside
    # Styled apart from the bot's answers, with the note of the request still in the log.
    assert staff.evaluate("e => getComputedStyle(e).borderLeftWidth") == "3px"
    expect(widget(shop)).to_contain_text("Thanks, Ada Lovelace.")
    site_shots(shop, "12-widget-team-reply")
    shop.reload()
    expect(widget(shop).locator(".msg.staff")).to_have_count(1)
    assert problems == []
    # ... and by e-mail, from the bot's address.
    mail = until(lambda: [m for to, m in sink.messages if to == ["ada@example.com"]])
    assert "gym memberships count too" in mail[0].get_content() and mail[0]["From"] == "bot@shop.example"

    # The builder on a phone: it reads, it does not break.
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(ui)
    settle(phone)
    assert_no_exception(phone)
    shoot(phone, "bots-390")
    phone.goto(f"{ui}/publish")
    settle(phone)
    assert_no_exception(phone)
    shoot(phone, "publish-390")
    customer.close()
    client.close()
