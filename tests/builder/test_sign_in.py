"""Signing in to the builder and the Team page, through Streamlit's AppTest against a real
server (team use, issue #15 item 10): no page before signing in; the admin token signs the
first owner in; a viewer sees pages read-only and no keys; an ended session sends the person
back to sign in with a sentence; an owner adds a person and reads the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, update
from streamlit.testing.v1 import AppTest

from bots.cli.client import AdminClient
from bots.store import tables as t
from tests.builder.test_pages import APP, texts

PASSWORD = "a long enough password"


@pytest.fixture
def signed_out(live_server, monkeypatch):
    monkeypatch.setenv("PROMPTEUR_SERVER_URL", live_server.url)
    monkeypatch.setenv("PROMPTEUR_HOME", str(live_server.home))
    monkeypatch.setenv("PROMPTEUR_UI_LANGUAGE", "en")
    monkeypatch.delenv("PROMPTEUR_BUILDER_AUTO_SIGN_IN", raising=False)
    client = AdminClient(live_server.url, live_server.admin_token)
    yield client
    client.close()


def _start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    return at


def _on_sign_in_page(at: AppTest) -> bool:
    return "Sign in to Prompteur" in [title.value for title in at.title]


def _sign_in(at: AppTest, name: str, password: str) -> None:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    at.button(key="sign_in_submit").click()
    at.run()
    assert not at.exception, at.exception


def test_nothing_shows_before_signing_in_and_the_admin_token_signs_the_owner_in(signed_out, live_server):
    signed_out.create_bot("Shop")
    at = _start()
    assert _on_sign_in_page(at)
    assert not at.sidebar.selectbox, "no bot picker (nor any page) before signing in"
    _sign_in(at, "owner", "wrong password")
    assert "did not sign you in" in " ".join(e.value for e in at.error)

    at.text_input(key="sign_in_token").input(live_server.admin_token)
    at.button(key="sign_in_token_submit").click()
    at.run()
    assert not at.exception, at.exception
    assert "Signed in as `owner` (owner)" in " ".join(c.value for c in at.sidebar.caption)
    assert not _on_sign_in_page(at)

    # The Team page: the owner adds a person, whose one-time password is shown once; the
    # audit log names the owner.
    at.switch_page("builder/pages/team.py")
    at.run()
    assert "You have no password yet" in " ".join(w.value for w in at.warning)
    at.text_input(key="team_new_name").input("ana@example.com")
    at.button(key="team_add").click()
    at.run()
    assert not at.exception, at.exception
    assert "One-time password for ana@example.com" in " ".join(w.value for w in at.warning)
    audit = at.dataframe[-1].value
    assert list(audit["Action"]) == ["user.create", "bot.create"]
    assert set(audit["Who"]) == {"owner"}


def test_a_viewer_reads_without_keys_and_an_ended_session_asks_to_sign_in_again(signed_out, live_server):
    bot = signed_out.create_bot("Shop")
    signed_out.create_user("val", "viewer", PASSWORD)
    at = _start()
    _sign_in(at, "val", PASSWORD)
    assert "You are a viewer" in " ".join(i.value for i in at.info)
    at.switch_page("builder/pages/publish.py")
    at.run()
    assert not at.exception, at.exception
    shown = texts(at) + " ".join(i.value for i in at.info)
    assert "Keys and embed snippets (which hold a key) are for editors and owners." in shown
    assert not [b for b in at.button if b.key == f"key_revoke_{bot.id}"]
    assert at.button(key=f"pub_submit_{bot.id}").disabled, "a viewer's Publish button is off"
    at.switch_page("builder/pages/bots.py")
    at.run()
    assert at.button(key="create_submit").disabled and at.button(key="delete").disabled
    # The Tests page: a viewer reads the cases, with no editor and no Save button.
    signed_out.import_test_set(bot.id, "faq", '{"question": "Do you ship abroad?"}\n')
    at.switch_page("builder/pages/tests.py")
    at.run()
    assert not at.exception, at.exception
    assert not at.data_editor and not [b for b in at.button if b.key == f"cases_save_{bot.id}"]
    assert any("Do you ship abroad?" in d.value["question"].tolist() for d in at.dataframe if "question" in d.value)
    at.switch_page("builder/pages/team.py")
    at.run()
    assert "People" not in [s.value for s in at.subheader], "people and the audit log are for owners"

    # Time passes: the session's end is now behind us. The next run says so and asks again.
    engine = create_engine(f"sqlite:///{live_server.home / 'prompteur.db'}")
    with engine.begin() as conn:
        conn.execute(
            update(t.ApiToken).where(t.ApiToken.kind == "session").values(expires_at=datetime.now(UTC) - timedelta(1))
        )
    engine.dispose()
    at.run()
    assert not at.exception, at.exception
    assert "Your session has ended" in " ".join(i.value for i in at.info)
    assert _on_sign_in_page(at)


# What a viewer may still press on these pages: they read or only change this browser's view.
HARMLESS = {"sign_out", "cv_prepare_{bot}", "pg_new_{bot}"}


def _enabled_buttons(at: AppTest, bot: str) -> list[str]:
    harmless = {key.format(bot=bot) for key in HARMLESS}
    return [b.key or b.label for b in at.button if not b.disabled and b.key not in harmless]


def test_a_viewer_is_offered_no_change_on_the_working_pages(signed_out, live_server):
    """Tests, Answers, Review, Conversations and Playground, each with something on it to
    change (a test set, a corrected answer, an answer to review, a hand-off request): the
    server refuses a viewer's changes, and the pages do not offer them either."""
    from tests.builder.test_handoff_inbox_page import customer_asks_for_a_person

    bot, _ = customer_asks_for_a_person(signed_out, live_server.url)
    signed_out.import_test_set(bot, "faq", '{"question": "Do you ship abroad?"}\n')
    signed_out.add_corrected_answer(bot, "Do you ship abroad?", "Yes, to all of Europe.")
    assert signed_out.review_inbox(bot).items, "the fallback answer is in the review inbox"
    signed_out.create_user("val", "viewer", PASSWORD)
    at = _start()
    _sign_in(at, "val", PASSWORD)

    for page in ("tests", "answers", "review", "conversations", "playground"):
        at.switch_page(f"builder/pages/{page}.py")
        at.run()
        assert not at.exception, (page, at.exception)
        assert _enabled_buttons(at, bot) == [], f"{page} offers a viewer a change"
        # The page drew its change buttons (off), or for the Playground its question box (off).
        assert [b for b in at.button if b.disabled] or at.chat_input, f"{page}: nothing to change was drawn"
        assert all(c.proto.disabled for c in at.chat_input), f"{page}: a viewer cannot ask"
        assert not at.data_editor, page
