"""Website knowledge: a bot's web sources, their syncs (progress and history)."""

from __future__ import annotations

from pydantic import BaseModel


class PageCounts(BaseModel):
    found: int = 0
    fetched: int = 0
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    skipped: int = 0


class SyncEvent(BaseModel):
    url: str
    event: str  # added | changed | removed | failed | skipped
    reason: str | None = None


class WebSync(BaseModel):
    id: str
    source_id: str
    trigger: str  # manual | schedule
    status: str  # queued | running | done | failed
    counts: PageCounts
    # Why the sync failed, or a note on a finished one (e.g. it stopped at the page limit).
    error: str | None
    created_at: str
    finished_at: str | None


class WebSyncDetail(WebSync):
    events: list[SyncEvent]


class WebSource(BaseModel):
    id: str
    bot_id: str
    kind: str  # crawl | sitemap | urls
    url: str
    urls: list[str]
    include: list[str]
    exclude: list[str]
    max_pages: int
    max_depth: int
    respect_robots: bool
    user_agent: str | None
    schedule: str  # none | hourly | daily | weekly
    pages: int  # pages indexed from it now
    last_sync: WebSync | None


class WebSourceList(BaseModel):
    sources: list[WebSource]


class WebSourceCreated(BaseModel):
    source: WebSource
    sync_id: str


class SyncStarted(BaseModel):
    sync_ids: list[str]


class SyncHistory(BaseModel):
    syncs: list[WebSync]
