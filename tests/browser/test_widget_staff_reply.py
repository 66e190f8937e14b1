"""A person's reply from the hand-off inbox, as the customer sees it in a real chromium: the
widget polls the conversation after a hand-off request and shows the reply labelled as the
support team's, apart from the bot's answers; a reload keeps it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import embed_page
from tests.browser.test_widget import RETURN_ANSWER, STARTER, open_page, stored_session, widget

pytestmark = pytest.mark.browser


def test_the_customer_sees_the_teams_reply_without_reloading(browser, deployment, site, scripted_model, artifacts):
    scripted_model.rules = [("return", RETURN_ANSWER)]
    scripted_model.pause_on = None
    # Polled every 2 s here instead of 20, so the test does not wait.
    site.pages["/"] = embed_page(
        deployment.url, deployment.bot_id, deployment.key, script_attrs=' data-poll-seconds="2"'
    )
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = open_page(context, site.origin + "/")
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name=STARTER).click()
    expect(widget(page).locator(".msg.bot .fb").last).to_be_visible()

    page.get_by_role("button", name="Talk to a human").click()
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("How can we help?").fill("The label does not print.")
    page.get_by_role("button", name="Send request").click()
    expect(widget(page)).to_contain_text("Thanks, Ada Lovelace.")
    conversation_id = stored_session(page, deployment.bot_id)["conversation_id"]

    [request] = [
        h
        for h in deployment.admin.get(f"/admin/bots/{deployment.bot_id}/handoffs").json()["handoffs"]
        if h["conversation_id"] == conversation_id
    ]
    replied = deployment.admin.post(
        f"/admin/bots/{deployment.bot_id}/handoffs/{request['id']}/reply",
        json={"message": "Hi Ada, we e-mailed you a **new label**.", "author": "Marie"},
    )
    assert replied.status_code == 200, replied.text

    staff = widget(page).locator(".msg.staff")
    expect(staff).to_have_count(1, timeout=15000)
    expect(staff.locator(".who")).to_have_text("Support team")
    expect(staff).to_contain_text("we e-mailed you a new label")
    expect(staff.locator("strong")).to_have_text("new label")  # Markdown, as the bot's answers
    assert "Marie" not in widget(page).inner_text()
    # Styled apart from the bot's answers, with the note of the request still in the log.
    assert staff.evaluate("e => getComputedStyle(e).borderLeftWidth") == "3px"
    expect(widget(page)).to_contain_text("Thanks, Ada Lovelace.")
    page.screenshot(path=artifacts / "widget-staff-reply.png")

    page.reload()
    expect(widget(page).locator(".msg.staff")).to_have_count(1)
    assert page.problems == []
    context.close()
