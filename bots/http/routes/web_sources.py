"""Admin API: a bot's web sources (sites, sitemaps, lists of pages), their syncs and schedule."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import Field
from sqlalchemy import func, select

from bots.core.status import JobStatus
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.request_values import RequestBody
from bots.schemas import web_sources as schema
from bots.store import tables as t
from knowledge.web.fetch import FetchRefused, precheck
from knowledge.web.site import normalize

router = APIRouter(route_class=ReleasingRoute, prefix="/admin", dependencies=[AdminAuth], tags=["admin: web sources"])

Schedule = Literal["none", "hourly", "daily", "weekly"]


class NewWebSource(RequestBody):
    url: str = Field(min_length=1, max_length=2000, description="The start page, or the sitemap with kind=sitemap.")
    kind: Literal["crawl", "sitemap", "urls"] = "crawl"
    urls: list[str] = Field(default_factory=list, max_length=10000, description="kind=urls: the pages.")
    include: list[str] = Field(default_factory=list, max_length=100)
    exclude: list[str] = Field(default_factory=list, max_length=100)
    max_pages: int = Field(default=500, ge=1, le=100_000)
    max_depth: int = Field(default=5, ge=0, le=50)
    respect_robots: bool = True
    user_agent: str | None = Field(default=None, max_length=300)
    schedule: Schedule = "none"


class WebSourceChange(RequestBody):
    include: list[str] | None = Field(default=None, max_length=100)
    exclude: list[str] | None = Field(default=None, max_length=100)
    max_pages: int | None = Field(default=None, ge=1, le=100_000)
    max_depth: int | None = Field(default=None, ge=0, le=50)
    schedule: Schedule | None = None


def sync_out(sync: t.WebSync) -> schema.WebSync:
    return schema.WebSync(
        id=sync.id,
        source_id=sync.source_id,
        trigger=sync.trigger,
        status=sync.status,
        counts=schema.PageCounts.model_validate(sync.counts or {}),
        error=sync.error,
        created_at=sync.created_at.isoformat(),
        finished_at=sync.finished_at.isoformat() if sync.finished_at else None,
    )


def source_out(session, source: t.WebSource) -> schema.WebSource:
    last = session.scalar(
        select(t.WebSync).where(t.WebSync.source_id == source.id).order_by(t.WebSync.created_at.desc()).limit(1)
    )
    pages = session.scalar(
        select(func.count())
        .select_from(t.WebPage)
        .where(t.WebPage.source_id == source.id, t.WebPage.document_id.is_not(None))
    )
    return schema.WebSource(
        id=source.id,
        bot_id=source.bot_id,
        kind=source.kind,
        url=source.url,
        urls=list(source.urls or []),
        include=list(source.include or []),
        exclude=list(source.exclude or []),
        max_pages=source.max_pages,
        max_depth=source.max_depth,
        respect_robots=source.respect_robots,
        user_agent=source.user_agent,
        schedule=source.schedule,
        pages=pages or 0,
        last_sync=sync_out(last) if last else None,
    )


def _source(session, bot: t.Bot, source_id: str) -> t.WebSource:
    source = session.get(t.WebSource, source_id)
    if source is None or source.bot_id != bot.id:
        raise ApiError("web_source_not_found", f"Bot {bot.id} has no web source {source_id!r}.")
    return source


@router.post("/bots/{bot_id}/web-sources", status_code=202, response_model=schema.WebSourceCreated)
def create_web_source(
    body: NewWebSource, bot: BotDep, session: DbSession, runtime: RuntimeDep
) -> schema.WebSourceCreated:
    addresses = [body.url] + (body.urls if body.kind == "urls" else [])
    for address in addresses:
        if normalize(address) is None:
            raise ApiError("invalid_url", f"{address!r} is not an http or https address (of at most 300 characters).")
        try:
            # DNS can take seconds: a plain `def` route runs in the thread pool, not on the loop.
            precheck(address, runtime.web.config.policy)
        except FetchRefused as err:
            raise ApiError(err.code, str(err)) from err
    source = t.WebSource(
        id=t.new_id("web"),
        bot_id=bot.id,
        kind=body.kind,
        url=body.url.strip(),
        urls=[u.strip() for u in body.urls],
        include=body.include,
        exclude=body.exclude,
        max_pages=body.max_pages,
        max_depth=body.max_depth,
        respect_robots=body.respect_robots,
        user_agent=body.user_agent,
        schedule=body.schedule,
    )
    session.add(source)
    session.commit()
    sync_id = runtime.web.request_sync(source.id)
    return schema.WebSourceCreated(source=source_out(session, source), sync_id=sync_id)


@router.get("/bots/{bot_id}/web-sources", response_model=schema.WebSourceList)
def list_web_sources(bot: BotDep, session: DbSession) -> schema.WebSourceList:
    sources = session.scalars(
        select(t.WebSource).where(t.WebSource.bot_id == bot.id).order_by(t.WebSource.created_at)
    ).all()
    return schema.WebSourceList(sources=[source_out(session, s) for s in sources])


@router.get("/bots/{bot_id}/web-sources/{source_id}", response_model=schema.WebSource)
def get_web_source(source_id: str, bot: BotDep, session: DbSession) -> schema.WebSource:
    return source_out(session, _source(session, bot, source_id))


@router.patch("/bots/{bot_id}/web-sources/{source_id}", response_model=schema.WebSource)
def change_web_source(source_id: str, body: WebSourceChange, bot: BotDep, session: DbSession) -> schema.WebSource:
    source = _source(session, bot, source_id)
    for key, value in body.model_dump(exclude_none=True).items():
        setattr(source, key, value)
    session.commit()
    return source_out(session, source)


@router.delete("/bots/{bot_id}/web-sources/{source_id}", status_code=204)
def delete_web_source(source_id: str, bot: BotDep, session: DbSession, runtime: RuntimeDep) -> None:
    """The source, its history and every page indexed from it."""
    source = _source(session, bot, source_id)
    busy = session.scalar(
        select(t.WebSync).where(t.WebSync.source_id == source.id, t.WebSync.status == JobStatus.RUNNING)
    )
    if busy is not None:
        raise ApiError("web_source_busy", "This source is being synced right now; delete it when the sync ends.")
    documents = [p.document_id for p in session.scalars(select(t.WebPage).where(t.WebPage.source_id == source.id))]
    session.delete(source)
    session.commit()
    for doc_id in filter(None, documents):
        runtime.kb.delete_document(doc_id)


@router.post("/bots/{bot_id}/web-sources/{source_id}/sync", status_code=202, response_model=schema.SyncStarted)
def sync_web_source(source_id: str, bot: BotDep, session: DbSession, runtime: RuntimeDep) -> schema.SyncStarted:
    source = _source(session, bot, source_id)
    return schema.SyncStarted(sync_ids=[runtime.web.request_sync(source.id)])


@router.post("/bots/{bot_id}/web-sources/sync", status_code=202, response_model=schema.SyncStarted)
def sync_all_web_sources(bot: BotDep, session: DbSession, runtime: RuntimeDep) -> schema.SyncStarted:
    ids = session.scalars(select(t.WebSource.id).where(t.WebSource.bot_id == bot.id)).all()
    return schema.SyncStarted(sync_ids=[runtime.web.request_sync(i) for i in ids])


@router.get("/bots/{bot_id}/web-sources/{source_id}/syncs", response_model=schema.SyncHistory)
def web_source_history(source_id: str, bot: BotDep, session: DbSession) -> schema.SyncHistory:
    source = _source(session, bot, source_id)
    syncs = session.scalars(
        select(t.WebSync).where(t.WebSync.source_id == source.id).order_by(t.WebSync.created_at.desc()).limit(50)
    ).all()
    return schema.SyncHistory(syncs=[sync_out(s) for s in syncs])


@router.get("/bots/{bot_id}/web-syncs/{sync_id}", response_model=schema.WebSyncDetail)
def get_web_sync(sync_id: str, bot: BotDep, session: DbSession) -> schema.WebSyncDetail:
    sync = session.get(t.WebSync, sync_id)
    if sync is None or sync.bot_id != bot.id:
        raise ApiError("web_sync_not_found", f"Bot {bot.id} has no web sync {sync_id!r}.")
    return schema.WebSyncDetail(
        **sync_out(sync).model_dump(), events=[schema.SyncEvent.model_validate(e) for e in sync.events or []]
    )
