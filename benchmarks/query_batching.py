"""Query embedding under concurrent questions: one model call per query (the naive way, as
the server did before) against `QueryBatcher` (the queries waiting for the model encoded in one
call), on the real MiniLM, in the same run.

Many threads ask questions at once, as the server's request threads do at 200 widget visitors,
while one ingestion thread embeds documents of 25 passages the whole time. Reported: queries
per second, query latency p50/p95, and passages ingested per second beside them.

    python -m benchmarks.query_batching [--quick] [--threads 40] [--seconds 20]
"""

from __future__ import annotations

import statistics
import threading
import time

from benchmarks.report import arguments, table, write_json
from knowledge.embedding import MINILM, EmbedderCache

QUESTIONS = [
    "How long is the warranty on the kettle?",
    "Can I return an item I bought in a shop?",
    "Where is my order?",
    "Do you ship to Norway and how much does it cost?",
    "What payment methods do you accept?",
    "My blender makes a loud noise, what should I do?",
    "refund",
    "How do I reset my password if I no longer have access to my email address?",
]
PASSAGE = (
    "The model X kettle holds 1.7 litres and comes in red, blue and steel. Its warranty lasts two years "
    "from delivery; keep the receipt. Descale it every month in hard-water areas."
)


def run_mode(embedder, batched: bool, threads: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    passages = 0

    def ask(worker: int) -> None:
        i = worker
        while time.monotonic() < stop:
            text = f"{QUESTIONS[i % len(QUESTIONS)]} ({worker}.{i})"  # distinct texts, as real questions
            t = time.perf_counter()
            if batched:
                embedder.embed_query(text)
            else:
                with embedder._lock:
                    embedder._encode([text])
            latencies.append(time.perf_counter() - t)
            i += 1

    def ingest() -> None:
        nonlocal passages
        while time.monotonic() < stop:
            embedder.embed_passages([PASSAGE + f" Note {passages + j}." for j in range(25)])
            passages += 25

    workers = [threading.Thread(target=ask, args=(w,)) for w in range(threads)]
    workers.append(threading.Thread(target=ingest))
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    wall = time.perf_counter() - started
    ms = sorted(x * 1000 for x in latencies)
    return {
        "mode": "batched" if batched else "one call per query",
        "queries": len(ms),
        "queries_per_s": len(ms) / wall,
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[int(0.95 * (len(ms) - 1))],
        "passages_per_s": passages / wall,
    }


def main() -> None:
    args = arguments(
        __doc__.split("\n\n")[0],
        lambda p: (
            p.add_argument("--threads", type=int, default=40, help="concurrent askers (the server's thread pool: 40)"),
            p.add_argument("--seconds", type=float, help="seconds per mode (20; quick 5)"),
        ),
    )
    seconds = args.seconds or (5 if args.quick else 20)
    embedder = EmbedderCache().get(MINILM)
    embedder.embed_passages(["warm up the model"])
    naive = run_mode(embedder, False, args.threads, seconds)
    batched = run_mode(embedder, True, args.threads, seconds)
    batched["queries_per_s_ratio"] = batched["queries_per_s"] / naive["queries_per_s"]
    batched["passages_per_s_ratio"] = batched["passages_per_s"] / max(naive["passages_per_s"], 1e-9)
    rows = [
        [r["mode"], r["queries"], r["queries_per_s"], r["p50_ms"], r["p95_ms"], r["passages_per_s"]]
        for r in (naive, batched)
    ]
    print(table(["mode", "queries", "queries/s", "query p50 ms", "query p95 ms", "passages ingested/s"], rows))
    print(
        f"\nbatched vs one call per query: {batched['queries_per_s_ratio']:.2f}x queries/s, "
        f"{batched['passages_per_s_ratio']:.2f}x passages/s ({args.threads} askers + 1 ingester, {seconds:.0f} s each)"
    )
    payload = {"threads": args.threads, "seconds": seconds, "runs": [naive, batched]}
    print(f"wrote {write_json('query_batching', payload)}")


if __name__ == "__main__":
    main()
