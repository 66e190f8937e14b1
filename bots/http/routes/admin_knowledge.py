"""Admin API: a bot's documents, ingestion jobs and knowledge search."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import select

from bots.core.status import DocumentStatus, ItemStatus, JobStatus
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.request_values import RequestBody
from bots.schemas.knowledge import (
    AcceptedDocument,
    Chunk,
    ChunkList,
    Document,
    DocumentList,
    Job,
    JobItem,
    JobList,
    JobStarted,
    RejectedUpload,
    SearchHit,
    SearchResult,
    UploadResult,
)
from bots.store import tables as t
from bots.uploads import (
    display_name,
    is_disk_full,
    is_supported,
    remove,
    save_stream,
    stored_suffix,
    unsupported_message,
)

router = APIRouter(route_class=ReleasingRoute, prefix="/admin", dependencies=[AdminAuth], tags=["admin: knowledge"])

MAX_FILES_PER_UPLOAD = 1000


def document_out(d: t.Document) -> Document:
    return Document(
        id=d.id,
        source=d.source,
        status=d.status,
        pages=d.pages,
        chunks=d.chunk_count,
        size=d.size,
        error=d.error,
        error_code=d.error_code,
        content_hash=d.content_hash,
        searchable=d.active_version > 0,
        created_at=d.created_at.isoformat(),
        updated_at=d.updated_at.isoformat(),
    )


def job_out(job: t.Job, runtime) -> Job:
    items = [{k: v for k, v in i.items() if k != "model"} for i in job.items or []]
    return Job(
        id=job.id,
        bot_id=job.bot_id,
        kind=job.kind,
        status=job.status,
        total=len(items),
        done=sum(i["status"] in (ItemStatus.READY, ItemStatus.UNCHANGED) for i in items),
        failed=sum(i["status"] == ItemStatus.FAILED for i in items),
        progress=round(runtime.jobs.progress(job), 4),
        error=job.error,
        items=[JobItem.model_validate({**i, **runtime.jobs.live_item(job, i)}) for i in items],
    )


@router.post("/bots/{bot_id}/documents", status_code=202, response_model=UploadResult)
async def upload_documents(request: Request, bot: BotDep, session: DbSession, runtime: RuntimeDep) -> UploadResult:
    # Async only to await the multipart body; everything after it (copying and hashing tens
    # of MB, SQL) runs in the threadpool, or it would stall every other request meanwhile.
    form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=MAX_FILES_PER_UPLOAD)
    uploads = [f for f in form.getlist("files") if hasattr(f, "filename")]
    if not uploads:
        raise ApiError("no_files", "Send one or more files in the multipart field `files`.")
    return await run_in_threadpool(_accept_uploads, uploads, bot, session, runtime)


def _accept_uploads(uploads: list, bot: t.Bot, session, runtime) -> UploadResult:
    """Store the uploaded files and queue the ones whose bytes changed (blocking: call it from
    the threadpool). Starlette spools each upload to a temporary file, read here synchronously."""
    accepted: list[AcceptedDocument] = []
    rejected: list[RejectedUpload] = []
    items: list[dict] = []
    saved: list[Path] = []  # this request's files: removed again if it fails
    replaced: list[Path] = []  # files of re-uploaded documents: removed once the new ones are committed
    try:
        _store_uploads(uploads, bot, session, runtime, accepted, rejected, items, saved, replaced)
    except OSError as err:
        session.rollback()
        for path in saved:
            remove(path)
        if not is_disk_full(err):
            raise
        raise ApiError(
            "storage_full",
            "The server's disk is full: the files were not saved and nothing changed. Free some space "
            "on the server (or ask its administrator to), then upload them again.",
        ) from err
    finally:
        for upload in uploads:  # those after a failed one were never read (closing twice is fine)
            upload.file.close()
    if not items:
        return UploadResult(job_id=None, documents=[], rejected=rejected)
    job = t.Job(
        id=t.new_id("job"),
        bot_id=bot.id,
        kind="ingest",
        items=items,
        status=JobStatus.QUEUED if any(i["status"] == ItemStatus.QUEUED for i in items) else JobStatus.DONE,
    )
    session.add(job)
    session.commit()
    for path in replaced:
        remove(path)
    if job.status == JobStatus.QUEUED:
        runtime.jobs.submit(job.id)
    return UploadResult(job_id=job.id, documents=accepted, rejected=rejected)


def _store_uploads(
    uploads: list,
    bot: t.Bot,
    session,
    runtime,
    accepted: list[AcceptedDocument],
    rejected: list[RejectedUpload],
    items: list[dict],
    saved: list[Path],
    replaced: list[Path],
) -> None:
    """Save each upload under the bot's folder and stage its Document row (not committed)."""
    for upload in uploads:
        source = display_name(upload.filename)
        if not is_supported(source):
            upload.file.close()
            rejected.append(RejectedUpload(source=source, error=unsupported_message(source)))
            continue
        existing = session.scalar(select(t.Document).where(t.Document.bot_id == bot.id, t.Document.source == source))
        doc = existing or t.Document(
            id=t.new_id("doc"), bot_id=bot.id, source=source, content_hash="", size=0, stored_name=""
        )
        stored = f"{doc.id}-{secrets.token_hex(4)}{stored_suffix(source)}"
        dest = runtime.settings.uploads_dir / bot.id / stored
        content_hash, size = save_stream(upload.file, dest)
        saved.append(dest)
        upload.file.close()
        if existing and existing.content_hash == content_hash and existing.status == DocumentStatus.READY:
            # Same bytes as what is indexed: nothing to embed again.
            remove(dest)
            accepted.append(AcceptedDocument(id=existing.id, source=source, status=ItemStatus.UNCHANGED))
            items.append({"document_id": existing.id, "source": source, "status": ItemStatus.UNCHANGED, "error": None})
            continue
        if existing:
            replaced.append(runtime.settings.uploads_dir / bot.id / existing.stored_name)
        doc.stored_name, doc.content_hash, doc.size = stored, content_hash, size
        doc.status, doc.error, doc.error_code = DocumentStatus.QUEUED, None, None
        if not existing:
            session.add(doc)
        accepted.append(AcceptedDocument(id=doc.id, source=source, status=DocumentStatus.QUEUED))
        items.append({"document_id": doc.id, "source": source, "status": ItemStatus.QUEUED, "error": None})


@router.get("/bots/{bot_id}/documents", response_model=DocumentList)
def list_documents(bot: BotDep, session: DbSession) -> DocumentList:
    docs = session.scalars(select(t.Document).where(t.Document.bot_id == bot.id).order_by(t.Document.created_at)).all()
    return DocumentList(documents=[document_out(d) for d in docs])


def _document(session, bot: t.Bot, doc_id: str) -> t.Document:
    doc = session.get(t.Document, doc_id)
    if doc is None or doc.bot_id != bot.id:
        raise ApiError("document_not_found", f"Bot {bot.id} has no document {doc_id!r}.")
    return doc


@router.get("/bots/{bot_id}/documents/{doc_id}", response_model=Document)
def get_document(doc_id: str, bot: BotDep, session: DbSession) -> Document:
    return document_out(_document(session, bot, doc_id))


@router.get("/bots/{bot_id}/documents/{doc_id}/chunks", response_model=ChunkList)
def document_chunks(doc_id: str, bot: BotDep, session: DbSession) -> ChunkList:
    doc = _document(session, bot, doc_id)
    chunks = session.scalars(
        select(t.Chunk)
        .where(t.Chunk.document_id == doc.id, t.Chunk.version == doc.active_version)
        .order_by(t.Chunk.ordinal)
    ).all()
    return ChunkList(
        chunks=[Chunk(id=c.id, text=c.text, page=c.page, headings=c.headings, ordinal=c.ordinal) for c in chunks]
    )


@router.delete("/bots/{bot_id}/documents/{doc_id}", status_code=204)
def delete_document(doc_id: str, bot: BotDep, session: DbSession, runtime: RuntimeDep) -> None:
    doc = _document(session, bot, doc_id)
    if doc.status == DocumentStatus.PROCESSING:
        raise ApiError("document_busy", f"{doc.source} is being ingested right now; delete it when the job ends.")
    session.close()
    runtime.kb.delete_document(doc_id)


@router.get("/jobs/{job_id}", response_model=Job)
def get_job(job_id: str, session: DbSession, runtime: RuntimeDep) -> Job:
    job = session.get(t.Job, job_id)
    if job is None:
        raise ApiError("job_not_found", f"There is no job {job_id!r}.")
    return job_out(job, runtime)


@router.get("/bots/{bot_id}/jobs", response_model=JobList)
def list_jobs(bot: BotDep, session: DbSession, runtime: RuntimeDep) -> JobList:
    jobs = session.scalars(
        select(t.Job).where(t.Job.bot_id == bot.id).order_by(t.Job.created_at.desc()).limit(50)
    ).all()
    return JobList(jobs=[job_out(j, runtime) for j in jobs])


class SearchRequest(RequestBody):
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=50)


@router.post("/bots/{bot_id}/search", response_model=SearchResult)
def search_knowledge(body: SearchRequest, bot: BotDep, runtime: RuntimeDep) -> SearchResult:
    hits = runtime.kb.search(bot.id, body.query, body.k)
    return SearchResult(
        hits=[
            SearchHit(
                source=h.source,
                page=h.page,
                chunk_id=h.chunk_id,
                document_id=h.document_id,
                score=h.score,
                dense_score=h.dense_score,
                lexical_score=h.lexical_score,
                text=h.text,
                headings=h.headings,
            )
            for h in hits
        ]
    )


@router.post("/bots/{bot_id}/reindex", status_code=202, response_model=JobStarted)
def reindex(bot: BotDep, session: DbSession, runtime: RuntimeDep) -> JobStarted:
    job = t.Job(
        id=t.new_id("job"),
        bot_id=bot.id,
        kind="reindex",
        items=[
            {
                "document_id": None,
                "source": "(all documents)",
                "status": ItemStatus.QUEUED,
                "error": None,
                "model": bot.embedding_model,
            }
        ],
    )
    session.add(job)
    session.commit()
    runtime.jobs.submit(job.id)
    return JobStarted(job_id=job.id)
