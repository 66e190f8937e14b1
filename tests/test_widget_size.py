"""Static checks on the widget script: size budget, no HTML sinks, no third-party requests."""

import gzip
import re
from pathlib import Path

from bots.http.routes.widget import chat_page_csp, frame_ancestors

WIDGET = Path(__file__).resolve().parents[1] / "bots" / "http" / "static" / "widget.js"
SOURCE = WIDGET.read_text(encoding="utf-8")


def test_widget_fits_the_size_budget():
    gzipped = len(gzip.compress(SOURCE.encode("utf-8"), compresslevel=9))
    assert gzipped < 30 * 1024, f"widget.js is {gzipped} bytes gzipped; the budget is 30 KB"


def test_widget_never_parses_strings_as_html_or_code():
    sinks = [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "createContextualFragment",
        "DOMParser",
        "srcdoc",
    ]
    found = [s for s in sinks if s in SOURCE]
    assert not found, f"widget.js uses HTML/code sinks: {found}"


def test_widget_makes_no_requests_beyond_its_own_server():
    urls = set(re.findall(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s'"`)]*""", SOURCE))
    # The SVG namespace is an identifier passed to createElementNS, never fetched.
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert "postMessage" not in SOURCE
    # Every request goes through apiUrl(), which is rooted at the script's own origin.
    assert SOURCE.count("fetch(") == 2 and SOURCE.count("fetch(apiUrl(") == 2


def test_frame_ancestors_keeps_only_well_formed_origins():
    assert frame_ancestors([]) == "'none'"
    assert frame_ancestors(["https://shop.example.com/", "http://localhost:8080"]) == (
        "https://shop.example.com http://localhost:8080"
    )
    # A spec value must not be able to smuggle another CSP directive or a wildcard in.
    assert frame_ancestors(["https://a.example; script-src *", "*", "javascript:x", "https://*.x.com"]) == "'none'"


def test_chat_page_csp_locks_the_page_to_its_own_server():
    csp = chat_page_csp(["https://shop.example.com"])
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["img-src"] == "'self'"
    assert directives["frame-ancestors"] == "https://shop.example.com"


def test_chat_page_lets_images_in_from_the_bots_image_origins_only():
    csp = chat_page_csp(
        ["https://shop.example.com"],
        ["https://cdn.example.com", "https://*.evil.example", "https://x.example; script-src *"],
    )
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["img-src"] == "'self' https://cdn.example.com"
    assert directives["script-src"] == "'self'"
