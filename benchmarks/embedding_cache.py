"""An embedder that remembers vectors on disk, so re-running the retrieval benchmark while
tuning chunking or fusion does not re-embed unchanged texts (e5 runs at a few chunks per
second here). Only the retrieval benchmark uses it: vectors are the model's either way, so
recall is unchanged; ingestion and latency always time the real embedder."""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from pathlib import Path

import numpy as np

from knowledge.embedding import Embedder

# New vectors between two saves: e5 gives a few per second on a shared machine, and a run
# stopped half-way (killed, out of time) keeps what it had saved.
SAVE_EVERY = 64


class CachedEmbedder:
    def __init__(self, inner: Embedder, folder: Path | None):
        self.name, self.dim = inner.name, inner.dim
        self._inner = inner
        self._path = folder / f"{inner.name}.pkl" if folder else None
        self._vectors: dict[bytes, np.ndarray] = {}
        self._dirty = 0
        self._lock = threading.Lock()
        if self._path and self._path.exists():
            with self._path.open("rb") as f:
                self._vectors = pickle.load(f)

    @staticmethod
    def _key(kind: str, text: str) -> bytes:
        return hashlib.sha1(f"{kind}\0{text}".encode()).digest()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        keys = [self._key("p", t) for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in self._vectors]
        if todo:
            fresh = self._inner.embed_passages([texts[i] for i in todo])
            with self._lock:
                for i, vec in zip(todo, fresh):
                    self._vectors[keys[i]] = vec
                self._dirty += len(todo)
            if self._dirty >= SAVE_EVERY:
                self.save()
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        key = self._key("q", text)
        if key not in self._vectors:
            self._vectors[key] = self._inner.embed_query(text)
            self._dirty += 1
            if self._dirty >= SAVE_EVERY:  # a run stopped half-way keeps its query vectors too
                self.save()
        return self._vectors[key]

    def save(self) -> None:
        if not self._path or not self._dirty:
            return
        with self._lock:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Several runs (worktrees, or sets run side by side) share the file: keep the
            # vectors another one saved since we loaded it, or the last writer drops them.
            if self._path.exists():
                with self._path.open("rb") as f:
                    for k, vec in pickle.load(f).items():
                        self._vectors.setdefault(k, vec)
            tmp = self._path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as f:
                pickle.dump(self._vectors, f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(self._path)
            self._dirty = 0


def cached(embedder: Embedder) -> CachedEmbedder:
    """An embedder from a benchmark's cache of CachedEmbedders, typed as one to save it."""
    if not isinstance(embedder, CachedEmbedder):
        raise TypeError(f"{embedder!r} is not a CachedEmbedder: nothing to save")
    return embedder
