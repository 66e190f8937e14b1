"""Turn an uploaded file into a LoadedDocument, or refuse it with a sentence the user can act on.

The format is decided by the file's extension and checked against its first bytes: a web
page or a program saved under a .pdf name is refused, not fed to the PDF parser."""

from __future__ import annotations

import pathlib
import re

from knowledge.documents import LoadedDocument, LoadError
from knowledge.loaders.csv import load_csv
from knowledge.loaders.docx import load_docx
from knowledge.loaders.html import load_html
from knowledge.loaders.markdown import load_markdown
from knowledge.loaders.pdf import load_pdf
from knowledge.loaders.text import load_text

_FORMATS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".tsv": "csv",
}
# For upload widgets and API docs: the extensions `load` accepts.
EXTENSIONS = tuple(_FORMATS)
SUPPORTED_TYPES = "PDF (.pdf), Word (.docx), Markdown (.md), plain text (.txt), web pages (.html) and CSV (.csv, .tsv)"
_CONVERT_HINTS = {
    ".doc": "save it as .docx in Word or LibreOffice",
    ".rtf": "save it as .docx in Word or LibreOffice",
    ".odt": "save it as .docx or PDF in LibreOffice",
    ".xlsx": "save the sheet as CSV",
    ".xls": "save the sheet as CSV",
    ".ods": "save the sheet as CSV",
    ".pptx": "export it as PDF",
    ".ppt": "export it as PDF",
    ".odp": "export it as PDF",
}
_LABELS = {"pdf": "PDF", "docx": "Word", "markdown": "Markdown", "text": "text", "html": "web page", "csv": "CSV"}
_TEXT_FORMATS = {"markdown", "text", "html", "csv"}
# (magic bytes at offset 0, what the content is, whether it is a program)
_SIGNATURES = [
    (b"\x7fELF", "a Linux program (ELF executable)", True),
    (b"\xfe\xed\xfa\xce", "a macOS program", True),
    (b"\xfe\xed\xfa\xcf", "a macOS program", True),
    (b"\xce\xfa\xed\xfe", "a macOS program", True),
    (b"\xcf\xfa\xed\xfe", "a macOS program", True),
    (b"\xca\xfe\xba\xbe", "a program (macOS or Java class file)", True),
    (b"PK\x03\x04", "zip", False),
    (b"PK\x05\x06", "zip", False),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office file (.doc, .xls or .ppt)", False),
    (b"\x89PNG", "a PNG image", False),
    (b"\xff\xd8\xff", "a JPEG image", False),
    (b"GIF8", "a GIF image", False),
    (b"II*\x00", "a TIFF image", False),
    (b"MM\x00*", "a TIFF image", False),
    (b"\x1f\x8b", "a gzip archive", False),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", False),
    (b"Rar!", "a RAR archive", False),
]
_HTML = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE | re.DOTALL)


def load(
    path: pathlib.Path, filename: str, *, max_pages: int = 5000, timeout_s: float = 120, memory_mb: int = 1024
) -> LoadedDocument:
    """Load the file at `path`; `filename` is the user's name for it (its extension picks
    the format, and every error message names it). Raises LoadError for anything that
    cannot be ingested; PDFs are parsed in a child process limited to `timeout_s` seconds
    and `memory_mb` MB."""
    size = path.stat().st_size
    if size == 0:
        raise LoadError(
            "empty",
            f"“{filename}” is empty (0 bytes). Check that the upload "
            "finished or that you picked the right file, then try again.",
        )
    with path.open("rb") as f:
        head = f.read(4096)
    extension = pathlib.PurePath(filename).suffix.lower()
    content, is_program = _sniff(head)
    if is_program:
        raise LoadError(
            "executable",
            f"“{filename}” is {content}, not a document, so it was refused. "
            f"Upload the document itself: {SUPPORTED_TYPES}.",
        )
    fmt = _FORMATS.get(extension)
    if fmt is None:
        # A download without an extension is still recognisable by its content.
        fmt = {"pdf": "pdf", "html": "html"}.get(content) if not extension else None
    if fmt is None:
        raise unsupported(filename, extension)
    _check_content(fmt, content, head, filename)
    if fmt == "pdf":
        return load_pdf(path, filename, max_pages=max_pages, timeout_s=timeout_s, memory_mb=memory_mb)
    if fmt == "docx":
        return load_docx(path, filename, memory_mb=memory_mb)
    max_bytes = memory_mb * 1024 * 1024 // 8  # text formats are parsed in this process
    if size > max_bytes:
        raise LoadError(
            "too_large",
            f"“{filename}” is {size / 2**20:,.0f} MB, more than the {max_bytes / 2**20:,.0f} MB "
            "Prompteur reads from one text file. Split it into smaller files and upload those.",
        )
    data = path.read_bytes()
    loader = {"markdown": load_markdown, "text": load_text, "html": load_html, "csv": load_csv}[fmt]
    return loader(data, filename)


def _sniff(head: bytes) -> tuple[str, bool]:
    """What the first bytes say the file is: a description, and whether it is a program."""
    if _is_windows_program(head):
        return "a Windows program (.exe or .dll)", True
    for magic, what, is_program in _SIGNATURES:
        if head.startswith(magic):
            return what, is_program
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"%PDF-"):
        return "pdf", False
    if _HTML.match(stripped):
        return "html", False
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary", False
    return "text", False


def _is_windows_program(head: bytes) -> bool:
    """ "MZ" alone could start a text file; a program also points to its "PE" header."""
    if not head.startswith(b"MZ") or len(head) < 64:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return head[offset : offset + 4] == b"PE\x00\x00" or b"DOS mode" in head[:512]


def _check_content(fmt: str, content: str, head: bytes, filename: str) -> None:
    if fmt == "pdf":
        # The PDF header may legally follow some junk within the first kilobyte.
        if content == "pdf" or (content in ("text", "binary") and b"%PDF-" in head[:1024]):
            return
        if content in ("text", "binary"):
            raise LoadError(
                "corrupt",
                f"“{filename}” is not a readable PDF: it does not start with a PDF header. "
                "It may be damaged or not a PDF at all; open it, save it again as PDF, and "
                "upload it again.",
            )
    elif fmt == "docx":
        if content == "zip":
            return
        if content in ("text", "binary"):
            raise LoadError(
                "corrupt",
                f"“{filename}” is not a readable Word document (a .docx file is a zip "
                "archive, and this one is not). Open it in Word or LibreOffice, save it "
                "again as .docx, and upload it again.",
            )
    elif content in ("text", "html", "binary"):
        return  # text formats: binary content is refused when it fails to decode
    what = {
        "pdf": "a PDF",
        "html": "an HTML web page (often an error or login page saved in place of the real file)",
        "zip": "a zip archive",
    }.get(content, content)
    if content == "zip" and fmt in _TEXT_FORMATS:
        what = "a zip archive (perhaps a Word or Excel file)"
    raise LoadError(
        "wrong_type",
        f"“{filename}” is named like a {_LABELS[fmt]} file but is actually {what}. "
        "Download or export the document again, "
        "or rename it to match what it is, and upload it again.",
    )


def unsupported(filename: str, extension: str) -> LoadError:
    """The refusal for a type we don't read, with how to convert it; uploads use it too."""
    kind = f"of type {extension}" if extension else "without an extension"
    hint = _CONVERT_HINTS.get(extension, "convert it to one of these")
    return LoadError(
        "unsupported",
        f"“{filename}”: files {kind} are not supported; supported types are "
        f"{SUPPORTED_TYPES}. To use it, {hint}, and upload it again.",
    )
