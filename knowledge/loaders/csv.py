"""CSV and TSV files. A question/answer sheet becomes one FAQ section per row (chunking
keeps each whole); any other table becomes one `column: value` record per row."""

from __future__ import annotations

import csv
import io
import re
import unicodedata

from knowledge.documents import LoadedDocument, LoadError, Section
from knowledge.loaders.html import fragment_text
from knowledge.loaders.text import decode_text

_QUESTION_NAMES = {
    "question",
    "questions",
    "q",
    "title",
    "faq",
    "query",
    "question_text",
    "intitule",
    "frage",
    "pregunta",
}
_ANSWER_NAMES = {
    "answer",
    "answers",
    "a",
    "text",
    "reponse",
    "reponses",
    "response",
    "body",
    "content",
    "answer_text",
    "antwort",
    "respuesta",
}
_HTML_CELL = re.compile(r"\s*<([a-zA-Z][a-zA-Z0-9]*)[^>]*>.*</\1>\s*$", re.DOTALL)
_GROUP_NAMES = {"category", "categorie", "section", "topic", "theme", "rubrique", "group"}


def load_csv(data: bytes, filename: str) -> LoadedDocument:
    text = decode_text(data, filename)
    delimiter = "\t" if filename.lower().endswith(".tsv") else _sniff_delimiter(text)
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise LoadError(
                "corrupt",
                f"“{filename}” has a cell longer than {csv.field_size_limit():,} characters, more than a "
                "spreadsheet cell holds: it is probably not a CSV file. Upload long text as .txt or .md.",
            ) from exc
        raise LoadError(
            "corrupt",
            f"“{filename}” is not a well-formed CSV file ({exc}). Open it in a spreadsheet, "
            "save it again as CSV, and upload it again.",
        ) from exc
    if not rows:
        raise LoadError(
            "empty",
            f"“{filename}” has no rows. Add the questions and answers (or other rows) and upload it again.",
        )
    header, body = rows[0], rows[1:]
    if header and header[0].strip().endswith("?"):
        # No header row: the first row is already a question.
        header, body = [], rows
    columns = _faq_columns(header, body)
    if columns is not None:
        sections = _faq_sections(header, body, *columns)
    else:
        sections = _record_sections(header, body)
    if not sections:
        raise LoadError(
            "empty",
            f"“{filename}” has a header row but no filled-in rows below it. Add the rows and upload it again.",
        )
    return LoadedDocument(sections=sections)


def _sniff_delimiter(text: str) -> str:
    """`;` is what Excel writes in French and German locales; pick the candidate that
    splits the first lines into the same, largest number of columns."""
    lines = [line for line in text.split("\n")[:20] if line.strip()]
    best, best_score = ",", 0
    for candidate in (",", ";", "\t", "|"):
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=candidate)]
        except csv.Error:
            # A line too long for one field (found by the loader fuzzer: it escaped as csv.Error):
            # this candidate does not split it; the full read below words the refusal.
            continue
        if not counts or counts[0] < 2:
            continue
        score = counts[0] * sum(1 for c in counts if c == counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _norm(name: str) -> str:
    name = unicodedata.normalize("NFKD", name.strip().lower())
    name = "".join(c for c in name if not unicodedata.combining(c))
    return name.replace(" ", "_").strip(":")


def _faq_columns(header: list[str], body: list[list[str]]) -> tuple[int, int] | None:
    names = [_norm(h) for h in header]
    question = next((i for i, n in enumerate(names) if n in _QUESTION_NAMES), None)
    answer = next((i for i, n in enumerate(names) if n in _ANSWER_NAMES and i != question), None)
    if question is not None and answer is not None:
        return question, answer
    # Unnamed columns: a sheet whose first column is mostly questions is an FAQ.
    firsts = [row[0].strip() for row in body if len(row) >= 2 and row[0].strip()]
    if firsts and sum(f.endswith("?") for f in firsts) >= 0.6 * len(firsts):
        return 0, 1
    return None


def _cell(row: list[str], index: int) -> str:
    value = row[index].strip() if index < len(row) else ""
    # Help desks export answers as HTML; the markup would only add noise to search.
    return fragment_text(value) if _HTML_CELL.match(value) else value


def _faq_sections(header: list[str], body: list[list[str]], q: int, a: int) -> list[Section]:
    names = [_norm(h) for h in header]
    group = next((i for i, n in enumerate(names) if n in _GROUP_NAMES), None)
    sections = []
    for row in body:
        question, answer = _cell(row, q), _cell(row, a)
        if not question and not answer:
            continue
        headings = [_cell(row, group)] if group is not None and _cell(row, group) else []
        sections.append(
            Section(text=f"Q: {question}\nA: {answer}", headings=headings, kind="faq", question=question or None)
        )
    return sections


def _record_sections(header: list[str], body: list[list[str]]) -> list[Section]:
    if not header:
        header = [f"column {i + 1}" for i in range(max(len(r) for r in body))]
    sections = []
    for row in body:
        lines = []
        for i in range(len(row)):
            name = header[i].strip() if i < len(header) and header[i].strip() else f"column {i + 1}"
            value = _cell(row, i)
            if value:
                lines.append(f"{name}: {value}")
        if lines:
            # "row": one record, kept whole by chunking and never merged with its neighbours.
            sections.append(Section(text="\n".join(lines), kind="row"))
    return sections
