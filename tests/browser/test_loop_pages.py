"""The review loop's pages in Debian's chromium, at 1280 and 1440 px, for a person to look at:
Tests (a set with its cases in the editor, a finished run's scorecard, a comparison of two runs
with a regression opened on its two answers), Review (an
item open, its prompt shown), Answers and Analytics. The data is made through the admin and
public APIs of a live server with the scripted model answering; the screenshots go to
$PROMPTEUR_SHOTS (default test-artifacts/loop/)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from tests.browser.test_builder import assert_no_exception, open_page, settle, shoot, ui  # noqa: F401
from tests.public_api_support import FIXTURES, spec_for
from tests.scripted_openai import Reply

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("PROMPTEUR_SHOTS") or ROOT / "test-artifacts" / "loop")
CASES = [
    {
        "question": "How long do refunds take?",
        "expected_sources": ["shop_help.md"],
        "expected_facts": ["5 business days"],
    },
    {"question": "How much is express delivery?", "expected_sources": ["shop_help.md"], "expected_facts": ["9 euros"]},
]


def _ok(r: httpx.Response) -> dict:
    assert r.status_code < 300, r.text
    return r.json() if r.content else {}


def _wait_job(admin: httpx.Client, bot: str, job_id: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if admin.get(f"/admin/jobs/{job_id}").json()["status"] in ("done", "failed"):
            return
        time.sleep(0.5)
    raise AssertionError("ingestion did not finish")


def fill(live_server, scripted) -> str:
    """A published bot with answered, rated and fallen-back conversations, two runs of a set
    (the second regressed) and a corrected answer."""
    admin = httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {live_server.admin_token}"}, timeout=300
    )
    bot = _ok(admin.post("/admin/bots", json={"name": "Shop", "spec": spec_for(scripted.base_url)}))["id"]
    with (FIXTURES / "shop_help.md").open("rb") as f:
        job = _ok(admin.post(f"/admin/bots/{bot}/documents", files=[("files", ("shop_help.md", f))]))
    _wait_job(admin, bot, job["job_id"])
    _ok(admin.post(f"/admin/bots/{bot}/versions", json={"note": "first"}))
    key = _ok(admin.post(f"/admin/bots/{bot}/keys", json={"kind": "secret"}))["key"]
    customer = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=300)
    scripted.queue(
        Reply.answer("Refunds take 5 business days [1]."),
        Reply.answer("Express delivery costs 9 euros [1]."),
        Reply.answer("I don't know."),
    )
    answers = [
        _ok(customer.post(f"/v1/bots/{bot}/chat", json={"message": q}))
        for q in (
            "How long do refunds take? Write to me at jo@example.com",
            "How much is express delivery?",
            "Do you sell bicycles?",
        )
    ]
    _ok(customer.post(f"/v1/bots/{bot}/messages/{answers[0]['message_id']}/feedback", json={"rating": "down"}))
    _ok(customer.post(f"/v1/bots/{bot}/messages/{answers[1]['message_id']}/feedback", json={"rating": "up"}))
    content = "".join(json.dumps(c) + "\n" for c in CASES)
    _ok(admin.put(f"/admin/bots/{bot}/test-sets/main", json={"format": "jsonl", "content": content}))
    scripted.queue(Reply.answer("Refunds take 5 business days [1]."), Reply.answer("Express costs 9 euros [1]."))
    _ok(admin.post(f"/admin/bots/{bot}/eval-runs", json={"wait": True}))
    scripted.queue(Reply.answer("Refunds take a while [1]."), Reply.answer("Express costs 9 euros [1]."))
    _ok(admin.post(f"/admin/bots/{bot}/eval-runs", json={"wait": True}))
    _ok(
        admin.post(
            f"/admin/bots/{bot}/review/{answers[2]['message_id']}/correct",
            json={"answer": "We sell no bicycles, only parts.", "sources": [{"source": "shop_help.md"}]},
        )
    )
    return bot


def test_the_loop_pages_at_1280_and_1440(ui, live_server, browser, model):  # noqa: F811
    fill(live_server, model)
    for width in (1280, 1440):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(ui)
        settle(page)
        if page.get_by_role("button", name="Continue").count():  # the first-run model choice
            page.get_by_role("button", name="Continue").click()
            settle(page)
        open_page(page, "Tests")
        assert_no_exception(page)
        page.get_by_test_id("stExpander").filter(has_text="Cases of").locator("summary").click()
        settle(page, rerun=False)
        shoot(page, f"tests-{width}", SHOTS)
        # The regression opened on its two answers, side by side with the changed words marked.
        page.locator("summary").filter(has_text="main · How long do refunds take?").click()
        settle(page, rerun=False)
        assert_no_exception(page)
        shoot(page, f"tests-compare-{width}", SHOTS)

        open_page(page, "Review")
        assert_no_exception(page)
        page.get_by_test_id("stExpander").first.locator("summary").click()
        settle(page, rerun=False)
        page.get_by_text("Prompt sent to the model").first.click()  # a toggle: it reruns
        settle(page)
        assert_no_exception(page)
        shoot(page, f"review-{width}", SHOTS)

        open_page(page, "Answers")
        assert_no_exception(page)
        page.get_by_test_id("stExpander").filter(has_text="Do you sell bicycles?").locator("summary").click()
        settle(page, rerun=False)
        shoot(page, f"answers-{width}", SHOTS)

        open_page(page, "Analytics")
        assert_no_exception(page)
        shoot(page, f"analytics-{width}", SHOTS)
        page.close()
