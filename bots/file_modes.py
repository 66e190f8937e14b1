"""The data folder is private to the user running the server: it holds the database (with
provider keys and every conversation), uploaded documents, the admin token and the session
secret. Folders are created 0700 and files 0600; a folder left readable by others from an
earlier version gets a warning naming the chmod that fixes it."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

log = logging.getLogger("prompteur.files")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def restrict_new_files() -> None:
    """For the server process: everything it creates from now on (SQLite's -wal/-shm files,
    Chroma's index, uploads, logs) is readable by its owner only."""
    os.umask(0o077)


def private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)


def write_private(path: Path, text: str) -> None:
    """Write a file that only its owner may read, whatever the process umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.fchmod(fd, PRIVATE_FILE)  # a file left by an older version keeps its mode otherwise
    with os.fdopen(fd, "w") as f:
        f.write(text)


def create_private(path: Path) -> None:
    """Create an empty file 0600 if it does not exist (SQLite then gives its -wal and -shm
    files the database file's own mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass


def warn_if_exposed(home: Path) -> list[Path]:
    """Log a warning when the data folder, or what lies directly in it, is open to group or
    others; returns those paths."""
    if not home.exists():
        return []
    exposed = [p for p in [home, *home.iterdir()] if stat.S_IMODE(p.lstat().st_mode) & 0o077]
    if exposed:
        log.warning(
            "The data folder %s is readable by other users of this machine (%s): it holds provider "
            "keys, conversations and uploads. Run: chmod -R go-rwx %s",
            home,
            ", ".join(p.name or str(p) for p in exposed[:5]) + (" …" if len(exposed) > 5 else ""),
            home,
        )
    return exposed


def create_once(path: Path, text: str) -> str:
    """Write `text` to `path` (0600) unless the file exists; returns what the file holds.

    Processes starting together (replicas sharing a data folder) may all find no file: the
    text is written under a name of this process's own, then linked into place, which fails
    if another process linked first. Nobody ever reads a half-written file, and every process
    ends up with the same value."""
    if path.exists():
        return path.read_text().strip()
    staged = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        try:
            os.link(staged, path)
        except FileExistsError:
            return path.read_text().strip()
    finally:
        staged.unlink(missing_ok=True)
    return text
