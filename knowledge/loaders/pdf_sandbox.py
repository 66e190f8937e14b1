"""The child process that parses one PDF with pypdf and prints the result as JSON.

PDFs are where hostile or broken input hurts most (deep object graphs, huge content
streams, endless xref repair), so parsing runs here, under an address-space and CPU limit,
and the parent kills it at its wall-time limit. This module imports only the standard
library and pypdf: it runs as a plain script (`python -P`, so its own folder is not put
on sys.path where its neighbours could shadow standard modules), outside the package.

Usage: python -P pdf_sandbox.py PATH MAX_PAGES MEMORY_MB CPU_SECONDS
Prints {"pages": [{"text", "images"}], "outline": [[page_index, [titles]]], "title"} or
{"error": code, "detail": str, ...}.
"""

from __future__ import annotations

import json
import logging
import resource
import sys

# Imported before the memory limit is set: the limit is for the file, not for loading code.
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, LimitReachedError

# pypdf imports some modules lazily; under the address-space limit, loading their shared
# libraries fails with ImportError ("failed to map segment"), which is running out of memory.
_OUT_OF_MEMORY = (MemoryError, ImportError)


def _limit(memory_mb: int, cpu_s: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The parent enforces wall time; this is the backstop if the parent itself dies.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))


def extract(path: str, max_pages: int) -> dict:
    try:
        reader = PdfReader(path)
    except _OUT_OF_MEMORY:
        raise
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        return {"error": "corrupt", "detail": f"{type(exc).__name__}: {exc}"}
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except DependencyError as exc:
            return {"error": "encrypted", "detail": str(exc)}
        if opened == PasswordType.NOT_DECRYPTED:
            return {"error": "encrypted", "detail": "a password is required"}
    try:
        # The page tree's declared count answers "too many pages" without walking it.
        # pypdf types each lookup as a bare PdfObject; a malformed tree fails into the except.
        declared = int(reader.trailer["/Root"]["/Pages"]["/Count"])  # type: ignore[index]
    except Exception:
        declared = 0
    if declared > max_pages:
        return {"error": "too_many_pages", "pages": declared}
    try:
        count = len(reader.pages)
    except _OUT_OF_MEMORY:
        raise
    except Exception as exc:
        return {"error": "corrupt", "detail": f"{type(exc).__name__}: {exc}"}
    if count > max_pages:
        return {"error": "too_many_pages", "pages": count}
    if count == 0:
        return {"error": "corrupt", "detail": "the file has no pages"}

    pages, failures = [], 0
    for page in reader.pages:
        try:
            text = page.extract_text() or ""
        except LimitReachedError as exc:
            return {"error": "limit", "detail": str(exc)}
        except _OUT_OF_MEMORY:
            raise
        except Exception:
            text, failures = "", failures + 1
        pages.append({"text": text, "images": _has_images(page)})
    if failures == count:
        return {"error": "corrupt", "detail": "no page could be read"}
    return {"pages": pages, "outline": _outline(reader), "title": _title(reader)}


def _has_images(page) -> bool:
    try:
        xobjects = page["/Resources"]["/XObject"].get_object()
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
    except Exception:
        return False


def _outline(reader) -> list:
    """Outline (bookmark) entries as (0-based page, heading path), in outline order."""
    entries: list = []

    def walk(items: list, path: list[str]) -> None:
        last = None
        for item in items:
            if isinstance(item, list):
                if last is not None:  # a nested list holds the children of the entry before it
                    walk(item, [*path, last])
                continue
            last = str(item.title or "").strip()
            try:
                page = reader.get_destination_page_number(item)
            except Exception:
                continue
            if last and page is not None and page >= 0:
                entries.append([page, [*path, last]])

    try:
        walk(reader.outline, [])
    except Exception:
        return entries  # a broken outline costs headings, not the document
    return entries


def _title(reader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:
        return None
    return str(title).strip() or None if title else None


def main(argv: list[str]) -> int:
    path, max_pages, memory_mb, cpu_s = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    logging.disable(logging.WARNING)  # pypdf logs every repair it makes; the parent wants JSON
    _limit(memory_mb, cpu_s)
    try:
        result = extract(path, max_pages)
    except _OUT_OF_MEMORY:
        result = {"error": "memory"}
    except RecursionError:
        result = {"error": "corrupt", "detail": "object structure nested too deeply"}
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
