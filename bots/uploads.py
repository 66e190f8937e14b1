"""Storing uploaded files: names users give are kept for display only; files on disk get
generated names, so `../../x` or a NUL byte in a name can never reach the file system."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import unicodedata
from pathlib import Path
from typing import BinaryIO

from bots.file_modes import PRIVATE_FILE, private_dir
from knowledge.loading import EXTENSIONS, unsupported

# Exactly what the loaders read, so the upload check and ingestion cannot disagree.
SAFE_SUFFIXES = frozenset(EXTENSIONS)


def display_name(raw: str | None) -> str:
    """The name to show: a relative path (`guides/faq.md` when a folder was uploaded) with
    no root, no `.`/`..` parts and no control characters. Never used as a path on disk."""
    parts = []
    for part in (raw or "").replace("\\", "/").split("/"):
        part = "".join(ch for ch in part if unicodedata.category(ch)[0] != "C").strip().strip(".")
        if part:
            parts.append(part)
    return "/".join(parts)[-200:].lstrip("/") or "unnamed"


def unsupported_message(name: str) -> str:
    """The loaders' own wording (with how to convert the file), said at upload time."""
    return str(unsupported(name, Path(name).suffix.lower()))


def is_supported(name: str) -> bool:
    """By extension; a name without one is let through for the loaders to recognise by
    content (browsers' downloads often lose the extension of a PDF)."""
    suffix = Path(name).suffix.lower()
    return suffix == "" or suffix in SAFE_SUFFIXES


def stored_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if suffix in SAFE_SUFFIXES and re.fullmatch(r"\.[a-z]+", suffix) else ".bin"


def save_stream(source: BinaryIO, dest: Path) -> tuple[str, int]:
    """Copy to `dest` while hashing; returns (sha256, size)."""
    private_dir(dest.parent)
    digest, size = hashlib.sha256(), 0
    tmp = dest.with_suffix(dest.suffix + ".part")
    # Readable by the server's user only: uploads are the company's internal documents.
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), "wb") as out:
            while block := source.read(1024 * 1024):
                digest.update(block)
                size += len(block)
                out.write(block)
    except OSError:
        # A full disk (or any write error) leaves no partial file behind to be mistaken for an upload.
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dest)
    return digest.hexdigest(), size


def is_disk_full(err: OSError) -> bool:
    return err.errno in (errno.ENOSPC, errno.EDQUOT)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
