"""Evaluation throughput and the cost of the publish gate.

- throughput: cases per minute of an evaluation run (deterministic checks only) with a fast
  scripted model standing in for the provider, so the number is the server's own cost:
  retrieval, the answer pipeline, the checks and one SQL write per case;
- the gate: milliseconds a publish takes beyond an ungated one, for a set of N cases, when
  the gate must run the draft (fresh) and when it reuses finished runs (nothing changed).

The model answers with the first sentence of the first passage it is given, cited [1], so a
case passes exactly when retrieval found the right document: deterministic, and no model
time in the numbers.

    python -m benchmarks.evaluation [--quick]
"""

from __future__ import annotations

import json
import re
import time

from benchmarks.report import RESULTS, arguments, table, write_json
from benchmarks.server import running_server
from bots.evaluation import Evaluator
from bots.llm.protocol import Completion, TextDelta, Usage

COLOURS = ["red", "blue", "green", "amber", "violet", "teal", "ochre", "silver", "coral", "ivory"]


class FirstPassageModel:
    """A provider that answers instantly: the first passage's first sentence, cited."""

    def stream(self, messages, *, max_tokens: int, temperature: float):
        text = "\n".join(m["content"] for m in messages)
        match = re.search(r'<passage id="1"[^>]*>\n(?:#[^\n]*\n+)?([^\n]+?\.)', text)
        answer = (match.group(1).strip() if match else "I do not know.") + " [1]"
        yield TextDelta(answer)
        yield Completion(answer, Usage(prompt_tokens=len(text) // 4, completion_tokens=len(answer) // 4), "stop")

    def complete(self, messages, *, max_tokens: int, temperature: float) -> Completion:
        *_, done = self.stream(messages, max_tokens=max_tokens, temperature=temperature)
        return done

    def close(self) -> None:
        pass


def documents(n: int) -> dict[str, bytes]:
    return {
        f"product{i}.md": (
            f"# Product {i}\n\nProduct model P{i} comes in {COLOURS[i % 10]} and carries a {i + 1} year warranty.\n"
        ).encode()
        for i in range(n)
    }


def cases(n: int, products: int) -> str:
    return "".join(
        json.dumps(
            {
                "question": f"What warranty does product model P{i % products} carry? (#{i})",
                "expected_sources": [f"product{i % products}.md"],
                "expected_facts": [f"{i % products + 1} year"],
            }
        )
        + "\n"
        for i in range(n)
    )


def spec() -> dict:
    return {"model": {"provider": "openai_compatible", "base_url": "http://127.0.0.1:9", "model": "fast"}}


def run(quick: bool) -> dict:
    """Throughput and gate cost for each set size: {"results": [row per size]}."""
    sizes = [10, 50] if quick else [10, 50, 200]
    products = 20
    out = []
    with running_server() as server:
        api = server.client
        # The fast model in the provider's place, for every run the app starts (routes and gate).
        api.app.state.evaluator = Evaluator(
            server.runtime.sessions, server.runtime.kb.search, lambda _model: FirstPassageModel()
        )
        for n in sizes:
            bot = api.post("/admin/bots", json={"name": f"bench{n}", "spec": spec()}).json()["id"]
            plain = api.post("/admin/bots", json={"name": f"plain{n}", "spec": spec()}).json()["id"]
            for b in (bot, plain):
                job = api.post(
                    f"/admin/bots/{b}/documents", files=[("files", (k, v)) for k, v in documents(products).items()]
                ).json()
                server.wait(job["job_id"])
            api.put(f"/admin/bots/{bot}/test-sets/bench", json={"format": "jsonl", "content": cases(n, products)})

            started = time.perf_counter()
            run = api.post(f"/admin/bots/{bot}/eval-runs", json={"wait": True}).json()
            run_s = time.perf_counter() - started

            started = time.perf_counter()
            assert api.post(f"/admin/bots/{plain}/versions", json={}).status_code == 201
            ungated_ms = (time.perf_counter() - started) * 1000
            # Change the draft so the gate cannot reuse the run above: a fresh evaluation.
            api.patch(f"/admin/bots/{bot}", json={"spec": {**spec(), "widget": {"title": "v2"}}})
            started = time.perf_counter()
            fresh = api.post(f"/admin/bots/{bot}/versions", json={"override": "benchmark"})
            fresh_ms = (time.perf_counter() - started) * 1000
            # Nothing changed since: the gate reuses the finished runs of draft and published.
            started = time.perf_counter()
            reused = api.post(f"/admin/bots/{bot}/versions", json={"override": "benchmark"})
            reused_ms = (time.perf_counter() - started) * 1000
            assert fresh.status_code == reused.status_code == 201, (fresh.text, reused.text)
            assert reused.json()["gate"]["reused"] is True

            per_minute = n / run_s * 60
            row = {
                "cases": n,
                "cases_per_minute": per_minute,
                "pass_rate": run["pass_rate"],
                "recall@1": run["retrieval"]["recall@1"],
                "gate_fresh_ms": fresh_ms - ungated_ms,
                "gate_reused_ms": reused_ms - ungated_ms,
                "ungated_publish_ms": ungated_ms,
            }
            out.append(row)
    return {"results": out}


def render(results: dict) -> str:
    rows = [
        [r["cases"], r["cases_per_minute"], r["pass_rate"], r["gate_fresh_ms"], r["gate_reused_ms"]]
        for r in results["results"]
    ]
    return table(["cases", "cases/min", "pass rate", "gate ms (fresh run)", "gate ms (reused runs)"], rows)


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    results = run(args.quick)
    print(render(results))
    path = write_json("evaluation", {"quick": args.quick, **results})
    print(f"\nwritten: {path.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
