"""Website knowledge: crawling a source's pages into its bot's documents and keeping them in
sync, as background work inside the server (one sync at a time, one page at a time per host:
a crawl must stay polite to the site and light on the server that keeps answering chats).

Syncs are claimed from SQL with leases (bots/leases.py) like ingestion jobs: any server
process may run a sync, one process at a time runs a given sync, and the scheduler of every
process may look for due sources without queueing a sync twice.

A page is a document whose source is its address. A sync fetches with the validators it kept
(ETag, Last-Modified) and compares the text's hash, so an unchanged page costs no embedding;
a changed page goes through `KnowledgeBase.ingest`, which swaps versions atomically; a page
gone (404/410, or no longer listed) is removed; a page that fails keeps its last good version.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bots.core.status import DocumentStatus, JobStatus
from bots.knowledge_base import KnowledgeBase, Loader
from bots.leases import LeaseLost, Leases
from bots.store import tables as t
from bots.uploads import save_stream
from knowledge.documents import LoadedDocument, LoadError
from knowledge.loaders.html import load_html
from knowledge.web.fetch import DEFAULT_USER_AGENT, Fetched, Fetcher, FetchError, FetchPolicy, Limits, gunzip_limited
from knowledge.web.site import Robots, Scope, normalize, origin, read_links, read_sitemap

log = logging.getLogger("prompteur.web")

SCHEDULES = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
MAX_EVENTS = 1000  # per sync, so one huge crawl cannot grow a row without bound
MAX_SITEMAPS = 50  # sitemaps read from one sitemap index (nested ones included)
MAX_ROBOTS_DELAY_S = 10.0  # a robots.txt asking for an hour between requests would stall a sync
# RFC 9309 2.5: at least 500 KiB of a robots.txt must be read; what follows is ignored.
ROBOTS_MAX_BYTES = 512 * 1024
PROGRESS_EVERY_S = 0.5  # how often a running sync's counts are written for progress views
# Other document types a site links to, by content type; the loaders pick the format by
# extension, so the type decides the name they are given.
_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/markdown": ".md",
    "text/plain": ".txt",
    "text/csv": ".csv",
}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
COUNTS = ("found", "fetched", "indexed", "unchanged", "removed", "failed", "skipped")


@dataclass(frozen=True)
class WebConfig:
    policy: FetchPolicy
    limits: Limits
    delay_s: float = 1.0
    user_agent: str = DEFAULT_USER_AGENT
    schedule_check_s: float = 60.0
    max_pdf_pages: int = 5000
    lease_s: float = 30.0  # PROMPTEUR_JOB_LEASE_S


class SyncStopped(Exception):
    """The server is stopping: the sync stays `running`; its lease is ended so that another
    process (or this server's next start) resumes it."""


class SourceGone(Exception):
    """The source (or its bot) was deleted while it was being synced."""


class StartFailed(Exception):
    """The start address (or sitemap) itself could not be fetched: the sync fails with it."""


@dataclass
class _Progress:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    events: list[dict] = field(default_factory=list)

    def event(self, url: str, event: str, reason: str | None = None) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append({"url": url, "event": event, "reason": reason})


def page_title(url: str) -> str:
    """The title of a page or linked document that declares none: its file name, as an upload
    is titled by its file name ("Northwind_Health_Plan.pdf" -> "Northwind Health Plan"), or
    the host for a site's root. Not the URL: the title prefixes every passage's search text,
    and a scheme and host there are noise in every one (an identifier-like name is dropped
    by the chunker, as for uploads)."""
    parts = urlsplit(url)
    name = PurePosixPath(parts.path).stem
    return name.replace("_", " ").replace("-", " ").strip() or parts.hostname or url


def _naive_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes (in UTC); compare everything that way."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


class WebSyncRunner:
    def __init__(self, sessions: sessionmaker, kb: KnowledgeBase, loader: Loader, uploads_dir: Path, config: WebConfig):
        self._sessions = sessions
        self._kb = kb
        self._load = loader
        self._uploads = uploads_dir
        self.config = config
        self._leases = Leases(sessions, t.WebSync, config.lease_s)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker = threading.Thread(target=self._work, name="web-sync", daemon=True)
        self._scheduler = threading.Thread(target=self._schedule_loop, name="web-schedule", daemon=True)
        self._heartbeat = threading.Thread(target=self._beat, name="web-lease", daemon=True)

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._leases.start()
        self._recover()
        self._worker.start()
        self._scheduler.start()
        self._heartbeat.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in (self._worker, self._scheduler, self._heartbeat):
            if thread.is_alive():
                thread.join(timeout=10)
        self._leases.stop()
        try:
            self._leases.expire_all()  # another process resumes the sync now, not in lease_s
        except Exception:  # noqa: BLE001 - the leases then expire by themselves
            log.exception("could not hand the running web syncs over")

    def _recover(self) -> None:
        """Syncs whose process is gone (this machine's pid no longer exists, or the lease
        expired) are taken over and run again: pages they already indexed come back unchanged
        (same hash), so a resumed sync only pays for what it had not done."""
        self._leases.take_over_abandoned(self._requeue, "web sync")

    def _requeue(self, sync_id: str) -> None:
        with self._leases.holding(sync_id) as s:
            sync = s.get(t.WebSync, sync_id)
            if sync is None:
                return
            sync.status = JobStatus.QUEUED
            # Pages of this source whose ingest the stop cut off: their half-written version
            # is discarded and the resumed sync indexes them again (their text hash was not
            # recorded). Other sources' pages may be being indexed by a live process.
            cut = s.scalars(
                select(t.Document.id)
                .join(t.WebPage, t.WebPage.document_id == t.Document.id)
                .where(t.WebPage.source_id == sync.source_id, t.Document.status == DocumentStatus.PROCESSING)
            ).all()
            for doc in s.scalars(select(t.Document).where(t.Document.id.in_(cut))):
                doc.status = DocumentStatus.READY if doc.active_version else DocumentStatus.QUEUED
        # Still holding the sync: nobody indexes these pages while their leftovers go.
        for doc_id in cut:
            self._kb.discard_unfinished(doc_id)
        with self._sessions.begin() as s:
            self._leases.release(s, sync_id)
        log.warning("resuming web sync %s interrupted by a restart or a lost process", sync_id)
        self._wake.set()

    def _beat(self) -> None:
        while not self._stopping.wait(min(1.0, self.config.lease_s / 3)):
            try:
                self._leases.renew_all()
            except Exception:  # noqa: BLE001 - e.g. the database restarting: try again
                log.exception("renewing web sync leases failed")

    # --- requests --------------------------------------------------------------------
    def request_sync(self, source_id: str, trigger: str = "manual") -> str:
        """Queue a sync of the source, or return the one already queued or running."""
        while True:
            queued = self._queue_sync(source_id, trigger)
            if queued is not None:
                return queued
            # Another request (maybe in another process) queued one between our look and our
            # write: look again, it is the pending one now.

    def _queue_sync(self, source_id: str, trigger: str, due_since: datetime | None | bool = True) -> str | None:
        """The pending sync's id, or a new one's; None when another request queued a sync
        first. `due_since`: for the scheduler, the last sync time it found due (True: any).

        Queueing is a compare-and-set on the source's `last_sync_at` (the UPDATE that moves it
        must find the value read): of two processes queueing the same source at once, one
        wins, on SQLite (one writer at a time) as on Postgres (the second UPDATE waits for the
        first's row lock, then finds the new value)."""
        with self._sessions.begin() as s:
            pending = s.scalar(
                select(t.WebSync).where(
                    t.WebSync.source_id == source_id, t.WebSync.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))
                )
            )
            if pending is not None:
                return pending.id
            source = s.get(t.WebSource, source_id)
            if source is None:
                raise LookupError(source_id)
            seen = source.last_sync_at
            if due_since is not True and seen != due_since:
                return None  # synced since the scheduler looked
            column = t.WebSource.last_sync_at
            won = s.execute(
                update(t.WebSource)
                .where(t.WebSource.id == source_id, column.is_(None) if seen is None else column == seen)
                .values(last_sync_at=t.now())
            ).rowcount
            if not won:
                return None
            sync = t.WebSync(
                id=t.new_id("sync"),
                source_id=source_id,
                bot_id=source.bot_id,
                trigger=trigger,
                status=JobStatus.QUEUED,
                counts=dict.fromkeys(COUNTS, 0),
                events=[],
            )
            # last_sync_at was set (above) when queued, not when finished, so the scheduler
            # never queues it twice.
            s.add(sync)
        self._wake.set()
        return sync.id

    def tick(self, at: datetime | None = None) -> list[str]:
        """Queue a sync of every scheduled source that is due; returns the syncs queued (or
        already pending). A source another process queued meanwhile is left to it."""
        at = _naive_utc(at or t.now())
        with self._sessions() as s:
            sources = s.scalars(select(t.WebSource).where(t.WebSource.schedule.in_(tuple(SCHEDULES)))).all()
            due = [
                (src.id, src.last_sync_at)
                for src in sources
                if src.last_sync_at is None or at - _naive_utc(src.last_sync_at) >= SCHEDULES[src.schedule]
            ]
        queued = []
        for source_id, seen in due:
            try:
                sync_id = self._queue_sync(source_id, "schedule", due_since=seen)
            except LookupError:  # deleted meanwhile
                continue
            if sync_id is not None:
                queued.append(sync_id)
        return queued

    def _schedule_loop(self) -> None:
        while not self._stopping.wait(self.config.schedule_check_s):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the schedule must outlive one bad check
                log.exception("checking scheduled web syncs failed")

    # --- running a sync --------------------------------------------------------------
    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                self._recover()
                sync_id = self._leases.claim()
            except Exception:  # noqa: BLE001 - e.g. the database restarting: try again
                log.exception("looking for web syncs failed")
                sync_id = None
            if sync_id is None:
                self._wake.wait(min(1.0, self.config.lease_s / 4))
                self._wake.clear()
                continue
            try:
                self._run(sync_id)
            except SyncStopped:
                log.info("web sync %s paused by the server stopping", sync_id)
                return
            except LeaseLost:
                log.warning("web sync %s was taken over by another process (or deleted); this one stops it", sync_id)
            except Exception:  # noqa: BLE001 - the worker must survive any sync
                log.exception("web sync %s crashed", sync_id)
                try:
                    self._finish(
                        sync_id, None, JobStatus.FAILED, "The sync stopped on an internal error; see the server log."
                    )
                except Exception:  # noqa: BLE001 - lost lease or no database: it expires
                    log.exception("could not mark web sync %s failed", sync_id)
            finally:
                if not self._stopping.is_set():
                    self._leases.forget(sync_id)

    def _run(self, sync_id: str) -> None:
        with self._sessions() as s:  # claimed: it is `running` and ours
            sync = s.get(t.WebSync, sync_id)
            source = s.get(t.WebSource, sync.source_id) if sync is not None else None
            if sync is None or source is None:
                return
            s.expunge(source)
        progress = _Progress()
        config = self.config
        with Fetcher(config.policy, config.limits, source.user_agent or config.user_agent) as fetcher:
            crawl = _Crawl(self, source, fetcher, progress, sync_id)
            try:
                crawl.run()
            except StartFailed as err:
                self._finish(sync_id, progress, JobStatus.FAILED, str(err))
                return
            except SourceGone:
                self._finish(sync_id, progress, JobStatus.FAILED, "The source was deleted during the sync.")
                return
        self._finish(sync_id, progress, JobStatus.DONE, crawl.report())

    def save_progress(self, sync_id: str, progress: _Progress) -> None:
        with self._leases.holding(sync_id) as s:
            sync = s.get(t.WebSync, sync_id)
            if sync is not None:
                sync.counts = dict(progress.counts)
                sync.events = list(progress.events)

    def _finish(self, sync_id: str, progress: _Progress | None, status: JobStatus, error: str | None) -> None:
        values: dict = {"status": status, "error": error, "finished_at": t.now()}
        if progress is not None:
            values.update(counts=dict(progress.counts), events=list(progress.events))
        with self._sessions.begin() as s:
            self._leases.release(s, sync_id, **values)

    def check_lease(self, sync_id: str) -> None:
        """Raise LeaseLost if another process took this sync over (checked at every page)."""
        self._leases.check(sync_id)

    # --- what a crawl asks of the stores ---------------------------------------------
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def known_pages(self, source_id: str) -> dict[str, t.WebPage]:
        with self._sessions() as s:
            pages = s.scalars(select(t.WebPage).where(t.WebPage.source_id == source_id)).all()
            s.expunge_all()
        return {p.url: p for p in pages}

    def source_exists(self, source_id: str) -> bool:
        with self._sessions() as s:
            return s.get(t.WebSource, source_id) is not None

    def remember(self, source_id: str, url: str, fetched: Fetched | None, **values) -> None:
        """Upsert the page row: validators, text hash, links, document."""
        with self._sessions.begin() as s:
            page = s.scalar(select(t.WebPage).where(t.WebPage.source_id == source_id, t.WebPage.url == url))
            if page is None:
                page = t.WebPage(source_id=source_id, url=url, links=[])
                s.add(page)
            if fetched is not None:
                page.etag = fetched.headers.get("etag")
                page.last_modified = fetched.headers.get("last-modified")
            page.fetched_at = t.now()
            for key, value in values.items():
                setattr(page, key, value)

    def index(
        self,
        source_id: str,
        bot_id: str,
        page: t.WebPage | None,
        url: str,
        content: bytes,
        loaded: LoadedDocument,
        sync_id: str | None = None,
    ) -> str:
        """Store the fetched bytes and (re)index them as the page's document; returns its id.
        The document's previous version stays searchable until the new one is complete.
        With `sync_id`, every write is fenced by that sync's lease (bots/leases.py)."""

        def fence(session) -> None:
            if sync_id is not None:
                self._leases.fence(session, sync_id)

        with self._sessions.begin() as s:
            fence(s)
            doc = s.get(t.Document, page.document_id) if page and page.document_id else None
            if doc is None:
                doc = t.Document(id=t.new_id("doc"), bot_id=bot_id, source=url, content_hash="", size=0, stored_name="")
                s.add(doc)
                # The page points to its document before ingesting starts: a sync cut off by a
                # stop resumes into this document instead of leaving it orphaned.
                row = s.scalar(select(t.WebPage).where(t.WebPage.source_id == source_id, t.WebPage.url == url))
                if row is None:
                    row = t.WebPage(source_id=source_id, url=url, links=[])
                    s.add(row)
                s.flush()
                row.document_id = doc.id
            old_name = doc.stored_name
            suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
            doc.stored_name = f"{doc.id}-{secrets.token_hex(4)}{suffix if suffix in _TYPES.values() else '.html'}"
            doc.content_hash, doc.size = save_stream(io.BytesIO(content), self._uploads / bot_id / doc.stored_name)
            doc.status, doc.error, doc.error_code = DocumentStatus.PROCESSING, None, None
            doc_id = doc.id
        if old_name:
            (self._uploads / bot_id / old_name).unlink(missing_ok=True)
        try:
            self._kb.ingest(doc_id, loaded=loaded, title=loaded.title or page_title(url), fence=fence)
        except Exception:
            try:
                with self._sessions.begin() as s:
                    fence(s)
                    doc = s.get(t.Document, doc_id)
                    if doc is not None:  # a page never indexed leaves nothing behind
                        if doc.active_version == 0:
                            s.delete(doc)
                        else:
                            doc.status = DocumentStatus.READY
            except LeaseLost:
                pass  # the process that took the sync over owns this page now
            raise
        return doc_id

    def remove(self, source_id: str, url: str, document_id: str | None) -> None:
        if document_id:
            self._kb.delete_document(document_id)
        with self._sessions.begin() as s:
            page = s.scalar(select(t.WebPage).where(t.WebPage.source_id == source_id, t.WebPage.url == url))
            if page is not None:
                s.delete(page)

    def load_document(self, content: bytes, url: str, suffix: str) -> LoadedDocument:
        """A linked document (PDF, Word...) through the same loaders as uploads; they read
        from a file (PDFs in a sandboxed child process)."""
        with tempfile.TemporaryDirectory(prefix="prompteur-web-") as folder:
            path = Path(folder) / f"document{suffix}"
            path.write_bytes(content)
            name = PurePosixPath(urlsplit(url).path).name or "document"
            return self._load(path, name if name.lower().endswith(suffix) else f"{name}{suffix}")


class _Crawl:
    """One sync of one source."""

    def __init__(self, runner: WebSyncRunner, source: t.WebSource, fetcher: Fetcher, progress: _Progress, sync_id: str):
        self.runner, self.source, self.fetcher, self.progress = runner, source, fetcher, progress
        self.sync_id = sync_id
        start = normalize(source.url) or source.url
        self.start = start
        self.scope = Scope(frozenset({origin(start)}), list(source.include), list(source.exclude))
        self.known = runner.known_pages(source.id)
        self.seen: set[str] = set()
        self.found: set[str] = set()
        self.hashes: dict[str, str] = {}  # text hash -> the address indexed with it
        self.robots: dict[str, Robots] = {}
        self.last_request: dict[str, float] = {}
        self.stop_reason: str | None = None
        self.notes: list[str] = []  # what the sync report must say besides counts and events
        self.fetched = 0
        self.saved_at = 0.0

    def run(self) -> None:
        source = self.source
        frontier: deque[tuple[str, int]] = deque()
        if source.kind == "sitemap":
            listed = self._sitemap_pages()
            frontier.extend((u, 0) for u in listed)
        elif source.kind == "urls":
            listed = [u for u in (normalize(x) for x in source.urls) if u]
            frontier.extend((u, 0) for u in listed)
        else:
            listed = None
            frontier.append((self.start, 0))
            # Pages indexed before are revisited even when no link leads to them any more:
            # that is how a deleted page is noticed (404) and removed.
            frontier.extend((u, source.max_depth) for u in self.known if u != self.start)
        self.found.update(u for u, _ in frontier)
        first = source.kind == "crawl"  # a crawl's start page failing fails the sync
        while frontier:
            if self.runner.stopping():
                raise SyncStopped
            self.runner.check_lease(self.sync_id)
            url, depth = frontier.popleft()
            if url in self.seen:
                continue
            if self.fetched >= source.max_pages:
                left = len({u for u, _ in frontier if u not in self.seen}) + 1
                self.stop_reason = (
                    f"Stopped at the limit of {source.max_pages} pages; {left} more addresses were not fetched."
                )
                self.progress.counts["skipped"] += left
                break
            self.seen.add(url)
            for link, link_depth in self._visit(url, depth, first):
                if link not in self.seen and link not in self.found:
                    self.found.add(link)
                    frontier.append((link, link_depth))
            first = False
            self.progress.counts["found"] = len(self.found)
            if time.monotonic() - self.saved_at >= PROGRESS_EVERY_S:
                # Not after every page: an unchanged page costs about as much as the write.
                self.runner.save_progress(self.sync_id, self.progress)
                self.saved_at = time.monotonic()
        if listed is not None and not self.stop_reason:
            # No longer listed in the sitemap (or the list): removed.
            still_listed = set(listed)  # once, not per known page: a sitemap lists thousands
            for url, page in self.known.items():
                if url not in still_listed and url not in self.seen:
                    self.runner.remove(source.id, url, page.document_id)
                    self.progress.counts["removed"] += 1
                    self.progress.event(url, "removed", "no longer listed")
        self.progress.counts["found"] = len(self.found)

    def report(self) -> str | None:
        """The note a finished sync carries: why it stopped early, robots.txt it could not read."""
        notes = ([self.stop_reason] if self.stop_reason else []) + self.notes
        return " ".join(notes) or None

    # --- one address -----------------------------------------------------------------
    def _visit(self, url: str, depth: int, first: bool) -> list[tuple[str, int]]:
        """Fetch and handle one address; returns the links to follow."""
        source, counts = self.source, self.progress.counts
        if source.kind == "crawl" and (reason := self.scope.why_not(url)) and not first:
            self._skip(url, reason)
            return []
        if source.respect_robots and not (robots := self._robots(url)).allows(url):
            if first:
                raise StartFailed(robots.refusal or f"{url} is disallowed by the site's robots.txt.")
            self._skip(url, "robots.txt could not be read" if robots.refusal else "disallowed by robots.txt")
            return []
        known = self.known.get(url)
        headers = {}
        if known is not None and known.document_id:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        self._wait_politely(url)
        try:
            fetched = self.fetcher.get(url, headers=headers)
        except FetchError as err:
            if first:
                raise StartFailed(str(err)) from err
            return self._failed(url, str(err))
        counts["fetched"] += 1
        self.fetched += 1
        if fetched.status == 304 and known is not None:
            counts["unchanged"] += 1
            if known.text_hash:
                self.hashes.setdefault(known.text_hash, url)
            return self._follow(known.links, depth)
        if fetched.status in (404, 410):
            if first:
                raise StartFailed(f"{url} answered {fetched.status} (not found).")
            if known is not None:
                self.runner.remove(source.id, url, known.document_id)
                counts["removed"] += 1
                self.progress.event(url, "removed", f"the site answered {fetched.status}")
            else:
                self._skip(url, f"not found ({fetched.status})")
            return []
        if fetched.status != 200:
            reason = f"the site answered {fetched.status}"
            if first:
                raise StartFailed(f"{url}: {reason}.")
            return self._failed(url, reason + ("; the last good version is kept" if known else ""))
        final = normalize(fetched.url) or url
        if first and origin(final) != origin(url):
            # The start page moved (http -> https, or to www.): the site is where it landed.
            self.scope = Scope(self.scope.origins | {origin(final)}, self.scope.include, self.scope.exclude)
        if final != url:
            if source.kind == "crawl" and (reason := self.scope.why_not(final)):
                self._skip(url, f"redirects to {final}, {reason}")
                return []
            if final in self.seen:
                self._skip(url, f"redirects to {final}, already read")
                return []
            self.seen.add(final)
            self.found.add(final)
        return self._read(final, fetched, depth, first)

    def _read(self, url: str, fetched: Fetched, depth: int, first: bool) -> list[tuple[str, int]]:
        source, counts = self.source, self.progress.counts
        kind = fetched.content_type
        suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
        links: list[str] = []
        if kind in _HTML_TYPES or (not kind and suffix in ("", ".html", ".htm")):
            page = read_links(fetched.content, url)
            links = page.links
            if page.canonical and page.canonical != url and not self.scope.why_not(page.canonical):
                self._skip(url, f"its canonical address is {page.canonical}")
                # The canonical page is read in its place, at the same depth.
                return [(page.canonical, depth)] + self._follow(links, depth)
            if page.noindex:
                self._skip(url, "the page asks not to be indexed (noindex)")
                return self._follow(links, depth)
            try:
                loaded = load_html(fetched.content, url)
            except LoadError as err:
                if err.code == "no_text" and links:
                    # A hub page (a section's list of articles) has nothing of its own to
                    # answer with; it is how the crawl reaches the pages that do.
                    self._skip(url, "no text besides links to other pages; its links are followed")
                else:
                    self._failed(url, str(err))
                return self._follow(links, depth)
        elif kind in _TYPES or suffix in _TYPES.values():
            try:
                loaded = self.runner.load_document(fetched.content, url, _TYPES.get(kind, suffix))
            except LoadError as err:
                return self._failed(url, str(err))
        else:
            if first:
                raise StartFailed(f"{url} is {kind or 'of an unknown type'}, not a web page or a document.")
            self._skip(url, f"not a page or a supported document ({kind or 'unknown type'})")
            return []
        # Headings are part of what a page says: FAQ pages giving one answer ("see the
        # ministry's site") to different questions are different pages, and a renamed
        # heading is a change to re-index.
        text_hash = hashlib.sha256(
            "\n".join(" > ".join(s.headings) + "\n" + s.text for s in loaded.sections).encode()
        ).hexdigest()
        duplicate = self.hashes.get(text_hash)
        if duplicate and duplicate != url:
            self._skip(url, f"same content as {duplicate}")
            return self._follow(links, depth)
        self.hashes[text_hash] = url
        known = self.known.get(url)
        if known is not None and known.text_hash == text_hash and known.document_id:
            counts["unchanged"] += 1
            self.runner.remember(source.id, url, fetched, links=links)
            return self._follow(links, depth)
        if not self.runner.source_exists(source.id):
            raise SourceGone  # deleted meanwhile: its pages must not come back
        try:
            doc_id = self.runner.index(
                source.id, source.bot_id, known, url, fetched.content, loaded, sync_id=self.sync_id
            )
        except LoadError as err:
            return self._failed(url, str(err))
        self.runner.remember(source.id, url, fetched, links=links, text_hash=text_hash, document_id=doc_id)
        counts["indexed"] += 1
        self.progress.event(url, "changed" if known is not None and known.document_id else "added")
        return self._follow(links, depth)

    def _follow(self, links: list[str], depth: int) -> list[tuple[str, int]]:
        if self.source.kind != "crawl":
            return []
        if depth >= self.source.max_depth:
            fresh = [u for u in links if u not in self.found and not self.scope.why_not(u)]
            for u in fresh:
                self.found.add(u)
                self._skip(u, f"deeper than the depth limit of {self.source.max_depth}")
            return []
        follow = []
        for u in links:
            if reason := self.scope.why_not(u):
                if u not in self.found:  # reported once, not on every page that links it
                    self.found.add(u)
                    self._skip(u, reason)
            else:
                follow.append((u, depth + 1))
        return follow

    def _skip(self, url: str, reason: str) -> None:
        self.progress.counts["skipped"] += 1
        self.progress.event(url, "skipped", reason)

    def _failed(self, url: str, reason: str) -> list[tuple[str, int]]:
        self.progress.counts["failed"] += 1
        self.progress.event(url, "failed", reason)
        return []

    # --- politeness ------------------------------------------------------------------
    def _robots(self, url: str) -> Robots:
        site = origin(url)
        if site not in self.robots:
            agent = self.source.user_agent or self.runner.config.user_agent
            text, unreachable = None, None
            address = f"{site}/robots.txt"
            try:
                self._wait_politely(url)
                got = self.fetcher.get(address, max_bytes=ROBOTS_MAX_BYTES, truncate=True)
                if 200 <= got.status < 300:
                    text = got.content.decode("utf-8", errors="replace")
                elif not 400 <= got.status < 500 or got.status == 429:
                    # 429 is the site asking us to slow down, not saying there are no rules.
                    unreachable = f"the site answered {got.status}"
            except FetchError as err:
                # Too many redirects means "unavailable" (RFC 9309 2.3.1.2), like a 404.
                if err.code not in ("too_many_redirects", "redirect_loop"):
                    unreachable = str(err).rstrip(".")
            refusal = None
            if unreachable is not None:
                refusal = (
                    f"{address} could not be read ({unreachable}): until it can, every page of {site} is "
                    "treated as disallowed (RFC 9309); the next sync asks again."
                )
                self.progress.event(address, "failed", refusal)
                self.notes.append(refusal)
            self.robots[site] = Robots(text, agent.split("/")[0], unreachable=refusal)
        return self.robots[site]

    def _wait_politely(self, url: str) -> None:
        site = origin(url)
        delay = self.runner.config.delay_s
        robots = self.robots.get(site)
        if robots is not None and (asked := robots.delay()) is not None:
            delay = max(delay, min(asked, MAX_ROBOTS_DELAY_S))
        last = self.last_request.get(site)
        if last is not None:
            wait = last + delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self.last_request[site] = time.monotonic()

    # --- sitemaps --------------------------------------------------------------------
    def _sitemap_pages(self) -> list[str]:
        """Every page address the sitemap (or sitemap index) lists, up to the page limit."""
        limit = self.source.max_pages
        pending, read = [self.start], 0
        pages: list[str] = []
        while pending and read < MAX_SITEMAPS and len(pages) < limit:
            url = pending.pop(0)
            read += 1
            self._wait_politely(url)
            try:
                got = self.fetcher.get(url)
            except FetchError as err:
                if url == self.start:
                    raise StartFailed(str(err)) from err
                self.progress.event(url, "failed", str(err))
                continue
            if got.status != 200:
                if url == self.start:
                    raise StartFailed(f"the sitemap {url} answered {got.status}.")
                self.progress.event(url, "failed", f"the sitemap answered {got.status}")
                continue
            content = got.content
            if content[:2] == b"\x1f\x8b":  # sitemap.xml.gz, served as a file
                try:
                    content = gunzip_limited(content, self.fetcher.limits.max_bytes, url)
                except FetchError as err:
                    if url == self.start:
                        raise StartFailed(str(err)) from err
                    self.progress.event(url, "failed", str(err))
                    continue
            sitemap = read_sitemap(content, url, limit - len(pages))
            pages += sitemap.pages
            pending += sitemap.sitemaps
            if sitemap.truncated:
                self.stop_reason = f"The sitemap lists more than {limit} pages; only the first {limit} are read."
        return list(dict.fromkeys(pages))[:limit]
