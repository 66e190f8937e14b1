"""Several server processes sharing one database and one Chroma server (issue #17): ingestion
jobs are claimed with leases, so every document is ingested exactly once whichever process
runs it; a process that loses its lease publishes nothing; a process killed mid-ingestion is
taken over by another; a due web sync is queued once whatever the number of schedulers."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from bots.store import tables as t
from knowledge.embedding import MINILM, EmbedderCache
from knowledge.retrieval import vector_ids
from tests.conftest import (
    LiveServer,
    create_bot,
    faq_csv,
    seed_database,
    shared_embedders,
    upload,
    wait_ingested,
)
from tests.test_ingestion import CountingEmbedder, GatedEmbedder, _wrapped


@pytest.fixture
def shared_settings(settings, backend, chroma_server, monkeypatch) -> Settings:
    """The settings of every "process" of a test: one database (the test's SQLite file, or
    its Postgres database) and the Chroma server, since embedded Chroma must not be written
    by two processes. A lease long enough that a live process never loses it to a busy machine
    (a heartbeat starved for a second once let the other server take a job over here);
    the test of taking over shortens it."""
    monkeypatch.setenv("PROMPTEUR_CHROMA_URL", chroma_server)
    monkeypatch.setenv("PROMPTEUR_JOB_LEASE_S", "15")
    return Settings(home=settings.home)


def _client(settings: Settings, embedders: EmbedderCache) -> TestClient:
    runtime = Runtime.build(settings, embedders=embedders)
    client = TestClient(create_app(settings, runtime=runtime))
    client.headers["Authorization"] = f"Bearer {runtime.admin_token}"
    client.runtime = runtime  # type: ignore[attr-defined]  # the test reaches into its server
    return client


def _chunks(runtime: Runtime, bot_id: str) -> list[tuple[str, str, int, bool]]:
    """(chunk id, document id, version, has a question) of every chunk of the bot in SQL."""
    with runtime.sessions() as s:
        rows = s.execute(
            select(t.Chunk.id, t.Chunk.document_id, t.Chunk.version, t.Chunk.question).where(t.Chunk.bot_id == bot_id)
        ).all()
    return [(cid, doc, version, bool(question)) for cid, doc, version, question in rows]


def _collection(runtime: Runtime, bot_id: str) -> str:
    with runtime.sessions() as s:
        return s.get(t.Bot, bot_id).vector_collection


def _faq(name: str, rows: int) -> bytes:
    return faq_csv([(f"What does {name} item {i} cost?", f"{name} item {i} costs {i} euros.") for i in range(rows)])


@pytest.mark.both_backends
def test_two_servers_claim_disjoint_jobs_and_every_document_is_ingested_once(shared_settings, embedders):
    counting, cache = _wrapped(embedders, CountingEmbedder)
    one, two = _client(shared_settings, cache), _client(shared_settings, cache)
    ran: dict[str, list[str]] = {"one": [], "two": []}
    for name, client in (("one", one), ("two", two)):
        kb = client.runtime.kb
        ingest = kb.ingest

        def recording(doc_id, *args, _ingest=ingest, _name=name, **kwargs):
            ran[_name].append(doc_id)
            return _ingest(doc_id, *args, **kwargs)

        kb.ingest = recording
    with one:
        bot = create_bot(one)
        # Every job is sent to the first server; the second starts while the first works on
        # them: it must leave the running job alone, and take free jobs as its own.
        jobs = [upload(one, bot["id"], {f"file{i}.csv": _faq(f"file{i}", 6)})["job_id"] for i in range(8)]
        with two:
            for job_id in jobs:
                assert wait_ingested(two, job_id)["status"] == "done"
            chunks = _chunks(one.runtime, bot["id"])
            collection_ids = one.runtime.vectors.ids(_collection(one.runtime, bot["id"]))

    assert ran["one"] and ran["two"], ran
    assert not set(ran["one"]) & set(ran["two"])
    assert sorted(ran["one"] + ran["two"]) == sorted({doc for _, doc, _, _ in chunks})  # each once
    assert len(chunks) == 8 * 6 and all(version == 1 for _, _, version, _ in chunks)
    assert collection_ids == {vid for cid, _, _, q in chunks for vid in vector_ids(cid, q)}
    assert counting.passages == 8 * 6 * 2  # every answer and every question embedded once


@pytest.mark.both_backends
def test_a_process_whose_lease_was_taken_over_publishes_nothing(shared_settings, embedders):
    shared_settings = shared_settings.model_copy(update={"job_lease_s": 1.0})  # taken over fast
    # The first server stalls in the middle of an ingest (its embedder is held) and stops
    # renewing its lease, as a process stuck in a long pause or cut off from the database
    # would; the second takes the job over once the lease has expired and ingests the file.
    gated, gated_cache = _wrapped(embedders, GatedEmbedder)
    gated.hold_from = 64  # the first batch (32 answers, 32 questions) passes, then it waits
    stalled = _client(shared_settings, gated_cache)
    ended = threading.Event()
    outcome: list[BaseException | None] = []
    with stalled:
        runtime = stalled.runtime
        runtime.jobs._leases.renew_all = lambda: None  # the stall: no heartbeat
        ingest = runtime.kb.ingest

        def watched(doc_id, *args, **kwargs):
            try:
                ingest(doc_id, *args, **kwargs)
                outcome.append(None)
            except BaseException as err:
                outcome.append(err)
                raise
            finally:
                ended.set()

        runtime.kb.ingest = watched
        bot = create_bot(stalled)
        job_id = upload(stalled, bot["id"], {"catalogue.csv": _faq("catalogue", 64)})["job_id"]
        assert gated.held.wait(60), "the first server never started embedding"

        with _client(shared_settings, embedders) as rescuer:
            assert wait_ingested(rescuer, job_id, timeout=60)["status"] == "done"
            chunks_after_rescue = _chunks(runtime, bot["id"])
            gated.gate.set()  # the stalled server wakes up and tries to finish its copy
            assert ended.wait(60)
            job = rescuer.get(f"/admin/jobs/{job_id}").json()
            document = rescuer.get(f"/admin/bots/{bot['id']}/documents").json()["documents"][0]
            hits = rescuer.post(
                f"/admin/bots/{bot['id']}/search", json={"query": "What does catalogue item 7 cost?", "k": 3}
            ).json()["hits"]
        chunks = _chunks(runtime, bot["id"])
        collection_ids = runtime.vectors.ids(_collection(runtime, bot["id"]))

    assert type(outcome[0]).__name__ == "LeaseLost", outcome  # refused at the flip
    assert job["status"] == "done" and job["items"][0]["status"] == "ready"
    # The rescuer's attempt (version 2) is the searchable one, and the only one stored.
    assert document["chunks"] == 64 and document["status"] == "ready"
    assert chunks == chunks_after_rescue and len(chunks) == 64
    assert {version for _, _, version, _ in chunks} == {2}
    # The stalled attempt's vectors (version 1, written to the shared Chroma) were removed.
    assert collection_ids == {vid for cid, _, _, q in chunks for vid in vector_ids(cid, q)}
    assert hits[0]["source"] == "catalogue.csv"


# A `prompteur serve` process killed mid-ingest: heavy setup, like tests/test_crash_recovery.py.
@pytest.mark.slow
def test_a_server_killed_mid_ingestion_is_taken_over_and_never_half_searched(
    isolated_home, migrated_database, chroma_server, monkeypatch
):
    seed_database(isolated_home, migrated_database)
    monkeypatch.setenv("PROMPTEUR_CHROMA_URL", chroma_server)
    monkeypatch.setenv("PROMPTEUR_JOB_LEASE_S", "2")
    doomed = LiveServer(isolated_home, process=True)
    doomed.start()
    shared_embedders().get(MINILM)  # this process's server loads it meanwhile
    try:
        admin = httpx.Client(base_url=doomed.url, timeout=60, headers={"Authorization": f"Bearer {doomed.admin_token}"})
        bot_id = admin.post("/admin/bots", json={"name": "Shop"}).json()["id"]
        rows = 256  # eight batches: time to see it half done and kill it there
        files = [("files", ("catalogue.csv", _faq("catalogue", rows)))]
        job_id = admin.post(f"/admin/bots/{bot_id}/documents", files=files).json()["job_id"]
        deadline = time.monotonic() + 60
        while admin.get(f"/admin/jobs/{job_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        admin.close()
        # The job is the doomed server's; the survivor starts beside it and leaves it alone.
        survivor = _client(Settings(), shared_embedders())
        with survivor:
            # Its progress, written by the other process, is read here from SQL.
            deadline = time.monotonic() + 60
            while (state := survivor.get(f"/admin/jobs/{job_id}").json())["progress"] == 0:
                assert time.monotonic() < deadline, state
                time.sleep(0.05)
            assert state["status"] == "running" and state["items"][0]["stage"] == "embedding"
            assert 0 < state["items"][0]["embedded"] < rows
            doomed.kill()

            deadline = time.monotonic() + 120
            while True:
                hits = survivor.post(f"/admin/bots/{bot_id}/search", json={"query": "catalogue item 7", "k": 5})
                document = survivor.get(f"/admin/bots/{bot_id}/documents").json()["documents"][0]
                if not document["searchable"]:
                    assert hits.json()["hits"] == [], "half a document was searched"
                job = survivor.get(f"/admin/jobs/{job_id}").json()
                if job["status"] == "done":
                    break
                assert time.monotonic() < deadline, job
                time.sleep(0.1)
            runtime = survivor.runtime
            chunks = _chunks(runtime, bot_id)
            collection_ids = runtime.vectors.ids(_collection(runtime, bot_id))
            with runtime.sessions() as s:
                doc = s.scalar(select(t.Document).where(t.Document.bot_id == bot_id))
                jobs_running = s.scalar(select(func.count()).select_from(t.Job).where(t.Job.status == "running"))
    finally:
        doomed.stop()

    assert job["items"][0]["status"] == "ready" and jobs_running == 0
    # The survivor finished the job: the doomed attempt (version 1) never flipped.
    assert doc.active_version == 2 and doc.chunk_count == rows
    assert len(chunks) == rows and {version for _, _, version, _ in chunks} == {2}
    assert collection_ids == {vid for cid, _, _, q in chunks for vid in vector_ids(cid, q)}


@pytest.mark.both_backends
def test_a_due_sync_is_queued_once_whatever_the_number_of_schedulers(settings, embedders):
    runtimes = [Runtime.build(settings, embedders=embedders) for _ in range(3)]
    try:
        with runtimes[0].sessions.begin() as s:
            s.add(t.Bot(id="bot_web", name="Web", embedding_model=MINILM, vector_collection="bot_web-c"))
            for i in range(20):
                s.add(
                    t.WebSource(
                        id=f"web_{i}", bot_id="bot_web", kind="crawl", url=f"https://example.com/{i}", schedule="hourly"
                    )
                )
        # Every scheduler looks at the same moment: each source is due for all of them.
        start = threading.Barrier(len(runtimes))
        queued: list[list[str]] = [[] for _ in runtimes]

        def tick(index: int) -> None:
            start.wait()
            queued[index] = runtimes[index].web.tick()

        threads = [threading.Thread(target=tick, args=(i,)) for i in range(len(runtimes))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        with runtimes[0].sessions() as s:
            per_source = dict(s.execute(select(t.WebSync.source_id, func.count()).group_by(t.WebSync.source_id)).all())
    finally:
        for runtime in runtimes:
            runtime.stop()
    assert per_source == {f"web_{i}": 1 for i in range(20)}
    assert len(set(sum(queued, []))) == 20
