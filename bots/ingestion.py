"""Ingestion jobs: worked by background threads of any server process (claimed from SQL with
leases: bots/leases.py), with progress every process can show, recovery after a crash, and
one bad file never stopping the others."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from bots.core.status import ITEM_FINISHED, JOB_FINISHED, DocumentStatus, ItemStatus, JobStatus
from bots.knowledge_base import DocumentGone, KnowledgeBase
from bots.leases import LeaseLost, Leases
from bots.store import tables as t
from knowledge.documents import LoadError

log = logging.getLogger("prompteur.ingestion")

# Live progress reaches SQL at most this often (with the lease's renewal): often enough for a
# progress bar read through another process, rare enough to cost nothing next to embedding.
PROGRESS_EVERY_S = 1.0


class JobRunner:
    def __init__(self, sessions: sessionmaker, kb: KnowledgeBase, workers: int = 1, lease_s: float = 30.0):
        self._sessions = sessions
        self._kb = kb
        self._leases = Leases(sessions, t.Job, lease_s)
        # Renewed well before it runs out, so a slow database write does not cost the lease.
        self._beat_s = min(PROGRESS_EVERY_S, lease_s / 3)
        # How often idle workers look for jobs another process queued (or left behind); a job
        # submitted to this process wakes them at once.
        self._poll_s = min(1.0, lease_s / 4)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"ingest-{i}", daemon=True) for i in range(workers)]
        self._heartbeat = threading.Thread(target=self._beat, name="ingest-lease", daemon=True)
        # job id -> (chunks embedded, chunks in total) of the document this process works on;
        # fresher than the row's copy (written once a second), so this process shows it.
        self._live: dict[str, tuple[int, int]] = {}
        # job id -> the step the document being worked on is at (reading, chunking, embedding,
        # indexing).
        self._stage: dict[str, str] = {}

    def start(self) -> None:
        self._leases.start()
        self._recover()
        for thread in self._threads:
            thread.start()
        if self._threads:
            self._heartbeat.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in [*self._threads, self._heartbeat]:
            if thread.is_alive():  # a runtime may be stopped without having been started
                thread.join(timeout=5)
        self._leases.stop()
        try:
            self._leases.expire_all()
        except Exception:  # noqa: BLE001 - the leases then expire by themselves
            log.exception("could not hand the running ingestion jobs over")

    def submit(self, job_id: str) -> None:
        """The job's row is committed, queued and without an owner: any process may take it;
        this one's workers are woken so that a lone server starts it at once."""
        self._wake.set()

    def progress(self, job: t.Job) -> float:
        if job.status in JOB_FINISHED:
            return 1.0
        items = job.items or []
        if not items:
            return 0.0
        finished = sum(1 for i in items if i["status"] in ITEM_FINISHED)
        done, total = self._counts(job)
        return min(1.0, (finished + (done / total if total else 0)) / len(items))

    def live_item(self, job: t.Job, item: dict) -> dict:
        """What a running item is doing now: {"stage", "embedded", "chunks"} ({} otherwise)."""
        if job.status in JOB_FINISHED or item.get("status") != ItemStatus.PROCESSING:
            return {}
        stage = self._stage.get(job.id) or (job.live or {}).get("stage")
        if stage is None:
            return {}
        embedded, chunks = self._counts(job)
        return {"stage": stage, "embedded": embedded, "chunks": chunks}

    def _counts(self, job: t.Job) -> tuple[int, int]:
        if job.id in self._live:
            return self._live[job.id]
        live = job.live or {}
        return int(live.get("embedded") or 0), int(live.get("chunks") or 0)

    # --- taking jobs over ------------------------------------------------------------
    def _recover(self) -> None:
        """Jobs whose process is gone (this machine's pid no longer exists, or the lease
        expired) are taken over and queued again: a document cut off mid-ingest was never made
        searchable, so it is simply ingested again. Jobs other live processes hold are theirs."""
        self._leases.take_over_abandoned(self._requeue, "ingestion job")

    def _requeue(self, job_id: str) -> None:
        interrupted = []
        with self._leases.holding(job_id) as s:
            job = s.get(t.Job, job_id)
            if job is None:
                return
            job.status, job.live = JobStatus.QUEUED, None
            for item in job.items:
                if item["status"] == ItemStatus.PROCESSING:
                    item["status"] = ItemStatus.QUEUED
                    interrupted.append(item["document_id"])
                    # Otherwise it would read "processing" (and refuse deletion) until
                    # a worker gets to it again.
                    doc = s.get(t.Document, item["document_id"]) if item["document_id"] else None
                    if doc is not None and doc.status == DocumentStatus.PROCESSING:
                        doc.status = DocumentStatus.QUEUED
            flag_modified(job, "items")
        # Still holding the job: nobody ingests these documents while their leftovers go.
        for doc_id in filter(None, interrupted):  # reindex items have no document
            self._kb.discard_unfinished(doc_id)
        with self._sessions.begin() as s:
            self._leases.release(s, job_id)
        log.warning("resuming ingestion job %s interrupted by a restart or a lost process", job_id)
        self._wake.set()

    # --- working ---------------------------------------------------------------------
    def _beat(self) -> None:
        while not self._stopping.wait(self._beat_s):
            try:
                self._leases.renew_all()
            except Exception:  # noqa: BLE001 - e.g. the database restarting: try again
                log.exception("renewing ingestion leases failed")

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                self._recover()
                job_id = self._leases.claim()
            except Exception:  # noqa: BLE001 - e.g. the database restarting: try again
                log.exception("looking for ingestion jobs failed")
                job_id = None
            if job_id is None:
                self._wake.wait(self._poll_s)
                self._wake.clear()
                continue
            try:
                self._run(job_id)
            except LeaseLost:
                log.warning(
                    "ingestion job %s was taken over by another process (or deleted); this one stops it", job_id
                )
            except Exception:  # noqa: BLE001 - a worker must survive any job
                log.exception("ingestion job %s crashed", job_id)
                try:
                    self._finish(job_id, JobStatus.FAILED, "The job stopped on an internal error; see the server log.")
                except Exception:  # noqa: BLE001 - lost lease or no database: it expires
                    log.exception("could not mark ingestion job %s failed", job_id)
            finally:
                self._leases.forget(job_id)
                self._live.pop(job_id, None)
                self._stage.pop(job_id, None)

    def _progress(self, job_id: str, done: int, total: int) -> None:
        self._leases.check(job_id)  # taken over: stop embedding what will not be published
        self._live[job_id] = (done, total)
        self._publish_live(job_id)

    def _step(self, job_id: str, name: str) -> None:
        self._leases.check(job_id)
        self._stage[job_id] = name
        self._publish_live(job_id)

    def _publish_live(self, job_id: str) -> None:
        done, total = self._live.get(job_id, (0, 0))
        live = {"stage": self._stage.get(job_id), "embedded": done, "chunks": total}
        self._leases.write_with_renewal(job_id, live=live)

    def _run(self, job_id: str) -> None:
        with self._sessions() as s:
            job = s.get(t.Job, job_id)
            if job is None:
                return
            kind, bot_id, items = job.kind, job.bot_id, [dict(i) for i in job.items]
        fence = lambda session: self._leases.fence(session, job_id)  # noqa: E731
        if kind == "reindex":
            model: str = items[0]["model"]  # a reindex job is queued with one item naming the model
            self._kb.reindex(bot_id, model, progress=lambda d, n: self._progress(job_id, d, n), fence=fence)
            self._set_item(job_id, 0, ItemStatus.READY, None)
            self._finish(job_id, JobStatus.DONE)
            return
        for index, item in enumerate(items):
            if item["status"] != ItemStatus.QUEUED:
                continue
            self._set_item(job_id, index, ItemStatus.PROCESSING, None)
            self._set_document(job_id, item["document_id"], DocumentStatus.PROCESSING, None, None)
            try:
                self._kb.ingest(
                    item["document_id"],
                    progress=lambda d, n: self._progress(job_id, d, n),
                    stage=lambda name: self._step(job_id, name),
                    fence=fence,
                )
            except (DocumentGone, LeaseLost):
                if self._leases.lost(job_id):
                    raise LeaseLost(job_id) from None
                self._set_item(job_id, index, ItemStatus.REMOVED, None)
            except LoadError as err:
                self._set_document(job_id, item["document_id"], DocumentStatus.FAILED, str(err), err.code)
                self._set_item(job_id, index, ItemStatus.FAILED, str(err))
            except Exception as err:  # noqa: BLE001 - one file must not stop the batch
                if self._document_exists(item["document_id"]):
                    log.exception("ingesting %s failed", item["source"])
                    message = (
                        f"{item['source']}: an internal error stopped ingestion "
                        f"({type(err).__name__}); see the server log."
                    )
                    self._set_document(job_id, item["document_id"], DocumentStatus.FAILED, message, "internal")
                    self._set_item(job_id, index, ItemStatus.FAILED, message)
                else:  # deleted while it was being ingested
                    self._set_item(job_id, index, ItemStatus.REMOVED, None)
            else:
                self._set_item(job_id, index, ItemStatus.READY, None)
            self._live.pop(job_id, None)
            self._stage.pop(job_id, None)
        self._finish(job_id, JobStatus.DONE)

    def _set_item(self, job_id: str, index: int, status: ItemStatus, error: str | None) -> None:
        # A new item starts, or one ended: the live counts described the one before.
        self._leases.drop_pending(job_id)
        with self._leases.holding(job_id) as s:
            job = s.get(t.Job, job_id)
            if job is None:  # its bot was deleted meanwhile
                return
            job.items[index]["status"] = status
            job.items[index]["error"] = error
            job.live = None
            flag_modified(job, "items")

    def _set_document(
        self, job_id: str, doc_id: str, status: DocumentStatus, error: str | None, code: str | None
    ) -> None:
        with self._leases.holding(job_id) as s:
            doc = s.get(t.Document, doc_id)
            if doc is not None:
                doc.status, doc.error, doc.error_code = status, error, code

    def _document_exists(self, doc_id: str) -> bool:
        with self._sessions() as s:
            return s.get(t.Document, doc_id) is not None

    def _finish(self, job_id: str, status: JobStatus, error: str | None = None) -> None:
        with self._sessions.begin() as s:
            self._leases.release(s, job_id, status=status, error=error, live=None)
