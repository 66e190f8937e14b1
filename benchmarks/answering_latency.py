"""Answering latency: the server's own time before the model is called (query embedding,
hybrid retrieval, relevance gate, prompt assembly) at 10k chunks, then time to first token
and total time with the bundled model (SmolLM2-135M on this machine's CPUs).

The knowledge base is the Contoso documents replicated to 10k chunks, as in
benchmarks/latency.py. The pre-model time is measured through `answer_stream` itself: a
probe stands in for the provider and notes when the prompt reaches it (off-topic questions
stop at the gate, so for them the whole answer is pre-model time).

    python -m benchmarks.answering_latency [--data PATH] [--quick]
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.answering_setup import spec_for
from benchmarks.embedding_cache import CachedEmbedder
from benchmarks.eval_sets import data_dir
from benchmarks.gate_calibration import out_of_scope_sets
from benchmarks.latency import base_chunks, grow, questions
from benchmarks.report import RESULTS, arguments, table, write_json
from benchmarks.server import running_server
from bots.core.answering import Delta, Done, Failed, answer_stream
from bots.store import tables as t
from knowledge.embedding import MINILM, EmbedderCache

CHUNKS = 10_000
TARGET_P95_MS = 150


class PromptProbe:
    """Takes the provider's place to time what happens before it: notes when the prompt is
    handed over and streams nothing back (the answer then ends as a fallback)."""

    def __init__(self) -> None:
        self.asked_at: float | None = None

    def stream(self, messages, *, max_tokens: int, temperature: float):
        self.asked_at = time.perf_counter()
        return self._nothing()

    def complete(self, messages, *, max_tokens: int, temperature: float):
        raise NotImplementedError("answering streams: the probe only answers stream()")

    def close(self) -> None:
        pass

    @staticmethod
    def _nothing():
        return
        yield


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def pre_model(spec, retrieve, qs: list[str]) -> dict:
    gated, prompted = [], []
    for q in qs:
        probe = PromptProbe()
        started = time.perf_counter()
        for _ in answer_stream(spec, q, retrieve=retrieve, model=probe, embedding_model=MINILM):
            pass
        if probe.asked_at is None:
            gated.append((time.perf_counter() - started) * 1000)
        else:
            prompted.append((probe.asked_at - started) * 1000)
    every = gated + prompted
    return {
        "questions": len(every),
        "p50_ms": percentile(every, 50),
        "p95_ms": percentile(every, 95),
        "to_model": len(prompted),
        "to_model_p50_ms": percentile(prompted, 50),
        "to_model_p95_ms": percentile(prompted, 95),
        "gated": len(gated),
        "gated_p50_ms": percentile(gated, 50),
        "slowest_ms": sorted(every)[-10:],
    }


def with_model(spec, retrieve, model, qs: list[str]) -> list[dict]:
    runs: list[dict] = []
    for q in qs:
        started = time.perf_counter()
        first = done = None
        for event in answer_stream(spec, q, retrieve=retrieve, model=model, embedding_model=MINILM):
            if isinstance(event, Delta) and first is None:
                first = time.perf_counter() - started
            elif isinstance(event, Done):
                done = event
            elif isinstance(event, Failed):
                runs.append({"question": q, "error": event.code})
                break
        if done:
            total = time.perf_counter() - started
            tokens = done.usage.completion_tokens
            runs.append(
                {
                    "question": q,
                    "ttft_s": first,
                    "total_s": total,
                    "fallback": done.fallback,
                    "reason": done.debug.reason,
                    "completion_tokens": tokens,
                    "tokens_per_s": tokens / max(1e-6, total - (first or 0)),
                }
            )
        print(f"[answering latency] model: {runs[-1]}", flush=True)
    return runs


def run(data: Path, quick: bool = False, cache: Path | None = RESULTS / "embedding_cache") -> dict:
    qs = questions(data)
    off_topic = [q for s in out_of_scope_sets(data, quick=True).values() for q in s]
    mix = random.Random(0).sample(qs, 100 if quick else 240) + random.Random(0).sample(off_topic, 30 if quick else 60)
    embedders = EmbedderCache()
    passages = CachedEmbedder(embedders.get(MINILM), cache)  # chunk vectors are not timed here
    spec = spec_for("contoso_northwind_en")
    with running_server(embedders) as server:
        runtime = server.runtime
        base = base_chunks(data / "contoso_northwind_en" / "original", passages)
        passages.save()
        bot = server.create_bot("answering-latency", MINILM)
        with runtime.sessions() as s:
            collection = s.get(t.Bot, bot).vector_collection
        grow(runtime, bot, collection, base, 0, CHUNKS, np.random.default_rng(0))

        def retrieve(q: str, k: int):
            return runtime.kb.search(bot, q, k)

        retrieve("warm up", 5)  # builds the snapshot and BM25 index, as the first question would
        pre_model(spec, retrieve, mix[:10])
        pre = pre_model(spec, retrieve, mix)
        print(
            f"[answering latency] pre-model at {CHUNKS:,} chunks: p50 {pre['p50_ms']:.0f} ms, "
            f"p95 {pre['p95_ms']:.0f} ms",
            flush=True,
        )
        model = runtime.chat_model(spec.model)
        contoso = [q for q in qs[:66]]
        runs = with_model(spec, retrieve, model, random.Random(1).sample(contoso, 3 if quick else 8))
    ok = [r for r in runs if "error" not in r]
    answered = [r for r in ok if r["reason"] != "no_relevant_passage"]
    return {
        "chunks": CHUNKS,
        "pre_model": pre,
        "target": {"p95_ms": TARGET_P95_MS, "met": pre["p95_ms"] < TARGET_P95_MS},
        "model": {
            "answers": len(runs),
            "errors": len(runs) - len(ok),
            "ttft_p50_s": statistics.median([r["ttft_s"] for r in answered]) if answered else None,
            "ttft_max_s": max([r["ttft_s"] for r in answered], default=None),
            "total_p50_s": statistics.median([r["total_s"] for r in answered]) if answered else None,
            "total_max_s": max([r["total_s"] for r in answered], default=None),
            "tokens_per_s_p50": statistics.median([r["tokens_per_s"] for r in answered]) if answered else None,
            "runs": runs,
        },
        "load_average_1m": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }


def render(r: dict) -> str:
    p, m = r["pre_model"], r["model"]
    pre = table(
        [
            "chunks",
            "questions",
            "p50 ms",
            "p95 ms",
            "reached the model",
            "their p50 / p95 ms",
            "stopped at the gate",
            "their p50 ms",
            f"target p95 < {TARGET_P95_MS} ms",
        ],
        [
            [
                f"{r['chunks']:,}",
                p["questions"],
                p["p50_ms"],
                p["p95_ms"],
                p["to_model"],
                f"{p['to_model_p50_ms']:.0f} / {p['to_model_p95_ms']:.0f}",
                p["gated"],
                p["gated_p50_ms"],
                "met" if r["target"]["met"] else "MISSED",
            ]
        ],
    )
    model = table(
        ["answers", "errors", "TTFT p50 s", "TTFT max s", "total p50 s", "total max s", "tokens/s p50"],
        [
            [
                m["answers"],
                m["errors"],
                m["ttft_p50_s"],
                m["ttft_max_s"],
                m["total_p50_s"],
                m["total_max_s"],
                m["tokens_per_s_p50"],
            ]
        ],
    )
    return (
        f"Before the model (embedding + retrieval + gate + prompt):\n\n{pre}\n\n"
        f"With the bundled model (SmolLM2-135M, {r['cpus']} CPUs, 1-min load average "
        f"{r['load_average_1m']:.1f} at the end):\n\n{model}"
    )


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    started = time.perf_counter()
    result = run(data_dir(args.data), args.quick)
    print(render(result))
    path = write_json(
        "answering_latency", {"quick": args.quick, "minutes": (time.perf_counter() - started) / 60, **result}
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
