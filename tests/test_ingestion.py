"""Ingestion as server jobs: incremental by content hash, atomic replacement, progress while
search keeps answering, re-indexing, and the stores chosen by settings alone."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from bots.store import tables as t
from knowledge.embedding import E5_SMALL, MINILM, EmbedderCache
from knowledge.retrieval import question_vector_id, vector_ids
from knowledge.vector_index import VectorIndex
from tests.conftest import create_bot, documents, faq_csv, ingest, search, upload, wait_ingested


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.passages = 0

    def embed_passages(self, texts):
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


class GatedEmbedder(CountingEmbedder):
    """The real embedder, holding passage batches after the first until the test opens the
    gate: it pins an ingest in the middle, so what happens meanwhile is not left to timing."""

    def __init__(self, inner):
        super().__init__(inner)
        self.gate = threading.Event()
        self.held = threading.Event()
        self.hold_from = 1  # passages embedded before batches are held

    def embed_passages(self, texts):
        if self.passages >= self.hold_from:
            self.held.set()
            assert self.gate.wait(60), "the test never opened the gate"
        return super().embed_passages(texts)


def _wrapped(embedders: EmbedderCache, wrapper):
    wrapped = wrapper(embedders.get(MINILM))
    return wrapped, EmbedderCache(factories={MINILM: lambda: wrapped, E5_SMALL: lambda: embedders.get(E5_SMALL)})


def _collection(runtime, bot_id: str) -> str:
    with runtime.sessions() as s:
        return s.get(t.Bot, bot_id).vector_collection


def _sql_vector_ids(runtime, bot_id: str) -> set[str]:
    with runtime.sessions() as s:
        rows = s.execute(select(t.Chunk.id, t.Chunk.question).where(t.Chunk.bot_id == bot_id)).all()
    return {vid for cid, question in rows for vid in vector_ids(cid, bool(question))}


def _faq(marker: str, n: int = 6) -> bytes:
    return faq_csv(
        [
            (
                f"How do I reset my password on device {i}?",
                f"Open settings on device {i} and choose reset password ({marker}).",
            )
            for i in range(n)
        ]
    )


def test_re_adding_an_unchanged_file_costs_no_embedding(build_api, embedders):
    counter, cache = _wrapped(embedders, CountingEmbedder)
    api = build_api(cache)
    bot = create_bot(api)
    first = ingest(api, bot["id"], {"faq.csv": _faq("alpha"), "hours.txt": b"Open from 9am to 5pm."})
    assert first["done"] == 2
    embedded = counter.passages
    assert embedded == 13  # 7 chunks and the 6 FAQ questions on their own

    again = upload(api, bot["id"], {"faq.csv": _faq("alpha"), "hours.txt": b"Open from 9am to 5pm."})
    assert [d["status"] for d in again["documents"]] == ["unchanged", "unchanged"]
    assert api.get(f"/admin/jobs/{again['job_id']}").json()["status"] == "done"
    assert counter.passages == embedded

    changed = ingest(api, bot["id"], {"faq.csv": _faq("alpha"), "hours.txt": b"Open from 8am to 6pm."})
    assert [i["status"] for i in changed["items"]] == ["unchanged", "ready"]
    assert counter.passages == embedded + 1
    assert search(api, bot["id"], "opening hours")[0]["text"] == "Open from 8am to 6pm."


def test_a_changed_file_replaces_its_chunks_atomically(api, runtime):
    bot = create_bot(api)
    ingest(api, bot["id"], {"faq.csv": _faq("alpha"), "other.txt": b"Gift cards never expire."})
    doc_id = documents(api, bot["id"])["faq.csv"]["id"]
    problems, results = [], []
    stop = threading.Event()

    def keep_searching():
        while not stop.is_set():
            hits = [h for h in search(api, bot["id"], "reset password on device", k=20) if h["document_id"] == doc_id]
            markers = {"alpha" in h["text"] for h in hits}
            versions = {h["chunk_id"].split("-v")[1].split("-")[0] for h in hits}
            results.append(len(hits))
            # A hit without a dense score would mean its vector vanished under the search.
            if len(hits) != 6 or len(markers) != 1 or len(versions) != 1 or any(h["dense_score"] is None for h in hits):
                problems.append(hits)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        for marker in ("bravo", "alpha", "bravo", "alpha"):
            ingest(api, bot["id"], {"faq.csv": _faq(marker)})
    finally:
        stop.set()
        searcher.join()
    assert results and not problems, [
        [(h["chunk_id"].split("-", 1)[1], h["dense_score"]) for h in p] for p in problems[:3]
    ]
    # Only the active version is left, in SQL and in Chroma.
    with runtime.sessions() as s:
        ids = set(s.scalars(select(t.Chunk.id).where(t.Chunk.document_id == doc_id)))
    assert len(ids) == 6 and all("-v5-" in i for i in ids)
    assert {i for i in runtime.vectors.ids(_collection(runtime, bot["id"])) if i.startswith(doc_id)} == ids | {
        question_vector_id(i) for i in ids
    }


def test_search_keeps_answering_during_a_long_ingest_which_reports_progress(build_api, embedders):
    gated, cache = _wrapped(embedders, GatedEmbedder)
    api = build_api(cache)
    bot = create_bot(api)
    ingest(api, bot["id"], {"hours.txt": b"The support desk is open Monday to Friday from 9am to 5pm."})
    # The gate now holds the next batch: the long file's first.
    long = faq_csv([(f"What is the price of article {i}?", f"Article {i} costs {i} euros.") for i in range(100)])
    job_id = upload(api, bot["id"], {"prices.csv": long})["job_id"]
    try:
        assert gated.held.wait(60)
        job = api.get(f"/admin/jobs/{job_id}").json()
        assert job["status"] == "running" and job["items"][0]["status"] == "processing"
        hits = search(api, bot["id"], "when is the support desk open")
        assert hits and hits[0]["source"] == "hours.txt"
        assert all(h["source"] != "prices.csv" for h in search(api, bot["id"], "price of article 7", k=10))
        assert documents(api, bot["id"])["prices.csv"]["status"] == "processing"
        assert api.get(f"/admin/jobs/{job_id}").json()["status"] == "running"
    finally:
        gated.gate.set()
    job = wait_ingested(api, job_id)
    assert job["status"] == "done" and job["progress"] == 1
    assert search(api, bot["id"], "price of article 7", k=1)[0]["text"].endswith("Article 7 costs 7 euros.")


def test_job_progress_moves_between_zero_and_one(build_api, embedders):
    gated, cache = _wrapped(embedders, GatedEmbedder)
    api = build_api(cache)
    bot = create_bot(api)
    long = faq_csv([(f"What is the price of article {i}?", f"Article {i} costs {i} euros.") for i in range(100)])
    job_id = upload(api, bot["id"], {"prices.csv": long, "hours.txt": b"Open from 9am to 5pm."})["job_id"]
    try:
        assert gated.held.wait(60)
        progress = api.get(f"/admin/jobs/{job_id}").json()["progress"]
        assert 0 < progress < 0.5  # one batch of 32 of the first file's 100 chunks, of two files
    finally:
        gated.gate.set()
    assert wait_ingested(api, job_id)["progress"] == 1


def test_deleting_a_queued_document_skips_it_cleanly(build_api, embedders):
    gated, cache = _wrapped(embedders, GatedEmbedder)
    api = build_api(cache)
    bot = create_bot(api)
    long = faq_csv([(f"What is the price of article {i}?", f"Article {i} costs {i} euros.") for i in range(40)])
    job_id = upload(api, bot["id"], {"prices.csv": long, "hours.txt": b"Open from 9am to 5pm."})["job_id"]
    try:
        assert gated.held.wait(60)
        queued = documents(api, bot["id"])["hours.txt"]
        assert queued["status"] == "queued"
        assert api.delete(f"/admin/bots/{bot['id']}/documents/{queued['id']}").status_code == 204
        busy = api.delete(f"/admin/bots/{bot['id']}/documents/{documents(api, bot['id'])['prices.csv']['id']}")
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "document_busy"
    finally:
        gated.gate.set()
    job = wait_ingested(api, job_id)
    assert job["status"] == "done" and job["failed"] == 0
    assert [i["status"] for i in job["items"]] == ["ready", "removed"]
    assert set(documents(api, bot["id"])) == {"prices.csv"}


def test_changing_the_embedding_model_reindexes_the_bot(api, runtime):
    bot = create_bot(api)
    ingest(api, bot["id"], {"faq.csv": _faq("alpha"), "hours.txt": b"The desk is open from 9am to 5pm."})
    old_collection = _collection(runtime, bot["id"])
    patched = api.patch(f"/admin/bots/{bot['id']}", json={"embedding_model": E5_SMALL})
    assert patched.status_code == 200, patched.text
    job = wait_ingested(api, patched.json()["reindex_job_id"])
    assert job["status"] == "done" and job["kind"] == "reindex"
    assert api.get(f"/admin/bots/{bot['id']}").json()["embedding_model"] == E5_SMALL
    new_collection = _collection(runtime, bot["id"])
    assert new_collection != old_collection
    assert runtime.vectors.ids(old_collection) == set()
    with runtime.sessions() as s:
        questions = list(s.scalars(select(t.Chunk.question).where(t.Chunk.bot_id == bot["id"])))
    # The FAQ questions are re-embedded on their own too.
    assert runtime.vectors.ids(new_collection) == _sql_vector_ids(runtime, bot["id"])
    assert sum(bool(q) for q in questions) == 6
    hit = search(api, bot["id"], "opening hours of the desk", k=1)[0]
    assert hit["source"] == "hours.txt" and hit["dense_score"] > 0.5  # e5 scores run high


@pytest.mark.both_backends
def test_reindex_rebuilds_the_vector_index_from_sql(api, runtime):
    bot = create_bot(api)
    ingest(api, bot["id"], {"faq.csv": _faq("alpha"), "hours.txt": b"The desk is open from 9am to 5pm."})
    runtime.vectors.drop(_collection(runtime, bot["id"]))
    # Dense search has nothing left; words alone still find something.
    assert all(h["dense_score"] is None for h in search(api, bot["id"], "desk open 9am"))

    response = api.post(f"/admin/bots/{bot['id']}/reindex")
    assert response.status_code == 202
    assert wait_ingested(api, response.json()["job_id"])["status"] == "done"
    hits = search(api, bot["id"], "when can I come to the desk")
    assert hits[0]["source"] == "hours.txt" and hits[0]["dense_score"] > 0.3
    assert runtime.vectors.ids(_collection(runtime, bot["id"])) == _sql_vector_ids(runtime, bot["id"])


def test_a_document_deleted_during_a_reindex_leaves_no_vectors(build_api, embedders):
    gated, cache = _wrapped(embedders, GatedEmbedder)
    api = build_api(cache)
    bot = create_bot(api)
    gated.hold_from = 13  # let the two files (6 + 1 chunks, 6 questions) in, hold the reindex
    ingest(api, bot["id"], {"faq.csv": _faq("alpha"), "hours.txt": b"The desk is open from 9am to 5pm."})
    job_id = api.post(f"/admin/bots/{bot['id']}/reindex").json()["job_id"]
    try:
        assert gated.held.wait(60)  # the reindex has read the chunks and waits to embed them
        doomed = documents(api, bot["id"])["faq.csv"]["id"]
        assert api.delete(f"/admin/bots/{bot['id']}/documents/{doomed}").status_code == 204
    finally:
        gated.gate.set()
    assert wait_ingested(api, job_id)["status"] == "done"
    runtime = api.runtime
    with runtime.sessions() as s:
        sql_ids = set(s.scalars(select(t.Chunk.id).where(t.Chunk.bot_id == bot["id"])))
    assert len(sql_ids) == 1
    assert runtime.vectors.ids(_collection(runtime, bot["id"])) == sql_ids
    assert all(h["source"] == "hours.txt" for h in search(api, bot["id"], "reset password"))


def test_a_non_default_sqlite_url_is_used(tmp_path, embedders, monkeypatch):
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("PROMPTEUR_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere' / 'kb.sqlite'}")
    settings = Settings()
    runtime = Runtime.build(settings, embedders=embedders)
    try:
        with runtime.sessions.begin() as s:
            s.add(t.Bot(id="bot_x", name="X", embedding_model=MINILM, vector_collection="bot_x-c"))
    finally:
        runtime.stop()
    assert (tmp_path / "elsewhere" / "kb.sqlite").stat().st_size > 0
    assert not (settings.home / "prompteur.db").exists()


def test_a_chroma_url_puts_the_vectors_in_a_chroma_server(chroma_server, embedders, monkeypatch):
    # The server is tests/backing_services.py's, shared by the tests marked both_backends.
    monkeypatch.setenv("PROMPTEUR_CHROMA_URL", chroma_server)
    settings = Settings()
    runtime = Runtime.build(settings, embedders=embedders)
    with TestClient(create_app(settings, runtime=runtime)) as api:
        api.headers["Authorization"] = f"Bearer {runtime.admin_token}"
        bot = create_bot(api)
        ingest(api, bot["id"], {"hours.txt": b"The support desk is open from 9am to 5pm."})
        hit = search(api, bot["id"], "when can I visit the desk")[0]
        assert hit["source"] == "hours.txt" and hit["dense_score"] > 0.3
        collection = _collection(runtime, bot["id"])
    assert not settings.chroma_dir.exists()
    remote = VectorIndex.open(url=chroma_server)
    assert remote.ids(collection) == {f"{hit['document_id']}-v1-0"}
