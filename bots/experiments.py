"""Experiments: variants of a bot's draft — persona or prompt changes, retrieval settings
(k, minimum relevance), other models — each measured by an evaluation run of the draft with
the variant's overrides on one test set, shown side by side; one variant can then be promoted
to the draft. Nothing is published and the draft is untouched until a promotion.

A variant is `{"name": ..., <spec section>: {...}, ...}`: every key but `name` is a spec
section merged into the draft (`bots.core.spec_overrides`). The runs go one after the other
in one background thread: each already answers up to `eval_workers` cases at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.core.errors import DomainError
from bots.core.spec_overrides import InvalidOverrides, with_overrides
from bots.evaluation import Evaluator
from bots.store import evaluation as store
from bots.store import tables as t
from bots.store.versions import DRAFT, resolve

MAX_VARIANTS = 10


class InvalidExperiment(DomainError):
    code = "invalid_request"

    def __init__(self, why: str):
        super().__init__(message=f"The experiment is not valid: {why}")


class ExperimentNotFound(DomainError):
    code = "not_found"

    def __init__(self, bot_id: str, what: str):
        super().__init__(message=f"Bot {bot_id} has no {what}.")


@dataclass(frozen=True)
class Variant:
    name: str
    overrides: dict[str, Any]


def variants(raw: Sequence[Any]) -> list[Variant]:
    """The variants of a request or a YAML file, or InvalidExperiment naming what is wrong."""
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidExperiment("give a list of variants, each {name: ..., <spec section>: {...}}")
    if len(raw) > MAX_VARIANTS:
        raise InvalidExperiment(f"{len(raw)} variants: at most {MAX_VARIANTS}")
    out, seen = [], set()
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise InvalidExperiment(f"variant {i} is not a mapping")
        name = str(item.get("name") or "").strip()
        if not name or len(name) > 100:
            raise InvalidExperiment(f"variant {i} needs a name (1 to 100 characters)")
        if name in seen:
            raise InvalidExperiment(f"two variants are named {name!r}")
        seen.add(name)
        out.append(Variant(name, {k: v for k, v in item.items() if k != "name"}))
    return out


def create(evaluator: Evaluator, session: Session, bot: t.Bot, set_name: str, chosen: Sequence[Variant]):
    """The experiment and one queued run per variant (committed together), or
    InvalidExperiment when a variant's overrides do not make a valid spec."""
    draft = resolve(session, bot, DRAFT).spec
    for v in chosen:
        try:
            with_overrides(draft, v.overrides)
        except InvalidOverrides as err:
            raise InvalidExperiment(f"variant {v.name!r}: {err}") from None
    store.named_sets(session, bot.id, [set_name])  # TestSetNotFound before anything is made
    experiment = t.Experiment(bot_id=bot.id, set_name=set_name)
    session.add(experiment)
    session.flush()
    for ordinal, v in enumerate(chosen):
        run = evaluator.create(session, bot, DRAFT, [set_name], v.overrides, commit=False)
        session.add(
            t.ExperimentRun(
                run_id=run.id, experiment_id=experiment.id, ordinal=ordinal, variant=v.name, overrides=v.overrides
            )
        )
    session.commit()
    return experiment


def get(session: Session, bot_id: str, experiment_id: str) -> t.Experiment:
    row = session.get(t.Experiment, experiment_id)
    if row is None or row.bot_id != bot_id:
        raise ExperimentNotFound(bot_id, f"experiment {experiment_id!r}")
    return row


def listed(session: Session, bot_id: str, limit: int = 20) -> list[t.Experiment]:
    query = select(t.Experiment).where(t.Experiment.bot_id == bot_id).order_by(t.Experiment.created_at.desc())
    return list(session.scalars(query.limit(limit)))


def links(session: Session, experiment_id: str) -> list[t.ExperimentRun]:
    query = select(t.ExperimentRun).where(t.ExperimentRun.experiment_id == experiment_id)
    return list(session.scalars(query.order_by(t.ExperimentRun.ordinal)))


def status(runs: Sequence[t.EvalRun]) -> str:
    """running until every variant's run has ended; then done (or failed/cancelled if one did)."""
    if any(r.status not in ("done", "cancelled", "failed") for r in runs):
        return "running"
    for ending in ("failed", "cancelled"):
        if any(r.status == ending for r in runs):
            return ending
    return "done"


def row(session: Session, bot: t.Bot, link: t.ExperimentRun, run: t.EvalRun) -> dict[str, Any]:
    """One line of the experiment's table: what the variant scored, cost, latency."""
    m = run.metrics or {}
    judge: dict = m["judge"] if isinstance(m.get("judge"), dict) else {}
    tokens = m.get("tokens") or {}
    retrieval = m.get("retrieval") or {}
    return {
        "variant": link.variant,
        "overrides": link.overrides,
        "run_id": run.id,
        "status": run.status,
        "cases": run.total,
        "done": run.done,
        "passed": run.passed,
        "failed": run.failed,
        "errored": run.errored,
        "pass_rate": m.get("pass_rate"),
        "recall@1": retrieval.get("recall@1"),
        "recall@5": retrieval.get("recall@5"),
        "mrr@10": retrieval.get("mrr@10"),
        "citation_accuracy": m.get("citation_accuracy"),
        "judge_groundedness": judge.get("groundedness"),
        "judge_agreement": judge.get("agreement"),
        "latency_p50_ms": (m.get("latency_ms") or {}).get("p50"),
        "latency_p95_ms": (m.get("latency_ms") or {}).get("p95"),
        "prompt_tokens": tokens.get("prompt"),
        "completion_tokens": tokens.get("completion"),
        "cost": _cost(session, bot, link, tokens, judge.get("price_per_million")),
    }


def _cost(
    session: Session, bot: t.Bot, link: t.ExperimentRun, tokens: dict, judge_price: list[float] | None
) -> float | None:
    """The answers' tokens at the variant's prices (`evaluation.*_price_per_million`) plus the
    judge's at its own (see bots.evaluation.judge_price); None when either is unpriced."""
    if not tokens:
        return None
    try:
        prices = with_overrides(resolve(session, bot, DRAFT).spec, link.overrides).evaluation
    except InvalidOverrides:  # the draft changed since so that the variant no longer fits
        return None
    if prices.prompt_price_per_million is None or prices.completion_price_per_million is None:
        return None
    answers = tokens.get("answers") or tokens  # a run from before the judge was counted: answers only
    cost = (
        answers.get("prompt", 0) * prices.prompt_price_per_million
        + answers.get("completion", 0) * prices.completion_price_per_million
    )
    judge = tokens.get("judge") or {}
    if judge.get("prompt") or judge.get("completion"):
        if judge_price is None:
            return None  # a partial sum would understate what the run cost
        cost += judge.get("prompt", 0) * judge_price[0] + judge.get("completion", 0) * judge_price[1]
    return cost / 1_000_000


def promote(session: Session, bot: t.Bot, experiment: t.Experiment, variant: str) -> dict[str, Any]:
    """The draft becomes the current draft with the variant's overrides (committed); the new
    draft spec (stored form) is returned."""
    chosen = next((link for link in links(session, experiment.id) if link.variant == variant), None)
    if chosen is None:
        raise ExperimentNotFound(bot.id, f"variant {variant!r} in experiment {experiment.id}")
    try:
        spec = with_overrides(resolve(session, bot, DRAFT).spec, chosen.overrides)
    except InvalidOverrides as err:
        raise InvalidExperiment(f"variant {variant!r} no longer fits the draft: {err}") from None
    bot.spec = spec.stored_json()
    bot.updated_at = t.now()
    experiment.promoted, experiment.promoted_at = variant, t.now()
    session.commit()
    return bot.spec
