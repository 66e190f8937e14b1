""" "Add to test set" in the builder: the one component under an answer in the Playground and
in the Conversations page, through AppTest against a real server (extractive bot: no model)."""

from __future__ import annotations

from tests.builder import test_pages
from tests.builder.test_pages import app, goto

ui_env = test_pages.ui_env  # a real server, the builder pointed at it


def test_an_answer_becomes_a_case_from_the_playground_and_the_conversations_page(ui_env):
    client = ui_env
    bot = client.create_bot("Tested", "en", {"name": "Tested", "answer": {"style": "extractive"}})
    bid = bot.id
    at = app()
    goto(at, "playground")
    at.chat_input(key=f"pg_input_{bid}").set_value("What is the capital of Mars?")
    at.run()
    assert not at.exception, at.exception
    [conversation] = client.conversations(bid).conversations
    answer = client.conversation(bid, conversation.id).messages[-1]
    mid = answer.id
    # The form is filled: the question asked, the bot's answer offered as the reference.
    assert at.text_input(key=f"att_question_{mid}").value == "What is the capital of Mars?"
    assert at.text_area(key=f"att_reference_{mid}").value == answer.content
    at.text_area(key=f"att_reference_{mid}").input("We only answer about our products.")
    at.button(key=f"att_add_{mid}").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Added to main (1 cases)." in s.value for s in at.success), [s.value for s in at.success]
    assert client.export_test_set(bid, "main").cases == [
        {"question": "What is the capital of Mars?", "reference_answer": "We only answer about our products."}
    ]

    goto(at, "conversations")
    # The page shows customers' conversations by default; this one is the playground's.
    at.segmented_control(key=f"cv_channel_{bid}").set_value("playground")
    at.run()
    assert at.text_input(key=f"att_question_{mid}").value == "What is the capital of Mars?"
    at.text_input(key=f"att_new_set_{mid}").input("refusals")
    at.button(key=f"att_add_{mid}").click()
    at.run()
    assert not at.exception, at.exception
    assert [s.name for s in client.test_sets(bid).sets] == ["main", "refusals"]
    [case] = client.export_test_set(bid, "refusals").cases
    assert case["reference_answer"] == answer.content
