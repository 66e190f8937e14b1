"""The evaluation CLI forms scripts rely on, end to end: a real server, the CLI as a
subprocess, a scripted model for exact answers."""

from __future__ import annotations

import json

import yaml

from tests.public_api_support import FIXTURES, spec_for
from tests.scripted_openai import Reply

REFUND = {
    "question": "How long do refunds take?",
    "expected_sources": ["shop_help.md"],
    "expected_facts": ["5 business days"],
}


def _ok(result):
    assert result.returncode == 0, result.stderr
    return result


def test_import_run_publish_gate_override_compare_and_export(shared_server, model, tmp_path):
    bot_file = tmp_path / "shop.yaml"
    bot_file.write_text(
        yaml.safe_dump(
            {
                "prompteur_bot": 1,
                "name": "EvalShop",
                "spec": spec_for(model.base_url),
                "documents": ["shop_help.md"],
                "test_sets": {"main": [REFUND]},
            }
        )
    )
    bot = json.loads(_ok(shared_server.cli("bot", "import", str(bot_file), "--docs", str(FIXTURES))).stdout)["id"]

    bad = tmp_path / "bad.csv"
    bad.write_text("question,expected_facts,must_pass\nFine?,a,\n,b,\nOk?,c,perhaps\n")
    refused = shared_server.cli("eval", "import", bot, str(bad), "--set", "main", "--json")
    assert refused.returncode == 1
    assert "line 3: question" in refused.stderr and "line 4: must_pass" in refused.stderr
    assert "Traceback" not in refused.stderr

    good = tmp_path / "cases.csv"
    good.write_text(
        "question,expected_sources,expected_facts,must_pass\n"
        "How long do refunds take?,shop_help.md,5 business days,\n"
        "How much is express delivery?,shop_help.md,9 euros,true\n"
    )
    imported = _ok(shared_server.cli("eval", "import", bot, str(good), "--set", "main", "--json"))
    assert json.loads(imported.stdout) == {"set": "main", "cases": 2}

    model.queue(Reply.answer("Refunds take 5 business days [1]."), Reply.answer("Express costs 9 euros [1]."))
    run_a = json.loads(_ok(shared_server.cli("eval", "run", bot, "--set", "main", "--wait", "--json")).stdout)
    assert {"run_id", "version", "cases", "passed", "failed", "errored", "pass_rate", "retrieval"} <= set(run_a)
    assert (run_a["version"], run_a["cases"], run_a["passed"], run_a["pass_rate"]) == ("draft", 2, 2, 1.0)
    assert {"recall@1", "recall@5", "mrr@10"} <= set(run_a["retrieval"])
    case = run_a["cases_detail"][0]
    assert case["passed"] and case["retrieved"][0] == "shop_help.md" and "5 business days" in case["answer"]
    assert case["checks"]["facts"] == {"passed": True, "reason": "all 1 facts present"}

    # Publishing reuses that run: nothing changed since, so no model call.
    calls = len(model.requests)
    _ok(shared_server.cli("bot", "publish", bot, "--note", "first"))
    assert len(model.requests) == calls

    broken = tmp_path / "broken.yaml"
    broken.write_text(
        yaml.safe_dump(
            {
                "prompteur_bot": 1,
                "name": "EvalShop",
                "spec": spec_for(model.base_url, retrieval={"min_relevance": 0.99}),
            }
        )
    )
    _ok(shared_server.cli("bot", "import", str(broken), "--into", bot))
    refused = shared_server.cli("bot", "publish", bot)
    assert refused.returncode == 1
    assert "regressed from version 1: 'How long do refunds take?'" in refused.stderr
    assert "must-pass case failed: 'How much is express delivery?'" in refused.stderr

    overridden = _ok(shared_server.cli("bot", "publish", bot, "--override", "seasonal: hand everything to humans"))
    assert "gate overridden: seasonal: hand everything to humans" in overridden.stderr

    run_b = json.loads(_ok(shared_server.cli("eval", "run", bot, "--wait", "--json")).stdout)
    assert (run_b["version"], run_b["passed"], run_b["failed"]) == ("draft", 0, 2)
    compared = json.loads(
        _ok(shared_server.cli("eval", "compare", bot, run_a["run_id"], run_b["run_id"], "--json")).stdout
    )
    assert [c["question"] for c in compared["regressions"]] == [REFUND["question"], "How much is express delivery?"]
    assert compared["fixes"] == [] and compared["unchanged"] == []

    exported = yaml.safe_load(_ok(shared_server.cli("bot", "export", bot)).stdout)
    assert [c["question"] for c in exported["test_sets"]["main"]] == [
        REFUND["question"],
        "How much is express delivery?",
    ]
    assert exported["test_sets"]["main"][1]["must_pass"] is True
