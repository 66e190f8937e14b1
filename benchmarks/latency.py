"""Search latency (query embedding included) at 1k, 10k and 100k chunks, through the
knowledge base's search as the server calls it, with the process's memory at each scale.

The Contoso documents are chunked and embedded once; larger knowledge bases replicate those
chunks as further documents (vectors nudged by a little noise so the HNSW graph is not full
of exact duplicates, texts marked with their copy number so they are distinct passages),
written straight into SQL and Chroma.

    python -m benchmarks.latency [--data PATH] [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
from sqlalchemy import update

from benchmarks.embedding_cache import CachedEmbedder
from benchmarks.eval_sets import data_dir
from benchmarks.report import RESULTS, arguments, table, write_json
from benchmarks.server import running_server
from bots.store import tables as t
from knowledge.chunking import chunk_document
from knowledge.embedding import MINILM, EmbedderCache
from knowledge.loading import load

SCALES = (1_000, 10_000, 100_000)
TARGET_P95_MS = 100


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def base_chunks(folder: Path, embedder) -> list[tuple[str, object, np.ndarray]]:
    """(source, chunk, vector) for every chunk of the Contoso files, chunked as ingestion does."""
    out: list[tuple[str, object, np.ndarray]] = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".pdf", ".md"):
            continue
        chunks = chunk_document(load(path, path.name), title=path.stem.replace("_", " "))
        vectors = embedder.embed_passages([c.search_text for c in chunks])
        out.extend((path.name, c, v) for c, v in zip(chunks, vectors))
    return out


def grow(runtime, bot_id: str, collection: str, base: list, start: int, stop: int, rng) -> None:
    """Add chunks number start..stop-1, replicating `base` as documents of ~base size."""
    ids, vectors, rows, docs = [], [], [], {}
    for n in range(start, stop):
        copy, i = divmod(n, len(base))
        source, chunk, vector = base[i]
        doc_id = f"doc_c{copy}_{source[:20]}"
        if doc_id not in docs:
            docs[doc_id] = t.Document(
                id=doc_id,
                bot_id=bot_id,
                source=f"copy{copy}-{source}",
                stored_name="-",
                content_hash="-",
                size=0,
                status="ready",
                active_version=1,
            )
        cid = f"{doc_id}-v1-{chunk.ordinal}"
        noisy = vector if copy == 0 else vector + rng.normal(0, 0.01, vector.shape).astype(np.float32)
        ids.append(cid)
        vectors.append(noisy / np.linalg.norm(noisy))
        # Each copy says which copy it is: a real knowledge base of 100k chunks holds 100k
        # distinct passages, and search scores exact repeats once.
        marker = f" (copy {copy})" if copy else ""
        rows.append(
            t.Chunk(
                id=cid,
                document_id=doc_id,
                bot_id=bot_id,
                version=1,
                ordinal=chunk.ordinal,
                text=chunk.text + marker,
                search_text=chunk.search_text + marker,
                page=chunk.page,
                headings=chunk.headings,
            )
        )
    with runtime.sessions.begin() as s:
        existing = set(s.scalars(t.Document.__table__.select().with_only_columns(t.Document.id)))
        s.add_all(d for d in docs.values() if d.id not in existing)
        s.flush()
        s.add_all(rows)
        s.execute(update(t.Bot).where(t.Bot.id == bot_id).values(knowledge_generation=t.Bot.knowledge_generation + 1))
    runtime.vectors.add(collection, ids, np.stack(vectors))


def questions(data: Path) -> list[str]:
    qs = []
    for name in ("contoso_northwind_en", "covid_faq_en"):
        with (data / name / "questions.jsonl").open() as f:
            qs += [json.loads(line)["question"] for line in f]
    return qs


# Shared with the retrieval benchmark (PROMPTEUR_EMBEDDING_CACHE): the Contoso chunks' vectors
# are not timed here, only fetched.
CACHE = Path(os.environ.get("PROMPTEUR_EMBEDDING_CACHE", RESULTS / "embedding_cache"))


def run(data: Path, quick: bool = False, cache: Path | None = CACHE) -> dict:
    scales = SCALES[:2] if quick else SCALES
    queries = questions(data)[: 100 if quick else 300]
    embedders = EmbedderCache()
    # Chunk vectors may come from the retrieval benchmark's cache: they are not timed here.
    passages = CachedEmbedder(embedders.get(MINILM), cache)
    rng = np.random.default_rng(0)
    results = []
    with running_server(embedders) as server:
        runtime = server.runtime
        base = base_chunks(data / "contoso_northwind_en" / "original", passages)
        passages.save()
        bot = server.create_bot("latency", MINILM)
        with runtime.sessions() as s:
            collection = s.get(t.Bot, bot).vector_collection
        size = 0
        for scale in scales:
            rss_before = rss_mb()
            started = time.perf_counter()
            grow(runtime, bot, collection, base, size, scale, rng)
            load_s = time.perf_counter() - started
            size = scale
            started = time.perf_counter()
            runtime.kb.search(bot, "warm up", k=5)  # builds the snapshot and BM25 index
            snapshot_s = time.perf_counter() - started
            for q in queries[:10]:
                runtime.kb.search(bot, q, k=5)
            times, cpu = [], []
            for q in queries:
                started, started_cpu = time.perf_counter(), time.process_time()
                runtime.kb.search(bot, q, k=5)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            times.sort()
            cpu.sort()
            embed_ms = []
            for q in queries[:50]:
                started = time.perf_counter()
                embedders.get(MINILM).embed_query(q)
                embed_ms.append((time.perf_counter() - started) * 1000)
            row = {
                "chunks": scale,
                "p50_ms": statistics.median(times),
                "p95_ms": times[int(0.95 * (len(times) - 1))],
                # The process's CPU time per search: what a search costs when it has a core
                # to itself. On a shared machine wall time also counts the wait for a core.
                "cpu_p50_ms": statistics.median(cpu),
                "cpu_p95_ms": cpu[int(0.95 * (len(cpu) - 1))],
                "queries": len(times),
                "query_embedding_p50_ms": statistics.median(embed_ms),
                "rss_before_mb": rss_before,
                "rss_after_mb": rss_mb(),
                "load_s": load_s,
                "first_search_s": snapshot_s,
            }
            results.append(row)
            print(
                f"[latency] {scale:,} chunks: p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms "
                f"(CPU p50 {row['cpu_p50_ms']:.0f}, p95 {row['cpu_p95_ms']:.0f})",
                flush=True,
            )
    top = results[-1]
    return {
        "scales": results,
        "base_chunks": len(base),
        "target": {
            "p95_ms_at_largest": top["p95_ms"],
            "cpu_p95_ms_at_largest": top["cpu_p95_ms"],
            "chunks": top["chunks"],
            "met": top["chunks"] == SCALES[-1] and top["p95_ms"] < TARGET_P95_MS,
        },
    }


def render(r: dict) -> str:
    rows = [
        [
            f"{s['chunks']:,}",
            s["p50_ms"],
            s["p95_ms"],
            s["cpu_p50_ms"],
            s["cpu_p95_ms"],
            s["query_embedding_p50_ms"],
            f"{s['rss_before_mb']:,.0f} → {s['rss_after_mb']:,.0f}",
            s["first_search_s"],
        ]
        for s in r["scales"]
    ]
    return table(
        [
            "chunks",
            "p50 ms",
            "p95 ms",
            "CPU p50 ms",
            "CPU p95 ms",
            "query embedding p50 ms",
            "RSS MB before → after",
            "first search after change (s)",
        ],
        rows,
    )


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    result = run(data_dir(args.data), args.quick)
    print(render(result))
    target = result["target"]
    verdict = (
        ("met" if target["met"] else "MISSED")
        if target["chunks"] == SCALES[-1]
        else f"not measured (this run stopped at {target['chunks']:,} chunks)"
    )
    print(f"target p95 < {TARGET_P95_MS} ms at {SCALES[-1]:,}: {verdict}")
    print(f"\nwrote {write_json('latency', {'quick': args.quick, **result})}")


if __name__ == "__main__":
    main()
