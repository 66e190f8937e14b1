"""The review loop end to end, through a real server process and the public API: a customer
asks, thumbs down, the answer is in the review inbox, the reviewer writes the correct answer,
a paraphrase now gets it (`answered_by: corrected`, no model: the bot is extractive), the
case goes into a test set and an evaluation run of that set passes it. The corrected answers
also travel through the CLI's exact forms (`answers add … --json`, `answers list … --json`)."""

from __future__ import annotations

import json
import time

import httpx
import yaml

from tests.conftest import FIXTURES, wait_ingested

QUESTION = "Can I pay with a gift card?"
PARAPHRASE = "Is it possible to use a gift card to pay?"
CORRECT = "Yes: gift cards are accepted for every order. See our returns and refunds help page."


def test_the_loop_from_a_thumbs_down_to_a_passing_test(live_server, tmp_path):
    admin = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {live_server.admin_token}"})
    spec = {"answer": {"style": "extractive"}, "fallback": {"handoff": {"enabled": True, "kind": "form"}}}
    bot = admin.post("/admin/bots", json={"name": "Loop shop", "spec": spec}).json()["id"]
    with (FIXTURES / "shop_help.md").open("rb") as f:
        job = admin.post(f"/admin/bots/{bot}/documents", files=[("files", ("shop_help.md", f))]).json()
    assert wait_ingested(admin, job["job_id"], timeout=300)["status"] == "done"
    assert admin.post(f"/admin/bots/{bot}/versions", json={"note": "v1"}).status_code == 201
    key = admin.post(f"/admin/bots/{bot}/keys", json={"kind": "secret"}).json()["key"]
    customer = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=120)

    # A customer asks; the documents say nothing of gift cards: not a corrected answer.
    first = customer.post(f"/v1/bots/{bot}/chat", json={"message": QUESTION}).json()
    assert first["answered_by"] in ("model", "fallback")
    r = customer.post(
        f"/v1/bots/{bot}/messages/{first['message_id']}/feedback", json={"rating": "down", "comment": "No answer"}
    )
    assert r.status_code == 204

    # The reviewer finds it in the inbox and writes the correct answer.
    items = admin.get(f"/admin/bots/{bot}/review", params={"reason": "thumbs_down"}).json()["items"]
    assert [i["message_id"] for i in items] == [first["message_id"]]
    assert "thumbs_down" in items[0]["reasons"] and items[0]["feedback_comment"] == "No answer"
    r = admin.post(
        f"/admin/bots/{bot}/review/{first['message_id']}/correct",
        json={"answer": CORRECT, "sources": [{"source": "shop_help.md"}]},
    )
    assert r.status_code == 201, r.text
    assert admin.get(f"/admin/bots/{bot}/review", params={"reason": "thumbs_down"}).json()["items"] == []

    # Published with it, a paraphrase gets it word for word.
    assert admin.post(f"/admin/bots/{bot}/versions", json={"note": "with the correction"}).status_code == 201
    again = customer.post(f"/v1/bots/{bot}/chat", json={"message": PARAPHRASE}).json()
    assert (again["answer"], again["answered_by"]) == (CORRECT, "corrected")
    assert [c["source"] for c in again["citations"]] == ["shop_help.md"]

    # The case goes into a test set; an evaluation run of the published version passes it.
    r = admin.post(
        f"/admin/bots/{bot}/review/{first['message_id']}/test-case",
        json={"set": "from review", "expected_source": "shop_help.md"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["case"]["reference_answer"] == CORRECT
    run = admin.post(f"/admin/bots/{bot}/eval-runs", json={"version": "published", "set": "from review"}).json()
    deadline = time.monotonic() + 180
    while (detail := admin.get(f"/admin/bots/{bot}/eval-runs/{run['run_id']}").json())["status"] not in (
        "done",
        "failed",
        "cancelled",
    ):
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.3)
    assert detail["status"] == "done", detail
    case = detail["cases_detail"][0]
    assert (detail["passed"], detail["failed"], detail["errored"]) == (1, 0, 0), case["checks"]
    assert case["answer"] == CORRECT

    # The CLI's exact forms.
    added = live_server.cli(
        "answers",
        "add",
        bot,
        "--question",
        "Do you deliver to Belgium?",
        "--answer",
        "Yes.",
        "--paraphrase",
        "Belgium delivery?",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    new_id = json.loads(added.stdout)["id"]
    listed = live_server.cli("answers", "list", bot, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {a["id"]: a for a in json.loads(listed.stdout)}
    assert rows[new_id]["paraphrases"] == ["Belgium delivery?"]
    corrected = next(a for a in rows.values() if a["answer"] == CORRECT)
    assert corrected["question"] == QUESTION and corrected["hit_count"] == 1 and corrected["last_used_at"]

    # They travel with the bot: `bot export` writes them, `bot import` restores them.
    exported = live_server.cli("bot", "export", bot)
    assert exported.returncode == 0, exported.stderr
    data = yaml.safe_load(exported.stdout)
    assert {a["question"] for a in data["corrected_answers"]} == {QUESTION, "Do you deliver to Belgium?"}
    bot_file = tmp_path / "bot.yaml"
    bot_file.write_text(exported.stdout)
    imported = live_server.cli("bot", "import", str(bot_file), "--docs", str(FIXTURES))
    assert imported.returncode == 0, imported.stderr
    copy = json.loads(imported.stdout.splitlines()[0])["id"]
    copied = json.loads(live_server.cli("answers", "list", copy, "--json").stdout)
    assert {(a["question"], a["answer"]) for a in copied} == {
        (QUESTION, CORRECT),
        ("Do you deliver to Belgium?", "Yes."),
    }
    assert all(a["hit_count"] == 0 for a in copied)  # counts stay with the server they were counted on
