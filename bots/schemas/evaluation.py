"""Test sets, evaluation runs, comparisons and the publish gate's settings."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TestSetSummary(BaseModel):
    __test__ = False
    name: str
    cases: int
    updated_at: str


class TestSetList(BaseModel):
    __test__ = False
    sets: list[TestSetSummary]


class ImportedSet(BaseModel):
    set: str
    cases: int


class ExportedSet(BaseModel):
    set: str
    cases: list[dict[str, Any]]


class CheckVerdict(BaseModel):
    """A check's verdict. The judge's checks (`judge_groundedness`, `judge_agreement`) also
    carry `score` (0–1 or None), `status` (scored | unusable | errored) and `counts` (whether
    the verdict decides the case); their `passed` is None when nothing was graded."""

    model_config = ConfigDict(extra="allow")
    passed: bool | None
    reason: str


class CaseDetail(BaseModel):
    set: str
    question: str
    passed: bool
    status: str  # passed | failed | errored
    must_pass: bool
    checks: dict[str, CheckVerdict]
    retrieved: list[str]  # sources of the hits, best first (file#page=N for paged ones)
    expected_rank: int | None
    answer: str
    citations: list[str]
    fallback: bool
    error: str | None
    latency_ms: int
    tokens: dict[str, int]


class Run(BaseModel):
    run_id: str
    version: str  # "draft" or the version number
    status: str  # queued | running | cancelling | done | cancelled | failed
    sets: list[str]
    cases: int
    done: int
    passed: int
    failed: int
    errored: int
    pass_rate: float | None
    retrieval: dict[str, float | None]
    metrics: dict[str, Any]
    # {"used": False, "reason"} or the judge's aggregates: groundedness and agreement (means,
    # 0–1), how many grades were scored, unusable, errored; the model; the threshold.
    judge: dict[str, Any] = Field(default_factory=dict)
    error: str | None
    created_at: str
    finished_at: str | None


class RunDetail(Run):
    cases_detail: list[CaseDetail]


class RunList(BaseModel):
    runs: list[Run]


class ComparedCase(BaseModel):
    set: str
    question: str
    before: str
    after: str
    reasons: dict[str, str] = Field(default_factory=dict)


class RunComparison(BaseModel):
    run_a: str
    run_b: str
    regressions: list[ComparedCase]
    fixes: list[ComparedCase]
    unchanged: list[ComparedCase]


class GateSettings(BaseModel):
    set_names: list[str] | None  # None: every test set of the bot
    min_pass_rate: float
    enabled: bool


class AddedCase(BaseModel):
    """A case added to a set (from a conversation message, the builder or the CLI)."""

    set: str
    cases: int  # the set's cases now
    case: dict[str, Any]
