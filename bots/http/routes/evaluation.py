"""Admin API: a bot's test sets, evaluation runs, comparisons and publish-gate settings."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from bots import publish_gate, test_sets
from bots.eval_judge import tokens_used as judge_tokens
from bots.evaluation import NOT_USED, Evaluator, compare
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.request_values import RequestBody
from bots.runtime import Runtime
from bots.schemas.evaluation import (
    CaseDetail,
    ExportedSet,
    GateSettings,
    ImportedSet,
    Run,
    RunComparison,
    RunDetail,
    RunList,
    TestSetList,
    TestSetSummary,
)
from bots.store import evaluation as store
from bots.store import tables as t


def evaluator(request: Request, runtime: Runtime) -> Evaluator:
    """The runtime's evaluator (it stops with the runtime), unless the app was given another
    (the benchmarks put a fast model in the provider's place)."""
    return getattr(request.app.state, "evaluator", None) or runtime.evaluator


def _evaluator_ready(request: Request, runtime: RuntimeDep) -> None:
    evaluator(request, runtime)


router = APIRouter(
    route_class=ReleasingRoute,
    prefix="/admin/bots/{bot_id}",
    dependencies=[AdminAuth, Depends(_evaluator_ready)],
    tags=["admin: evaluation"],
)


class ImportRequest(RequestBody):
    format: Literal["jsonl", "csv", "yaml"] = "jsonl"
    content: str = Field(max_length=50_000_000)


class RunRequest(RequestBody):
    set: str | None = Field(default=None, min_length=1, max_length=200)
    version: str | int = Field(default="draft", description='"draft", "published" or a version number')
    wait: bool = Field(default=False, description="answer once the run has finished (small sets)")


class GateRequest(RequestBody):
    set_names: list[str] | None = None
    min_pass_rate: float = Field(default=publish_gate.DEFAULT_MIN_PASS_RATE, ge=0.0, le=1.0)
    enabled: bool = True


@router.get("/test-sets", response_model=TestSetList)
def list_sets(bot: BotDep, session: DbSession):
    rows = store.sets(session, bot.id)
    counts = store.case_counts(session, [r.id for r in rows])
    return TestSetList(
        sets=[TestSetSummary(name=r.name, cases=counts.get(r.id, 0), updated_at=r.updated_at.isoformat()) for r in rows]
    )


@router.put(
    "/test-sets/{name}", response_model=ImportedSet, summary="Import cases into a set, replacing it (all or nothing)"
)
def import_set(name: str, body: ImportRequest, bot: BotDep, session: DbSession):
    _check_name(name)
    try:
        cases = test_sets.parse(body.content, body.format)
    except test_sets.CaseFileError as err:
        raise ApiError("invalid_test_cases", str(err)) from None
    store.replace_set(session, bot.id, name, [c.stored() for c in cases])
    session.commit()
    return ImportedSet(set=name, cases=len(cases))


@router.get("/test-sets/{name}", response_model=ExportedSet)
def export_set(name: str, bot: BotDep, session: DbSession):
    row = store.named_sets(session, bot.id, [name])[0]
    return ExportedSet(set=name, cases=[c.data for c in store.cases(session, row.id)])


@router.delete("/test-sets/{name}", status_code=204)
def delete_set(name: str, bot: BotDep, session: DbSession) -> None:
    store.delete_set(session, bot.id, name)
    session.commit()


@router.post("/eval-runs", status_code=202, response_model=RunDetail, summary="Evaluate a version on test sets")
def start_run(body: RunRequest, request: Request, runtime: RuntimeDep, bot: BotDep, session: DbSession):
    version = body.version
    if isinstance(version, str) and version not in ("draft", "published"):
        if not version.isdigit():
            raise ApiError("invalid_request", f'version is "draft", "published" or a number, not {version!r}.')
        version = int(version)
    ev = evaluator(request, runtime)
    run = ev.create(session, bot, version, [body.set] if body.set else None)
    if body.wait:
        ev.execute(run.id)
        session.expire_all()
    else:
        ev.start(run.id)
    return run_out(session, store.run(session, bot.id, run.id), detail=True)


@router.get("/eval-runs", response_model=RunList)
def list_runs(bot: BotDep, session: DbSession):
    return {"runs": [run_out(session, r) for r in store.runs(session, bot.id)]}


@router.get("/eval-runs/{run_id}", response_model=RunDetail, summary="A run's progress, aggregates and cases")
def get_run(run_id: str, bot: BotDep, session: DbSession):
    return run_out(session, store.run(session, bot.id, run_id), detail=True)


@router.post("/eval-runs/{run_id}/cancel", response_model=Run)
def cancel_run(run_id: str, request: Request, runtime: RuntimeDep, bot: BotDep, session: DbSession):
    run = store.run(session, bot.id, run_id)
    evaluator(request, runtime).cancel(session, run)
    return run_out(session, run)


@router.get("/eval-runs/{run_a}/compare/{run_b}", response_model=RunComparison)
def compare_runs(run_a: str, run_b: str, bot: BotDep, session: DbSession):
    a, b = store.run(session, bot.id, run_a), store.run(session, bot.id, run_b)
    return RunComparison(run_a=a.id, run_b=b.id, **compare(store.results(session, a.id), store.results(session, b.id)))


@router.get("/gate", response_model=GateSettings, summary="Which sets gate publishing, and how well")
def get_gate(bot: BotDep, session: DbSession):
    return _gate_out(publish_gate.settings(session, bot.id))


@router.put("/gate", response_model=GateSettings)
def put_gate(body: GateRequest, bot: BotDep, session: DbSession):
    if body.set_names is not None:
        store.named_sets(session, bot.id, body.set_names)  # refuse a set that does not exist
    row = session.get(t.GateSettings, bot.id) or t.GateSettings(bot_id=bot.id)
    row.set_names, row.min_pass_rate, row.enabled = body.set_names, body.min_pass_rate, body.enabled
    session.add(row)
    session.commit()
    return _gate_out(row)


def _gate_out(row: t.GateSettings) -> GateSettings:
    return GateSettings(set_names=row.set_names, min_pass_rate=row.min_pass_rate, enabled=row.enabled)


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > 200:
        raise ApiError("invalid_request", "A test set's name is 1 to 200 characters.")


def run_out(session, run: t.EvalRun, *, detail: bool = False) -> dict:
    out = {
        "run_id": run.id,
        "version": run.version,
        "status": run.status,
        "sets": run.set_names,
        "cases": run.total,
        "done": run.done,
        "passed": run.passed,
        "failed": run.failed,
        "errored": run.errored,
        "pass_rate": (run.metrics or {}).get("pass_rate"),
        "retrieval": (run.metrics or {}).get("retrieval") or {},
        "metrics": run.metrics or {},
        "judge": judge_out(run.metrics or {}),
        "error": run.error,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
    if detail:
        out["cases_detail"] = [case_out(r) for r in store.results(session, run.id)]
    return out


def judge_out(metrics: dict) -> dict:
    judge = metrics.get("judge")
    if isinstance(judge, dict):
        return judge
    return {"used": False, "reason": judge or NOT_USED}


def case_out(r: t.EvalCaseResult) -> CaseDetail:
    return CaseDetail(
        set=r.set_name,
        question=r.question,
        passed=r.status == "passed",
        status=r.status,
        must_pass=r.must_pass,
        checks=r.checks,
        retrieved=[h["source"] + (f"#page={h['page']}" if h.get("page") else "") for h in r.retrieved],
        expected_rank=r.expected_rank,
        answer=r.answer,
        citations=[c["source"] + (f"#page={c['page']}" if c.get("page") else "") for c in r.citations],
        fallback=r.fallback,
        error=r.error,
        latency_ms=r.latency_ms,
        tokens=_case_tokens(r),
    )


def _case_tokens(r: t.EvalCaseResult) -> dict[str, int]:
    """The answer's tokens, and the judge's grading of it (counted in the run's tokens too)."""
    judge = judge_tokens([r.checks])
    return {
        "prompt": r.prompt_tokens,
        "completion": r.completion_tokens,
        "judge_prompt": judge["prompt"],
        "judge_completion": judge["completion"],
    }
