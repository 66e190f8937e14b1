"""The Tests page and the publish gate on the Publish page, through Streamlit's AppTest against
a real server. The bot answers extractively, so no model is called and results are exact."""

from __future__ import annotations

import json
import time

import pandas as pd

from tests.builder import test_pages
from tests.builder.test_pages import app, goto, texts

ui_env = test_pages.ui_env  # the same fixture: a real server, the builder pointed at it

# With no documents, the extractive bot gives its fallback to everything: the refusal case
# passes and the facts case fails, a pass rate of 50% (below the gate's default 80%).
CASES = [
    {"question": "What is the capital of Mars?", "must_refuse": True},
    {"question": "What does PerksPlus pay for?", "expected_facts": ["gym memberships"]},
]


def jsonl(cases: list[dict]) -> bytes:
    return "".join(json.dumps(c) + "\n" for c in cases).encode()


def table(at, column: str) -> pd.DataFrame:
    """The page's table with this column (AppTest does not keep a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def extractive_bot(client):
    return client.create_bot("Tested", "en", {"name": "Tested", "answer": {"style": "extractive"}})


def test_import_run_and_scorecard(ui_env):
    client = ui_env
    bot = extractive_bot(client)
    bid = bot.id
    at = app()
    goto(at, "tests")
    assert "No test set yet" in texts(at)

    # A file with a bad line is refused whole, the line named, and nothing is kept.
    bad = jsonl(CASES) + b'{"question": ""}\n'
    at.file_uploader(key=f"import_file_{bid}").set_value([("faq.jsonl", bad, "application/jsonl")])
    at.button(key=f"import_submit_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert any("line 3" in e.value for e in at.error), [e.value for e in at.error]
    assert client.test_sets(bid).sets == []

    at.file_uploader(key=f"import_file_{bid}").set_value([("faq.jsonl", jsonl(CASES), "application/jsonl")])
    at.button(key=f"import_submit_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Imported 2 case(s) into faq" in s.value for s in at.success)
    assert [(s.name, s.cases) for s in client.test_sets(bid).sets] == [("faq", 2)]
    sets_table = table(at, "Cases")
    assert sets_table.values.tolist()[0][:2] == ["faq", 2]
    cases_table = table(at, "must_refuse")
    assert "What is the capital of Mars?" in cases_table.iloc[:, 0].tolist()

    at.selectbox(key=f"run_set_{bid}").select("faq")
    at.button(key=f"run_go_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Pass rate"] == "50%"
    assert (metrics["Passed"], metrics["Failed"], metrics["Errored"]) == ("1", "1", "0")
    rows = table(at, "Result").values.tolist()
    assert rows[0][0] == "failed" and rows[0][2] == "What does PerksPlus pay for?", "failures come first"
    assert "facts:" in rows[0][3], "the failed check's reason is shown"

    # A second run: the comparison appears, with the same case unchanged.
    at.button(key=f"run_go_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert "Unchanged (2)" in texts(at) and "Regressions (0)" in texts(at)

    at.session_state["lang"] = "fr"
    at.run()
    assert not at.exception, at.exception
    assert {m.label for m in at.metric} >= {"Taux de réussite", "Réussis", "Échoués", "En erreur"}
    assert "Inchangés (2)" in texts(at)

    # The gate: only the chosen sets, and the minimum set on the page, reach the server.
    at.checkbox(key=f"gate_every_{bid}").uncheck()
    at.multiselect(key=f"gate_sets_{bid}").select("faq")
    at.slider(key=f"gate_min_{bid}").set_value(60)
    at.button(key=f"gate_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    gate = client.gate(bid)
    assert (gate.set_names, gate.min_pass_rate, gate.enabled) == (["faq"], 0.6, True)


def test_refused_publish_offers_an_override(ui_env):
    client = ui_env
    bot = extractive_bot(client)
    bid = bot.id
    client.import_test_set(bid, "faq", jsonl(CASES).decode())
    at = app()
    goto(at, "publish")
    assert any("tested on faq (2 case(s))" in i.value for i in at.info), [i.value for i in at.info]

    at.text_input(key=f"pub_note_{bid}").input("first")
    at.button(key=f"pub_submit_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert client.versions(bid).published_version is None
    assert any("refused" in e.value and "below the minimum" in e.value for e in at.error)
    failing = table(at, "Result").values.tolist()
    assert [r[1] for r in failing] == ["What does PerksPlus pay for?"]

    at.button(key=f"pub_override_go_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert client.versions(bid).published_version is None, "no override without a reason"
    assert any("Write why" in w.value for w in at.warning)

    at.text_area(key=f"pub_override_{bid}").input("the PerksPlus document comes next week")
    at.button(key=f"pub_override_go_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    listing = client.versions(bid)
    assert listing.published_version == 1
    assert listing.versions[0].override_note == "the PerksPlus document comes next week"
    assert any("Version 1 is live" in s.value for s in at.success)
    assert not at.error, "the refusal is gone once published"


def test_an_experiment_on_the_tests_page_and_promoting_its_better_variant(ui_env):
    client = ui_env
    bot = extractive_bot(client)
    bid = bot.id
    client.import_test_set(bid, "faq", jsonl(CASES).decode())
    at = app()
    goto(at, "tests")
    assert "No judge model" not in texts(at), "no run yet, no scorecard"
    # Without documents, a variant that always refuses passes the refusal case only (50%);
    # one that never refuses (min relevance -1) answers Mars too, and fails both.
    at.text_area(key=f"exp_variants_{bid}").input(
        "- name: default\n- name: never-refuses\n  retrieval: {min_relevance: -1.0}\n"
    )
    at.button(key=f"exp_go_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    deadline = time.monotonic() + 60
    while client.experiments(bid).experiments[0].status == "running":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    at.run()
    assert not at.exception, at.exception
    rows = table(at, "Variant")
    assert rows["Variant"].tolist() == ["default", "never-refuses"]
    assert rows["Pass rate"].tolist()[0] == 0.5
    assert at.selectbox(key=f"exp_pick_{bid}").value == "default", "the best variant is proposed"
    at.selectbox(key=f"exp_pick_{bid}").select("never-refuses")
    at.button(key=f"exp_promote_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert client.bot(bid).spec["retrieval"]["min_relevance"] == -1.0
    assert any("Variant never-refuses is now the draft" in s.value for s in at.success)


HISTORY = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}]


def test_cases_are_edited_inline_and_saved_to_the_server(ui_env):
    client = ui_env
    bid = extractive_bot(client).id
    client.import_test_set(bid, "faq", jsonl([{**CASES[0], "history": HISTORY}, CASES[1]]).decode())
    at = app()
    goto(at, "tests")
    editor = f"cases_edit_{bid}_0"
    assert [d.key for d in at.data_editor] == [editor]
    # Streamlit's own edit state, as the browser sends it: one cell changed, a row added, none deleted.
    at.session_state[editor] = {
        "edited_rows": {1: {"expected_facts": "gym memberships | yoga classes", "must_pass": True}},
        "added_rows": [{"question": "Do you ship abroad?", "tags": "shipping|abroad"}],
        "deleted_rows": [],
    }
    at.button(key=f"cases_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert client.export_test_set(bid, "faq").cases == [
        {**CASES[0], "history": HISTORY},  # the history the table does not show is kept
        {
            "question": "What does PerksPlus pay for?",
            "expected_facts": ["gym memberships", "yoga classes"],
            "must_pass": True,
        },
        {"question": "Do you ship abroad?", "tags": ["shipping", "abroad"]},
    ]
    assert any("Saved 3 case(s) in faq" in s.value for s in at.success)
    # The editor starts again from what the server now holds.
    assert table(at, "must_refuse")["question"].tolist()[2] == "Do you ship abroad?"

    # Deleting a row.
    at.session_state[f"cases_edit_{bid}_1"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [2]}
    at.button(key=f"cases_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert [c["question"] for c in client.export_test_set(bid, "faq").cases] == [c["question"] for c in CASES]


def test_a_row_added_where_one_was_deleted_does_not_take_its_history(ui_env):
    client = ui_env
    bid = extractive_bot(client).id
    client.import_test_set(bid, "faq", jsonl([CASES[1], {**CASES[0], "history": HISTORY}]).decode())
    at = app()
    goto(at, "tests")
    # Streamlit gives the added row the deleted last row's index: the history must not follow it.
    at.session_state[f"cases_edit_{bid}_0"] = {
        "edited_rows": {},
        "added_rows": [{"question": "Can I pay later?"}],
        "deleted_rows": [1],
    }
    at.button(key=f"cases_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert client.export_test_set(bid, "faq").cases == [CASES[1], {"question": "Can I pay later?"}]


def test_a_refused_edit_shows_the_servers_sentence_and_keeps_the_edits(ui_env):
    client = ui_env
    bid = extractive_bot(client).id
    client.import_test_set(bid, "faq", jsonl(CASES).decode())
    at = app()
    goto(at, "tests")
    editor = f"cases_edit_{bid}_0"
    edits = {"edited_rows": {0: {"question": "  "}, 1: {"tags": "perks"}}, "added_rows": [], "deleted_rows": []}
    at.session_state[editor] = edits
    at.button(key=f"cases_save_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("line 1" in e and "the question is empty" in e for e in errors), errors
    assert client.export_test_set(bid, "faq").cases == CASES, "nothing is kept"
    assert not at.success
    # Same editor, same edits: the user corrects the question rather than typing it all again.
    assert [d.key for d in at.data_editor] == [editor]
    assert at.session_state[editor]["edited_rows"] == {"0": {"question": "  "}, "1": {"tags": "perks"}} or (
        at.session_state[editor]["edited_rows"] == edits["edited_rows"]
    )


def finished_run(client, bid: str) -> str:
    run_id = client.start_eval_run(bid, "draft", "faq").run_id
    deadline = time.monotonic() + 120
    while client.eval_run(bid, run_id).status != "done":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    return run_id


def test_the_comparison_shows_both_answers_of_a_regression(ui_env):
    from builder.plain_text import escape_markdown
    from builder.word_diff import word_diff

    client = ui_env
    mars = "What is the capital of Mars?"
    spec = {"name": "Tested", "answer": {"style": "extractive"}, "fallback": {"message": "Sorry, I cannot help."}}
    bid = client.create_bot("Tested", "en", spec).id
    client.import_test_set(bid, "faq", jsonl([{"question": mars, "must_refuse": True}]).decode())
    first = finished_run(client, bid)
    # The same question now wants a fact the bot cannot give, and the fallback is reworded
    # (with Markdown in it, shown as text): a regression whose two answers differ.
    worded = "Sorry, I only know *our* products: ![x](https://tracker.example/p.png)"
    client.update_bot(bid, spec={**spec, "fallback": {"message": worded}})
    client.import_test_set(bid, "faq", jsonl([{"question": mars, "expected_facts": ["Olympus"]}]).decode())
    second = finished_run(client, bid)
    old, new = (client.eval_run(bid, r).cases_detail[0].answer for r in (first, second))
    assert (old, new) == ("Sorry, I cannot help.", worded)

    at = app()
    goto(at, "tests")
    assert "Regressions (1): passed before, fail now" in texts(at)
    opened = [e for e in at.expander if e.label == escape_markdown(f"faq · {mars}")]
    assert len(opened) == 1, [e.label for e in at.expander]
    shown = [m.value for m in opened[0].markdown]
    left, right = word_diff(old, new)
    assert shown == ["**Before \\(passed\\)**", left, "**After \\(failed\\)**", right], shown
    assert left == "Sorry, I :red-background[cannot help\\.]"
    assert right.startswith("Sorry, I :green-background[only know \\*our\\* products\\: \\!\\[x\\]")
