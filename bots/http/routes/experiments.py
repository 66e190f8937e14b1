"""Admin API: experiments (variants of the draft measured on a test set) and promotion."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from bots import experiments
from bots.http.deps import AdminAuth, BotDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.request_values import RequestBody
from bots.http.routes.evaluation import evaluator
from bots.schemas.experiments import Experiment, ExperimentList, Promoted
from bots.store import tables as t
from bots.store.versions import spec_model

router = APIRouter(
    route_class=ReleasingRoute, prefix="/admin/bots/{bot_id}", dependencies=[AdminAuth], tags=["admin: evaluation"]
)


class ExperimentRequest(RequestBody):
    set: str = Field(min_length=1, max_length=200)
    variants: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=experiments.MAX_VARIANTS,
        description='Each {"name": ..., <spec section>: {...}}, e.g. {"name": "k3", "retrieval": {"k": 3}}',
    )
    wait: bool = Field(default=False, description="answer once every variant has been measured (small sets)")


class PromoteRequest(RequestBody):
    variant: str = Field(min_length=1, max_length=100)


@router.post("/experiments", status_code=202, response_model=Experiment, summary="Measure variants of the draft")
def start(body: ExperimentRequest, request: Request, runtime: RuntimeDep, bot: BotDep, session: DbSession):
    ev = evaluator(request, runtime)
    made = experiments.create(ev, session, bot, body.set, experiments.variants(body.variants))
    run_ids = [link.run_id for link in experiments.links(session, made.id)]
    if body.wait:
        for run_id in run_ids:
            ev.execute(run_id)
        session.expire_all()
    else:
        ev.start_sequence(run_ids)
    return experiment_out(session, bot, made)


@router.get("/experiments", response_model=ExperimentList)
def list_experiments(bot: BotDep, session: DbSession):
    return {"experiments": [experiment_out(session, bot, e) for e in experiments.listed(session, bot.id)]}


@router.get("/experiments/{experiment_id}", response_model=Experiment, summary="One row per variant")
def get_experiment(experiment_id: str, bot: BotDep, session: DbSession):
    return experiment_out(session, bot, experiments.get(session, bot.id, experiment_id))


@router.post("/experiments/{experiment_id}/promote", response_model=Promoted, summary="Make a variant the draft")
def promote(experiment_id: str, body: PromoteRequest, bot: BotDep, session: DbSession):
    made = experiments.get(session, bot.id, experiment_id)
    spec = experiments.promote(session, bot, made, body.variant)
    return Promoted(experiment_id=made.id, variant=body.variant, spec=spec_model(bot, spec).redacted())


def experiment_out(session, bot: t.Bot, made: t.Experiment) -> dict:
    links = experiments.links(session, made.id)
    runs = {r.id: r for r in session.query(t.EvalRun).filter(t.EvalRun.id.in_([link.run_id for link in links]))}
    return {
        "experiment_id": made.id,
        "set": made.set_name,
        "status": experiments.status(list(runs.values())),
        "promoted": made.promoted,
        "created_at": made.created_at.isoformat(),
        "variants": [experiments.row(session, bot, link, runs[link.run_id]) for link in links],
    }
