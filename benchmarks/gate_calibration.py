"""Calibrate the relevance gate: how often questions fall back, in scope and out of scope,
for each threshold on the best hit's dense cosine similarity, per embedding model.

The gate decides before the model is called, so this needs no model: every question goes
through a real bot's knowledge base search (hybrid retrieval, k = 5) and the gate function
of `bots.core.answering` decides. In scope: each evaluation set's questions against its own bot.
Out of scope: CLINC150's out-of-scope questions, CLINC150 questions of intents no bot here
covers, banking77 and French Wikipedia questions, each set asked against EVERY bot (a
customer may write in any language to any bot).

    python -m benchmarks.gate_calibration [--data PATH] [--quick]
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.embedding_cache import CachedEmbedder, cached
from benchmarks.eval_sets import BUILDERS, SETS, data_dir
from benchmarks.report import RESULTS, arguments, table, write_json
from benchmarks.server import running_server
from bots.core.answering import relevant_passages
from bots.core.spec import DEFAULT_MIN_RELEVANCE, RetrievalSettings
from knowledge.embedding import E5_SMALL, MINILM, E5Embedder, EmbedderCache, MiniLMEmbedder

TARGET_OOS_FALLBACK = 0.95  # at least this share of off-topic questions gets the fallback
TARGET_IN_SCOPE_FALLBACK = 0.10  # at most this share of answerable questions does
SWEEP = {MINILM: np.round(np.arange(0.20, 0.60001, 0.01), 3), E5_SMALL: np.round(np.arange(0.78, 0.92001, 0.005), 3)}
# CLINC150 intents a benefits handbook or a health FAQ may well answer: not off-topic here.
NEAR_SCOPE_INTENTS = {
    "insurance",
    "insurance_change",
    "pto_balance",
    "pto_request",
    "pto_request_status",
    "pto_used",
    "payday",
    "w2",
    "direct_deposit",
    "income",
    "taxes",
    "rollover_401k",
    "vaccines",
    "nutrition_info",
    "calories",
    "who_do_you_work_for",
}
# The admin API's request log (Starlette's test client speaks httpx2) would bury the tables.
logging.getLogger("httpx2").setLevel(logging.WARNING)
IN_SCOPE_LIMIT = {"covid_faq_en": (100, 244), "covid_faq_gouv_fr": (100, 300)}  # (quick, full)
# Sets with one file per document, which a quick run shrinks to the sampled questions' answers
# plus as many other documents (e5 embeds a few chunks a second on a busy 2-core machine).
ONE_FILE_PER_DOCUMENT = ("covid_faq_gouv_fr", "service_public_fr")


@dataclass
class Signals:
    """What the gate can see for one question against one bot, best over the top-k hits."""

    dense: float
    lexical: float  # BM25, 0 when no hit matched a term
    opened: bool  # the gate at the bot's default threshold let the question through
    hits: list[tuple[float | None, float | None]]  # (dense, lexical) of each hit, fused order


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _sample(rows: list, n: int) -> list:
    return rows if len(rows) <= n else random.Random(0).sample(rows, n)


def out_of_scope_sets(root: Path, quick: bool) -> dict[str, list[str]]:
    folder = root / "out_of_scope"
    n = 100 if quick else 300
    clinc = [r for r in _jsonl(folder / "clinc150_inscope_test_en.jsonl") if r["intent"] not in NEAR_SCOPE_INTENTS]
    return {
        "clinc150_oos": [r["question"] for r in _sample(_jsonl(folder / "clinc150_oos_dev_en.jsonl"), 200)],
        "clinc150_other_intents": [r["question"] for r in _sample(clinc, n)],
        "banking77": [r["question"] for r in _sample(_jsonl(folder / "banking77_test_en.jsonl"), n)],
        "wikipedia_fr": [r["question"] for r in _jsonl(folder / "piaf_wikipedia_fr.jsonl")],
    }


def _answers_and_as_many_others(eval_set, questions) -> list[Path]:
    wanted = set().union(*(q.answer_ids for q in questions))
    answers = [f for f in eval_set.files if eval_set.doc_of(f.name, None, "") in wanted]
    others = [f for f in eval_set.files if eval_set.doc_of(f.name, None, "") not in wanted]
    return answers + _sample(others, len(answers))


def cached_embedders(cache: Path | None) -> EmbedderCache:
    """Vectors are the model's either way; the cache spares re-embedding unchanged chunks."""
    return EmbedderCache(
        {MINILM: lambda: CachedEmbedder(MiniLMEmbedder(), cache), E5_SMALL: lambda: CachedEmbedder(E5Embedder(), cache)}
    )


def collect(data: Path, quick: bool, cache: Path | None, sets: list[str] | None = None) -> dict:
    """{bot set: {"model", "in_scope": [Signals], "oos": {oos set: [Signals]}}}"""
    embedders = cached_embedders(cache)
    oos = out_of_scope_sets(data, quick)
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="prompteur-gate-") as work, running_server(embedders) as server:
        for name in sets or SETS:
            eval_set = BUILDERS[name](data, Path(work), quick)
            limit = IN_SCOPE_LIMIT.get(name, (10**6, 10**6))[0 if quick else 1]
            sampled = _sample(eval_set.questions, limit)
            if quick and name in ONE_FILE_PER_DOCUMENT:
                eval_set.files = _answers_and_as_many_others(eval_set, sampled)
            questions = [q.text for q in sampled]
            started = time.perf_counter()
            bot = server.create_bot(name, eval_set.model)
            server.upload(bot, eval_set.files)
            print(
                f"[gate] {name}: {len(eval_set.files)} files ingested in {time.perf_counter() - started:.0f}s",
                flush=True,
            )
            threshold = RetrievalSettings().threshold_for(eval_set.model)

            def signals(question: str) -> Signals:
                hits = server.runtime.kb.search(bot, question, k=RetrievalSettings().k)
                return Signals(
                    dense=max((h.dense_score for h in hits if h.dense_score is not None), default=-1.0),
                    lexical=max((h.lexical_score or 0.0 for h in hits), default=0.0),
                    opened=bool(relevant_passages(hits, threshold)),
                    hits=[(h.dense_score, h.lexical_score) for h in hits],
                )

            started = time.perf_counter()
            out[name] = {
                "model": eval_set.model,
                "in_scope": [signals(q) for q in questions],
                "oos": {o: [signals(q) for q in qs] for o, qs in oos.items()},
            }
            print(
                f"[gate] {name}: {len(questions)} in-scope and {sum(map(len, oos.values()))} "
                f"out-of-scope questions searched in {time.perf_counter() - started:.0f}s",
                flush=True,
            )
            cached(embedders.get(eval_set.model)).save()
    return out


def fallback_rate(signals: list[Signals], threshold: float) -> float:
    return float(np.mean([s.dense < threshold for s in signals])) if signals else float("nan")


def sweep(collected: dict) -> dict:
    """Per embedding model and threshold: in-scope fallback per set, and the out-of-scope
    fallback of each off-topic set, worst over the model's bots."""
    curves = {}
    for model, thresholds in SWEEP.items():
        bots = {n: c for n, c in collected.items() if c["model"] == model}
        if not bots:
            continue
        oos_names = next(iter(bots.values()))["oos"].keys()
        rows = []
        for t in thresholds:
            rows.append(
                {
                    "threshold": float(t),
                    "in_scope": {n: fallback_rate(c["in_scope"], t) for n, c in bots.items()},
                    "oos": {o: min(fallback_rate(c["oos"][o], t) for c in bots.values()) for o in oos_names},
                }
            )
        curves[model] = rows
    return curves


def margin(row: dict) -> float:
    """How far a threshold is inside both targets (negative: a target is missed)."""
    return min(TARGET_IN_SCOPE_FALLBACK - max(row["in_scope"].values()), min(row["oos"].values()) - TARGET_OOS_FALLBACK)


def summary(collected: dict, curves: dict) -> dict:
    models = {}
    for model, rows in curves.items():
        default = DEFAULT_MIN_RELEVANCE[model]
        at_default = min(rows, key=lambda r: abs(r["threshold"] - default))
        feasible = [r["threshold"] for r in rows if margin(r) >= 0]
        best = max(rows, key=margin)
        models[model] = {
            "default": default,
            "at_default": at_default,
            "margin_at_default": margin(at_default),
            "feasible": [min(feasible), max(feasible)] if feasible else None,
            "best": best["threshold"],
            "best_margin": margin(best),
        }
    # The real gate at each bot's default, as answering applies it (not the sweep's arithmetic).
    gate = {
        n: {
            "model": c["model"],
            "in_scope_fallback": float(np.mean([not s.opened for s in c["in_scope"]])),
            "oos_fallback": {o: float(np.mean([not s.opened for s in ss])) for o, ss in c["oos"].items()},
        }
        for n, c in collected.items()
    }
    met = all(
        g["in_scope_fallback"] <= TARGET_IN_SCOPE_FALLBACK and min(g["oos_fallback"].values()) >= TARGET_OOS_FALLBACK
        for g in gate.values()
    )
    return {"models": models, "gate_at_defaults": gate, "targets_met": met}


def render(curves: dict, result: dict, every: int = 2) -> str:
    parts = []
    for model, rows in curves.items():
        sets, oos = list(rows[0]["in_scope"]), list(rows[0]["oos"])
        default = result["models"][model]["default"]
        body = [
            [
                f"{r['threshold']:.3f}" + (" ←default" if abs(r["threshold"] - default) < 1e-6 else ""),
                *[r["in_scope"][s] for s in sets],
                *[r["oos"][o] for o in oos],
                margin(r),
            ]
            for i, r in enumerate(rows)
            if i % every == 0 or abs(r["threshold"] - default) < 1e-6
        ]
        parts.append(
            f"### {model}: fallback rate by threshold on the best hit's cosine\n\n"
            + table(["threshold", *[f"in: {s}" for s in sets], *[f"oos: {o} (worst bot)" for o in oos], "margin"], body)
        )
    gate = result["gate_at_defaults"]
    oos = list(next(iter(gate.values()))["oos_fallback"])
    parts.append(
        "### The gate at the defaults, per bot (share of questions answered with the fallback)\n\n"
        + table(
            ["bot", "model", "in-scope", *[f"oos: {o}" for o in oos]],
            [[n, g["model"], g["in_scope_fallback"], *[g["oos_fallback"][o] for o in oos]] for n, g in gate.items()],
        )
    )
    lines = [
        f"- {m}: default {s['default']}, margin {s['margin_at_default']:+.3f}; targets met for "
        + (f"{s['feasible'][0]:.3f}..{s['feasible'][1]:.3f}" if s["feasible"] else "no threshold")
        + f"; widest margin {s['best_margin']:+.3f} at {s['best']:.3f}"
        for m, s in result["models"].items()
    ]
    parts.append(
        "\n".join(lines) + f"\n\nTargets (oos ≥ {TARGET_OOS_FALLBACK:.0%}, in-scope ≤ "
        f"{TARGET_IN_SCOPE_FALLBACK:.0%} on every set) at the defaults: "
        + ("met" if result["targets_met"] else "MISSED")
    )
    return "\n\n".join(parts)


def chart(curves: dict, result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(6.5 * len(curves), 4.8), squeeze=False)
    for ax, (model, rows) in zip(axes[0], curves.items()):
        x = [r["threshold"] for r in rows]
        for s in rows[0]["in_scope"]:
            ax.plot(x, [r["in_scope"][s] for r in rows], "-", lw=2, label=f"in scope: {s}")
        for o in rows[0]["oos"]:
            ax.plot(x, [r["oos"][o] for r in rows], "--", lw=1.5, label=f"off-topic: {o}")
        ax.axhline(TARGET_IN_SCOPE_FALLBACK, color="grey", lw=0.8, ls=":")
        ax.axhline(TARGET_OOS_FALLBACK, color="grey", lw=0.8, ls=":")
        ax.axvline(result["models"][model]["default"], color="black", lw=1, label="default")
        if feasible := result["models"][model]["feasible"]:
            ax.axvspan(*feasible, color="green", alpha=0.08, label="both targets met")
        ax.set(
            title=model,
            xlabel="threshold on the best hit's cosine similarity",
            ylabel="share answered with the fallback",
            ylim=(-0.02, 1.02),
        )
        ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    args = arguments(
        __doc__.split("\n\n")[0],
        lambda p: p.add_argument("--sets", help=f"comma-separated subset of {','.join(SETS)} (default: all)"),
    )
    data = data_dir(args.data)
    started = time.perf_counter()
    collected = collect(data, args.quick, RESULTS / "embedding_cache", args.sets.split(",") if args.sets else None)
    curves = sweep(collected)
    result = summary(collected, curves)
    print(render(curves, result))
    name = "gate_calibration" + ("_" + args.sets.replace(",", "_") if args.sets else "")
    png = chart(curves, result, RESULTS / f"{name}.png")
    signals = {
        n: {
            "model": c["model"],
            "in_scope": [s.hits for s in c["in_scope"]],
            "oos": {o: [s.hits for s in ss] for o, ss in c["oos"].items()},
        }
        for n, c in collected.items()
    }
    path = write_json(
        name,
        {
            "quick": args.quick,
            "minutes": (time.perf_counter() - started) / 60,
            **result,
            "curves": curves,
            "signals": signals,
        },
    )
    print(f"\nwrote {path} and {png}")


if __name__ == "__main__":
    main()
