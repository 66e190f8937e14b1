"""`prompteur kb crawl` and `prompteur kb sync`: website knowledge from the command line."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from bots.cli.client import AdminClient, ClientError
from bots.schemas.web_sources import WebSyncDetail

REPORTED = ("indexed", "unchanged", "removed", "failed")


def add_commands(kb, run_with_client: Callable) -> None:
    """Adds `crawl` and `sync` to the `kb` subcommands."""
    crawl = kb.add_parser("crawl", help="index a web site (or its sitemap) as knowledge, and keep it for syncs")
    crawl.add_argument("bot")
    crawl.add_argument("url")
    crawl.add_argument("--sitemap", action="store_true", help="URL is a sitemap.xml (or a sitemap index)")
    crawl.add_argument("--include", action="append", default=[], metavar="PATTERN", help="only paths matching it")
    crawl.add_argument("--exclude", action="append", default=[], metavar="PATTERN", help="skip paths matching it")
    crawl.add_argument("--max-pages", type=int, default=500)
    crawl.add_argument("--max-depth", type=int, default=5)
    crawl.add_argument("--schedule", choices=("none", "hourly", "daily", "weekly"), default="none")
    crawl.add_argument("--wait", action="store_true", help="wait for the crawl to finish")
    crawl.add_argument("--json", action="store_true")
    crawl.set_defaults(run=lambda args: _crawl(run_with_client(), args))
    sync = kb.add_parser("sync", help="re-sync a bot's web sources (all of them, or one)")
    sync.add_argument("bot")
    sync.add_argument("source_id", nargs="?")
    sync.add_argument("--wait", action="store_true")
    sync.add_argument("--json", action="store_true")
    sync.set_defaults(run=lambda args: _sync(run_with_client(), args))


def _crawl(client: AdminClient, args) -> int:
    bot = client.resolve_bot(args.bot)
    try:
        created = client.create_web_source(
            bot.id,
            args.url,
            kind="sitemap" if args.sitemap else "crawl",
            include=args.include,
            exclude=args.exclude,
            max_pages=args.max_pages,
            max_depth=args.max_depth,
            schedule=args.schedule,
        )
    except ClientError as err:
        raise ClientError(f"{args.url} was refused: {err}") from err
    syncs = [_wait(client, bot.id, created.sync_id)] if args.wait else [client.web_sync(bot.id, created.sync_id)]
    return _report(args, syncs, source_id=created.source.id)


def _sync(client: AdminClient, args) -> int:
    bot = client.resolve_bot(args.bot)
    ids = client.sync_web_sources(bot.id, args.source_id)
    if not ids:
        raise ClientError(f"{bot.name} has no web sources; add one with `prompteur kb crawl`.")
    syncs = [_wait(client, bot.id, i) if args.wait else client.web_sync(bot.id, i) for i in ids]
    return _report(args, syncs, source_id=syncs[0].source_id if len(syncs) == 1 else None)


def _wait(client: AdminClient, bot_id: str, sync_id: str) -> WebSyncDetail:
    while True:
        sync = client.web_sync(bot_id, sync_id)
        c = sync.counts
        sys.stderr.write(
            f"\r{sync.status}: {c.found} found, {c.fetched} fetched, {c.indexed} indexed, "
            f"{c.unchanged} unchanged, {c.skipped} skipped, {c.failed} failed"
        )
        sys.stderr.flush()
        if sync.status in ("done", "failed"):
            sys.stderr.write("\n")
            return sync
        time.sleep(0.5)


def _report(args, syncs: list[WebSyncDetail], source_id: str | None) -> int:
    pages = {key: sum(getattr(s.counts, key) for s in syncs) for key in REPORTED}
    failed = [s for s in syncs if s.status == "failed"]
    if args.json:
        out: dict = {"source_id": source_id, "pages": pages}
        if source_id is None:
            out["source_ids"] = [s.source_id for s in syncs]
        if not args.wait:
            out["sync_ids"] = [s.id for s in syncs]
        if failed:
            out["error"] = "; ".join(s.error or "failed" for s in failed)
        print(json.dumps(out))
    else:
        print(", ".join(f"{v} {k}" for k, v in pages.items()), file=sys.stderr)
    for sync in syncs:
        for event in sync.events:
            if event.event == "failed":
                print(f"failed: {event.url}: {event.reason}", file=sys.stderr)
        if sync.status == "done" and sync.error:
            print(f"note: {sync.error}", file=sys.stderr)
    for sync in failed:
        # The start address (or sitemap) itself could not be read: nothing was indexed.
        print(f"error: {sync.error}", file=sys.stderr)
    return 1 if failed else 0
