"""Test cases as files: JSON lines, CSV and YAML in, the same out.

Pure (no SQL, no HTTP): the server validates imports with it and the CLI formats exports
with it. An import is all or nothing: every bad line is reported by its number and, if there
is any, nothing is kept — half a test set would silently measure something else.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

FORMATS = ("jsonl", "csv", "yaml")
LIST_FIELDS = ("expected_sources", "expected_facts", "forbidden", "tags")
# CSV: one column per field, lists separated by "|"; `history` as JSON text.
CSV_COLUMNS = (
    "question",
    "expected_sources",
    "expected_facts",
    "must_refuse",
    "forbidden",
    "reference_answer",
    "tags",
    "history",
    "must_pass",
)


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(pattern="^(user|assistant)$")
    content: str = Field(max_length=20_000)


class Case(BaseModel):
    """One question and what a correct answer to it looks like."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=4000)
    # File names, `file#page=N` for paged documents, or page URLs.
    expected_sources: list[str] = Field(default_factory=list, max_length=50)
    expected_facts: list[str] = Field(default_factory=list, max_length=50)
    must_refuse: bool = False
    forbidden: list[str] = Field(default_factory=list, max_length=50)
    reference_answer: str | None = Field(default=None, max_length=20_000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    history: list[Turn] = Field(default_factory=list, max_length=50)
    must_pass: bool = False

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value.strip()

    def stored(self) -> dict[str, Any]:
        """Only what was set: exports stay as short as what the author wrote."""
        return self.model_dump(mode="json", exclude_defaults=True)


class CaseFileError(ValueError):
    """Lines of an import that could not be read: [(line, message)]."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        shown = "; ".join(f"line {line}: {message}" for line, message in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} bad line(s), nothing imported: {shown}{more}")


def guess_format(filename: str) -> str:
    lower = filename.lower()
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".csv"):
        return "csv"
    return "jsonl"


def parse(text: str, fmt: str) -> list[Case]:
    """The cases of a file, or CaseFileError naming every bad line."""
    if fmt not in FORMATS:
        raise CaseFileError([(0, f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")])
    rows = {"jsonl": _jsonl_rows, "csv": _csv_rows, "yaml": _yaml_rows}[fmt](text)
    cases, problems = [], []
    for line, row in rows:
        if isinstance(row, str):  # the reader could not make a row of it
            problems.append((line, row))
            continue
        try:
            cases.append(Case.model_validate(row))
        except ValidationError as err:
            problems.append((line, _explain(err)))
    if problems:
        raise CaseFileError(problems)
    if not cases:
        raise CaseFileError([(0, "the file holds no test case")])
    return cases


def explain(err: ValidationError) -> str:
    """A validation error in a sentence, unknown fields named with the ones there are."""
    return _explain(err)


def _explain(err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:3]:
        where = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown field {where!r} (fields: {', '.join(CSV_COLUMNS)})")
        else:
            parts.append(f"{where}: {e['msg']}" if where else e["msg"])
    return "; ".join(parts)


def _jsonl_rows(text: str) -> list[tuple[int, Any]]:
    rows: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            rows.append((number, f"not valid JSON ({err.msg})"))
            continue
        rows.append((number, row if isinstance(row, dict) else "not a JSON object"))
    return rows


def _csv_rows(text: str) -> list[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown or "question" not in header:
        what = f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else "no `question` column"
        return [(1, f"{what}; the columns are {', '.join(CSV_COLUMNS)}")]
    rows: list[tuple[int, Any]] = []
    for raw in reader:
        number = reader.line_num
        if None in raw:  # more cells than the header has columns
            rows.append((number, "more cells than the header has columns"))
            continue
        row: dict[str, Any] = {}
        for key, value in raw.items():
            key, value = key.strip(), (value or "").strip()
            if not value:
                continue
            if key in LIST_FIELDS:
                row[key] = [v.strip() for v in value.split("|") if v.strip()]
            elif key in ("must_refuse", "must_pass"):
                row[key] = _csv_bool(value)
            elif key == "history":
                try:
                    row[key] = json.loads(value)
                except json.JSONDecodeError:
                    row[key] = value  # validation names the field
            else:
                row[key] = value
        rows.append((number, row))
    return rows


def _csv_bool(value: str) -> bool | str:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "y", "x"):
        return True
    if lowered in ("0", "false", "no", "n"):
        return False
    return value  # not a boolean: validation says so


def _yaml_rows(text: str) -> list[tuple[int, Any]]:
    """A YAML list of cases (or {cases: [...]}); lines are where each case starts."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        return [((mark.line + 1) if mark else 0, f"not valid YAML: {getattr(err, 'problem', err)}")]
    if isinstance(data, dict) and "cases" in data:
        items = data["cases"]
        node = next((v for k, v in node.value if k.value == "cases"), node) if node else node
    else:
        items = data
    if not isinstance(items, list):
        return [(1, "expected a list of cases (or a mapping with `cases:`)")]
    lines = [n.start_mark.line + 1 for n in node.value] if node is not None else []
    return [
        (lines[i] if i < len(lines) else 0, item if isinstance(item, dict) else "not a mapping")
        for i, item in enumerate(items)
    ]


def dump(cases: list[dict[str, Any]], fmt: str) -> str:
    """Stored cases (`Case.stored()`) as a file that `parse` reads back the same."""
    if fmt == "yaml":
        return yaml.safe_dump(cases, sort_keys=False, allow_unicode=True, width=100)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for case in cases:
            row: dict[str, Any] = {}
            for key in CSV_COLUMNS:
                value = case.get(key)
                if value is None or value == [] or value is False:
                    row[key] = ""
                elif key in LIST_FIELDS:
                    row[key] = "|".join(value)
                elif key == "history":
                    row[key] = json.dumps(value, ensure_ascii=False)
                elif value is True:
                    row[key] = "true"
                else:
                    row[key] = value
            writer.writerow(row)
        return out.getvalue()
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)
