"""Ingestion speed on the Contoso PDFs: Prompteur's first ingest through the admin API (upload
→ sandboxed PDF loader → chunking → embedding → Chroma + SQL), the tutorial pipeline (pypdf in
process, recursive splitter 1000/200, the same embedder, Chroma), and Prompteur re-ingesting
the unchanged files (uploaded again: the content hash skips them).

    python -m benchmarks.ingestion [--data PATH] [--quick]
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from langchain_text_splitters import RecursiveCharacterTextSplitter
from pypdf import PdfReader

from benchmarks.eval_sets import data_dir
from benchmarks.report import arguments, table, write_json
from benchmarks.server import running_server
from knowledge.embedding import MINILM, Embedder, EmbedderCache
from knowledge.vector_index import VectorIndex

TARGET_REINGEST_SPEEDUP = 20


def naive_ingest(files: list[Path], embedder: Embedder, vectors: VectorIndex) -> tuple[int, int]:
    """PyPDFLoader + RecursiveCharacterTextSplitter(1000, 200) + embed + Chroma, as the
    tutorials write it; returns (pages, chunks)."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    pages = chunks = 0
    for path in files:
        texts = [page.extract_text() or "" for page in PdfReader(path).pages]
        pieces = [piece for text in texts for piece in splitter.split_text(text)]
        for start in range(0, len(pieces), 32):
            batch = pieces[start : start + 32]
            vectors.add(
                "naive", [f"{path.name}-{start + i}" for i in range(len(batch))], embedder.embed_passages(batch)
            )
        pages += len(texts)
        chunks += len(pieces)
    return pages, chunks


def run(data: Path, quick: bool = False) -> dict:
    files = sorted((data / "contoso_northwind_en" / "original").glob("*.pdf"))
    if quick:
        files = [f for f in files if f.stat().st_size < 200_000]  # the small distractor PDFs
    embedders = EmbedderCache()
    embedder = embedders.get(MINILM)
    embedder.embed_passages(["warm up the model"])  # loading the model is not ingestion
    print(f"[ingestion] {len(files)} PDFs", flush=True)

    with tempfile.TemporaryDirectory(prefix="prompteur-bench-") as work:
        started = time.perf_counter()
        pages, naive_chunk_count = naive_ingest(files, embedder, VectorIndex.open(path=Path(work) / "chroma"))
        naive_s = time.perf_counter() - started
    print(f"  naive {naive_s:.1f}s", flush=True)

    with running_server(embedders) as server:
        bot = server.create_bot("ingestion", MINILM)
        started = time.perf_counter()
        first_counts = server.upload(bot, files)
        first_s = time.perf_counter() - started
        print(f"  prompteur first {first_s:.1f}s {first_counts}", flush=True)
        docs = server.client.get(f"/admin/bots/{bot}/documents").json()["documents"]
        started = time.perf_counter()
        again_counts = server.upload(bot, files)
        again_s = time.perf_counter() - started
    chunks = sum(d["chunks"] for d in docs)
    return {
        "files": [f.name for f in files],
        "pages": pages,
        "naive": {"seconds": naive_s, "pages_per_s": pages / naive_s, "chunks": naive_chunk_count},
        "prompteur_first": {
            "seconds": first_s,
            "pages_per_s": pages / first_s,
            "chunks": chunks,
            "statuses": first_counts,
        },
        "prompteur_unchanged": {"seconds": again_s, "pages_per_s": pages / again_s, "statuses": again_counts},
        "targets": {
            "first_not_slower_than_naive": first_s <= naive_s,
            "unchanged_speedup": first_s / again_s,
            "unchanged_20x": first_s / again_s >= TARGET_REINGEST_SPEEDUP,
        },
    }


def render(r: dict) -> str:
    rows = [
        [
            "naive (pypdf + splitter 1000/200 + Chroma)",
            r["naive"]["seconds"],
            r["naive"]["pages_per_s"],
            r["naive"]["chunks"],
            "",
        ],
        [
            "Prompteur first ingest (admin API)",
            r["prompteur_first"]["seconds"],
            r["prompteur_first"]["pages_per_s"],
            r["prompteur_first"]["chunks"],
            "met" if r["targets"]["first_not_slower_than_naive"] else "MISSED: slower than naive",
        ],
        [
            "Prompteur re-upload, unchanged",
            r["prompteur_unchanged"]["seconds"],
            r["prompteur_unchanged"]["pages_per_s"],
            "",
            f"{r['targets']['unchanged_speedup']:,.0f}x faster "
            + ("(met)" if r["targets"]["unchanged_20x"] else "(MISSED: < 20x)"),
        ],
    ]
    return table([f"{r['pages']} Contoso PDF pages", "seconds", "pages/s", "chunks", "target"], rows)


def main() -> None:
    args = arguments(__doc__.split("\n\n")[0])
    result = run(data_dir(args.data), args.quick)
    print(render(result))
    print(f"\nwrote {write_json('ingestion', {'quick': args.quick, **result})}")


if __name__ == "__main__":
    main()
