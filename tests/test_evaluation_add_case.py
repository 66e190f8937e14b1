""" "Add to test set": one case from a conversation message (the question asked, the bot's
answer as the reference, the earlier turns as history), or typed in from the CLI."""

from __future__ import annotations

import json

from bots.cli import main as cli
from bots.cli.client import AdminClient
from tests.public_api_support import make_bot
from tests.scripted_openai import Reply


def _ask(api, bot, message, conversation_id=None) -> dict:
    body = {"message": message, "version": "draft", **({"conversation_id": conversation_id} if conversation_id else {})}
    r = api.post(f"/admin/bots/{bot}/playground", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_case_from_an_answer_takes_its_question_answer_and_earlier_turns(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    model.queue(Reply.answer("Refunds take 5 business days [1]."), Reply.answer("Express costs 9 euros [1]."))
    first = _ask(api, bot, "How long do refunds take?")
    second = _ask(api, bot, "And express delivery?", first["conversation_id"])

    r = api.post(
        f"/admin/bots/{bot}/test-sets/from chats/cases",
        json={"message_id": second["message_id"], "expected_sources": ["shop_help.md"]},
    )
    assert r.status_code == 201, r.text
    added = r.json()
    assert added["set"] == "from chats" and added["cases"] == 1
    assert added["case"] == {
        "question": "And express delivery?",
        "reference_answer": second["answer"],
        "expected_sources": ["shop_help.md"],
        "history": [
            {"role": "user", "content": "How long do refunds take?"},
            {"role": "assistant", "content": first["answer"]},
        ],
    }
    # What the caller gives wins over the message; the case goes at the end of the set.
    r = api.post(
        f"/admin/bots/{bot}/test-sets/from chats/cases",
        json={"message_id": first["message_id"], "reference_answer": "Five business days."},
    )
    assert r.json()["cases"] == 2 and r.json()["case"]["reference_answer"] == "Five business days."
    exported = api.get(f"/admin/bots/{bot}/test-sets/from chats").json()["cases"]
    assert [c["question"] for c in exported] == ["And express delivery?", "How long do refunds take?"]


def test_bad_input_gets_a_clear_error_and_adds_nothing(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    other = make_bot(api, model.base_url, name="Other", publish=False)
    model.queue(Reply.answer("Refunds take 5 business days [1]."))
    theirs = _ask(api, other, "How long do refunds take?")
    r = api.post(f"/admin/bots/{bot}/test-sets/main/cases", json={"message_id": theirs["message_id"]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "message_not_found"
    r = api.post(f"/admin/bots/{bot}/test-sets/main/cases", json={"reference_answer": "no question"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_test_cases"
    assert "question" in r.json()["error"]["message"]
    r = api.post(f"/admin/bots/{bot}/test-sets/main/cases", json={"question": "Q?", "colour": "red"})
    assert r.status_code == 422
    assert api.get(f"/admin/bots/{bot}/test-sets").json()["sets"] == []


def test_the_cli_adds_a_typed_case(api, model, monkeypatch, capsys):
    client = AdminClient("http://prompteur.test", "token")
    client._http = api
    monkeypatch.setattr(cli, "_client", lambda: client)
    bot = make_bot(api, model.base_url, publish=False)
    argv = ["eval", "add", bot, "--question", "How long do refunds take?", "--reference", "5 business days"]
    argv += ["--set", "smoke", "--expected-source", "shop_help.md", "--expected-source", "faq.md", "--json"]
    assert cli.main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {
        "set": "smoke",
        "cases": 1,
        "case": {
            "question": "How long do refunds take?",
            "expected_sources": ["shop_help.md", "faq.md"],
            "reference_answer": "5 business days",
        },
    }
    assert cli.main(["eval", "add", bot, "--set", "smoke"]) == 1
    assert "--question" in capsys.readouterr().err
