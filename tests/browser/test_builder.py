"""The builder in Debian's chromium: `streamlit run` on a free port against a live server, and
the helpers the browser tests share to drive it and photograph its pages. The newcomer's path
through the builder is part of the support lead's whole journey, in test_journey.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import free_port

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
