"""The embedder's memory under concurrent questions: 40 threads ask queries of varied lengths
for a while, and the process's RSS is sampled. Two ways, each in a fresh process, same run:
every asking thread runs the model itself (as before `ModelThread`), and the model runs on its
one thread with `malloc_trim` every few seconds (knowledge/embedding.py, what the server does).

    python -m benchmarks.embedder_memory [--quick] [--seconds 150]
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time

import numpy as np

from benchmarks.process_stats import rss_mb
from benchmarks.report import arguments, table, write_json

WORDS = [
    "return",
    "refund",
    "kettle",
    "warranty",
    "delivery",
    "order",
    "payment",
    "shipping",
    "blender",
    "noise",
    "reset",
    "password",
    "email",
    "account",
    "invoice",
    "address",
    "cancel",
    "subscription",
    "store",
    "opening",
    "hours",
]
THREADS = 40


def measure(mode: str, seconds: float) -> dict:
    """In this process: ask for `seconds`, sampling RSS every 10 s."""
    from knowledge.embedding import MiniLMEmbedder, QueryBatcher, TurnLock

    embedder = MiniLMEmbedder()
    embedder.embed_passages(["warm up the model"])
    # As before ModelThread: queries batched, the batch run by whichever asking thread leads.
    in_asking_threads = QueryBatcher(embedder._run_model, TurnLock())
    stop = time.monotonic() + seconds
    asked = 0

    def ask(seed: int) -> None:
        nonlocal asked
        rng = random.Random(seed)
        while time.monotonic() < stop:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 60)))
            if mode == "each thread":
                in_asking_threads.embed(text)
            else:
                embedder.embed_query(text)
            asked += 1
            time.sleep(rng.random() * 0.05)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    series = []
    while time.monotonic() < stop:
        series.append([round(time.monotonic() - started), round(rss_mb(os.getpid()))])
        time.sleep(10)
    for thread in threads:
        thread.join()
    series.append([round(time.monotonic() - started), round(rss_mb(os.getpid()))])
    second_half = series[len(series) // 2 :]
    slope = float(np.polyfit([t / 60 for t, _ in second_half], [v for _, v in second_half], 1)[0])
    return {
        "mode": mode,
        "queries_per_s": asked / (time.monotonic() - started),
        "rss_first_mb": series[0][1],
        "rss_max_mb": max(v for _, v in series),
        "rss_last_mb": series[-1][1],
        "slope_second_half_mb_per_min": slope,
        "series": series,
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2], float(sys.argv[3]))))
        return
    args = arguments(
        __doc__.split("\n\n")[0],
        lambda p: p.add_argument("--seconds", type=float, help="seconds per way (150; quick 40)"),
    )
    seconds = args.seconds or (40 if args.quick else 150)
    runs = []
    for mode in ("each thread", "model thread"):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.embedder_memory", "--child", mode, str(seconds)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        table(
            ["model runs on", "queries/s", "RSS first MB", "RSS max MB", "RSS last MB", "slope, 2nd half MB/min"],
            [
                [
                    r["mode"],
                    r["queries_per_s"],
                    r["rss_first_mb"],
                    r["rss_max_mb"],
                    r["rss_last_mb"],
                    f"{r['slope_second_half_mb_per_min']:+.1f}",
                ]
                for r in runs
            ],
        )
    )
    print(f"\n{THREADS} threads asking queries of 3-60 words, {seconds:.0f} s each, each way in a fresh process")
    print(f"wrote {write_json('embedder_memory', {'threads': THREADS, 'seconds': seconds, 'runs': runs})}")


if __name__ == "__main__":
    main()
