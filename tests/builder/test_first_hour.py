"""The support lead's first hour (issues #12 part 4 and #15): first-run setup with a connection
test, the streaming playground, per-file upload progress, and the pages after it."""

from __future__ import annotations

from tests.builder.test_pages import app, goto, model, texts, ui_env  # noqa: F401 (fixtures)
from tests.conftest import free_port
from tests.scripted_openai import Reply


def test_first_run_asks_which_model_and_tests_it(ui_env, model):  # noqa: F811
    client = ui_env
    at = app()
    assert at.radio(key="setup_choice").value == "offline", "the bundled default needs no setup"
    assert not at.text_input, "nothing to fill for the offline default"

    at.radio(key="setup_choice").set_value("openai_compatible")
    at.run()
    at.text_input(key="setup_base_url").input(model.base_url)
    at.text_input(key="setup_model_name").input("scripted")
    model.queue(Reply.answer("Ready to help."))
    at.button(key="setup_test").click()
    at.run()
    assert not at.exception, at.exception
    assert any("scripted answered" in s.value for s in at.success), [s.value for s in at.success]
    assert "Ready to help." in texts(at)
    assert len(model.requests) == 1, "one real request, sent through the server"

    refused = f"http://127.0.0.1:{free_port()}/v1"
    at.text_input(key="setup_base_url").input(refused)
    at.button(key="setup_test").click()
    at.run()
    assert not at.exception, at.exception
    assert any("did not answer" in e.value for e in at.error)
    assert any("connection failed" in c.value for c in at.code), "the exact error, not a summary"

    # The working address again, and on to the first bot: it answers with the model chosen.
    at.text_input(key="setup_base_url").input(model.base_url)
    at.button(key="setup_continue").click()
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="create_name").input("Shop help")
    at.button(key="create_submit").click()
    at.run()
    assert not at.exception, at.exception
    [bot] = client.bots()
    assert bot.spec["model"]["provider"] == "openai_compatible"
    assert bot.spec["model"]["base_url"] == model.base_url and bot.spec["model"]["model"] == "scripted"


def test_no_setup_once_a_bot_exists(ui_env):  # noqa: F811
    ui_env.create_bot("Existing", "en", {"name": "Existing"})
    at = app()
    assert not at.radio, "the setup is for the first run only"
    assert at.text_input(key="create_name") is not None
