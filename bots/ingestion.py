"""Ingestion jobs: a queue worked by background threads inside the server, with progress,
recovery after a crash, and one bad file never stopping the others."""

from __future__ import annotations

import logging
import queue
import threading

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from bots.core.status import ITEM_FINISHED, JOB_FINISHED, DocumentStatus, ItemStatus, JobStatus
from bots.knowledge_base import DocumentGone, KnowledgeBase
from bots.store import tables as t
from knowledge.documents import LoadError

log = logging.getLogger("prompteur.ingestion")


class JobRunner:
    def __init__(self, sessions: sessionmaker, kb: KnowledgeBase, workers: int = 1):
        self._sessions = sessions
        self._kb = kb
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._work, name=f"ingest-{i}", daemon=True) for i in range(workers)]
        # job id -> (chunks embedded, chunks in total) of the document being worked on
        self._live: dict[str, tuple[int, int]] = {}
        # job id -> the step the document being worked on is at (reading, chunking, embedding,
        # indexing). In memory only: it matters while a job runs, and a restart requeues it.
        self._stage: dict[str, str] = {}

    def start(self) -> None:
        self._recover()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            if thread.is_alive():  # a runtime may be stopped without having been started
                thread.join(timeout=5)

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def progress(self, job: t.Job) -> float:
        if job.status in JOB_FINISHED:
            return 1.0
        items = job.items or []
        if not items:
            return 0.0
        finished = sum(1 for i in items if i["status"] in ITEM_FINISHED)
        done, total = self._live.get(job.id, (0, 0))
        return min(1.0, (finished + (done / total if total else 0)) / len(items))

    def live_item(self, job: t.Job, item: dict) -> dict:
        """What a running item is doing now: {"stage", "embedded", "chunks"} ({} otherwise)."""
        if job.status in JOB_FINISHED or item.get("status") != ItemStatus.PROCESSING:
            return {}
        stage = self._stage.get(job.id)
        if stage is None:
            return {}
        embedded, chunks = self._live.get(job.id, (0, 0))
        return {"stage": stage, "embedded": embedded, "chunks": chunks}

    def _recover(self) -> None:
        """Jobs that were queued or running when the server stopped are resumed: a document
        cut off mid-ingest was never made searchable, so it is simply ingested again."""
        with self._sessions.begin() as s:
            jobs = s.scalars(select(t.Job).where(t.Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))).all()
            interrupted = []
            for job in jobs:
                job.status = JobStatus.QUEUED
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
            ids = [j.id for j in jobs]
        for doc_id in filter(None, interrupted):  # reindex items have no document
            self._kb.discard_unfinished(doc_id)
        for job_id in ids:
            log.warning("resuming ingestion job %s interrupted by a restart", job_id)
            self.submit(job_id)

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            try:
                self._run(job_id)
            except Exception:  # noqa: BLE001 - a worker must survive any job
                log.exception("ingestion job %s crashed", job_id)
                self._finish(job_id, JobStatus.FAILED, "The job stopped on an internal error; see the server log.")
            finally:
                self._live.pop(job_id, None)
                self._stage.pop(job_id, None)

    def _run(self, job_id: str) -> None:
        with self._sessions.begin() as s:
            job = s.get(t.Job, job_id)
            if job is None:
                return
            job.status = JobStatus.RUNNING
            kind, bot_id, items = job.kind, job.bot_id, [dict(i) for i in job.items]
        if kind == "reindex":
            model: str = items[0]["model"]  # a reindex job is queued with one item naming the model
            self._kb.reindex(bot_id, model, progress=lambda d, n: self._live.__setitem__(job_id, (d, n)))
            self._set_item(job_id, 0, ItemStatus.READY, None)
            self._finish(job_id, JobStatus.DONE)
            return
        for index, item in enumerate(items):
            if item["status"] != ItemStatus.QUEUED:
                continue
            self._set_item(job_id, index, ItemStatus.PROCESSING, None)
            self._set_document(item["document_id"], DocumentStatus.PROCESSING, None, None)
            try:
                self._kb.ingest(
                    item["document_id"],
                    progress=lambda d, n: self._live.__setitem__(job_id, (d, n)),
                    stage=lambda name: self._stage.__setitem__(job_id, name),
                )
            except DocumentGone:
                self._set_item(job_id, index, ItemStatus.REMOVED, None)
            except LoadError as err:
                self._set_document(item["document_id"], DocumentStatus.FAILED, str(err), err.code)
                self._set_item(job_id, index, ItemStatus.FAILED, str(err))
            except Exception as err:  # noqa: BLE001 - one file must not stop the batch
                if self._document_exists(item["document_id"]):
                    log.exception("ingesting %s failed", item["source"])
                    message = (
                        f"{item['source']}: an internal error stopped ingestion "
                        f"({type(err).__name__}); see the server log."
                    )
                    self._set_document(item["document_id"], DocumentStatus.FAILED, message, "internal")
                    self._set_item(job_id, index, ItemStatus.FAILED, message)
                else:  # deleted while it was being ingested
                    self._set_item(job_id, index, ItemStatus.REMOVED, None)
            else:
                self._set_item(job_id, index, ItemStatus.READY, None)
            self._live.pop(job_id, None)
            self._stage.pop(job_id, None)
        self._finish(job_id, JobStatus.DONE)

    def _set_item(self, job_id: str, index: int, status: ItemStatus, error: str | None) -> None:
        with self._sessions.begin() as s:
            job = s.get(t.Job, job_id)
            if job is None:  # its bot was deleted meanwhile
                return
            job.items[index]["status"] = status
            job.items[index]["error"] = error
            flag_modified(job, "items")

    def _set_document(self, doc_id: str, status: DocumentStatus, error: str | None, code: str | None) -> None:
        with self._sessions.begin() as s:
            doc = s.get(t.Document, doc_id)
            if doc is not None:
                doc.status, doc.error, doc.error_code = status, error, code

    def _document_exists(self, doc_id: str) -> bool:
        with self._sessions() as s:
            return s.get(t.Document, doc_id) is not None

    def _finish(self, job_id: str, status: JobStatus, error: str | None = None) -> None:
        with self._sessions.begin() as s:
            job = s.get(t.Job, job_id)
            if job is not None:
                job.status, job.error = status, error
