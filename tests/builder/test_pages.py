"""Every builder page through Streamlit's AppTest, against a real server on a free port."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bots.cli.client import AdminClient
from tests.scripted_openai import Reply

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture
def ui_env(live_server, monkeypatch):
    monkeypatch.setenv("PROMPTEUR_SERVER_URL", live_server.url)
    monkeypatch.setenv("PROMPTEUR_HOME", str(live_server.home))
    monkeypatch.setenv("PROMPTEUR_UI_LANGUAGE", "en")
    client = AdminClient(live_server.url, live_server.admin_token)
    yield client
    client.close()


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"builder/pages/{page}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def rerun_until(at: AppTest, shown, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not shown():
        assert time.monotonic() < deadline, "the page never showed it"
        time.sleep(1)
        at.run()
        assert not at.exception, at.exception


def texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown]
        + [e.value for e in at.error]
        + [s.value for s in at.success]
        + [i.value for i in at.info]
        + [c.value for c in at.caption]
    )


def test_newcomer_path(ui_env, model):
    client = ui_env
    at = app()
    # First run: the setup asks which model answers; the offline default goes straight on.
    at.button(key="setup_continue").click()
    at.run()
    assert at.info and "No bot yet" in at.info[0].value

    at.text_input(key="create_name").input("Shop help")
    at.selectbox(key="create_template").select("retail")
    at.button(key="create_submit").click()
    at.run()
    assert not at.exception, at.exception
    [bot] = client.bots()
    assert bot.spec["persona"]["company"] == "Acme Store"
    assert at.session_state["bot_id"] == bot.id
    assert any(bot.id in str(row) for row in at.dataframe[0].value.values.tolist())

    goto(at, "persona")
    assert at.text_input(key=f"p_company_{bot.id}_0").value == "Acme Store"
    assert "Acme Store" in at.code[0].value and "passage" in at.code[0].value
    assert at.button(key=f"persona_save_{bot.id}").disabled, "nothing changed yet"
    at.text_input(key=f"p_tone_{bot.id}_0").input("calm and brief")
    at.run()
    assert "calm and brief" in at.code[0].value, "the preview follows the form before saving"
    at.button(key=f"persona_save_{bot.id}").click()
    at.run()
    assert not at.exception, at.exception
    assert client.bot(bot.id).spec["persona"]["tone"] == "calm and brief"
    assert "calm and brief" in at.code[0].value

    goto(at, "knowledge")
    pdf = (FIXTURES / "PerksPlus.pdf").read_bytes()
    at.file_uploader(key="kn_files").set_value([("PerksPlus.pdf", pdf, "application/pdf")])
    at.button(key="upload_submit").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    # The page follows the upload without blocking: the browser reruns its progress panel,
    # here the test reruns the page until the outcome shows.
    rerun_until(at, lambda: any("ready to answer" in s.value for s in at.success))
    [doc] = client.documents(bot.id)
    assert doc.status == "ready" and doc.chunks > 0

    at.text_input(key="search_query").input("What does PerksPlus pay for?")
    at.button(key="search_submit").click()
    at.run()
    assert not at.exception, at.exception
    assert "PerksPlus.pdf" in texts(at)

    # The provider is the one part we don't own: a scripted OpenAI-compatible server stands in,
    # set up through the Settings page like a user would point the bot at Ollama or vLLM.
    goto(at, "settings")
    bid = bot.id
    limits = at.table[0].value
    assert "Longest customer message (characters)" in limits.iloc[:, 0].tolist()
    assert "2000" in limits.iloc[:, 1].tolist(), "the server's own limit is shown, not a guess"
    assert not [w for w in at.text_input if w.key == f"set_base_url_{bid}"], "the bundled model has no base URL"
    at.selectbox(key=f"set_provider_{bid}").select("openai_compatible")
    at.run()
    at.text_input(key=f"set_model_{bid}").input("scripted")
    at.text_input(key=f"set_base_url_{bid}").input(model.base_url)
    at.text_input(key=f"set_key_{bid}_0").input("sk-provider-secret")
    at.number_input(key=f"set_k_{bid}").set_value(4)
    at.button(key=f"settings_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    stored = client.bot(bid).spec
    assert stored["retrieval"]["k"] == 4 and stored["model"]["base_url"] == model.base_url
    assert "sk-provider-secret" not in str(stored), "a provider key is never shown back"
    assert "sk-provider-secret" not in str([w.value for w in at.text_input])
    assert at.text_input(key=f"set_key_{bid}_1").placeholder.startswith("A key is saved")

    # Every answer runs into the token limit: the page says so, and the customer's text ends whole.
    model.queue(
        *[Reply.cut_by_limit("PerksPlus pays for fitness programs such as gym memberships [1]. It also pays for ski")]
        * 3
    )
    goto(at, "playground")
    at.chat_input(key=f"pg_input_{bot.id}").set_value("What does PerksPlus pay for?")
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.chat_message) == 2
    page = texts(at)
    assert "PerksPlus.pdf" in page, "the passages behind the answer are shown"
    assert "Latency" in page and "fallback** no" in page
    assert "gym memberships." in page and "ski" not in page
    assert "reached its length limit (256 tokens)" in page

    goto(at, "publish")
    at.text_input(key=f"pub_note_{bot.id}").input("first version")
    at.button(key=f"pub_submit_{bot.id}").click()
    at.run()
    assert not at.exception, at.exception
    assert client.versions(bot.id).published_version == 1
    assert any("Version 1 is live" in s.value for s in at.success)
    at.selectbox(key=f"key_kind_{bot.id}").select("publishable")
    at.button(key=f"key_create_{bot.id}").click()
    at.run()
    assert not at.exception, at.exception
    snippet = next(c.value for c in at.code if "widget.js" in c.value)
    assert f'data-bot="{bot.id}"' in snippet and 'data-key="pk_' in snippet
    assert "pk_YOUR_PUBLISHABLE_KEY" not in snippet, "the key just created fills the snippet"
    assert any("openai" in c.value and bot.id in c.value for c in at.code)

    goto(at, "playground")
    at.segmented_control(key=f"pg_mode_{bot.id}").set_value("compare")
    at.chat_input(key=f"pg_input_{bot.id}").set_value("What does PerksPlus pay for?")
    at.run()
    assert not at.exception, at.exception
    assert {"Draft", "Published v1"} <= {c.value for c in at.caption}

    goto(at, "conversations")
    assert not at.error, [e.value for e in at.error]
    # Customers' conversations by default: these are all the playground's.
    at.segmented_control(key=f"cv_channel_{bot.id}").set_value("playground")
    at.run()
    assert "conversation(s)" in texts(at)
    assert "cut at the 256-token limit" in texts(at)


def test_errors_are_sentences_not_tracebacks(ui_env, live_server):
    client = ui_env
    bot = client.create_bot("Empty", "en", {"name": "Empty"})
    at = app()
    goto(at, "knowledge")
    at.file_uploader(key="kn_files").set_value(
        [("virus.exe", b"MZ\x00", "application/octet-stream"), ("empty.txt", b"", "text/plain")]
    )
    at.button(key="upload_submit").click()
    at.run()
    assert not at.exception, at.exception
    # One refused at upload, one failed while being read: both said together once the job ends
    # (the page follows it without blocking, so the test reruns the page until then).
    # The refusal shows at once; wait for the job's outcome, which says both.
    rerun_until(at, lambda: any("empty.txt" in e.value for e in at.error))
    errors = " ".join(e.value for e in at.error)
    assert "virus.exe" in errors and "empty.txt" in errors

    live_server.stop()
    at.run()
    assert not at.exception, at.exception
    assert any("Cannot reach the Prompteur server" in e.value for e in at.error)
    assert bot.id


def test_french_interface_and_yaml_round_trip(ui_env):
    client = ui_env
    at = app()
    at.session_state["lang"] = "fr"
    at.run()
    at.button(key="setup_continue").click()  # first run: the offline default
    at.run()
    at.text_input(key="create_name").input("Mairie")
    at.selectbox(key="create_template").select("public_service")
    at.selectbox(key="create_language").select("fr")
    at.button(key="create_submit").click()
    at.run()
    assert not at.exception, at.exception
    assert "Supprimer le bot" in [b.label for b in at.button]
    [bot] = client.bots()
    assert bot.spec["persona"]["company"] == "Services de la Ville"
    exported = at.get("download_button")[0]
    assert exported is not None

    at.button(key="duplicate").click()
    at.run()
    assert not at.exception, at.exception
    assert sorted(b.name for b in client.bots()) == ["Copie de Mairie", "Mairie"]


def test_answer_style_guard_and_demo_quality(ui_env, model):
    """The support lead picks how answers are written, sees when the bundled model would write
    them (demo quality), and sees in the playground which claim made the guard act."""
    client = ui_env
    bot = client.create_bot("Shop", "en", {"name": "Shop"})  # the bundled model: quoting by default
    bid = bot.id
    at = app()
    goto(at, "settings")
    assert "Demo quality" not in texts(at), "the bundled model quotes: nothing generated to warn about"
    assert at.selectbox(key=f"set_answer_style_{bid}").value == "auto"
    at.selectbox(key=f"set_answer_style_{bid}").select("generative")
    at.selectbox(key=f"set_answer_guard_{bid}").select("flag")
    at.number_input(key=f"set_answer_max_chars_{bid}").set_value(500)
    at.button(key=f"settings_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert client.bot(bid).spec["answer"] == {
        "style": "generative",
        "guard": "flag",
        "max_chars": 500,
        "negation_check": False,
    }
    assert "Demo quality" in texts(at), "the bundled model now writes: a demo, not for customers"

    # A model of one's own (the scripted one) that invents a fee: the guard replaces it.
    assert not [w for w in at.text_input if w.key == f"set_base_url_{bid}"], "the bundled model has no base URL"
    at.selectbox(key=f"set_provider_{bid}").select("openai_compatible")
    at.run()
    at.text_input(key=f"set_model_{bid}").input("scripted")
    at.text_input(key=f"set_base_url_{bid}").input(model.base_url)
    at.selectbox(key=f"set_answer_guard_{bid}").select("replace")
    at.button(key=f"settings_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert "Demo quality" not in texts(at)
    client.upload_files(bid, [("shop_help.md", (FIXTURES / "shop_help.md").read_bytes())])
    wait_ready(client, bid)

    model.queue(Reply.answer("A return costs 15 euros and is accepted within 30 days [1]."))
    goto(at, "playground")
    at.chat_input(key=f"pg_input_{bid}").set_value("Can I return an item for a refund?")
    at.run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "Unused items can be returned within 30 days" in page, "the quoted answer is shown"
    assert "15 euros" not in "\n".join(m.value for m in at.markdown)
    warnings = " ".join(w.value for w in at.warning)
    assert "amount “15 euros”" in warnings and "replaced by quotes" in warnings
    assert "Quoted from your documents" in page and "Written by the model." not in page


def wait_ready(client, bot_id: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        docs = client.documents(bot_id)
        if docs and all(d.status == "ready" for d in docs):
            return
        time.sleep(0.5)
    raise AssertionError("the document was not ingested in time")


def test_the_why_panel_says_why_a_close_corrected_answer_was_not_used(ui_env):
    """Issue #14: a corrected answer about 30 days, a customer asking about 60 days."""
    client = ui_env
    spec = {"name": "Shop", "corrections": {"threshold": 0.5, "floor": 0.3}}  # any close match passes
    bid = client.create_bot("Shop", "en", spec).id
    client.add_corrected_answer(bid, "Can I return an item within 30 days?", "Yes: within 30 days of delivery.")
    at = goto(app(), "playground")
    at.chat_input(key=f"pg_input_{bid}").set_value("Can I return an item within 60 days?")
    at.run()
    assert not at.exception, at.exception
    assert "the question names 60, the approved one names 30" in texts(at)
