"""The LLM judge of evaluation runs, served by scripted OpenAI-compatible servers: good grades,
garbage and a judge that times out, per bot and server-wide, and the setting that lets a low
score fail a case."""

from __future__ import annotations

import json

import pytest

from bots.cli.main import _run_json
from bots.eval_judge import Unusable, parse
from bots.schemas.evaluation import RunDetail
from bots.settings import Settings
from tests.public_api_support import make_bot
from tests.scripted_openai import Reply, ScriptedOpenAI

REFUND = {
    "question": "How long do refunds take?",
    "expected_sources": ["shop_help.md"],
    "expected_facts": ["5 business days"],
    "reference_answer": "Refunds are paid within 5 business days.",
}
EXPRESS = {"question": "How much is express delivery?", "expected_sources": ["shop_help.md"]}
OPENING = {"question": "When are you open?", "expected_sources": ["shop_help.md"]}


def _grade(score, reason: str) -> Reply:
    return Reply.answer(json.dumps({"score": score, "reason": reason}))


@pytest.fixture
def server_judge():
    server = ScriptedOpenAI().start()
    yield server
    server.close()


@pytest.fixture
def settings(isolated_home, server_judge) -> Settings:
    # Every test here runs on a server with a judge of its own; a bot may name another.
    return Settings(home=isolated_home, judge_base_url=server_judge.base_url, judge_model="server-judge")


def _judge_spec(base_url: str, **evaluation) -> dict:
    judge = {"provider": "openai_compatible", "base_url": base_url, "model": "bot-judge", "timeout_s": 1.0}
    return {"judge": {**judge, "max_retries": 0}, **evaluation}


def _import(api, bot, cases):
    content = "".join(json.dumps(c) + "\n" for c in cases)
    r = api.put(f"/admin/bots/{bot}/test-sets/main", json={"format": "jsonl", "content": content})
    assert r.status_code == 200, r.text


def _run(api, bot) -> dict:
    r = api.post(f"/admin/bots/{bot}/eval-runs", json={"wait": True})
    assert r.status_code == 202, r.text
    return r.json()


def test_a_bots_judge_grades_each_case_and_garbage_or_a_timeout_never_fails_one(api, model, server_judge):
    bot_judge = ScriptedOpenAI().start()
    try:
        bot = make_bot(api, model.base_url, publish=False, evaluation=_judge_spec(bot_judge.base_url))
        _import(api, bot, [REFUND, EXPRESS, OPENING])
        model.queue(*[Reply.answer("Refunds take 5 business days [1].")] * 3)
        bot_judge.queue(
            _grade(5, "Every claim is in passage 1."),  # REFUND: groundedness
            _grade(3, "Same delay, but says nothing of how."),  # REFUND: agreement (it has a reference)
            Reply.answer("Sure! I think this answer is great."),  # EXPRESS: garbage
            Reply.hang(3),  # OPENING: the judge times out (1 s)
        )
        run = _run(api, bot)
    finally:
        bot_judge.close()

    assert server_judge.requests == []  # the bot's own judge wins over the server's
    assert (run["status"], run["passed"], run["failed"], run["errored"]) == ("done", 3, 0, 0)
    refund, express, opening = (c["checks"] for c in run["cases_detail"])
    assert refund["judge_groundedness"] == {
        "passed": True,
        "reason": "Every claim is in passage 1.",
        "score": 1.0,
        "status": "scored",
        "counts": False,
        "tokens": {"prompt": 11, "completion": 7},  # the scripted server's usage
    }
    assert refund["judge_agreement"]["score"] == 0.5 and refund["judge_agreement"]["passed"] is False
    # A low agreement does not fail the case: off by default.
    assert run["cases_detail"][0]["passed"] is True
    assert express["judge_groundedness"]["status"] == "unusable" and express["judge_groundedness"]["passed"] is None
    assert express["judge_groundedness"]["reason"].startswith("judge unusable: no JSON object in the reply")
    assert opening["judge_groundedness"]["status"] == "errored"
    assert opening["judge_groundedness"]["reason"].startswith("judge errored: model_timeout")
    assert run["judge"] == {
        "used": True,
        "model": "bot-judge",
        "min_score": 0.6,
        "fails_case": False,
        "groundedness": 1.0,
        "groundedness_scored": 1,
        "agreement": 0.5,
        "agreement_scored": 1,
        "unusable": 1,
        "errored": 1,
        "price_per_million": None,  # not the bot's model, not a listed one
    }
    assert run["metrics"]["judge"] == run["judge"]
    # Three grades were paid for (the garbage one too; the timed-out one reported nothing).
    assert run["metrics"]["tokens"]["judge"] == {"prompt": 33, "completion": 21}
    assert run["metrics"]["tokens"]["prompt"] == run["metrics"]["tokens"]["answers"]["prompt"] + 33
    # The judge saw the passages the answer was given, and the reference.
    grounded, agreed = (m["messages"][1]["content"] for m in bot_judge.requests[:2])
    assert "PASSAGES:\n[1]" in grounded and grounded.endswith(f"ANSWER: {run['cases_detail'][0]['answer']}")
    assert "REFERENCE: Refunds are paid within 5 business days." in agreed

    # The CLI's JSON: the run's judge, and each case's judge checks with their scores.
    out = _run_json(RunDetail.model_validate(run))
    assert out["judge"]["groundedness"] == 1.0
    assert out["cases_detail"][0]["checks"]["judge_agreement"] == {
        "passed": False,
        "reason": "Same delay, but says nothing of how.",
        "score": 0.5,
        "status": "scored",
    }
    assert out["cases_detail"][0]["checks"]["facts"] == {"passed": True, "reason": "all 1 facts present"}


def test_the_servers_judge_and_a_low_score_that_fails_the_case_when_the_bot_says_so(api, model, server_judge):
    bot = make_bot(api, model.base_url, publish=False, evaluation={"judge_fails_case": True, "judge_min_score": 0.6})
    _import(api, bot, [REFUND])
    model.queue(Reply.answer("Refunds take 5 business days [1]."))
    server_judge.queue(_grade(4, "Supported."), _grade(2, "The reference says paid, not taken."))
    run = _run(api, bot)
    case = run["cases_detail"][0]
    assert server_judge.requests[0]["model"] == "server-judge"
    assert case["checks"]["judge_groundedness"]["score"] == 0.75 and case["checks"]["judge_groundedness"]["counts"]
    assert case["checks"]["judge_agreement"]["score"] == 0.25
    # Every deterministic check passed; the judge's low agreement alone fails the case.
    assert all(c["passed"] for n, c in case["checks"].items() if not n.startswith("judge_"))
    assert case["status"] == "failed" and run["pass_rate"] == 0.0

    # A garbage grade does not fail it, even then.
    model.queue(Reply.answer("Refunds take 5 business days [1]."))
    server_judge.queue(_grade(5, "Supported."), Reply.answer('{"score": "excellent"}'))
    run = _run(api, bot)
    case = run["cases_detail"][0]
    assert case["checks"]["judge_agreement"]["status"] == "unusable" and case["status"] == "passed"


def test_without_a_judge_the_run_says_it_was_not_used(api, model):
    api.app.state.runtime.evaluator.judge = None  # as on a server without PROMPTEUR_JUDGE_BASE_URL
    bot = make_bot(api, model.base_url, publish=False)
    _import(api, bot, [EXPRESS])
    model.queue(Reply.answer("It is 9 euros [1]."))
    run = _run(api, bot)
    assert run["judge"] == {"used": False, "reason": "judge not configured: not used"}
    assert set(run["cases_detail"][0]["checks"]) == {"retrieval", "cited", "refusal"}


@pytest.mark.parametrize(
    ("reply", "score"),
    [
        ('```json\n{"score": 5, "reason": "Fully supported."}\n```', 1.0),
        ('{"score": 1, "reason": "Invented."}', 0.0),
        ('Grade: {"score": 0.8, "reason": "Mostly supported."}', 0.8),
    ],
)
def test_a_grade_is_read_from_json_around_chatter_and_normalised(reply, score):
    assert parse(reply)[0] == score


@pytest.mark.parametrize(
    "reply",
    ["5/5", '{"score": 7, "reason": "x"}', '{"score": 4}', '{"score": true, "reason": "x"}', "[4, 3]", "{nope}"],
)
def test_what_is_not_a_grade_is_unusable(reply):
    with pytest.raises(Unusable):
        parse(reply)
