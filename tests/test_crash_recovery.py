"""A server killed in the middle of an ingest: after a restart the job is resumed, and no
half-indexed document is ever searched."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select

from bots.settings import Settings
from bots.store import tables as t
from bots.store.db import make_engine, session_factory
from knowledge.retrieval import vector_ids
from knowledge.vector_index import VectorIndex
from tests.conftest import faq_csv

# A `prompteur serve` process killed mid-ingest, then two restarts: heavy setup.
pytestmark = pytest.mark.slow

ROWS = 64  # one short chunk each, two batches: enough to kill mid-way, cheap to embed


def _catalogue() -> bytes:
    return faq_csv([(f"What is the price of article {i}?", f"Article {i} costs {i} euros.") for i in range(ROWS)])


class Admin:
    def __init__(self, server):
        self.http = httpx.Client(
            base_url=server.url, timeout=180, headers={"Authorization": f"Bearer {server.admin_token}"}
        )

    def job(self, job_id):
        return self.http.get(f"/admin/jobs/{job_id}").json()

    def document(self, bot_id, source):
        docs = self.http.get(f"/admin/bots/{bot_id}/documents").json()["documents"]
        return next(d for d in docs if d["source"] == source)

    def sources(self, bot_id, query):
        hits = self.http.post(f"/admin/bots/{bot_id}/search", json={"query": query, "k": 10}).json()["hits"]
        return [h["source"] for h in hits]


def _collection(settings: Settings, bot_id: str) -> str:
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_factory(engine)() as s:
            return s.get(t.Bot, bot_id).vector_collection
    finally:
        engine.dispose()


def _wait(predicate, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_an_ingest_cut_by_a_crash_is_resumed_and_never_half_searched(process_server):
    admin = Admin(process_server)
    bot_id = admin.http.post("/admin/bots", json={"name": "Shop"}).json()["id"]
    files = [("files", ("hours.txt", b"The support desk is open from 9am to 5pm."))]
    job = admin.http.post(f"/admin/bots/{bot_id}/documents", files=files).json()["job_id"]
    _wait(lambda: admin.job(job)["status"] == "done", "the small file")

    files = [("files", ("catalogue.csv", _catalogue()))]
    job = admin.http.post(f"/admin/bots/{bot_id}/documents", files=files).json()["job_id"]
    # Some batches embedded and written to Chroma, the rest not: kill there.
    state = _wait(lambda: (s := admin.job(job))["progress"] > 0 and s, "the first embedded batch")
    assert state["status"] == "running" and state["items"][0]["status"] == "processing"
    process_server.kill()
    admin.http.close()

    # Back up with no ingestion worker: the interrupted job waits, and nothing of the
    # half-embedded file can be found. Only the kill needed a process of its own: the
    # restarts serve from this one, through the same startup (and its recovery) as `serve`.
    process_server.process = False
    process_server.env["PROMPTEUR_INGEST_WORKERS"] = "0"
    process_server.start()
    admin = Admin(process_server)
    state = admin.job(job)
    assert state["status"] == "queued" and state["items"][0]["status"] == "queued"
    doc = admin.document(bot_id, "catalogue.csv")
    assert doc["status"] == "queued" and not doc["searchable"] and doc["chunks"] == 0
    for query in ("price of article 7", "article 0 costs", "What is the price of article 1?"):
        assert "catalogue.csv" not in admin.sources(bot_id, query)
    assert admin.sources(bot_id, "when is the support desk open")[0] == "hours.txt"
    doc_id = doc["id"]
    process_server.stop()
    admin.http.close()
    # The restart also removed the vectors the cut-off ingest had written.
    settings = Settings(home=process_server.home)
    assert not any(
        i.startswith(doc_id) for i in VectorIndex.open(path=settings.chroma_dir).ids(_collection(settings, bot_id))
    )

    # With a worker, the job is resumed; until the document flips, searches never see it.
    process_server.env["PROMPTEUR_INGEST_WORKERS"] = "1"
    process_server.start()
    admin = Admin(process_server)
    while True:
        hits = admin.sources(bot_id, "price of article 7")
        searchable = admin.document(bot_id, "catalogue.csv")["searchable"]
        if not searchable:
            assert "catalogue.csv" not in hits
        if admin.job(job)["status"] == "done":
            break
        time.sleep(0.05)
    assert admin.job(job)["items"][0]["status"] == "ready"
    doc = admin.document(bot_id, "catalogue.csv")
    assert doc["status"] == "ready" and doc["chunks"] == ROWS
    assert admin.sources(bot_id, "What is the price of article 7?")[0] == "catalogue.csv"
    admin.http.close()
    process_server.stop()

    # Every chunk is in SQL once, and Chroma holds exactly those vectors.
    engine = make_engine(settings.resolved_database_url)
    with session_factory(engine)() as s:
        rows = s.execute(select(t.Chunk.id, t.Chunk.question).where(t.Chunk.bot_id == bot_id)).all()
    engine.dispose()
    assert len(rows) == ROWS + 1
    # FAQ rows have a second vector, their question alone.
    vector_ids_in_sql = {vid for cid, question in rows for vid in vector_ids(cid, bool(question))}
    assert VectorIndex.open(path=settings.chroma_dir).ids(_collection(settings, bot_id)) == vector_ids_in_sql
