"""Word (.docx) files: paragraphs and tables in document order, one section per heading.

A .docx is a zip archive, so its directory is checked before anything is unpacked: a few
kilobytes can declare gigabytes of content (a "zip bomb")."""

from __future__ import annotations

import pathlib
import re
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from knowledge.documents import LoadedDocument, LoadError, Section

_MAX_MEMBERS = 10_000
# Word's XML compresses 5-20x; a large member compressed far beyond that is built to explode.
_MAX_RATIO = 100
_RATIO_CHECK_ABOVE = 10 * 1024 * 1024
_HEADING_STYLE = re.compile(r"^(heading|titre|überschrift|título|titulo|titolo|kop)\s*(\d)$", re.IGNORECASE)
_OUTLINE_LEVEL = "./w:pPr/w:outlineLvl/@w:val"


def load_docx(path: pathlib.Path, filename: str, *, memory_mb: int) -> LoadedDocument:
    check_archive(path, filename, max_bytes=memory_mb * 1024 * 1024 // 4)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises whatever its zip/XML/part layers raise
        raise LoadError(
            "corrupt",
            f"“{filename}” could not be read as a Word document ({type(exc).__name__}). "
            "Open it in Word or LibreOffice, save it again as .docx, and upload it again.",
        ) from exc
    title = (document.core_properties.title or "").strip() or None
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    blocks: list[str] = []

    def flush() -> None:
        text = "\n\n".join(blocks).strip()
        if text:
            sections.append(Section(text=text, headings=[h for _, h in stack]))
        blocks.clear()

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = _table_rows(item)
            if rows:
                blocks.append("\n".join(rows))
            continue
        text = _clean(item.text)
        if not text:
            continue
        style_name = item.style.name if item.style is not None else ""
        if style_name == "Title":
            title = title or text
            continue
        level = _heading_level(item)
        if level is not None:
            flush()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            title = title or (text if level == 1 else None)
        elif "List" in style_name:
            blocks.append(f"- {text}")
        else:
            blocks.append(text)
    flush()
    if not sections:
        raise LoadError(
            "empty",
            f"“{filename}” contains no text (only headings, images or empty pages). "
            "Prompteur reads the text of Word documents; add the text and upload it again.",
        )
    return LoadedDocument(sections=sections, title=title)


def check_archive(path: pathlib.Path, filename: str, *, max_bytes: int) -> None:
    """Refuse a zip whose directory declares more content than we are willing to unpack.
    zipfile never inflates a member past its declared size, so the directory is a bound."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except Exception as exc:  # zipfile raises BadZipFile, NotImplementedError, ValueError...
        raise LoadError(
            "corrupt",
            f"“{filename}” is damaged: it is not a readable .docx archive ({exc}). "
            "Open it in Word or LibreOffice, save it again, and upload it again.",
        ) from exc
    total = sum(m.file_size for m in members)
    bomb = any(m.file_size > _RATIO_CHECK_ABOVE and m.file_size > _MAX_RATIO * max(m.compress_size, 1) for m in members)
    if len(members) > _MAX_MEMBERS or total > max_bytes or bomb:
        raise LoadError(
            "too_large",
            f"“{filename}” would unpack to {total / 2**20:,.0f} MB in {len(members):,} parts, "
            f"more than Prompteur accepts ({max_bytes / 2**20:,.0f} MB; it may be a "
            "decompression bomb). If it is a genuine document, remove large embedded "
            "files or split it, and upload it again.",
        )
    if "word/document.xml" not in {m.filename for m in members}:
        raise LoadError(
            "wrong_type",
            f"“{filename}” is a zip archive but not a Word document (it has no "
            "word/document.xml). Upload the document itself, saved as .docx.",
        )


def _heading_level(paragraph: Paragraph) -> int | None:
    """Heading 1..9 by style name (English and a few translated built-in names), else by the
    outline level that the paragraph or its style chain sets."""
    levels = paragraph._p.xpath(_OUTLINE_LEVEL)
    style = paragraph.style
    while style is not None:
        for name in (style.name or "", style.style_id or ""):
            match = _HEADING_STYLE.match(name.strip())
            if match:
                return int(match.group(2))
        levels = levels or style.element.xpath(_OUTLINE_LEVEL)
        style = style.base_style
    if levels and levels[0].isdigit() and int(levels[0]) < 9:
        return int(levels[0]) + 1
    return None


def _table_rows(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                continue
            seen.add(id(cell._tc))
            cells.append(_clean(cell.text))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
