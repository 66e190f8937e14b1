"""The Analytics page through Streamlit's AppTest against a real server: resolution numbers
and knowledge gaps from real conversations. The bot answers extractively and has no
documents, so every answer is its fallback and the numbers are exact."""

from __future__ import annotations

from tests.builder import test_pages
from tests.builder.test_pages import app, goto, texts

ui_env = test_pages.ui_env  # the same fixture: a real server, the builder pointed at it

REFUND = ["How do I get a refund?", "I want a refund for my order", "can I get a refund please"]


def test_resolution_and_gaps_of_playground_conversations(ui_env):
    client = ui_env
    bot = client.create_bot("Shop", "en", {"name": "Shop", "answer": {"style": "extractive"}})
    bid = bot.id
    for question in REFUND:
        assert client.playground(bid, question).fallback

    at = app()
    goto(at, "analytics")
    # The playground is the team's own tries: left out until asked for.
    assert "No conversations in this period." in texts(at)
    assert "No badly answered question in this period." in texts(at)

    at.checkbox(key=f"an_playground_{bid}").check()
    at.run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Conversations"] == "3" and metrics["Questions"] == "3"
    assert metrics["Resolution rate"] == "0%" and metrics["Fallbacks"] == "100%"
    assert metrics["Estimated cost"] == "$0.0000"  # the bundled model
    assert "Resolution rate: the share of conversations" in texts(at)

    topics = [e.label for e in at.expander]
    assert len(topics) == 1 and "refund" in topics[0] and "— 3 · new" in topics[0], topics
    assert "fallback 3" in texts(at)
    assert "The bot has no passage on this." in texts(at)
    answer_box = at.text_area(key=f"an_answer_{bid}_0")
    if not hasattr(client, "add_corrected_answer"):
        assert answer_box.disabled
        assert "Available once corrected answers exist on this server." in texts(at)

    at.button(key=f"an_todo_md_{bid}").click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
