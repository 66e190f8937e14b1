"""The support lead's first hour (issues #12 part 4 and #15): first-run setup with a connection
test, the streaming playground, per-file upload progress, and the pages after it."""

from __future__ import annotations

from tests.builder.test_pages import (  # noqa: F401 (fixtures)
    FIXTURES,
    app,
    goto,
    rerun_until,
    texts,
    ui_env,
    wait_ready,
)
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
    # The new bot shows its path, and what is left.
    assert "Next step: 1. Persona" in texts(at)
    assert [c.value for c in at.caption if c.value.endswith(("Done", "To do"))] == [
        ":material/radio_button_unchecked: To do"
    ] * 4


def test_no_setup_once_a_bot_exists(ui_env):  # noqa: F811
    ui_env.create_bot("Existing", "en", {"name": "Existing"})
    at = app()
    assert not at.radio, "the setup is for the first run only"
    assert at.text_input(key="create_name") is not None


RETURNS = "Can I return an item for a refund?"


def generative_bot(client, model, **model_settings):  # noqa: F811
    """A bot whose answers the scripted model writes, with the shop's help page indexed."""
    spec = {
        "name": "Shop",
        "model": {"provider": "openai_compatible", "model": "scripted", "base_url": model.base_url, **model_settings},
    }
    bot = client.create_bot("Shop", "en", spec)
    client.upload_files(bot.id, [("shop_help.md", (FIXTURES / "shop_help.md").read_bytes())])
    wait_ready(client, bot.id)
    return bot


def test_playground_streams_and_a_failure_keeps_the_question_and_says_where_to_fix_it(ui_env, model):  # noqa: F811
    client = ui_env
    bot = generative_bot(client, model, timeout_s=1.0, max_retries=0)
    at = app()
    goto(at, "playground")

    model.queue(Reply.stream(["Unused items ", "can be returned ", "within 30 days [1]."]))
    at.chat_input(key=f"pg_input_{bot.id}").set_value(RETURNS)
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "Unused items can be returned within 30 days." in texts(at)
    assert "shop_help.md" in texts(at), "the stored reply, with its sources, replaces the stream"
    assert model.requests[-1]["stream"] is True, "the model was asked to stream"

    model.queue(Reply.hang(5))
    at.chat_input(key=f"pg_input_{bot.id}").set_value("How long does delivery take?")
    at.run()
    assert not at.exception, at.exception
    assert "How long does delivery take?" in texts(at), "the question stays on screen"
    assert len(at.chat_message) == 4
    [error] = at.error
    assert "longer than the 1 s it is allowed" in error.value and "Settings page" in error.value
    assert "model_timeout" not in error.value, "codes only in the details toggle"
    assert any(c.value.startswith("model_timeout") for c in at.code)


def test_upload_shows_each_file_and_its_step_without_blocking_the_page(ui_env):  # noqa: F811
    client = ui_env
    bot = client.create_bot("Shop", "en", {"name": "Shop"})
    at = app()
    goto(at, "knowledge")
    pdf = (FIXTURES / "PerksPlus.pdf").read_bytes()
    md = (FIXTURES / "shop_help.md").read_bytes()
    at.file_uploader(key="kn_files").set_value(
        [("PerksPlus.pdf", pdf, "application/pdf"), ("shop_help.md", md, "text/markdown")]
    )
    at.button(key="upload_submit").click()
    at.run()
    assert not at.exception, at.exception
    # The run returned while the job goes on: one line per file, each with its own step.
    lines = [m.value for m in at.markdown if "**PerksPlus.pdf**" in m.value or "**shop_help.md**" in m.value]
    assert len(lines) == 2, [m.value for m in at.markdown]
    steps = (
        "reading the file",
        "cutting it into passages",
        "embedding passage",
        "making it searchable",
        "waiting its turn",
        "ready",
    )
    assert all(any(s in line for s in steps) for line in lines), lines
    assert at.text_input(key="search_query") is not None, "the rest of the page is there meanwhile"
    rerun_until(at, lambda: any("2 document(s) ready" in s.value for s in at.success))
    assert {d.status for d in client.documents(bot.id)} == {"ready"}


def test_conversations_leave_the_playground_out_unless_asked(ui_env):  # noqa: F811
    client = ui_env
    bot = client.create_bot("Shop", "en", {"name": "Shop"})  # no documents: a fallback, no model call
    client.playground(bot.id, "Do you sell gift cards?")
    at = app()
    goto(at, "conversations")
    assert at.segmented_control(key=f"cv_channel_{bot.id}").value == "customers"
    assert "No conversation matches" in texts(at), "the support lead's own tries are not customers'"
    at.segmented_control(key=f"cv_channel_{bot.id}").set_value("playground")
    at.run()
    assert not at.exception, at.exception
    [table] = [d for d in at.dataframe]
    assert table.value.iloc[0]["Channel"] == "Playground" and "gift cards" in table.value.iloc[0].iloc[1]


def test_unsaved_persona_edits_survive_leaving_the_page(ui_env):  # noqa: F811
    client = ui_env
    bot = client.create_bot("Shop", "en", {"name": "Shop"})
    at = app()
    goto(at, "persona")
    at.text_input(key=f"p_tone_{bot.id}_0").input("calm and brief")
    at.run()
    assert any("Unsaved changes" in w.value for w in at.warning)
    goto(at, "knowledge")
    assert any("Persona: unsaved changes" in w.value for w in at.sidebar.warning), "said on every page"
    goto(at, "persona")
    assert at.text_input(key=f"p_tone_{bot.id}_0").value == "calm and brief", "the edit is still there"
    at.button(key=f"persona_save_{bot.id}").click()
    at.run()
    assert client.bot(bot.id).spec["persona"]["tone"] == "calm and brief"
    assert not at.sidebar.warning and not any("Unsaved" in w.value for w in at.warning)
