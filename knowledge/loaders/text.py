"""Plain text files, and the byte-to-text decoding the other text formats share."""

from __future__ import annotations

import codecs
import re

from knowledge.documents import LoadedDocument, LoadError, Section

# Control characters other than tab, newline, carriage return, form feed and escape: real
# text almost never has them, binary data is full of them. A few stray ones are tolerated.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
_MAX_CONTROL_RATIO = 0.01


def decode_text(data: bytes, filename: str, declared: str | None = None) -> str:
    """Bytes to text: BOMs first, then a declared charset, then UTF-8, then Windows-1252
    (what Excel and older Windows editors write). Refuses bytes that are not text at all."""
    text = None
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = _try(data, encoding)
            break
    if text is None and declared:
        text = _try(data, declared)
    if text is None:
        text = _try(data, "utf-8")
    if text is None and b"\x00" not in data:
        text = _try(data, "cp1252")
    if text is None or _looks_binary(text):
        raise LoadError(
            "not_text",
            f"“{filename}” does not contain readable text (it looks like a binary file). "
            "Check that you picked the right file, or save it as UTF-8 text and upload it again.",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if not sample:
        return False
    return len(_CONTROL.findall(sample)) / len(sample) > _MAX_CONTROL_RATIO


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs with runs of spaces collapsed; line breaks inside a
    paragraph are kept because in plain text they are often meaningful (addresses, lists)."""
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in block.split("\n")]
        block = "\n".join(line for line in lines if line)
        if block:
            out.append(block)
    return out


def load_text(data: bytes, filename: str) -> LoadedDocument:
    text = decode_text(data, filename)
    paras = paragraphs(text)
    if not paras:
        raise LoadError(
            "empty",
            f"“{filename}” contains only whitespace, so there is nothing to learn from. "
            "Upload a file with some text in it.",
        )
    return LoadedDocument(sections=[Section(text="\n\n".join(paras))])
