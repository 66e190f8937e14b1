"""The publish gate: a draft that does worse than it should on the bot's test sets does not
go live by accident.

Publishing runs the gating sets on the draft (or reuses a finished run that measured exactly
the same spec, knowledge and cases) and refuses when
- the pass rate is below the bot's minimum (default 0.8: a first publish need not be perfect,
  while the two rules below catch what matters most),
- a case marked `must_pass` does not pass,
- a case that passes on the published version fails on the draft (the published version is
  measured too, or its run reused),
- a case errored (the provider failed): nothing was measured, so nothing is vouched for.
An owner can publish anyway with a written note, stored with the version. A bot without test
sets publishes as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bots.core.errors import DomainError
from bots.eval_judge import deciding
from bots.evaluation import Evaluator, compare
from bots.store import evaluation as store
from bots.store import tables as t
from bots.store.corrected_answers import measured_spec
from bots.store.versions import DRAFT, resolve

DEFAULT_MIN_PASS_RATE = 0.8


class PublishRefused(DomainError):
    """The refusal's body carries the verdict too (`gate`: run_id, pass_rate, the minimum,
    each refusal, the regressed and must-pass cases), so the builder and scripts can show
    what regressed without parsing the sentence."""

    code = "publish_gate_refused"

    def __init__(self, verdict: Verdict, min_pass_rate: float | None = None):
        self.verdict, self.min_pass_rate = verdict, min_pass_rate
        self.refusals, self.run_id = verdict.refusals, verdict.run_id or ""
        super().__init__(
            message="The publish gate refused the draft (run "
            + self.run_id
            + "): "
            + "; ".join(self.refusals)
            + '. Fix the draft, or publish anyway with an override note (`--override "why"`).'
        )

    def public(self) -> dict:
        out = super().public()
        out["gate"] = {**self.verdict.stored(), "min_pass_rate": self.min_pass_rate}
        return out


@dataclass
class Verdict:
    run_id: str | None = None
    pass_rate: float | None = None
    reused: bool = False
    refusals: list[str] = field(default_factory=list)
    # What regressed, case by case: {"set", "question", "reasons": {check: why}}.
    regressions: list[dict] = field(default_factory=list)
    must_pass_failed: list[dict] = field(default_factory=list)
    errored: int = 0

    def stored(self) -> dict:
        return {
            "run_id": self.run_id,
            "pass_rate": self.pass_rate,
            "reused": self.reused,
            "refusals": self.refusals,
            "regressions": self.regressions,
            "must_pass_failed": self.must_pass_failed,
            "errored": self.errored,
        }


def settings(session: Session, bot_id: str) -> t.GateSettings:
    """The bot's gate settings; the defaults (not stored) when it has none."""
    row = session.get(t.GateSettings, bot_id)
    return row or t.GateSettings(bot_id=bot_id, set_names=None, min_pass_rate=DEFAULT_MIN_PASS_RATE, enabled=True)


def measured(evaluator: Evaluator, session: Session, bot: t.Bot, version: str | int, names) -> tuple[t.EvalRun, bool]:
    """A finished run of `version` on the sets: reused when one measured the same, else run now."""
    resolved = resolve(session, bot, version)
    test_sets = store.named_sets(session, bot.id, names)
    spec_json = measured_spec(session, bot.id, resolved.spec.stored_json(), resolved.version)
    key = store.gate_key(session, spec_json, bot.knowledge_generation, test_sets)
    if (run := store.finished_run(session, bot.id, key)) is not None:
        return run, True
    run = evaluator.create(session, bot, version, names)
    evaluator.execute(run.id)
    session.expire_all()
    return store.run(session, bot.id, run.id), False


def check(evaluator: Evaluator, session: Session, bot: t.Bot) -> Verdict:
    """What the gate says about publishing the bot's draft now."""
    gate = settings(session, bot.id)
    if not gate.enabled:
        return Verdict()
    test_sets = store.sets(session, bot.id)
    if gate.set_names is not None:  # a gating set deleted since no longer gates
        test_sets = [s for s in test_sets if s.name in gate.set_names]
    counts = store.case_counts(session, [s.id for s in test_sets])
    if not sum(counts.values()):
        return Verdict()
    names = [s.name for s in test_sets]
    draft, reused = measured(evaluator, session, bot, DRAFT, names)
    verdict = Verdict(run_id=draft.id, pass_rate=draft.metrics.get("pass_rate"), reused=reused)
    if draft.status != "done":
        verdict.refusals.append(f"the evaluation run ended {draft.status}: {draft.error or 'no detail'}")
        return verdict
    rows = store.results(session, draft.id)
    verdict.errored = draft.errored
    if draft.errored:
        verdict.refusals.append(f"{draft.errored} case(s) errored (provider failures), so they measured nothing")
    if verdict.pass_rate is not None and verdict.pass_rate < gate.min_pass_rate:
        verdict.refusals.append(f"pass rate {verdict.pass_rate:.0%} is below the minimum {gate.min_pass_rate:.0%}")
    for r in rows:
        if r.must_pass and r.status != "passed":
            verdict.refusals.append(f"must-pass case failed: {r.question!r} ({_reasons(r)})")
            verdict.must_pass_failed.append({"set": r.set_name, "question": r.question, "reason": _reasons(r)})
    if bot.published_version is not None:
        published, _ = measured(evaluator, session, bot, "published", names)
        if published.status == "done":
            for item in compare(store.results(session, published.id), rows)["regressions"]:
                verdict.regressions.append(
                    {"set": item["set"], "question": item["question"], "reasons": item["reasons"]}
                )
                reasons = "; ".join(f"{n}: {why}" for n, why in item["reasons"].items())
                verdict.refusals.append(
                    f"regressed from version {bot.published_version}: {item['question']!r} ({reasons})"
                )
    return verdict


def _reasons(r: t.EvalCaseResult) -> str:
    if r.error:
        return r.error
    return "; ".join(f"{n}: {c['reason']}" for n, c in deciding(r.checks).items() if not c["passed"])
