"""Structure-following chunking: sections (pages, headings, FAQ entries) are split only when
they are too long, and every chunk carries its title and heading path for retrieval."""
from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from knowledge.documents import Chunk, LoadedDocument, Section

# ~250 tokens of English: small enough that one chunk answers one question, large enough
# to keep a paragraph whole. Measured in benchmarks/retrieval.py.
CHUNK_CHARS = 1000
OVERLAP_CHARS = 150
# FAQ entries stay whole up to this size: splitting a question from its answer loses both.
FAQ_MAX_CHARS = 4000


def _splitter(size: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=OVERLAP_CHARS,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
    )


def _context(title: str | None, headings: list[str]) -> str:
    parts = [p for p in [title, *headings] if p]
    return " > ".join(parts)


def chunk_document(doc: LoadedDocument, title: str | None = None) -> list[Chunk]:
    """Cut a loaded document into chunks. `title` (often the file name) prefixes every
    chunk's search text, so a passage that never names its subject can still be found."""
    title = title or doc.title
    splitter = _splitter(CHUNK_CHARS)
    chunks: list[Chunk] = []
    for section in _merge_small(doc.sections):
        text = section.text.strip()
        if not text:
            continue
        if section.kind == "faq" and len(text) <= FAQ_MAX_CHARS:
            pieces = [text]
        else:
            pieces = splitter.split_text(text)
        context = _context(title, section.headings)
        for piece in pieces:
            chunks.append(
                Chunk(
                    text=piece,
                    search_text=f"{context}\n{piece}" if context else piece,
                    page=section.page,
                    headings=list(section.headings),
                    ordinal=len(chunks),
                )
            )
    return chunks


def _merge_small(sections: list[Section], min_chars: int = 200) -> list[Section]:
    """Fold tiny text sections (a lone heading line, a short page) into the next one with
    the same page so they don't become chunks too small to mean anything."""
    merged: list[Section] = []
    pending: Section | None = None
    for s in sections:
        if pending is not None:
            if s.kind == "text" and s.page == pending.page:
                s = Section(text=pending.text + "\n\n" + s.text, page=s.page,
                            headings=s.headings or pending.headings, kind="text")
            else:
                merged.append(pending)
            pending = None
        if s.kind == "text" and len(s.text.strip()) < min_chars:
            pending = s
        else:
            merged.append(s)
    if pending is not None:
        merged.append(pending)
    return merged
