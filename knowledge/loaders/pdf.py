"""PDF files: one section per page, parsed by pypdf in a sandboxed child process
(see pdf_sandbox.py), then cleaned up into paragraphs here."""

from __future__ import annotations

import json
import math
import pathlib
import re
import subprocess
import sys
import unicodedata
from collections import Counter

from knowledge.documents import LoadedDocument, LoadError, Section

_SANDBOX = pathlib.Path(__file__).with_name("pdf_sandbox.py")
# A scanned page often carries a few characters of text (a scanner stamp, a page number);
# below this average per page, with images present, there is no real text layer.
_SCANNED_CHARS_PER_PAGE = 20
# A line at a page edge on this share of pages (of at least this many) is a running header.
_RUNNING_SHARE = 0.6
_RUNNING_MIN_PAGES = 4
_PAGE_NUMBER = re.compile(
    r"^\s*[-–—]?\s*((page|p\.|seite|pagina|página)\s*)?\d{1,5}"
    r"(\s*(/|of|sur|de|von|di)\s*\d{1,5})?\s*[-–—]?\s*$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^([•·▪◦‣○●■□➢►\-–*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")


def load_pdf(path: pathlib.Path, filename: str, *, max_pages: int, timeout_s: float, memory_mb: int) -> LoadedDocument:
    result = _run_sandbox(path, filename, max_pages=max_pages, timeout_s=timeout_s, memory_mb=memory_mb)
    error = result.get("error")
    if error:
        raise _error(error, result, filename, max_pages=max_pages, timeout_s=timeout_s, memory_mb=memory_mb)
    pages = result["pages"]
    texts = [clean_page_text(t) for t in strip_running_lines([p["text"] for p in pages])]
    visible = sum(len(re.sub(r"\s", "", t)) for t in texts)
    has_images = any(p["images"] for p in pages)
    if visible == 0 and not has_images:
        raise LoadError(
            "no_text",
            f"“{filename}” contains no text: its pages are blank, or their text is drawn as "
            "shapes. Export the document again with its text, or upload a text version.",
        )
    if has_images and visible < _SCANNED_CHARS_PER_PAGE * len(pages):
        raise LoadError(
            "no_text",
            f"“{filename}” has no text layer (it looks scanned); Prompteur does no OCR — "
            "export it with text or upload a text version.",
        )
    headings = _page_headings(result["outline"], len(pages))
    sections = [Section(text=text, page=i + 1, headings=headings[i]) for i, text in enumerate(texts) if text]
    return LoadedDocument(sections=sections, pages=len(pages), title=result.get("title"))


def _run_sandbox(path: pathlib.Path, filename: str, *, max_pages: int, timeout_s: float, memory_mb: int) -> dict:
    command = [
        sys.executable,
        "-P",
        str(_SANDBOX),
        str(path.resolve()),
        str(max_pages),
        str(memory_mb),
        str(math.ceil(timeout_s) + 5),
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    try:
        return json.loads(done.stdout)
    except ValueError:
        pass
    stderr = done.stderr.decode("utf-8", "replace")
    # Out of memory while writing its answer, or killed by a signal (SIGXCPU at the CPU
    # backstop, the kernel's OOM killer): the file asked for too much.
    if "MemoryError" in stderr:
        return {"error": "memory"}
    if done.returncode < 0:
        return {"error": "timeout"}
    # Anything else is our fault (pypdf missing, a bug), not the file's: say so loudly.
    raise RuntimeError(f"the PDF sandbox failed on {filename!r} (exit {done.returncode}): {stderr.strip()[-2000:]}")


def _error(code: str, result: dict, filename: str, *, max_pages: int, timeout_s: float, memory_mb: int) -> LoadError:
    if code == "encrypted":
        return LoadError(
            "encrypted",
            f"“{filename}” is protected by a password, so Prompteur cannot read it. Open it, "
            "save a copy without a password (or print it to a new PDF), and upload that.",
        )
    if code == "too_many_pages":
        return LoadError(
            "too_many_pages",
            f"“{filename}” has {result['pages']:,} pages, more than the {max_pages:,} Prompteur "
            "reads from one file. Split it into smaller PDFs and upload those.",
        )
    if code == "timeout":
        return LoadError(
            "too_complex",
            f"Reading “{filename}” took longer than {timeout_s:g} seconds, so it was stopped. "
            "The file may be damaged or unusually complex; print it to a new PDF or split it, "
            "and upload it again.",
        )
    if code == "memory":
        return LoadError(
            "too_complex",
            f"Reading “{filename}” needed more than {memory_mb:,} MB of memory, so it was "
            "stopped. The file may be damaged or unusually complex; print it to a new PDF or "
            "split it, and upload it again.",
        )
    if code == "limit":
        return LoadError(
            "too_complex",
            f"“{filename}” holds more packed data than Prompteur will unpack (it may be a "
            "decompression bomb). If it is a genuine document, print it to a new PDF or "
            "split it, and upload it again.",
        )
    return LoadError(
        "corrupt",
        f"“{filename}” is damaged or incomplete and could not be read as a PDF "
        f"({result.get('detail', 'unknown error')}). If it was cut short while downloading, "
        "download it again; otherwise open it and save it as a new PDF, then upload it again.",
    )


def strip_running_lines(texts: list[str]) -> list[str]:
    """Drop page headers and footers: a line repeated word for word at the top or bottom of
    most pages ("ACME — Confidential"), and page numbers ("12", "Page 3 of 40") at an edge.
    They say nothing about the page and would otherwise be repeated in every chunk."""
    edges: Counter[str] = Counter()
    for text in texts:
        lines = [_squash(line) for line in text.split("\n") if line.strip()]
        edges.update(set(lines[:2] + lines[-2:]))
    running = {
        line for line, n in edges.items() if len(texts) >= _RUNNING_MIN_PAGES and n >= _RUNNING_SHARE * len(texts)
    }
    out = []
    for text in texts:
        lines = text.split("\n")
        filled = [i for i, line in enumerate(lines) if line.strip()]
        edge = set(filled[:2] + filled[-2:])
        out.append(
            "\n".join(
                line
                for i, line in enumerate(lines)
                if i not in edge or not (_squash(line) in running or _PAGE_NUMBER.match(line))
            )
        )
    return out


def _squash(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip()


def clean_page_text(text: str) -> str:
    """Undo the layout of extracted text: rejoin words hyphenated at line ends, rejoin
    lines wrapped inside a paragraph, collapse spaces; paragraphs end up separated by a
    blank line. A line ends its paragraph when it is clearly shorter than the page's usual
    line, or the next line starts a list item or looks like a heading."""
    text = unicodedata.normalize("NFKC", text.replace("\u00ad", ""))
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.split("\n")]
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return ""
    usual = lengths[int(0.9 * (len(lengths) - 1))]
    paragraphs: list[str] = []
    current, previous = "", ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current, previous = "", ""
            continue
        if not current:
            current = line
        elif re.search(r"[^\W\d_]-$", current) and line[0].islower():
            current = current[:-1] + line
        elif _BULLET.match(line) or len(previous) < 0.75 * usual or _heading_after_sentence(previous, line, usual):
            paragraphs.append(current)
            current = line
        else:
            current = f"{current} {line}"
        previous = line
    if current:
        paragraphs.append(current)
    return "\n\n".join(paragraphs)


def _heading_after_sentence(previous: str, line: str, usual: int) -> bool:
    """A short capitalised line that does not end a sentence ("Tips For Consumers:"), right
    after a sentence ended at the end of a full line, is a heading, not a continuation."""
    return (
        previous[-1:] in (".", "!", "?", ":")
        and len(line) < 0.6 * usual
        and line[:1].isupper()
        and line[-1:] not in (".", ",", ";", "!", "?")
    )


def _page_headings(outline: list, page_count: int) -> list[list[str]]:
    """For each page, the outline path of the first entry starting on it, else the path of
    the last entry started on an earlier page."""
    first: dict[int, list[str]] = {}
    last: dict[int, list[str]] = {}
    for page, path in outline:
        if 0 <= page < page_count:
            first.setdefault(page, path)
            last[page] = path
    headings: list[list[str]] = []
    in_force: list[str] = []
    for page in range(page_count):
        headings.append(list(first.get(page, in_force)))
        in_force = last.get(page, in_force)
    return headings
