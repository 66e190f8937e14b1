"""The playground's "why" names the sibling that made the corrected-answer check strict (issue
#14, families of templated questions), through AppTest against a real server (extractive
bot: no model)."""

from __future__ import annotations

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
