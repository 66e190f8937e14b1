"""Evaluation runs: one version of a bot answers its test cases, each answer is checked
(`bots.eval_checks`), and the results and aggregates are stored.

Cases are answered by the core pipeline directly (`bots.core.answering.answer`) with the
version's spec and the bot's retrieval, not through `Chat`: a test question is not customer
traffic and must not show up in conversations or analytics. A run executes in a background
thread (`start`) or in the caller's (`execute`, used by the publish gate); it reads cases a
batch at a time and writes each result as it goes, so memory stays bounded whatever the
set's size. A provider error makes a case `errored`, not failed: it measured nothing.

With a judge model (the bot's `evaluation.judge`, else the server's) each answered case is
also graded by it (`bots.eval_judge`). Up to `workers` cases are answered at once (each its
own model call; 1 suits a 2-core machine); `stop()` ends every run of this process cleanly
(the server is shutting down): each is marked cancelled, saying why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from bots.chat import Corrections, hit_dict
from bots.core import answering, prices
from bots.core.errors import DomainError
from bots.core.spec import BotSpec, EvaluationSettings, ModelSettings
from bots.core.spec_overrides import with_overrides
from bots.eval_checks import Expected, check_case, expected_rank, percentile, retrieval_metrics
from bots.eval_judge import aggregate as judge_aggregate
from bots.eval_judge import deciding, judge_case
from bots.eval_judge import tokens_used as judge_tokens
from bots.llm.errors import ProviderError
from bots.llm.protocol import ChatModel
from bots.store import evaluation as store
from bots.store import tables as t
from bots.store.corrected_answers import measured_spec
from bots.store.versions import DRAFT, resolve
from knowledge.documents import Hit

log = logging.getLogger(__name__)

SEARCH_DEPTH = 10  # hits scored per case, whatever k: MRR@10 needs ten
FINISHED = ("done", "cancelled", "failed")
NOT_USED = "judge not configured: not used"
STOPPED = "the server stopped during this run; start it again"


@dataclass
class _Judge:
    """The judge a run uses: its settings (the bot's evaluation settings, with the model
    resolved), and the client, or why there is none."""

    settings: EvaluationSettings
    model_name: str
    model: ChatModel | None
    error: str | None
    provider: str = "openai"


@dataclass
class Evaluator:
    sessions: sessionmaker
    search: Callable[[str, str, int], Sequence[Hit]]
    models: Callable[[ModelSettings], ChatModel]
    judge: ModelSettings | None = None  # the server-wide judge; a bot's spec may name its own
    workers: int = 1
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _threads: set[threading.Thread] = field(default_factory=set, repr=False)
    _threads_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # The version's corrected answers, matched as the chat matches them (bots/corrected_answers.py):
    # a test case measures what a customer would get.
    corrections: Corrections | None = None

    def create(
        self,
        session: Session,
        bot: t.Bot,
        version: str | int,
        set_names: Sequence[str] | None,
        overrides: dict | None = None,
        *,
        commit: bool = True,
    ) -> t.EvalRun:
        """A queued run (committed unless `commit` is False) of `version` ("draft", "published"
        or N) on the named sets; with `overrides`, of that version changed by them (an
        experiment's variant: the caller links the run to it, see `run_overrides`)."""
        resolved = resolve(session, bot, version)
        spec = with_overrides(resolved.spec, overrides)
        test_sets = store.named_sets(session, bot.id, set_names)
        total = sum(store.case_counts(session, [s.id for s in test_sets]).values())
        if not total:
            raise store.NoTestCases(bot.id)
        run = t.EvalRun(
            bot_id=bot.id,
            version=DRAFT if resolved.version is None else str(resolved.version),
            version_number=resolved.version,
            set_names=[s.name for s in test_sets],
            total=total,
            metrics={},
            # The corrected answers are part of what is measured: a run made before they changed
            # must not be reused by the publish gate.
            gate_key=store.gate_key(
                session,
                measured_spec(session, bot.id, spec.stored_json(), resolved.version),
                bot.knowledge_generation,
                test_sets,
            ),
        )
        session.add(run)
        if commit:
            session.commit()
        else:
            session.flush()
        return run

    def recover(self) -> int:
        """Fail the runs a previous server process left unfinished (see `recover_runs`)."""
        return recover_runs(self.sessions)

    def start(self, run_id: str) -> None:
        thread = threading.Thread(target=self._background, args=(run_id,), name=f"eval-{run_id}", daemon=True)
        with self._threads_lock:
            self._threads.add(thread)
        thread.start()

    def start_sequence(self, run_ids: Sequence[str]) -> None:
        """Run these one after the other in one background thread (an experiment's variants:
        each run already answers `workers` cases at once)."""
        thread = threading.Thread(target=self._background, args=(*run_ids,), name="eval-sequence", daemon=True)
        with self._threads_lock:
            self._threads.add(thread)
        thread.start()

    def _background(self, *run_ids: str) -> None:
        try:
            for run_id in run_ids:
                self.execute(run_id)
        finally:
            with self._threads_lock:
                self._threads.discard(threading.current_thread())

    def stop(self, timeout_s: float = 10.0) -> None:
        """Every run of this process stops before its next case and is marked cancelled;
        waits (up to `timeout_s`) for the cases being answered to finish."""
        self._stopping.set()
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout_s)

    def cancel(self, session: Session, run: t.EvalRun) -> None:
        if run.status not in FINISHED:
            run.status = "cancelling"  # the executor stops before its next case
            session.commit()

    def execute(self, run_id: str) -> None:
        try:
            self._execute(run_id)
        except Exception as err:  # a run is a background job: record why it stopped, never vanish
            log.exception("evaluation run %s failed", run_id)
            with self.sessions() as s:
                run = s.get(t.EvalRun, run_id)
                if run is not None:
                    run.status, run.error, run.finished_at = "failed", f"{type(err).__name__}: {err}", t.now()
                    s.commit()

    def _execute(self, run_id: str) -> None:
        with self.sessions() as s:
            run = s.get(t.EvalRun, run_id)
            if run is not None and run.status == "cancelling":  # cancelled before it began
                run.status, run.finished_at = "cancelled", t.now()
                s.commit()
            if run is None or run.status != "queued":
                return
            run.status = "running"
            bot = s.get(t.Bot, run.bot_id)
            spec = _spec(s, bot, run)
            bot_id, embedding_model, version_number = bot.id, bot.embedding_model, run.version_number
            known = {d.source for d in s.query(t.Document).filter(t.Document.bot_id == bot_id)}
            set_rows = [(ts.id, ts.name) for ts in store.named_sets(s, bot_id, run.set_names)]
            s.commit()
        model = self.models(spec.model)
        judge = self._judge(spec)

        def answer(set_name: str, ordinal: int, data: dict) -> tuple[str, int, dict, dict]:
            return (
                set_name,
                ordinal,
                data,
                self._case(bot_id, spec, embedding_model, model, data, known, judge, version_number),
            )

        # At most `workers` cases in flight: results are written as they come, so memory stays
        # bounded by the batch of cases read plus what is being answered.
        with self.sessions() as reader, ThreadPoolExecutor(self.workers, thread_name_prefix="eval-case") as pool:
            pending: set[Future] = set()
            for set_id, set_name in set_rows:
                for case in store.cases(reader, set_id):
                    if len(pending) >= self.workers:
                        pending = self._drain(run_id, pending, FIRST_COMPLETED)
                    if self._cancelled(run_id):
                        self._drain(run_id, pending, None)
                        return
                    pending.add(pool.submit(answer, set_name, case.ordinal, case.data))
            self._drain(run_id, pending, None)
        self._finish(run_id, judge)

    def _drain(self, run_id: str, pending: set[Future], until: str | None) -> set[Future]:
        """Record the finished cases (waiting for one, or for all when `until` is None)."""
        done, left = wait(pending, return_when=until or "ALL_COMPLETED")
        for future in done:
            set_name, ordinal, data, result = future.result()
            self._record(run_id, set_name, ordinal, data, result)
        return left

    def _judge(self, spec: BotSpec) -> _Judge | None:
        chosen = spec.evaluation.judge or self.judge
        if chosen is None:
            return None
        try:
            return _Judge(spec.evaluation, chosen.default_model(), self.models(chosen), None, chosen.provider)
        except ProviderError as err:  # e.g. no key: every grade says so, the run goes on
            error = f"judge errored: {err.code}: {err.detail}"
            return _Judge(spec.evaluation, chosen.default_model(), None, error, chosen.provider)

    def _cancelled(self, run_id: str) -> bool:
        with self.sessions() as s:
            run = s.get(t.EvalRun, run_id)
            if self._stopping.is_set() and run.status not in FINISHED:
                run.status, run.finished_at, run.error = "cancelled", t.now(), STOPPED
                s.commit()
                return True
            if run.status == "cancelling":
                run.status, run.finished_at = "cancelled", t.now()
                s.commit()
                return True
            return False

    def _case(
        self,
        bot_id: str,
        spec: BotSpec,
        embedding_model: str,
        model: ChatModel,
        case: dict,
        known: set[str],
        judge: _Judge | None = None,
        version_number: int | None = None,
    ) -> dict:
        searched: list[Hit] = []

        def retrieve(question: str, k: int) -> Sequence[Hit]:
            # One search, deep enough for the metrics; the pipeline gets its own top k of it.
            searched[:] = self.search(bot_id, question, max(k, SEARCH_DEPTH))
            return searched[:k]

        out: dict = {"answer": "", "citations": [], "fallback": False, "error": None, "latency_ms": 0, "usage": (0, 0)}
        try:
            answer = answering.answer(
                spec,
                case["question"],
                case.get("history") or (),
                retrieve=retrieve,
                model=model,
                embedding_model=embedding_model,
                corrections=self._matches(bot_id, version_number, case["question"], spec),
            )
        except DomainError as err:
            out["error"] = f"{err.code}: {err.detail or err.message}"
        else:
            out.update(
                answer=answer.text,
                citations=answer.citations,
                fallback=answer.fallback,
                latency_ms=answer.latency_ms,
                usage=(answer.usage.prompt_tokens, answer.usage.completion_tokens),
            )
        if not searched and not out["error"]:
            # A corrected answer is given without searching: the retrieval metrics still
            # measure what the documents would have given.
            searched[:] = self.search(bot_id, case["question"], SEARCH_DEPTH)
        hits = [hit_dict(h) for h in searched]
        expected = case.get("expected_sources") or []
        out["hits"] = hits
        out["rank"] = expected_rank(expected, hits)
        out["checks"] = (
            {}
            if out["error"]
            else check_case(
                case,
                hits=hits,
                k=spec.retrieval.k,
                answer=out["answer"],
                citations=out["citations"],
                fallback=out["fallback"],
                missing_sources=[e for e in expected if not _known(e, known)],
            )
        )
        if judge is not None and not out["error"]:
            out["checks"].update(self._graded(judge, case, out, [h.text for h in searched[: spec.retrieval.k]]))
        return out

    def _matches(self, bot_id: str, version_number: int | None, question: str, spec: BotSpec) -> list:
        if self.corrections is None:
            return []
        return self.corrections.matches(bot_id, version_number, question, spec.corrections)

    def _graded(self, judge: _Judge, case: dict, out: dict, passages: list[str]) -> dict:
        if judge.model is None:
            failed = {"passed": None, "reason": judge.error, "score": None, "status": "errored", "counts": False}
            names = (["judge_groundedness"] if not out["fallback"] else []) + (
                ["judge_agreement"] if case.get("reference_answer") else []
            )
            return {n: dict(failed) for n in names}
        return judge_case(
            judge.model,
            judge.settings,
            question=case["question"],
            answer=out["answer"],
            passages=passages,
            fallback=out["fallback"],
            reference=case.get("reference_answer"),
        )

    def _record(self, run_id: str, set_name: str, ordinal: int, case: dict, r: dict) -> None:
        status = (
            "errored"
            if r["error"]
            else ("passed" if all(c["passed"] for c in deciding(r["checks"]).values()) else "failed")
        )
        with self.sessions() as s:
            s.add(
                t.EvalCaseResult(
                    run_id=run_id,
                    set_name=set_name,
                    ordinal=ordinal,
                    question=case["question"],
                    status=status,
                    must_pass=bool(case.get("must_pass")),
                    checks=r["checks"],
                    retrieved=r["hits"],
                    expected_rank=r["rank"],
                    answer=r["answer"],
                    citations=r["citations"],
                    fallback=r["fallback"],
                    error=r["error"],
                    latency_ms=r["latency_ms"],
                    prompt_tokens=r["usage"][0],
                    completion_tokens=r["usage"][1],
                )
            )
            run = s.get(t.EvalRun, run_id)
            run.done += 1
            setattr(run, status, getattr(run, status) + 1)
            s.commit()

    def _finish(self, run_id: str, judge: _Judge | None = None) -> None:
        with self.sessions() as s:
            run = s.get(t.EvalRun, run_id)
            bot = s.get(t.Bot, run.bot_id)
            spec = _spec(s, bot, run)
            rows = store.scores(s, run_id)
            run.metrics = aggregates(rows, spec.retrieval.k)
            if judge is not None:
                run.metrics["judge"] = judge_aggregate([r.checks for r in rows], judge.model_name, judge.settings)
                run.metrics["judge"]["price_per_million"] = judge_price(spec, judge.provider, judge.model_name)
            if run.status == "cancelling":
                run.status = "cancelled"
            else:
                run.status = "done"
            run.finished_at = t.now()
            s.commit()


def _spec(session: Session, bot: t.Bot, run: t.EvalRun) -> BotSpec:
    """The spec a run measures: its version's, changed by its variant's overrides if any."""
    spec = resolve(session, bot, DRAFT if run.version_number is None else run.version_number).spec
    return with_overrides(spec, store.run_overrides(session, run.id))


def _known(expected: str, known: set[str]) -> bool:
    """The bot still has the expected document (any page: `known` holds document names)."""
    e = Expected.parse(expected)
    return any(e.same_document(source) for source in known)


def aggregates(rows: Sequence[t.EvalCaseResult], k: int) -> dict:
    measured = [r for r in rows if r.status != "errored"]
    with_sources = [r for r in measured if "retrieval" in r.checks]
    cited = [r for r in measured if "cited" in r.checks]
    refused = [r for r in measured if r.fallback]
    must_refuse = [r for r in measured if _must_refuse(r)]
    latencies = [r.latency_ms for r in measured]
    passed = sum(1 for r in measured if r.status == "passed")
    return {
        "pass_rate": passed / len(measured) if measured else None,
        "retrieval": retrieval_metrics([r.expected_rank for r in with_sources], k),
        "citation_accuracy": sum(1 for r in cited if r.checks["cited"]["passed"]) / len(cited) if cited else None,
        "refusal_precision": sum(1 for r in refused if _must_refuse(r)) / len(refused) if refused else None,
        "refusal_recall": sum(1 for r in must_refuse if r.fallback) / len(must_refuse) if must_refuse else None,
        "latency_ms": {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)},
        "tokens": run_tokens(rows),
        "judge": NOT_USED,
    }


def run_tokens(rows: Sequence[t.EvalCaseResult]) -> dict:
    """What the run spent: "prompt" and "completion" count the bot's answers and the judge's
    grades together; "answers" and "judge" split them, as they are priced apart."""
    answers = {"prompt": sum(r.prompt_tokens for r in rows), "completion": sum(r.completion_tokens for r in rows)}
    judge = judge_tokens([r.checks for r in rows])
    return {
        "prompt": answers["prompt"] + judge["prompt"],
        "completion": answers["completion"] + judge["completion"],
        "answers": answers,
        "judge": judge,
    }


def judge_price(spec: BotSpec, provider: str, model: str) -> list[float] | None:
    """The judge's price per million tokens [prompt, completion]: the bot's own evaluation
    prices when the judge is the bot's model, else the list price (bots/core/prices.py);
    None when unknown (the run's estimated cost is then unknown too, not understated)."""
    ev = spec.evaluation
    same_model = (provider, model) == (spec.model.provider, spec.model.default_model())
    if same_model and ev.prompt_price_per_million is not None and ev.completion_price_per_million is not None:
        return [ev.prompt_price_per_million, ev.completion_price_per_million]
    listed = prices.price_of(provider, model)
    return list(listed) if listed else None


def _must_refuse(r: t.EvalCaseResult) -> bool:
    """Whether the case asked for a refusal, read back from its refusal verdict."""
    refusal = r.checks.get("refusal") or {}
    return refusal.get("reason") in ("refused as expected", "answered instead of the fallback")


def compare(a: Sequence[t.EvalCaseResult], b: Sequence[t.EvalCaseResult]) -> dict:
    """Case by case, matched on (set, question): regressions (passed → failed) first, then
    fixes (failed → passed), then the rest."""
    before = {(r.set_name, r.question): r for r in a}
    out: dict[str, list] = {"regressions": [], "fixes": [], "unchanged": []}
    for r in b:
        old = before.get((r.set_name, r.question))
        if old is None:
            continue
        item: dict = {"set": r.set_name, "question": r.question, "before": old.status, "after": r.status}
        if old.status == "passed" and r.status == "failed":
            item["reasons"] = {n: c["reason"] for n, c in deciding(r.checks).items() if not c["passed"]}
            out["regressions"].append(item)
        elif old.status == "failed" and r.status == "passed":
            out["fixes"].append(item)
        else:
            out["unchanged"].append(item)
    return out


def recover_runs(sessions: sessionmaker) -> int:
    """Runs left unfinished by a previous server process (their thread died with it) are
    marked failed, so nobody waits on them forever. Call once, before starting any run: with
    several server processes, once in the parent before the workers start (bots.serve), or a
    worker starting late would fail the runs its siblings had just begun."""
    with sessions() as s:
        stale = s.query(t.EvalRun).filter(t.EvalRun.status.in_(("queued", "running", "cancelling"))).all()
        for run in stale:
            run.status, run.finished_at = "failed", t.now()
            run.error = STOPPED
        s.commit()
        return len(stale)
