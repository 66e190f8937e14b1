"""How runs execute (cases answered in parallel up to a setting, stopped with the runtime) and
what the gate's refusal carries for the builder and scripts (a structured body)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bots.cli.client import AdminClient, ClientError
from bots.settings import Settings
from tests.public_api_support import make_bot
from tests.scripted_openai import Reply

REFUND = {
    "question": "How long do refunds take?",
    "expected_sources": ["shop_help.md"],
    "expected_facts": ["5 business days"],
}
EXPRESS = {"question": "How much is express delivery?", "expected_sources": ["shop_help.md"], "must_pass": True}


@pytest.fixture
def settings(isolated_home) -> Settings:
    return Settings(home=isolated_home, eval_workers=2)


def _import(api, bot, cases):
    content = "".join(json.dumps(c) + "\n" for c in cases)
    assert api.put(f"/admin/bots/{bot}/test-sets/main", json={"format": "jsonl", "content": content}).status_code == 200


def _slow(text: str, seconds: float, began: list[float] | None = None):
    """A reply the model takes `seconds` to write; when it began writing goes into `began`."""

    def chunks():
        if began is not None:
            began.append(time.monotonic())
        time.sleep(seconds)
        yield text

    return Reply.stream(chunks())


def test_cases_are_answered_two_at_a_time_with_eval_workers_2(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    _import(api, bot, [REFUND, {**REFUND, "question": "Refund delay?"}])
    began: list[float] = []
    model.queue(*(_slow("Refunds take 5 business days [1].", 1.5, began) for _ in range(2)))
    run = api.post(f"/admin/bots/{bot}/eval-runs", json={"wait": True}).json()
    assert (run["status"], run["done"], run["passed"]) == ("done", 2, 2)
    # The second answer began while the first was being written (one at a time: 1.5 s apart).
    assert abs(began[1] - began[0]) < 1.0, began


def test_stopping_the_runtime_stops_its_runs_cleanly(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    spec = api.get(f"/admin/bots/{bot}").json()["spec"]
    api.patch(f"/admin/bots/{bot}", json={"spec": {**spec, "model": {**spec["model"], "timeout_s": 5.0}}})
    _import(api, bot, [REFUND, *({**REFUND, "question": f"Refund delay #{i}?"} for i in range(5))])
    model.queue(*(_slow("Refunds take 5 business days [1].", 0.5) for _ in range(6)))
    run_id = api.post(f"/admin/bots/{bot}/eval-runs", json={}).json()["run_id"]
    runtime = api.app.state.runtime
    started = time.monotonic()
    runtime.evaluator.stop()  # what Runtime.stop does first
    assert time.monotonic() - started < 5
    run = api.get(f"/admin/bots/{bot}/eval-runs/{run_id}").json()
    assert run["status"] == "cancelled" and run["done"] < 6
    assert run["error"] == "the server stopped during this run; start it again"
    assert not [t for t in runtime.evaluator._threads if t.is_alive()]


def test_the_gates_refusal_carries_the_verdict(api, model):
    bot = make_bot(api, model.base_url)  # version 1 published
    _import(api, bot, [REFUND, EXPRESS])
    spec = api.get(f"/admin/bots/{bot}").json()["spec"]
    api.patch(f"/admin/bots/{bot}", json={"spec": {**spec, "retrieval": {"min_relevance": 0.99}}})
    model.queue(Reply.answer("Refunds take 5 business days [1]."), Reply.answer("Express costs 9 euros [1]."))
    r = api.post(f"/admin/bots/{bot}/versions", json={})
    assert r.status_code == 409
    gate = r.json()["error"]["gate"]
    assert gate["run_id"].startswith("run") and gate["pass_rate"] == 0.0 and gate["min_pass_rate"] == 0.8
    assert gate["errored"] == 0 and len(gate["refusals"]) == 4
    regressed = {c["question"]: c["reasons"] for c in gate["regressions"]}
    assert regressed[REFUND["question"]]["refusal"] == "answered with the fallback"
    assert [c["question"] for c in gate["must_pass_failed"]] == [EXPRESS["question"]]

    # The client hands the body to the builder and the CLI.
    client = AdminClient("http://prompteur.test", "token")
    client._http = httpx.Client(
        base_url=client.base_url, transport=httpx.MockTransport(lambda _: httpx.Response(409, json=r.json()))
    )
    with pytest.raises(ClientError) as caught:
        client.publish(bot)
    assert caught.value.code == "publish_gate_refused" and caught.value.details["gate"] == gate


def test_the_client_lists_runs_and_saves_gate_settings(api, model):
    client = AdminClient("http://prompteur.test", "token")
    client._http = api  # the real app, through its test client
    bot = make_bot(api, model.base_url, publish=False)
    _import(api, bot, [REFUND])
    model.queue(Reply.answer("Refunds take 5 business days [1]."))
    run = client.start_eval_run(bot)
    deadline = time.monotonic() + 30
    while client.eval_run(bot, run.run_id).status != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert [r.run_id for r in client.eval_runs(bot).runs] == [run.run_id]
    saved = client.save_gate(bot, ["main"], 0.5, enabled=False)
    assert (saved.set_names, saved.min_pass_rate, saved.enabled) == (["main"], 0.5, False)
    assert client.gate(bot) == saved
    with pytest.raises(ClientError) as caught:
        client.save_gate(bot, ["nope"], 0.5)
    assert caught.value.code == "test_set_not_found"
