"""Structure-following chunking: sections (pages, headings, FAQ entries) are split only when
they are too long, and every chunk carries its title and heading path for retrieval."""

from __future__ import annotations

import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from knowledge.documents import Chunk, LoadedDocument, Section
from knowledge.links import link_words

# ~250 tokens of English: small enough that one chunk answers one question, large enough
# to keep a paragraph whole. Measured in benchmarks/retrieval.py.
CHUNK_CHARS = 1000
OVERLAP_CHARS = 150
# FAQ entries stay whole up to this size: splitting a question from its answer loses both.
FAQ_MAX_CHARS = 4000


# A run this long with no space or newline (a base64 blob, minified code, "a,b,c,..." with no
# space) is cut into pieces before splitting: the splitter's last resort splits
# text into single characters, ~4 µs and a list slot per character, so a 128 MB line (the
# largest text file read) took minutes and gigabytes (found by tests/test_loader_fuzz.py).
# Two pieces and the newline between them fill one chunk: the splitter keeps each whole.
_UNBROKEN = re.compile(rf"\S{{{CHUNK_CHARS},}}")
_PIECE = (CHUNK_CHARS - 1) // 2


def _break_unbroken(text: str) -> str:
    def cut(match: re.Match) -> str:
        run = match.group()
        return "\n".join(run[i : i + _PIECE] for i in range(0, len(run), _PIECE))

    return _UNBROKEN.sub(cut, text)


def _splitter(size: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=OVERLAP_CHARS,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
    )


def _context(title: str | None, headings: list[str]) -> str:
    parts: list[str] = []
    for part in [title, *headings]:
        if part and (not parts or part.casefold() != parts[-1].casefold()):
            parts.append(part)
    return " > ".join(parts)


def searchable(text: str) -> str:
    """The text as retrieval sees it: Markdown links reduced to their words. An address is
    for the reader to follow; its ids ("kb/guide/fr/uAjnIhMJ6Y") are noise to both
    retrievers, and its slug would match the page it points to, not this passage."""
    return link_words(text)


def _meaningful(title: str | None) -> str | None:
    """None for a title without a single real word ("d8ff9d63…", "F1427", "scan_0042"):
    an identifier in every chunk's search text is noise to both retrievers."""
    if title and any(len(w) >= 3 and w.isalpha() for w in re.split(r"[\W_]+", title)):
        return title
    return None


def chunk_document(doc: LoadedDocument, title: str | None = None) -> list[Chunk]:
    """Cut a loaded document into chunks. `title` (often the file name) prefixes every
    chunk's search text, so a passage that never names its subject can still be found."""
    title = _meaningful(title) or _meaningful(doc.title)
    splitter = _splitter(CHUNK_CHARS)
    chunks: list[Chunk] = []
    for section in _merge_small(_split_at_inferred_headings(_question_headed(doc.sections))):
        text = section.text.strip()
        if not text:
            continue
        question = None
        if section.kind == "faq" and len(text) <= FAQ_MAX_CHARS:
            pieces = [text]
            question = section.question
        else:
            pieces = splitter.split_text(_break_unbroken(text))
        context = _context(title, section.headings)
        for piece in pieces:
            chunks.append(
                Chunk(
                    text=piece,
                    search_text=f"{context}\n{searchable(piece)}" if context else searchable(piece),
                    page=section.page,
                    headings=list(section.headings),
                    ordinal=len(chunks),
                    question=question,
                )
            )
    return chunks


# A heading that asks something: it ends with a question mark, or opens with a question
# word (help centres often leave the mark out: "Comment résilier mon abonnement").
_QUESTION_HEADING = re.compile(
    r"(\?\W*$)|^(how|what|why|when|where|who|which|can|do|does|is|are|should|will|"
    r"comment|pourquoi|quand|où|qui|quel|quelle|quels|quelles|combien|est-ce|puis-je|peut-on|"
    r"dois-je|faut-il|qu['’]est-ce)\b",
    re.IGNORECASE,
)


def _question_headed(sections: list[Section]) -> list[Section]:
    """A text section under a heading that is a question is an FAQ entry, as a CSV row
    is: it stays whole and the question gets a vector of its own. Help centres are
    exported as pages or sections titled by the question, and customers paraphrase that
    question; in the embedding of the answer (which may never repeat the question's words)
    it is a small part, or none, as the heading is not in the passage text."""
    out = []
    for s in sections:
        heading = s.headings[-1] if s.headings else ""
        if s.kind == "text" and _QUESTION_HEADING.search(heading) and len(heading.split()) >= 2:
            s = Section(text=s.text, page=s.page, headings=s.headings, kind="faq", question=heading)
        out.append(s)
    return out


def _merge_small(sections: list[Section], min_chars: int = 200) -> list[Section]:
    """Fold tiny text sections (a lone heading line, a short page) into the next text
    section, across a page break too: a heading at the foot of a page introduces the next
    page, and alone it would be a chunk too small to mean anything that still outranks
    real passages (a few words match a short question very closely). The merged section
    takes the page where its content is. A tiny last section joins the one before it.
    A short but complete section under its own heading ("Opening hours: 9 to 5") stays
    alone: merged into another topic it would no longer be found for its own."""
    merged: list[Section] = []
    pending: Section | None = None
    for s in sections:
        if pending is not None:
            if s.kind == "text" and _belongs_with(pending, s):
                s = Section(
                    text=pending.text + "\n\n" + s.text,
                    page=s.page,
                    headings=s.headings or pending.headings,
                    kind="text",
                )
            else:
                merged.append(pending)
            pending = None
        if s.kind == "text" and len(s.text.strip()) < min_chars:
            pending = s
        else:
            merged.append(s)
    if pending is not None:
        last = merged[-1] if merged else None
        if last is not None and last.kind == "text" and last.page == pending.page and _belongs_with(pending, last):
            merged[-1] = Section(
                text=last.text + "\n\n" + pending.text, page=last.page, headings=last.headings, kind="text"
            )
        else:
            merged.append(pending)
    return merged


def _belongs_with(small: Section, neighbour: Section) -> bool:
    return small.headings == neighbour.headings or not small.headings or _is_heading_like(small.text.strip())


_HEADING_LIKE = re.compile(r"^[^\W\d_][^\n|]{0,78}[^\s.,;:!]$")


def _is_heading_like(paragraph: str) -> bool:
    """A lone short line that starts with a capital and ends without sentence punctuation
    (a question mark is allowed: help pages title sections with questions)."""
    return bool(_HEADING_LIKE.match(paragraph)) and paragraph[0].isupper() and len(paragraph.split()) <= 12


def _split_at_inferred_headings(sections: list[Section]) -> list[Section]:
    """PDFs rarely carry an outline and plain text has no markup, yet both show their
    headings as short lines on their own. Split text sections there and add the line to the
    heading path of what follows (across pages too, until the loader's own headings change),
    so a passage deep in a section still says what it is about."""
    out: list[Section] = []
    inferred: str | None = None
    explicit: list[str] | None = None
    for section in sections:
        if section.kind != "text":
            out.append(section)
            continue
        if section.headings != explicit:
            explicit, inferred = section.headings, None
        block: list[str] = []

        def flush() -> None:
            if block:
                path = list(section.headings) + ([inferred] if inferred and inferred not in section.headings else [])
                out.append(Section(text="\n\n".join(block), page=section.page, headings=path))
                block.clear()

        for paragraph in re.split(r"\n\s*\n", section.text.strip()):
            paragraph = paragraph.strip()
            if not paragraph:
                continue
            if _is_heading_like(paragraph):
                flush()
                inferred = paragraph
            block.append(paragraph)
        flush()
    return out
