"""Markdown files: one section per heading, carrying the path of headings above it.

Only headings split; code blocks, tables and lists stay as written inside their section, so
the chunker sees them whole."""

from __future__ import annotations

import re

from knowledge.documents import LoadedDocument, LoadError, Section
from knowledge.links import link_words
from knowledge.loaders.text import decode_text

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.MULTILINE)


def load_markdown(data: bytes, filename: str) -> LoadedDocument:
    text = decode_text(data, filename)
    title, text = _split_front_matter(text)
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []  # (level, heading) from the outermost down
    body: list[str] = []

    def flush() -> None:
        content = "\n".join(body).strip("\n")
        if content.strip():
            sections.append(Section(text=content, headings=[h for _, h in stack]))
        body.clear()

    def open_heading(level: int, heading: str) -> None:
        nonlocal title
        flush()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        if level == 1 and title is None:
            title = heading

    fence: str | None = None
    for line in text.split("\n"):
        fence_match = _FENCE.match(line)
        if fence is not None:
            body.append(line)
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            continue
        if fence_match:
            fence = fence_match.group(1)
            body.append(line)
            continue
        atx = _ATX.match(line)
        if atx:
            open_heading(len(atx.group(1)), _inline(atx.group(2) or ""))
            continue
        setext = _SETEXT.match(line)
        if setext and _setext_candidate(body):
            heading = body.pop().strip()
            open_heading(1 if setext.group(1)[0] == "=" else 2, _inline(heading))
            continue
        body.append(line)
    flush()
    if not sections:
        raise LoadError(
            "empty",
            f"“{filename}” has no text besides headings and blank lines, so there is "
            "nothing to learn from. Add the content and upload it again.",
        )
    return LoadedDocument(sections=sections, title=title)


def _setext_candidate(body: list[str]) -> bool:
    """A `---`/`===` line underlines the previous line only if that line is a lone
    paragraph line; after a blank line `---` is a horizontal rule."""
    if not body or not body[-1].strip():
        return False
    previous = body[-1]
    if len(body) >= 2 and body[-2].strip():
        return False  # a multi-line paragraph: treat the rule as a break, keep the text
    return not re.match(r"^\s*([-*+>|]|\d+[.)])\s", previous) and "|" not in previous


def _inline(heading: str) -> str:
    """Heading text without emphasis markers or link syntax."""
    heading = link_words(heading)
    heading = re.sub(r"[*_`]+", "", heading)
    return heading.strip()


def _split_front_matter(text: str) -> tuple[str | None, str]:
    if not text.startswith("---\n"):
        return None, text
    end = text.find("\n---", 4)
    if end == -1:
        return None, text
    front = text[4:end]
    rest = text[end + 4 :].split("\n", 1)
    match = _FRONT_MATTER_TITLE.search(front)
    return (match.group(1).strip() or None) if match else None, rest[1] if len(rest) > 1 else ""
