"""Backup and restore of the embedded setup (issue #17): the SQLite database, copied with
SQLite's online backup API (a consistent snapshot, safe while the server writes), the uploaded
files, the admin token and the session secret, into one folder with a manifest. The vectors
are not kept: a restore rebuilds them from the stored chunks through the normal reindexing
path, so a backup is small and never holds an index built by another version.

Postgres and a Chroma server keep their own data: back them up with pg_dump (README, "Backups").

Backup folder:
    manifest.json    what is in it, with each file's size and SHA-256 (written last: a folder
                     without it is an interrupted backup and restore refuses it)
    prompteur.db     the database
    uploads/...      the uploaded files, as the home keeps them
    admin_token, session_secret
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bots.file_modes import PRIVATE_DIR, PRIVATE_FILE, private_dir
from bots.settings import Settings
from bots.store import tables as t

FORMAT = 1
DATABASE = "prompteur.db"
SECRETS = ("admin_token", "session_secret")
# What a home holds that a restore replaces; anything else in it (logs, the CLI's token) stays.
REPLACED = (DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", "uploads", "chroma", *SECRETS)


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Progress:
    """One step of the rebuild: `done` of `total` chunks of the bot named `bot` embedded."""

    bot: str
    documents: int
    done: int
    total: int


def backup(settings: Settings, target: Path) -> dict:
    """Write a backup of `settings.home` into the new folder `target`; returns the manifest."""
    database = _sqlite_file(settings)
    if not database.exists():
        raise BackupError(f"There is no database at {database}: nothing to back up (is PROMPTEUR_HOME right?).")
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: give a new folder for the backup.")
    # Written beside the target and renamed at the end: an interrupted backup never looks complete.
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    private_dir(partial)
    try:
        _copy_database(database, partial / DATABASE)
        # After the database: every upload its snapshot names is already on disk.
        uploads = settings.uploads_dir
        if uploads.is_dir():
            # An upload still being written (.part) is not a document yet: its request may fail.
            shutil.copytree(
                uploads, partial / "uploads", copy_function=_copy_private, ignore=shutil.ignore_patterns("*.part")
            )
        for name in SECRETS:
            if (settings.home / name).is_file():
                _copy_private(settings.home / name, partial / name)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "schema_revision": _revision(partial / DATABASE),
            "counts": _counts(partial / DATABASE),
            "files": {
                str(path.relative_to(partial)): {"size": path.stat().st_size, "sha256": _sha256(path)}
                for path in sorted(partial.rglob("*"))
                if path.is_file()
            },
        }
        _write_private(partial / "manifest.json", json.dumps(manifest, indent=2))
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def restore(
    settings: Settings,
    source: Path,
    *,
    force: bool = False,
    progress: Callable[[Progress], None] = lambda p: None,
) -> dict:
    """Restore the backup in `source` into `settings.home` (stopped; empty unless `force`),
    then rebuild every bot's vectors. Returns the manifest."""
    manifest = check_backup(source)
    home = settings.home
    _refuse_running_server(home)
    present = [name for name in REPLACED if (home / name).exists() and _holds_data(home / name)]
    if present and not force:
        raise BackupError(
            f"{home} already holds data ({', '.join(present)}). Restore into an empty home, "
            "or add --force to replace it (its database, uploads and vectors are deleted)."
        )
    private_dir(home)
    # Copied in beside the home's own files first: a failed copy leaves the home as it was.
    staging = home / ".restoring"
    shutil.rmtree(staging, ignore_errors=True)
    private_dir(staging)
    try:
        for name in manifest["files"]:
            (staging / name).parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
            _copy_private(source / name, staging / name)
        for name in REPLACED:
            _remove(home / name)
        for entry in staging.iterdir():
            entry.rename(home / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    rebuild_vectors(settings, progress)
    return manifest


def check_backup(source: Path) -> dict:
    """The manifest of a complete, undamaged backup in `source`, or a BackupError saying what is wrong."""
    try:
        manifest = json.loads((source / "manifest.json").read_text())
        files = manifest["files"]
        if manifest.get("format") != FORMAT:
            raise BackupError(
                f"{source} is a backup of format {manifest.get('format')!r}; this version reads {FORMAT}."
            )
    except FileNotFoundError:
        raise BackupError(
            f"{source} has no manifest.json: it is not a Prompteur backup, or the backup was interrupted."
        ) from None
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"{source}/manifest.json is damaged: it is not the JSON a backup writes.") from None
    if DATABASE not in files:
        raise BackupError(f"{source} holds no database: its manifest lists no {DATABASE}.")
    for name, expected in files.items():
        path = (source / name).resolve()
        if not path.is_relative_to(source.resolve()) or not path.is_file():
            raise BackupError(f"{source} is incomplete: {name} is missing.")
        if path.stat().st_size != expected["size"] or _sha256(path) != expected["sha256"]:
            raise BackupError(f"{source} is damaged: {name} is not the file the backup wrote (its checksum differs).")
    return manifest


def rebuild_vectors(settings: Settings, progress: Callable[[Progress], None] = lambda p: None) -> None:
    """Every bot's vectors embedded again from its stored chunks, as `POST /reindex` does."""
    # Imported here: the embedding stack costs seconds to import, and backups never need it.
    from bots.knowledge_base import KnowledgeBase
    from bots.store.db import make_engine, migrate, session_factory
    from knowledge.embedding import EmbedderCache
    from knowledge.loading import load
    from knowledge.vector_index import VectorIndex

    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)  # a backup made by an older version
        sessions = session_factory(engine)
        vectors = VectorIndex.open(path=settings.chroma_dir, url=settings.chroma_url)
        kb = KnowledgeBase(sessions, vectors, EmbedderCache(), load, settings.uploads_dir)
        with sessions() as s:
            bots = s.execute(select(t.Bot.id, t.Bot.name, t.Bot.embedding_model).order_by(t.Bot.created_at)).all()
            counts = dict(
                s.execute(
                    select(t.Document.bot_id, func.count())
                    .where(t.Document.chunk_count > 0)
                    .group_by(t.Document.bot_id)
                ).all()
            )
        for bot_id, name, model in bots:
            documents = counts.get(bot_id, 0)

            def report(done: int, total: int, name: str = name, documents: int = documents) -> None:
                progress(Progress(name, documents, done, total))

            kb.reindex(bot_id, model, progress=report)
    finally:
        engine.dispose()


def _sqlite_file(settings: Settings) -> Path:
    url = settings.resolved_database_url
    if not url.startswith("sqlite:///"):
        raise BackupError(
            "`prompteur backup` copies the embedded SQLite database; this server uses "
            f"{url.split(':', 1)[0]}. Back it up with pg_dump (README, section Backups)."
        )
    return Path(url.removeprefix("sqlite:///"))


def _copy_database(source: Path, target: Path) -> None:
    # Read-only: the backup never takes a write lock the server would wait for.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst, pages=1024)  # in steps: the server's writers get the lock between them
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()
    os.chmod(target, PRIVATE_FILE)


def _revision(database: Path) -> str | None:
    with sqlite3.connect(database) as db:
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None
    return row[0] if row else None


def _counts(database: Path) -> dict[str, int]:
    counts = {}
    with sqlite3.connect(database) as db:
        for table in ("bots", "documents", "chunks", "conversations", "messages", "corrected_answers"):
            try:
                counts[table] = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            except sqlite3.Error:
                continue
    return counts


def _refuse_running_server(home: Path) -> None:
    info = home / "server.json"
    if not info.is_file():
        return
    try:
        pid = int(json.loads(info.read_text())["pid"])
        os.kill(pid, 0)
    except (ValueError, KeyError, TypeError, ProcessLookupError):
        return  # left by a server that has stopped
    except PermissionError:
        pass  # alive, another user's
    raise BackupError(f"A server is running on {home} (process {pid}): stop it, then restore.")


def _holds_data(path: Path) -> bool:
    return path.is_file() or (path.is_dir() and any(path.iterdir()))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _copy_private(source: str | Path, target: str | Path) -> None:
    shutil.copyfile(source, target)
    os.chmod(target, PRIVATE_FILE)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
