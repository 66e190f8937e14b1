"""Finding 12: the builder rendered customer messages with st.markdown, so a customer's
Markdown image made the support lead's browser load an outside URL (and a link showed as a
live link). Customer text (questions, feedback comments, hand-off requests) is now shown as
text: st.text, or Markdown with every markup character escaped."""

from __future__ import annotations

import httpx
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from builder.plain_text import escape_markdown
from tests.conftest import ROOT
from tests.security.customer_text import customer_conversation

QUESTION = "![pixel](https://tracker.example/q.png) where is my [order](https://evil.example)?"
COMMENT = "![c](https://tracker.example/c.png) useless"
HANDOFF = "call me ![h](https://tracker.example/h.png)"


def _rendered(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def test_customer_markdown_is_shown_as_text_in_the_conversation_log(live_server, monkeypatch):
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {live_server.admin_token}"}, timeout=60
    ) as admin:
        customer_conversation(admin, question=QUESTION, comment=COMMENT, handoff=HANDOFF)
    monkeypatch.setenv("PROMPTEUR_SERVER_URL", live_server.url)
    monkeypatch.setenv("PROMPTEUR_HOME", str(live_server.home))
    monkeypatch.setenv("PROMPTEUR_UI_LANGUAGE", "en")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
    at.run()
    at.switch_page("builder/pages/conversations.py")
    at.run()
    assert not at.exception, at.exception

    assert QUESTION in [t.value for t in at.text], "the question is shown, as plain text"
    shown_as_markdown = [e.value for kind in (at.markdown, at.caption, at.info, at.warning) for e in kind]
    page = "\n".join(shown_as_markdown)
    assert "useless" in page and "call me" in page, "comment and hand-off are on the page"
    for markdown in shown_as_markdown:
        html = _rendered(markdown)
        assert "<img" not in html and "<a " not in html, markdown


def test_escaped_text_renders_exactly_as_written():
    for text in [QUESTION, COMMENT, "a *b* _c_ `d` # e :red[f] $g$ <b>h</b> \\ i"]:
        html = _rendered(escape_markdown(text))
        assert "<img" not in html and "<a " not in html and "<em>" not in html and "<code>" not in html
        assert "<b>" not in html
