"""`prompteur backup PATH` and `prompteur restore PATH`: the embedded setup's data (SQLite
database, uploads, admin token, session secret) to and from one folder (bots/backup.py).
They work on the files of PROMPTEUR_HOME, not through the server: a backup is safe while the
server runs, a restore needs it stopped."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bots.settings import Settings

if TYPE_CHECKING:
    from bots.backup import Progress


def add_parsers(sub) -> None:
    save = sub.add_parser("backup", help="copy the database, uploads and secrets into a new folder (server may run)")
    save.add_argument("path", type=Path, help="a new (or empty) folder")
    save.set_defaults(run=_backup)
    load = sub.add_parser("restore", help="restore a backup into a stopped, empty home; vectors are rebuilt")
    load.add_argument("path", type=Path, help="a folder written by `prompteur backup`")
    load.add_argument("--force", action="store_true", help="replace the data the home already holds")
    load.set_defaults(run=_restore)


def _backup(args) -> int:
    from bots.backup import BackupError, backup  # SQL and the stores load only for these commands

    try:
        manifest = backup(Settings(), args.path)
    except BackupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Backed up to {args.path}: {_counts(manifest)}; {len(manifest['files'])} files.")
    return 0


def _restore(args) -> int:
    from bots.backup import BackupError, restore

    settings = Settings()
    last: dict[str, int] = {}

    def show(step: Progress) -> None:
        # One line per bot as its chunks are embedded; the last one says it is done.
        if last.get(step.bot) != step.done:
            last[step.bot] = step.done
            print(f"  {step.bot}: {step.documents} documents, {step.done}/{step.total} chunks embedded", flush=True)

    try:
        manifest = restore(settings, args.path, force=args.force, progress=show)
    except BackupError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Restored {args.path} into {settings.home}: {_counts(manifest)}.")
    return 0


def _counts(manifest: dict) -> str:
    return ", ".join(f"{n} {table}" for table, n in manifest["counts"].items())
