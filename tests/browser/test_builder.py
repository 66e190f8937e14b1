"""The builder in Debian's chromium: `streamlit run` on a free port against a live server,
the newcomer's path clicked through, and a screenshot of every page (1280 px and 390 px)
saved to test-artifacts/builder/ for a person to look at."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bots.cli.client import AdminClient
from tests.conftest import free_port
from tests.scripted_openai import Reply, ScriptedOpenAI

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "builder"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'


@pytest.fixture
def ui(live_server, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PROMPTEUR_SERVER_URL": live_server.url,
        "PROMPTEUR_HOME": str(live_server.home),
        "PROMPTEUR_UI_LANGUAGE": "en",
        "PYTHONPATH": str(ROOT),
    }
    log = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "streamlit_app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        raise RuntimeError((tmp_path / "streamlit.log").read_text()[-3000:])
    yield url
    proc.terminate()
    proc.wait(timeout=15)
    log.close()


@pytest.fixture
def model():
    server = ScriptedOpenAI().start()
    yield server
    server.close()


# Counts the script runs a page has started, from the app root's state attribute (each
# mutation record holds the value it replaced, so a run that starts and ends between two
# checks is still counted). Installed once per loaded page; returns whether it was already.
WATCH_RUNS = """() => {
  if (window.__runsStarted !== undefined) return true;
  const app = document.querySelector('[data-testid=stApp]');
  if (!app) return false;
  window.__runsStarted = 0;
  window.__runsSettled = 0;
  new MutationObserver(records => {
    const states = records.map(r => r.oldValue);
    states.push(app.getAttribute('data-test-script-state'));
    for (let i = 0; i + 1 < states.length; i++)
      if (states[i] !== 'running' && states[i + 1] === 'running') window.__runsStarted++;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true});
  return false;
}"""


def settle(page, timeout: float = 240_000, rerun: bool = True) -> None:
    """Wait for the script run an action asked for to end. On a busy machine that run can
    start late, so wait (up to 3 s) for a run to have started since the last settle, then for
    the app to be idle. `rerun=False` is for actions the browser handles alone (opening an
    expander): no run will come, so only wait for idle."""
    watched = page.evaluate(WATCH_RUNS)
    if rerun:
        try:
            if watched:
                page.wait_for_function("window.__runsStarted > window.__runsSettled", timeout=3_000)
            else:  # a freshly loaded page: its first run is the one to wait for
                page.wait_for_selector(RUNNING, timeout=3_000)
        except PlaywrightTimeout:
            pass  # no run came (or it came and went before the watch was installed)
    page.wait_for_selector(IDLE, timeout=timeout)
    page.evaluate(WATCH_RUNS)
    page.evaluate("window.__runsSettled = window.__runsStarted")
    page.wait_for_timeout(300)


def wait_for_outcome(page, text: str, timeout: float = 240_000) -> None:
    """Wait until `text` shows; if it never does, fail with what the page's alerts say (and a
    screenshot), so a CI log tells why rather than only that the text never came."""
    try:
        page.get_by_text(text).first.wait_for(timeout=timeout)
    except PlaywrightTimeout:
        shoot(page, "failure")
        said = " | ".join(page.get_by_test_id("stAlert").all_inner_texts()) or "no alert on the page"
        pytest.fail(f"expected {text!r} within {timeout / 1000:g} s; the page says: {said}")


def shoot(page, name: str, folder: Path = ARTIFACTS) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to fit it."""
    folder.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stAppScrollToBottomContainer], [data-testid=stMainBlockContainer]')]"
        ".map(e => e.scrollHeight), document.body.scrollHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.wait_for_timeout(500)  # charts finish drawing
    page.screenshot(path=str(folder / f"{name}.png"))
    page.set_viewport_size(size)


def open_page(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    settle(page)


def assert_no_exception(page) -> None:
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()


def test_newcomer_path_in_chromium(ui, live_server, browser, model):
    client = AdminClient(live_server.url, live_server.admin_token)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(ui)
    settle(page)
    assert_no_exception(page)
    # First run: the setup asks which model answers; the offline default goes straight on.
    page.get_by_role("button", name="Continue").click()
    settle(page)

    page.get_by_label("Name").fill("Shop help")
    page.get_by_test_id("stSelectbox").filter(has_text="Template").click()
    page.get_by_role("option", name="Friendly retail support").click()
    page.get_by_role("button", name="Create").click()
    settle(page)
    assert_no_exception(page)
    [bot] = client.bots()
    assert bot.spec["persona"]["company"] == "Acme Store"
    shoot(page, "bots-1280")

    open_page(page, "Persona")
    assert_no_exception(page)
    assert page.get_by_role("textbox", name="Company").input_value() == "Acme Store"
    shoot(page, "persona-1280")

    open_page(page, "Knowledge")
    page.locator('input[type="file"]').set_input_files(str(ROOT / "tests" / "fixtures" / "PerksPlus.pdf"))
    page.get_by_text("PerksPlus.pdf").wait_for()  # the uploader has the file
    page.get_by_role("button", name="Upload and index").click()
    settle(page)
    assert_no_exception(page)
    wait_for_outcome(page, "ready to answer questions")
    page.get_by_role("textbox", name="A customer's question").fill("What does PerksPlus pay for?")
    page.get_by_role("button", name="Search", exact=True).and_(
        page.get_by_test_id("stBaseButton-secondaryFormSubmit")
    ).click()
    settle(page)
    shoot(page, "knowledge-1280")
    page.get_by_test_id("stMarkdown").filter(has_text="1. PerksPlus.pdf").first.wait_for()
    shoot(page, "knowledge-1280")

    open_page(page, "Settings")
    assert_no_exception(page)
    shoot(page, "settings-1280")

    # The provider is the one part we don't own: a scripted OpenAI-compatible server answers.
    spec = client.bot(bot.id).spec
    client.update_bot(
        bot.id,
        spec={
            **spec,
            "model": {
                **spec["model"],
                "provider": "openai_compatible",
                "base_url": model.base_url,
                "model": "scripted",
            },
        },
    )
    model.queue(*[Reply.answer("PerksPlus pays up to $1000 a year for fitness programs [1].")] * 3)
    open_page(page, "Playground")
    page.get_by_test_id("stChatInputTextArea").fill("What does PerksPlus pay for?")
    page.keyboard.press("Enter")
    settle(page)
    assert_no_exception(page)
    wait_for_outcome(page, "PerksPlus pays up to $1000")
    shoot(page, "playground-1280")

    open_page(page, "Publish")
    page.get_by_role("textbox", name="What changed").fill("First version")
    page.get_by_role("button", name="Publish the draft").click()
    settle(page)
    wait_for_outcome(page, "Version 1 is live.")
    page.get_by_role("button", name="Create key").click()
    settle(page)
    assert_no_exception(page)
    snippet = page.get_by_test_id("stCode").filter(has_text="widget.js").first
    assert 'data-key="pk_' in snippet.inner_text()
    snippet.hover()
    snippet.get_by_role("button", name="Copy to clipboard").click()
    page.wait_for_timeout(1500)  # the widget preview iframe loads its script
    shoot(page, "publish-1280")

    open_page(page, "Conversations")
    assert_no_exception(page)
    shoot(page, "conversations-1280")

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(ui)
    settle(phone)
    assert_no_exception(phone)
    shoot(phone, "bots-390")
    phone.goto(f"{ui}/publish")
    settle(phone)
    assert_no_exception(phone)
    shoot(phone, "publish-390")
    client.close()
