"""The Answers and Review pages through Streamlit's AppTest, against a real server: a corrected
answer with its hit count, a fallback in the review inbox, marked reviewed from the page."""

from __future__ import annotations

from tests.builder.test_pages import app, goto, texts, ui_env  # noqa: F401  (ui_env is a fixture)


def test_answers_and_review_pages(ui_env):  # noqa: F811
    client = ui_env
    bot = client.create_bot("Pages shop", spec={"answer": {"style": "extractive"}})
    client.add_corrected_answer(bot.id, "Can I pay with a gift card?", "Yes, everywhere.", ["Gift cards?"])
    client.playground(bot.id, "Can I pay with a gift card?")  # one hit
    client.playground(bot.id, "Who won the world cup in 1998?")  # nothing to answer from: a fallback

    at = goto(app(), "answers")
    labels = [e.label for e in at.expander]
    assert any("Can I pay with a gift card?" in label for label in labels), labels
    assert "Used 1 times" in texts(at)

    at = goto(at, "review")
    labels = [e.label for e in at.expander]
    assert any(label.startswith("fallback") and "world cup" in label for label in labels), labels
    assert "1 to review" in texts(at)
    mark = next(b for b in at.button if b.label == "Mark reviewed")
    mark.click()
    at.run()
    assert not at.exception, at.exception
    assert "Nothing to review." in texts(at)
    assert client.review_inbox(bot.id).items == []
