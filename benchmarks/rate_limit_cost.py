"""What one rate-limit hit costs: the in-memory bucket of one process, and the database's
buckets several processes share (one upsert per hit) on SQLite and, with --postgres URL, on
Postgres. Hits cycle over --keys keys, as requests from many clients would."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.report import arguments, table, write_json
from bots.rate_limit import Limiter, RateLimiter
from bots.store.db import make_engine, migrate, session_factory
from bots.store.rate_buckets import SharedRateLimiter


def _extra(parser) -> None:
    parser.add_argument("--hits", type=int, default=2000)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--postgres", help="a Postgres URL (an empty database) to measure too")


def measure(limiter: Limiter, hits: int, keys: int) -> dict:
    for i in range(min(keys, 50)):  # warm: connections opened, rows created
        limiter.hit(f"ip:{i}", 10_000)
    times = []
    for i in range(hits):
        started = time.perf_counter()
        limiter.hit(f"ip:{i % keys}", 10_000)
        times.append(time.perf_counter() - started)
    times.sort()
    return {
        "mean_us": statistics.fmean(times) * 1e6,
        "p50_us": times[len(times) // 2] * 1e6,
        "p99_us": times[int(len(times) * 0.99)] * 1e6,
    }


def main() -> None:
    args = arguments(__doc__ or "", _extra)
    hits = 300 if args.quick else args.hits
    results = {"memory": measure(RateLimiter(), hits, args.keys)}
    with tempfile.TemporaryDirectory() as folder:
        urls = {"database (SQLite, WAL)": f"sqlite:///{Path(folder) / 'bench.db'}"}
        if args.postgres:
            urls["database (Postgres)"] = args.postgres
        for name, url in urls.items():
            engine = make_engine(url)
            migrate(engine)
            results[name] = measure(SharedRateLimiter(session_factory(engine)), hits, args.keys)
            engine.dispose()
    rows = [[name, r["mean_us"], r["p50_us"], r["p99_us"]] for name, r in results.items()]
    print(table(["store", "mean µs/hit", "p50 µs", "p99 µs"], rows))
    print(write_json("rate_limit_cost", {"hits": hits, "keys": args.keys, "results": results}))


if __name__ == "__main__":
    main()
