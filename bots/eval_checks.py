"""The deterministic checks of an evaluation and the run's aggregates. Pure: given what was
retrieved and answered, say whether each check passed and why."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CHECKS = ("retrieval", "cited", "facts", "refusal", "forbidden")


def normalized(text: str) -> str:
    """Case, accents, spaces and number formats folded, so "1 000,50 €" matches "1000.50 €"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    # Thousands separators (space, narrow space, comma, dot, apostrophe between digit groups).
    text = re.sub(r"(?<=\d)[\s\u202f\u00a0',.](?=\d{3}(?!\d))", "", text)
    text = re.sub(r"(?<=\d),(?=\d)", ".", text)  # decimal comma
    return " ".join(token.strip(".") for token in re.findall(r"[\w.%€$£]+", text) if token.strip("."))


def says(answer: str, phrase: str) -> bool:
    """Whether the answer contains the phrase as whole words ("5 days" is not in "15 days")."""
    wanted = normalized(phrase)
    return bool(wanted) and f" {wanted} " in f" {normalized(answer)} "


@dataclass(frozen=True)
class Expected:
    """A `expected_sources` entry: a file name (maybe `#page=N`) or a page URL."""

    source: str
    page: int | None

    @classmethod
    def parse(cls, text: str) -> Expected:
        if m := re.fullmatch(r"(.+)#page=(\d+)", text.strip()):
            return cls(m.group(1), int(m.group(2)))
        return cls(text.strip(), None)

    def same_document(self, source: str) -> bool:
        return source == self.source or source.rsplit("/", 1)[-1] == self.source

    def matches(self, source: str, page: int | None) -> bool:
        return self.same_document(source) and (self.page is None or page == self.page)


def expected_rank(expected: Sequence[str], hits: Sequence[dict[str, Any]]) -> int | None:
    """The 1-based rank of the first hit from an expected source, or None."""
    wanted = [Expected.parse(e) for e in expected]
    for rank, hit in enumerate(hits, 1):
        if any(w.matches(hit["source"], hit.get("page")) for w in wanted):
            return rank
    return None


def verdict(passed: bool, reason: str) -> dict[str, Any]:
    return {"passed": passed, "reason": reason}


def check_case(
    case: dict[str, Any],
    *,
    hits: Sequence[dict[str, Any]],
    k: int,
    answer: str,
    citations: Sequence[dict[str, Any]],
    fallback: bool,
    missing_sources: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """Each applicable check's verdict with its reason. `hits` are ranked, at least `k` deep
    when there are that many; `missing_sources` are expected sources the bot no longer has."""
    out: dict[str, dict[str, Any]] = {}
    expected = case.get("expected_sources") or []
    if expected:
        if missing_sources:
            reason = (
                f"expected source(s) {', '.join(missing_sources)} no longer among the bot's documents "
                "(deleted or renamed?): update the case or upload the document again"
            )
            out["retrieval"] = verdict(False, reason)
        else:
            rank = expected_rank(expected, hits[:k])
            out["retrieval"] = (
                verdict(True, f"expected source at rank {rank} of {k}")
                if rank
                else verdict(False, f"no expected source in the top {k}: got {_sources(hits[:k])}")
            )
        if not case.get("must_refuse"):
            cited = expected_rank(expected, citations)
            out["cited"] = (
                verdict(True, "an expected source is cited")
                if cited
                else verdict(False, f"no expected source among the citations: {_sources(citations) or 'none'}")
            )
    facts = case.get("expected_facts") or []
    if facts:
        missing = [f for f in facts if not says(answer, f)]
        out["facts"] = (
            verdict(False, f"missing: {', '.join(repr(f) for f in missing)}")
            if missing
            else verdict(True, f"all {len(facts)} facts present")
        )
    must_refuse = bool(case.get("must_refuse"))
    if fallback == must_refuse:
        out["refusal"] = verdict(True, "refused as expected" if must_refuse else "answered (no fallback)")
    else:
        out["refusal"] = verdict(
            False, "answered instead of the fallback" if must_refuse else "answered with the fallback"
        )
    forbidden = case.get("forbidden") or []
    if forbidden:
        found = [f for f in forbidden if says(answer, f)]
        out["forbidden"] = (
            verdict(False, f"says {', '.join(repr(f) for f in found)}")
            if found
            else verdict(True, "no forbidden phrase")
        )
    return out


def _sources(items: Sequence[dict[str, Any]]) -> str:
    return ", ".join(s["source"] + (f"#page={s['page']}" if s.get("page") else "") for s in items)


def percentile(values: Sequence[int], q: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def retrieval_metrics(ranks: Sequence[int | None], k: int) -> dict[str, float | None]:
    """Over the cases that name expected sources: `ranks` are their expected_rank (None: not
    in the hits searched, which go at least 10 deep)."""
    n = len(ranks)
    if not n:
        return {"recall@1": None, "recall@5": None, f"recall@{k}": None, "mrr@10": None}

    def recall(at: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= at) / n

    return {
        "recall@1": recall(1),
        "recall@5": recall(5),
        f"recall@{k}": recall(k),
        "mrr@10": sum(1 / r for r in ranks if r is not None and r <= 10) / n,
    }
