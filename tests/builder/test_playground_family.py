"""The playground's "why" names the sibling that made the corrected-answer check strict (issue
#14, families of templated questions), through AppTest against a real server (extractive
bot: no model)."""

from __future__ import annotations

import time

from tests.builder import test_pages
from tests.builder.test_pages import app, goto

ui_env = test_pages.ui_env  # a real server, the builder pointed at it


def test_the_why_names_the_sibling_of_a_refused_corrected_answer(ui_env):
    client = ui_env
    spec = {
        "name": "Pharmacy",
        "answer": {"style": "extractive"},
        # A threshold every question here passes: only the family rule tells them apart.
        "corrections": {"threshold": 0.5, "floor": 0.3, "family_margin": 0.3},
    }
    bid = client.create_bot("Pharmacy", "en", spec).id
    for drug, answer in (
        ("lithium", "No: ibuprofen raises lithium levels; ask your doctor first."),
        ("antidepressants", "Yes, for a few days, unless your doctor said otherwise."),
    ):
        client.add_corrected_answer(bid, f"Can I take ibuprofen while on {drug}?", answer)
    at = app()
    goto(at, "playground")
    at.chat_input(key=f"pg_input_{bid}").set_value("Can I take ibuprofen while on antipsychotics?")
    at.run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert any("Corrected answer not used word for word" in c for c in captions), captions
    assert any(
        "Another corrected answer is about as close" in c and "Can I take ibuprofen while on" in c for c in captions
    ), captions


def test_the_why_says_when_the_knowledge_answers_the_question_itself(ui_env):
    # The bot holds one member of the family as a corrected answer, the other only as an FAQ
    # entry of its documents: the look-alike refuses it, and the why says so (not "another
    # corrected answer", not "given as a passage").
    client = ui_env
    spec = {
        "name": "Pharmacy FAQ",
        "answer": {"style": "extractive"},
        "corrections": {"threshold": 0.5, "floor": 0.3, "family_margin": 0.3},
    }
    bid = client.create_bot("Pharmacy FAQ", "en", spec).id
    faq = (
        b"# Medicines\n\n## Can I take ibuprofen while on lithium?\n\nNo: ask your doctor first.\n\n"
        b"## Can I take ibuprofen while on antidepressants?\n\nYes, for a few days.\n"
    )
    job_id = client.upload_files(bid, [("medicines.md", faq)]).job_id
    assert job_id
    deadline = time.monotonic() + 120
    while client.job(job_id).status not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.job(job_id).status == "done"
    client.add_corrected_answer(bid, "Can I take ibuprofen while on lithium?", "No. Call us before taking it.")
    at = app()
    goto(at, "playground")
    at.chat_input(key=f"pg_input_{bid}").set_value("Can I take ibuprofen while on antidepressants?")
    at.run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption]
    assert any(
        "an FAQ entry of the knowledge asks a question as close or closer" in c
        and "Can I take ibuprofen while on antidepressants?" in c
        for c in captions
    ), captions
    assert not any("given as a passage" in c for c in captions), captions
