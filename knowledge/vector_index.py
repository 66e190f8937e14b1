"""The one module that talks to Chroma: a collection per knowledge base, vectors we compute
ourselves (Chroma's default embedding function downloads a model, so it is never used)."""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings

NUDGE = 1e-4
P = ParamSpec("P")
R = TypeVar("R")


class VectorStoreUnavailable(Exception):
    """The Chroma server could not be reached (refused, dropped or timed out): a restart or
    a network fault, which waiting may cure. Embedded Chroma never raises it."""


def _reaching(method: Callable[P, R]) -> Callable[P, R]:
    """Transport errors of the Chroma server's HTTP client become `VectorStoreUnavailable`,
    so the server can answer 503 and Retry-After instead of a 500 for an outage."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except httpx.TransportError as error:
            raise VectorStoreUnavailable(f"the Chroma server could not be reached: {error}") from error

    return call


@dataclass
class VectorMatch:
    chunk_id: str
    similarity: float  # cosine similarity, -1..1


class VectorIndex:
    def __init__(self, client: chromadb.api.ClientAPI):
        self._client = client
        self._collections: dict[str, object] = {}

    @classmethod
    def open(cls, path: Path | None = None, url: str | None = None) -> VectorIndex:
        """Embedded Chroma in `path`, or a Chroma server at `url` (http://host:port)."""
        settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if url:
            parsed = urlparse(url)
            if not parsed.hostname:  # chromadb would quietly try localhost instead
                raise ValueError(f"Chroma URL {url!r} has no host: expected http://host:port")
            client = chromadb.HttpClient(
                host=parsed.hostname, port=parsed.port or 8000, ssl=parsed.scheme == "https", settings=settings
            )
        else:
            client = chromadb.PersistentClient(path=str(path), settings=settings)
        return cls(client)

    def _collection(self, name: str):
        if name not in self._collections:
            self._collections[name] = self._client.get_or_create_collection(
                name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        return self._collections[name]

    @_reaching
    def add(self, collection: str, ids: list[str], vectors: np.ndarray, nudge: bool = True) -> None:
        """Store vectors under ids (replacing those already there). `nudge` moves each one
        by ~1e-4 per dimension: Chroma's HNSW graph cannot link exact duplicates, and a few
        hundred copies of one vector (a boilerplate answer under many FAQ questions) become
        a cluster its search cannot leave, so other passages go missing from results even
        when every vector is asked for. Cosines move by about 1e-4."""
        if not ids:
            return
        col = self._collection(collection)
        vectors = np.asarray(vectors, dtype=np.float32)
        if nudge:
            rng = np.random.default_rng(zlib.crc32("\n".join(ids).encode()))
            vectors = vectors + rng.normal(0, NUDGE, vectors.shape).astype(np.float32)
        batch = 4000  # below Chroma's max batch size
        for start in range(0, len(ids), batch):
            col.upsert(
                ids=ids[start : start + batch], embeddings=np.asarray(vectors[start : start + batch], dtype=np.float32)
            )

    @_reaching
    def delete(self, collection: str, ids: list[str]) -> None:
        if ids:
            col = self._collection(collection)
            for start in range(0, len(ids), 4000):
                col.delete(ids=ids[start : start + 4000])

    @_reaching
    def query(self, collection: str, vector: np.ndarray, n: int) -> list[VectorMatch]:
        col = self._collection(collection)
        count = col.count()
        if count == 0:
            return []
        res = col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=min(n, count), include=["distances"]
        )
        return [VectorMatch(cid, 1.0 - float(d)) for cid, d in zip(res["ids"][0], res["distances"][0])]

    @_reaching
    def vectors(self, collection: str, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        res = self._collection(collection).get(ids=ids, include=["embeddings"])
        return {cid: np.asarray(v, dtype=np.float32) for cid, v in zip(res["ids"], res["embeddings"])}

    @_reaching
    def ids(self, collection: str) -> set[str]:
        col = self._collection(collection)
        return set(col.get(include=[])["ids"])

    def drop(self, collection: str) -> None:
        self._collections.pop(collection, None)
        try:
            self._client.delete_collection(collection)
        except Exception:  # noqa: BLE001 - absent collection: nothing to drop
            pass
