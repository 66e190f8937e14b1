"""Experiments: variants of a draft measured side by side, and promoting one to the draft."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class VariantRow(BaseModel):
    """One variant's line of the table (None: not measured yet, or not applicable)."""

    variant: str
    overrides: dict[str, Any]
    run_id: str
    status: str
    cases: int
    done: int
    passed: int
    failed: int
    errored: int
    pass_rate: float | None
    recall_at_1: float | None = Field(alias="recall@1")
    recall_at_5: float | None = Field(alias="recall@5")
    mrr_at_10: float | None = Field(alias="mrr@10")
    citation_accuracy: float | None
    judge_groundedness: float | None
    judge_agreement: float | None
    latency_p50_ms: int | None
    latency_p95_ms: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None  # at the variant's evaluation prices; None when unpriced

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class Experiment(BaseModel):
    experiment_id: str
    set: str
    status: str  # running | done | failed | cancelled
    promoted: str | None
    created_at: str
    variants: list[VariantRow]


class ExperimentList(BaseModel):
    experiments: list[Experiment]


class Promoted(BaseModel):
    experiment_id: str
    variant: str
    spec: dict[str, Any]  # the new draft, keys masked
