"""Retrieval quality on every evaluation set: recall@k and MRR@10 of Prompteur (through the
admin API and the knowledge base's search), of the tutorial recipe and of BM25 alone.

    python -m benchmarks.retrieval [--data PATH] [--quick] [--sets a,b] [--no-cache]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.baselines import BM25Retriever, NaiveRetriever, naive_chunks
from benchmarks.embedding_cache import CachedEmbedder
from benchmarks.eval_sets import BUILDERS, SETS, EvalSet, data_dir
from benchmarks.report import RESULTS, arguments, table, write_json
from benchmarks.server import running_server
from knowledge.embedding import E5_SMALL, MINILM, E5Embedder, EmbedderCache, MiniLMEmbedder
from knowledge.vector_index import VectorIndex

K = 10
SYSTEMS = ("prompteur", "naive", "bm25")
# Chroma builds its HNSW graph differently each time, and around many identical vectors
# (the recipe stores them raw) recall moves between builds: 0.29-0.36 on the French COVID
# FAQ. The recipe is built this many times and judged by its best build.
NAIVE_BUILDS = 5


def scores(ranked: list[list[str | None]], eval_set: EvalSet) -> dict:
    """recall@1/5/10 and MRR@10, a question being a hit at k when one of its answer
    documents owns one of the first k chunks."""
    first = []
    for docs, q in zip(ranked, eval_set.questions):
        rank = next((i + 1 for i, d in enumerate(docs[:K]) if d in q.answer_ids), None)
        first.append(rank)
    result = {f"recall@{k}": _recall(first, k) for k in (1, 5, 10)} | {
        "mrr@10": sum(1 / r for r in first if r) / (len(first) or 1),
        "questions": len(first),
    }
    if len({q.shared_answer for q in eval_set.questions}) == 2:  # the set has both kinds
        for label, shared in (("unique_answer", False), ("shared_answer", True)):
            ranks = [r for r, q in zip(first, eval_set.questions) if q.shared_answer == shared]
            result[f"recall@5_{label}"] = _recall(ranks, 5)
            result[f"questions_{label}"] = len(ranks)
    return result


def _recall(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r and r <= k) / (len(ranks) or 1)


def target(result: dict) -> dict:
    """The issue's bar: above the better baseline, by 0.05 where that one is under 0.90."""
    best = max(result["naive"]["recall@5"], result["bm25"]["recall@5"])
    need = best + (0.05 if best < 0.90 else 1e-9)
    return {"best_baseline": best, "needed": round(need, 4), "met": result["prompteur"]["recall@5"] >= need}


def cached_embedders(cache: Path | None) -> EmbedderCache:
    return EmbedderCache(
        {MINILM: lambda: CachedEmbedder(MiniLMEmbedder(), cache), E5_SMALL: lambda: CachedEmbedder(E5Embedder(), cache)}
    )


def run(
    data: Path, quick: bool = False, sets: list[str] | None = None, cache: Path | None = RESULTS / "embedding_cache"
) -> dict:
    embedders = cached_embedders(cache)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="prompteur-bench-") as work, running_server(embedders) as server:
        vectors = VectorIndex.open(path=Path(work) / "naive-chroma")
        for name in sets or SETS:
            eval_set = BUILDERS[name](data, Path(work), quick)
            embedder = embedders.get(eval_set.model)
            questions = [q.text for q in eval_set.questions]
            print(
                f"[retrieval] {name}: {len(eval_set.files)} files, {len(questions)} questions, {eval_set.model}",
                flush=True,
            )

            started = time.perf_counter()
            bot = server.create_bot(name, eval_set.model)
            server.upload(bot, eval_set.files)
            chunks = sum(d["chunks"] for d in server.client.get(f"/admin/bots/{bot}/documents").json()["documents"])
            ranked = [
                [eval_set.doc_of(h.source, h.page, h.text) for h in server.runtime.kb.search(bot, q, k=K)]
                for q in questions
            ]
            result = {"prompteur": scores(ranked, eval_set) | {"chunks": chunks}}
            print(f"  prompteur {time.perf_counter() - started:.0f}s", flush=True)

            started = time.perf_counter()
            baseline_chunks = naive_chunks(eval_set.files)
            builds = []
            for build in range(NAIVE_BUILDS):
                naive = NaiveRetriever(baseline_chunks, embedder, vectors, f"naive-{name}-{build}")
                ranked = [[eval_set.doc_of(c.source, c.page, c.text) for c in naive.search(q, K)] for q in questions]
                builds.append(scores(ranked, eval_set))
            best = max(builds, key=lambda b: b["recall@5"])
            result["naive"] = best | {
                "chunks": len(baseline_chunks),
                "recall@5_builds": [b["recall@5"] for b in builds],
            }
            print(f"  naive {time.perf_counter() - started:.0f}s", flush=True)

            bm25 = BM25Retriever(baseline_chunks, "en" if eval_set.model == MINILM else "fr")
            ranked = [[eval_set.doc_of(c.source, c.page, c.text) for c in bm25.search(q, K)] for q in questions]
            result["bm25"] = scores(ranked, eval_set) | {"chunks": len(baseline_chunks)}
            result["target"] = target(result)
            results[name] = result
            embedder.save()
    return results


def render(results: dict) -> str:
    rows = []
    for name, r in results.items():
        for system in SYSTEMS:
            s = r[system]
            recall = s["recall@5"]
            if len(set(s.get("recall@5_builds", []))) > 1:
                recall = f"{recall:.3f} (builds {min(s['recall@5_builds']):.3f}–{max(s['recall@5_builds']):.3f})"
            rows.append(
                [
                    name,
                    system,
                    recall,
                    s["mrr@10"],
                    s["recall@1"],
                    s["recall@10"],
                    s["chunks"],
                    ("met" if r["target"]["met"] else f"MISSED (need {r['target']['needed']:.3f})")
                    if system == "prompteur"
                    else "",
                ]
            )
    out = table(["set", "system", "recall@5", "MRR@10", "recall@1", "recall@10", "chunks", "target"], rows)
    split = [
        [
            name,
            system,
            r[system]["recall@5_unique_answer"],
            r[system]["questions_unique_answer"],
            r[system]["recall@5_shared_answer"],
            r[system]["questions_shared_answer"],
        ]
        for name, r in results.items()
        if "recall@5_shared_answer" in r["prompteur"]
        for system in SYSTEMS
    ]
    if split:
        out += "\n\nrecall@5 by kind of answer: one only this question has, or a sentence many answers share\n"
        out += table(["set", "system", "unique answer", "questions", "shared answer", "questions"], split)
    return out


def main() -> None:
    args = arguments(
        __doc__.split("\n\n")[0],
        lambda p: (
            p.add_argument("--sets", help=f"comma-separated subset of {','.join(SETS)}"),
            p.add_argument("--no-cache", action="store_true", help="embed everything afresh"),
        ),
    )
    data = data_dir(args.data)
    sets = args.sets.split(",") if args.sets else None
    results = run(data, args.quick, sets, None if args.no_cache else RESULTS / "embedding_cache")
    print(render(results))
    path = write_json("retrieval", {"quick": args.quick, "k": K, "sets": results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
