"""Experiments: variants of the draft measured side by side on a test set (real retrieval, a
scripted model), and promoting one to the draft."""

from __future__ import annotations

import json

import pytest

from bots.core.spec import BotSpec
from bots.core.spec_overrides import InvalidOverrides, with_overrides
from tests.public_api_support import make_bot
from tests.scripted_openai import Reply

REFUND = {
    "question": "How long do refunds take?",
    "expected_sources": ["shop_help.md"],
    "expected_facts": ["5 business days"],
}
REFUND_AGAIN = {**REFUND, "question": "When do I get my money back after a return?"}
STRICT = {"name": "strict", "retrieval": {"min_relevance": 0.99}}
K3 = {
    "name": "k3-formal",
    "retrieval": {"k": 3},
    "persona": {"tone": "formal"},
    "evaluation": {"prompt_price_per_million": 1.0, "completion_price_per_million": 2.0},
}


def test_two_variants_side_by_side_then_the_better_one_is_promoted(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    content = "".join(json.dumps(c) + "\n" for c in (REFUND, REFUND_AGAIN))
    assert api.put(f"/admin/bots/{bot}/test-sets/main", json={"format": "jsonl", "content": content}).status_code == 200
    draft_before = api.get(f"/admin/bots/{bot}").json()["spec"]
    # "strict" answers every question with the fallback (no model call); "k3-formal" answers both.
    model.queue(*(Reply.answer("Refunds take 5 business days [1].") for _ in range(2)))
    r = api.post(f"/admin/bots/{bot}/experiments", json={"set": "main", "variants": [STRICT, K3], "wait": True})
    assert r.status_code == 202, r.text
    made = r.json()
    assert made["status"] == "done" and made["set"] == "main" and made["promoted"] is None
    strict, k3 = made["variants"]
    assert (strict["variant"], strict["pass_rate"], strict["failed"]) == ("strict", 0.0, 2)
    assert (k3["variant"], k3["pass_rate"], k3["passed"]) == ("k3-formal", 1.0, 2)
    assert k3["recall@1"] == 1.0 and k3["mrr@10"] == 1.0
    assert strict["prompt_tokens"] == 0 and strict["cost"] is None  # no prices: no cost
    assert k3["prompt_tokens"] == 22 and k3["completion_tokens"] > 0  # as the scripted server reports them
    assert k3["cost"] == pytest.approx((22 * 1.0 + k3["completion_tokens"] * 2.0) / 1e6)
    assert k3["latency_p50_ms"] is not None
    # The variant's prompt really was the variant's.
    assert all("formal" in m["messages"][0]["content"] for m in model.requests)

    # Each variant is a run of the draft: nothing published, the draft untouched.
    run = api.get(f"/admin/bots/{bot}/eval-runs/{strict['run_id']}").json()
    assert run["version"] == "draft" and run["cases_detail"][0]["fallback"] is True
    assert api.get(f"/admin/bots/{bot}/versions").json()["published_version"] is None
    assert api.get(f"/admin/bots/{bot}/eval-runs").json()["runs"] == [], "variants are not the draft's history"
    assert api.get(f"/admin/bots/{bot}").json()["spec"] == draft_before
    assert api.get(f"/admin/bots/{bot}/experiments").json()["experiments"][0]["experiment_id"] == made["experiment_id"]

    r = api.post(f"/admin/bots/{bot}/experiments/{made['experiment_id']}/promote", json={"variant": "k3-formal"})
    assert r.status_code == 200, r.text
    draft = api.get(f"/admin/bots/{bot}").json()["spec"]
    assert draft["retrieval"] == {**draft_before["retrieval"], "k": 3}
    assert draft["persona"]["tone"] == "formal" and draft["model"] == draft_before["model"]
    assert r.json()["spec"] == draft
    assert api.get(f"/admin/bots/{bot}/experiments/{made['experiment_id']}").json()["promoted"] == "k3-formal"


def test_a_bad_experiment_is_refused_whole(api, model):
    bot = make_bot(api, model.base_url, publish=False)
    assert (
        api.put(
            f"/admin/bots/{bot}/test-sets/main", json={"format": "jsonl", "content": json.dumps(REFUND) + "\n"}
        ).status_code
        == 200
    )
    cases = [
        ([STRICT, {"name": "k0", "retrieval": {"k": 0}}], "variant 'k0'"),
        ([STRICT, {"name": "w", "widget": {"title": "x"}}], "unknown section(s) widget"),
        ([STRICT, STRICT], "two variants are named 'strict'"),
        ([{"retrieval": {"k": 3}}], "variant 1 needs a name"),
    ]
    for variants, why in cases:
        r = api.post(f"/admin/bots/{bot}/experiments", json={"set": "main", "variants": variants})
        assert r.status_code == 422, r.text
        assert why in r.json()["error"]["message"]
    r = api.post(f"/admin/bots/{bot}/experiments", json={"set": "nope", "variants": [STRICT]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "test_set_not_found"
    assert api.get(f"/admin/bots/{bot}/experiments").json()["experiments"] == []
    assert api.get(f"/admin/bots/{bot}/eval-runs").json()["runs"] == []
    r = api.post(f"/admin/bots/{bot}/experiments/exp_nope/promote", json={"variant": "strict"})
    assert r.status_code == 404


def test_a_variant_pointing_the_model_elsewhere_does_not_take_the_drafts_key():
    spec = BotSpec.model_validate(
        {
            "name": "S",
            "model": {"provider": "openai_compatible", "base_url": "https://a.example/v1", "api_key": "sk-a"},
        }
    )
    moved = with_overrides(spec, {"model": {"base_url": "https://b.example/v1", "model": "big"}})
    assert moved.model.api_key is None and moved.model.model == "big"
    same = with_overrides(spec, {"model": {"model": "big"}})
    assert same.model.api_key is not None and same.model.api_key.get_secret_value() == "sk-a"
    with pytest.raises(InvalidOverrides):
        with_overrides(spec, {"name": "renamed"})


def test_the_cli_runs_an_experiment_from_a_yaml_file_and_promotes_a_variant(api, model, monkeypatch, capsys, tmp_path):
    from bots.cli import main as cli
    from bots.cli.client import AdminClient

    client = AdminClient("http://prompteur.test", "token")
    client._http = api  # the real app, through its test client
    monkeypatch.setattr(cli, "_client", lambda: client)
    # Extractive answers: quoted from the passages, no model call.
    bot = make_bot(api, model.base_url, publish=False, answer={"style": "extractive"})
    content = json.dumps({"question": "How long do refunds take?", "expected_sources": ["shop_help.md"]}) + "\n"
    assert api.put(f"/admin/bots/{bot}/test-sets/main", json={"format": "jsonl", "content": content}).status_code == 200
    variants = tmp_path / "variants.yaml"
    variants.write_text(
        "variants:\n  - name: strict\n    retrieval: {min_relevance: 0.99}\n  - name: k2\n    retrieval: {k: 2}\n"
    )
    argv = ["eval", "experiment", bot, "--set", "main", "--variants", str(variants), "--wait", "--json"]
    assert cli.main(argv) == 0
    made = json.loads(capsys.readouterr().out)
    rates = {v["variant"]: v["pass_rate"] for v in made["variants"]}
    assert made["status"] == "done" and rates == {"strict": 0.0, "k2": 1.0}
    assert set(made["variants"][0]) >= {"recall@1", "recall@5", "mrr@10", "judge_groundedness", "cost"}

    assert cli.main(["eval", "promote", bot, made["experiment_id"], "k2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["spec"]["retrieval"]["k"] == 2
    assert api.get(f"/admin/bots/{bot}").json()["spec"]["retrieval"]["k"] == 2
    assert cli.main(["eval", "promote", bot, made["experiment_id"], "nope"]) == 1
    assert "variant 'nope'" in capsys.readouterr().err


def _grade(score: int) -> Reply:
    return Reply.answer(json.dumps({"score": score, "reason": "Supported by passage 1."}))


def test_the_judges_tokens_count_in_the_variants_tokens_and_cost(api, model):
    # The judge is the bot's own model here: its tokens are priced at the variant's prices.
    judge = {"provider": "openai_compatible", "base_url": model.base_url, "model": "scripted", "max_retries": 0}
    bot = make_bot(api, model.base_url, publish=False, evaluation={"judge": judge})
    content = "".join(json.dumps(c) + "\n" for c in (REFUND, REFUND_AGAIN))
    assert api.put(f"/admin/bots/{bot}/test-sets/main", json={"format": "jsonl", "content": content}).status_code == 200
    # One case at a time: its answer, then the judge's groundedness grade (no reference answer).
    model.queue(*(r for _ in range(2) for r in (Reply.answer("Refunds take 5 business days [1]."), _grade(5))))
    r = api.post(f"/admin/bots/{bot}/experiments", json={"set": "main", "variants": [K3], "wait": True})
    assert r.status_code == 202, r.text
    (k3,) = r.json()["variants"]
    assert k3["judge_groundedness"] == 1.0
    run = api.get(f"/admin/bots/{bot}/eval-runs/{k3['run_id']}").json()
    tokens = run["metrics"]["tokens"]
    assert tokens["judge"] == {"prompt": 22, "completion": 14}  # two grades of 11 + 7 (the scripted usage)
    answers = tokens["answers"]
    assert answers["prompt"] == 22 and answers["completion"] > 0
    assert (k3["prompt_tokens"], k3["completion_tokens"]) == (44, answers["completion"] + 14)
    assert k3["cost"] == pytest.approx((44 * 1.0 + (answers["completion"] + 14) * 2.0) / 1e6)
    case = run["cases_detail"][0]
    assert (case["tokens"]["judge_prompt"], case["tokens"]["judge_completion"]) == (11, 7)


def test_a_judge_is_priced_as_the_bots_model_at_its_list_price_or_not_at_all():
    from bots.evaluation import judge_price

    spec = BotSpec.model_validate(
        {
            "name": "S",
            "model": {"provider": "openai_compatible", "base_url": "https://a.example/v1", "model": "mine"},
            "evaluation": {"prompt_price_per_million": 1.0, "completion_price_per_million": 2.0},
        }
    )
    assert judge_price(spec, "openai_compatible", "mine") == [1.0, 2.0]
    assert judge_price(spec, "openai", "gpt-4o-mini") == [0.15, 0.60]
    assert judge_price(spec, "openai_compatible", "some-judge") is None  # unknown: the cost is unknown too


def test_experiments_travel_with_bot_export_and_are_run_again_on_import_only_when_asked(
    api, model, monkeypatch, capsys, tmp_path
):
    import yaml

    from bots.cli import main as cli
    from bots.cli.client import AdminClient
    from tests.public_api_support import FIXTURES

    client = AdminClient("http://prompteur.test", "token")
    client._http = api
    monkeypatch.setattr(cli, "_client", lambda: client)
    bot = make_bot(api, model.base_url, publish=False)
    content = json.dumps(REFUND) + "\n"
    assert api.put(f"/admin/bots/{bot}/test-sets/main", json={"format": "jsonl", "content": content}).status_code == 200
    # "strict" answers with the fallback: no model call. A key in a variant never reaches the file.
    keyed = {"name": "keyed", "retrieval": {"min_relevance": 0.98}, "model": {"api_key": "sk-variant-secret-1"}}
    r = api.post(f"/admin/bots/{bot}/experiments", json={"set": "main", "variants": [STRICT, keyed], "wait": True})
    assert r.status_code == 202, r.text
    api.post(f"/admin/bots/{bot}/experiments/{r.json()['experiment_id']}/promote", json={"variant": "strict"})

    assert cli.main(["bot", "export", bot]) == 0
    exported = capsys.readouterr().out
    assert "sk-variant-secret-1" not in exported
    assert yaml.safe_load(exported)["experiments"] == [
        {
            "set": "main",
            "variants": [
                {"name": "strict", "retrieval": {"min_relevance": 0.99}},
                {"name": "keyed", "retrieval": {"min_relevance": 0.98}, "model": {}},
            ],
            "promoted": "strict",
        }
    ]
    path = tmp_path / "shop.yaml"
    path.write_text(exported)

    # Not run unless asked: each variant is a run, and runs call the model.
    assert cli.main(["bot", "import", str(path), "--docs", str(FIXTURES)]) == 0
    out, err = capsys.readouterr()
    copy = json.loads(out)["id"]
    assert "1 experiment(s) in the file not run" in err
    assert api.get(f"/admin/bots/{copy}/experiments").json()["experiments"] == []

    assert cli.main(["bot", "import", str(path), "--docs", str(FIXTURES), "--run-experiments"]) == 0
    out, err = capsys.readouterr()
    again = json.loads(out)["id"]  # stdout is still the one JSON line
    assert "started experiment" in err
    (made,) = api.get(f"/admin/bots/{again}/experiments").json()["experiments"]
    assert made["set"] == "main" and [v["variant"] for v in made["variants"]] == ["strict", "keyed"]

    bad = tmp_path / "bad.yaml"
    bad.write_text(exported.replace("experiments:\n- set: main", "experiments:\n- sett: main"))
    bots_before = len(api.get("/admin/bots").json()["bots"])
    assert cli.main(["bot", "import", str(bad)]) != 0
    assert "`experiments` must be a list" in capsys.readouterr().err
    assert len(api.get("/admin/bots").json()["bots"]) == bots_before  # refused before anything was made
