"""Evaluation runs and the publish gate through the real app: real ingestion and retrieval,
a scripted model server for exact answers."""

from __future__ import annotations

import time

import pytest

from tests.conftest import documents, ingest, search
from tests.public_api_support import make_bot
from tests.scripted_openai import Reply

WARRANTY = b"# Warranty\n\nEvery appliance has a two-year warranty covering defects in parts and labour.\n"
LOYALTY = b"# Loyalty points\n\nEach euro spent earns one loyalty point; 100 points give a 5 euro voucher.\n"

REFUND = {
    "question": "How long do refunds take?",
    "expected_sources": ["shop_help.md"],
    "expected_facts": ["5 business days"],
}
EXPRESS = {
    "question": "How much is express delivery?",
    "expected_sources": ["shop_help.md"],
    "expected_facts": ["9 euros"],
}


def _import(api, bot, cases, name="main"):
    import json

    content = "".join(json.dumps(c) + "\n" for c in cases)
    r = api.put(f"/admin/bots/{bot}/test-sets/{name}", json={"format": "jsonl", "content": content})
    assert r.status_code == 200, r.text


def _run(api, bot, **body):
    r = api.post(f"/admin/bots/{bot}/eval-runs", json={"wait": True, **body})
    assert r.status_code == 202, r.text
    return r.json()


def _set_spec(api, bot, **changes):
    spec = api.get(f"/admin/bots/{bot}").json()["spec"]
    for key, value in changes.items():
        spec[key] = {**spec.get(key, {}), **value}
    assert api.patch(f"/admin/bots/{bot}", json={"spec": spec}).status_code == 200


def test_a_run_checks_each_case_and_its_retrieval_metrics_match_the_search_route(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    ingest(api, bot, {"warranty.md": WARRANTY, "loyalty.md": LOYALTY})
    cases = [
        REFUND,
        EXPRESS,
        {"question": "How long is the warranty on appliances?", "expected_sources": ["warranty.md"]},
        {"question": "How many points for a voucher?", "expected_sources": ["loyalty.md"], "forbidden": ["free"]},
        {"question": "When does the support desk open?", "expected_sources": ["warranty.md"]},  # wrong on purpose
    ]
    _import(api, bot, cases)
    model.queue(*[Reply.answer("Refunds take 5 business days [1].")] * 5)
    run = _run(api, bot)

    assert run["status"] == "done" and run["cases"] == run["done"] == 5 and run["errored"] == 0
    detail = {c["question"]: c for c in run["cases_detail"]}
    refund = detail[REFUND["question"]]
    assert refund["passed"] and set(refund["checks"]) == {"retrieval", "cited", "facts", "refusal"}
    express = detail[EXPRESS["question"]]
    assert not express["passed"] and express["checks"]["facts"] == {"passed": False, "reason": "missing: '9 euros'"}
    assert run["passed"] + run["failed"] == 5 and run["pass_rate"] == run["passed"] / 5
    assert run["metrics"]["judge"] == "judge not configured: not used"

    # The same questions scored independently from the admin search route.
    ranks = []
    for case in cases:
        hits = search(api, bot, case["question"], k=10)
        sources = [h["source"] for h in hits]
        ranks.append(sources.index(case["expected_sources"][0]) + 1 if case["expected_sources"][0] in sources else None)
    assert [detail[c["question"]]["expected_rank"] for c in cases] == ranks
    expected = {
        "recall@1": sum(r == 1 for r in ranks) / 5,
        "recall@5": sum(r is not None and r <= 5 for r in ranks) / 5,
        "mrr@10": sum(1 / r for r in ranks if r) / 5,
    }
    assert {k: run["retrieval"][k] for k in expected} == pytest.approx(expected)
    # Test questions are not customer traffic.
    assert api.get(f"/admin/bots/{bot}/conversations").json()["total"] == 0


def test_the_gate_refuses_a_broken_draft_and_an_owner_can_override_it(api, model):
    bot = make_bot(api, model.base_url)  # version 1 published
    _import(api, bot, [REFUND, {**EXPRESS, "must_pass": True}])
    # Every answer of this draft is the fallback: no passage is ever relevant enough.
    _set_spec(api, bot, retrieval={"min_relevance": 0.99})
    # The draft makes no model call (fallback); the published version answers both.
    model.queue(Reply.answer("Refunds take 5 business days [1]."), Reply.answer("Express costs 9 euros [1]."))
    r = api.post(f"/admin/bots/{bot}/versions", json={"note": "stricter"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "publish_gate_refused"
    assert "pass rate 0% is below the minimum 80%" in error["message"]
    assert "must-pass case failed: 'How much is express delivery?'" in error["message"]
    assert "regressed from version 1: 'How long do refunds take?'" in error["message"]
    assert "refusal: answered with the fallback" in error["message"]
    assert api.get(f"/admin/bots/{bot}/versions").json()["published_version"] == 1

    # The override reuses both runs (nothing changed): no model call is made.
    calls = len(model.requests)
    r = api.post(f"/admin/bots/{bot}/versions", json={"note": "stricter", "override": "legal wants no guessing"})
    assert r.status_code == 201, r.text
    assert len(model.requests) == calls
    listed = api.get(f"/admin/bots/{bot}/versions").json()
    newest = listed["versions"][0]
    assert listed["published_version"] == 2 and newest["override_note"] == "legal wants no guessing"
    assert newest["gate"]["reused"] is True and newest["gate"]["pass_rate"] == 0.0
    assert listed["versions"][1]["override_note"] is None


def test_a_draft_that_passes_is_published_and_a_bot_without_sets_publishes_as_before(api, model):
    plain = make_bot(api, model.base_url, name="Plain", publish=False)
    r = api.post(f"/admin/bots/{plain}/versions", json={})
    assert r.status_code == 201 and r.json()["gate"] is None

    bot = make_bot(api, model.base_url, publish=False)
    _import(api, bot, [REFUND])
    model.queue(Reply.answer("Refunds take 5 business days [1]."))
    r = api.post(f"/admin/bots/{bot}/versions", json={})
    assert r.status_code == 201, r.text
    assert r.json()["gate"]["pass_rate"] == 1.0 and r.json()["override_note"] is None


def test_provider_429s_and_timeouts_make_cases_errored_not_failed(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    _set_spec(api, bot, model={"timeout_s": 1.0})
    _import(api, bot, [REFUND, EXPRESS])
    model.queue(Reply.error(429, "slow down"), Reply.hang(3))
    run = _run(api, bot)
    assert (run["status"], run["errored"], run["failed"], run["passed"]) == ("done", 2, 0, 0)
    errors = [c["error"] for c in run["cases_detail"]]
    assert errors[0].startswith("model_rate_limited") and errors[1].startswith("model_timeout")
    assert all(c["status"] == "errored" and c["checks"] == {} for c in run["cases_detail"])
    # The gate will not vouch for what it could not measure.
    model.queue(Reply.error(429), Reply.error(429))
    r = api.post(f"/admin/bots/{bot}/versions", json={})
    assert r.status_code == 409 and "2 case(s) errored" in r.json()["error"]["message"]


def test_deleting_an_expected_document_fails_the_case_with_a_clear_reason(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    ingest(api, bot, {"warranty.md": WARRANTY})
    _import(api, bot, [{"question": "How long is the warranty?", "expected_sources": ["warranty.md"]}])
    doc = documents(api, bot)["warranty.md"]
    assert api.delete(f"/admin/bots/{bot}/documents/{doc['id']}").status_code in (200, 202, 204)
    model.queue(Reply.answer("I am not sure."))
    run = _run(api, bot)
    case = run["cases_detail"][0]
    assert run["status"] == "done" and case["status"] == "failed"
    assert case["checks"]["retrieval"]["reason"].startswith(
        "expected source(s) warranty.md no longer among the bot's documents"
    )


def test_compare_lists_regressions_first_then_fixes(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    _import(api, bot, [REFUND, EXPRESS])
    model.queue(Reply.answer("Refunds take 5 business days [1]."), Reply.answer("It is cheap [1]."))
    a = _run(api, bot)
    model.queue(Reply.answer("Refunds are quick [1]."), Reply.answer("Express delivery costs 9 euros [1]."))
    b = _run(api, bot)
    r = api.get(f"/admin/bots/{bot}/eval-runs/{a['run_id']}/compare/{b['run_id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [c["question"] for c in body["regressions"]] == [REFUND["question"]]
    assert body["regressions"][0]["reasons"] == {"facts": "missing: '5 business days'"}
    assert [c["question"] for c in body["fixes"]] == [EXPRESS["question"]]
    assert body["unchanged"] == []
    assert api.get(f"/admin/bots/{bot}/eval-runs/run_nope").json()["error"]["code"] == "eval_run_not_found"


def test_a_background_run_reports_progress_and_can_be_cancelled(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    _set_spec(api, bot, model={"timeout_s": 5.0})
    _import(api, bot, [REFUND, EXPRESS, {**REFUND, "question": "Refund delay?"}])
    model.queue(Reply.hang(1.5))
    r = api.post(f"/admin/bots/{bot}/eval-runs", json={})
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running")
    run_id = r.json()["run_id"]
    assert api.post(f"/admin/bots/{bot}/eval-runs/{run_id}/cancel").json()["status"] == "cancelling"
    deadline = time.monotonic() + 30
    while (run := api.get(f"/admin/bots/{bot}/eval-runs/{run_id}").json())["status"] == "cancelling":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert run["status"] == "cancelled" and run["done"] < run["cases"] == 3


def test_two_runs_on_one_bot_at_once(api, model):
    bot = make_bot(api, model.base_url, publish=False, **{"retrieval": {"min_relevance": 0.99}})
    _import(api, bot, [{"question": REFUND["question"], "must_refuse": True}, {"question": EXPRESS["question"]}])
    ids = [api.post(f"/admin/bots/{bot}/eval-runs", json={}).json()["run_id"] for _ in range(2)]
    deadline = time.monotonic() + 60
    for run_id in ids:
        while (run := api.get(f"/admin/bots/{bot}/eval-runs/{run_id}").json())["status"] != "done":
            assert run["status"] in ("queued", "running") and time.monotonic() < deadline
            time.sleep(0.1)
        assert (run["done"], run["passed"], run["failed"]) == (2, 1, 1)
    assert model.requests == []  # every answer was the fallback: the model was never needed


def test_gate_settings_choose_the_sets_and_the_minimum(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    assert api.get(f"/admin/bots/{bot}/gate").json() == {"set_names": None, "min_pass_rate": 0.8, "enabled": True}
    _import(api, bot, [REFUND], name="core")
    _import(api, bot, [EXPRESS], name="extra")
    r = api.put(f"/admin/bots/{bot}/gate", json={"set_names": ["nope"]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "test_set_not_found"
    assert api.put(f"/admin/bots/{bot}/gate", json={"set_names": ["core"], "min_pass_rate": 1.0}).status_code == 200
    # Only "core" gates: one model call, and the failing "extra" set does not matter.
    model.queue(Reply.answer("Refunds take 5 business days [1]."))
    r = api.post(f"/admin/bots/{bot}/versions", json={})
    assert r.status_code == 201, r.text
    assert len(model.requests) == 1 and r.json()["gate"]["pass_rate"] == 1.0
    # A gating set deleted later no longer gates; with none left, publishing is ungated.
    assert api.delete(f"/admin/bots/{bot}/test-sets/core").status_code == 204
    r = api.post(f"/admin/bots/{bot}/versions", json={})
    assert r.status_code == 201 and r.json()["gate"] is None
    assert api.put(f"/admin/bots/{bot}/gate", json={"enabled": False}).json()["enabled"] is False


def test_a_run_left_unfinished_by_a_stopped_server_is_marked_failed(settings, embedders, model):
    from fastapi.testclient import TestClient

    from bots.http.app import create_app
    from bots.runtime import Runtime
    from bots.store import tables as t

    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime)) as api:
        api.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        bot = make_bot(api, model.base_url, publish=False)
    with runtime.sessions() as s:  # as a server killed mid-run leaves it
        s.add(t.EvalRun(id="run_stale", bot_id=bot, version="draft", set_names=[], status="running", gate_key="x"))
        s.commit()
    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime)) as api:
        api.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        run = api.get(f"/admin/bots/{bot}/eval-runs/run_stale").json()
    assert run["status"] == "failed" and run["error"] == "the server stopped during this run; start it again"


def test_a_run_cancelled_before_it_began_ends_cancelled(api, runtime, model):
    from bots.evaluation import Evaluator
    from bots.store import tables as t

    bot_id = make_bot(api, model.base_url, publish=False)
    _import(api, bot_id, [REFUND])
    evaluator = Evaluator(runtime.sessions, runtime.kb.search, runtime.models)
    with runtime.sessions() as s:
        run = evaluator.create(s, s.get(t.Bot, bot_id), "draft", None)
        evaluator.cancel(s, run)
        run_id = run.id
    evaluator.execute(run_id)
    assert api.get(f"/admin/bots/{bot_id}/eval-runs/{run_id}").json()["status"] == "cancelled"
    assert model.requests == []


def test_a_run_can_measure_the_published_version_or_a_numbered_one(api, model):
    bot = make_bot(api, model.base_url)  # version 1
    _import(api, bot, [REFUND])
    _set_spec(api, bot, retrieval={"min_relevance": 0.99})  # the draft only ever falls back
    model.queue(Reply.answer("Refunds take 5 business days [1]."), Reply.answer("Refunds take 5 business days [1]."))
    assert (_run(api, bot, version=1)["version"], _run(api, bot, version="published")["passed"]) == ("1", 1)
    assert _run(api, bot)["passed"] == 0
    r = api.post(f"/admin/bots/{bot}/eval-runs", json={"version": "latest"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    assert api.post(f"/admin/bots/{bot}/eval-runs", json={"version": 7}).json()["error"]["code"] == "version_not_found"
    assert (
        api.post(f"/admin/bots/{bot}/eval-runs", json={"set": "nope"}).json()["error"]["code"] == "test_set_not_found"
    )
    listed = api.get(f"/admin/bots/{bot}/eval-runs").json()["runs"]
    assert [r["version"] for r in listed] == ["draft", "1", "1"]
