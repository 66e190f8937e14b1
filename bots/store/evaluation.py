"""Test sets and evaluation runs in SQL: what the evaluator and the publish gate read and write."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, load_only

from bots.core.errors import DomainError
from bots.store import tables as t

BATCH = 500  # cases read at a time: a run of 10,000 cases holds only a batch in memory


class TestSetNotFound(DomainError):
    __test__ = False
    code = "test_set_not_found"

    def __init__(self, bot_id: str, name: str):
        super().__init__(message=f"Bot {bot_id} has no test set named {name!r}.")


class NoTestCases(DomainError):
    code = "no_test_cases"

    def __init__(self, bot_id: str):
        super().__init__(message=f"Bot {bot_id} has no test case to run: import some with `prompteur eval import`.")


class RunNotFound(DomainError):
    code = "eval_run_not_found"

    def __init__(self, bot_id: str, run_id: str):
        super().__init__(message=f"Bot {bot_id} has no evaluation run {run_id!r}.")


def sets(session: Session, bot_id: str) -> list[t.TestSet]:
    return list(session.scalars(select(t.TestSet).where(t.TestSet.bot_id == bot_id).order_by(t.TestSet.name)))


def case_counts(session: Session, set_ids: Sequence[str]) -> dict[str, int]:
    rows = session.execute(
        select(t.TestCase.set_id, func.count()).where(t.TestCase.set_id.in_(set_ids)).group_by(t.TestCase.set_id)
    )
    return {set_id: n for set_id, n in rows}


def named_sets(session: Session, bot_id: str, names: Sequence[str] | None) -> list[t.TestSet]:
    """The named sets (every set when `names` is None), or TestSetNotFound."""
    every = sets(session, bot_id)
    if names is None:
        return every
    by_name = {s.name: s for s in every}
    for name in names:
        if name not in by_name:
            raise TestSetNotFound(bot_id, name)
    return [by_name[n] for n in names]


def replace_set(session: Session, bot_id: str, name: str, cases: Sequence[dict]) -> t.TestSet:
    """The set holds exactly `cases` afterwards, in one transaction (the caller commits)."""
    row = session.scalar(select(t.TestSet).where(t.TestSet.bot_id == bot_id, t.TestSet.name == name))
    if row is None:
        row = t.TestSet(bot_id=bot_id, name=name)
        session.add(row)
        session.flush()
    else:
        session.execute(delete(t.TestCase).where(t.TestCase.set_id == row.id))
        row.updated_at = t.now()
    session.execute(insert(t.TestCase), [{"set_id": row.id, "ordinal": i, "data": c} for i, c in enumerate(cases)])
    return row


def delete_set(session: Session, bot_id: str, name: str) -> None:
    row = named_sets(session, bot_id, [name])[0]
    session.delete(row)


def cases(session: Session, set_id: str) -> Iterator[t.TestCase]:
    """A set's cases in order, read a batch at a time."""
    after = -1
    while True:
        batch = list(
            session.scalars(
                select(t.TestCase)
                .where(t.TestCase.set_id == set_id, t.TestCase.ordinal > after)
                .order_by(t.TestCase.ordinal)
                .limit(BATCH)
            )
        )
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].ordinal


def gate_key(session: Session, spec_json: dict, knowledge_generation: int, test_sets: Sequence[t.TestSet]) -> str:
    """What a run measures: the spec, the knowledge and the cases. Equal keys, equal runs."""
    digest = hashlib.sha256()
    digest.update(json.dumps([spec_json, knowledge_generation], sort_keys=True).encode())
    for s in sorted(test_sets, key=lambda s: s.name):
        digest.update(b"\0set\0" + s.name.encode())
        for case in cases(session, s.id):
            digest.update(json.dumps(case.data, sort_keys=True).encode())
    return digest.hexdigest()


def run(session: Session, bot_id: str, run_id: str) -> t.EvalRun:
    row = session.get(t.EvalRun, run_id)
    if row is None or row.bot_id != bot_id:
        raise RunNotFound(bot_id, run_id)
    return row


def runs(session: Session, bot_id: str, limit: int = 50) -> list[t.EvalRun]:
    """The bot's runs, newest first, without experiments' (a variant is not the draft: its runs
    belong in its experiment's table, not in the draft's history)."""
    variant = select(t.ExperimentRun.run_id).where(t.ExperimentRun.run_id == t.EvalRun.id).exists()
    query = (
        select(t.EvalRun).where(t.EvalRun.bot_id == bot_id, ~variant).order_by(t.EvalRun.created_at.desc()).limit(limit)
    )
    return list(session.scalars(query))


def results(session: Session, run_id: str) -> list[t.EvalCaseResult]:
    query = select(t.EvalCaseResult).where(t.EvalCaseResult.run_id == run_id).order_by(t.EvalCaseResult.id)
    return list(session.scalars(query))


def scores(session: Session, run_id: str) -> list[t.EvalCaseResult]:
    """A run's results without their texts and hits: what the aggregates need, and small."""
    r = t.EvalCaseResult
    columns = (r.status, r.checks, r.fallback, r.expected_rank, r.latency_ms, r.prompt_tokens, r.completion_tokens)
    return list(session.scalars(select(r).where(r.run_id == run_id).options(load_only(*columns))))


def finished_run(session: Session, bot_id: str, key: str) -> t.EvalRun | None:
    """The newest finished run that measured exactly this (see `gate_key`)."""
    query = (
        select(t.EvalRun)
        .where(t.EvalRun.bot_id == bot_id, t.EvalRun.gate_key == key, t.EvalRun.status == "done")
        .order_by(t.EvalRun.created_at.desc())
        .limit(1)
    )
    return session.scalar(query)


def append_case(session: Session, bot_id: str, name: str, case: dict) -> tuple[t.TestSet, int]:
    """Add one case at the end of the named set (made if the bot has none by that name); the
    set and how many cases it holds now. The caller commits."""
    row = session.scalar(select(t.TestSet).where(t.TestSet.bot_id == bot_id, t.TestSet.name == name))
    if row is None:
        row = t.TestSet(bot_id=bot_id, name=name)
        session.add(row)
        session.flush()
    last = session.scalar(select(func.max(t.TestCase.ordinal)).where(t.TestCase.set_id == row.id))
    session.add(t.TestCase(set_id=row.id, ordinal=(-1 if last is None else last) + 1, data=case))
    row.updated_at = t.now()
    session.flush()
    return row, case_counts(session, [row.id]).get(row.id, 0)


def run_overrides(session: Session, run_id: str) -> dict | None:
    """The spec overrides a run measured the draft with (an experiment's variant), or None."""
    return session.scalar(select(t.ExperimentRun.overrides).where(t.ExperimentRun.run_id == run_id))
