"""The LLM judge of an evaluation run: a second model grades each answer for groundedness (is
it supported by the retrieved passages?) and, when the case has a `reference_answer`,
agreement with it. Each grade is a score from 0 to 1 with the judge's one-line reason.

A judge's grade is a measurement, never the run's undoing: a reply that is not the JSON we
asked for makes that grade "unusable" (the case is neither failed nor errored for it), and a
provider error (timeout, 5xx) makes it "errored". Whether a low score fails the case is the
bot's setting (`EvaluationSettings.judge_fails_case`), off by default.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from bots.core.spec import EvaluationSettings
from bots.llm.errors import ProviderError
from bots.llm.protocol import ChatModel

JUDGE_CHECKS = ("judge_groundedness", "judge_agreement")
MAX_PASSAGE_CHARS = 1500  # per passage: the judge needs the gist, not a whole chapter
MAX_PASSAGES = 5
MAX_REASON_CHARS = 300

_RULES = (
    'Reply with one JSON object and nothing else: {"score": S, "reason": "R"} where S is an '
    "integer from 1 (not at all) to 5 (fully) and R is one short sentence saying why."
)
GROUNDEDNESS = (
    "You grade a customer-service bot. Say how well every claim of the ANSWER is supported by "
    "the PASSAGES it was given (5: every claim is in the passages; 1: it contradicts them or "
    "invents facts). " + _RULES
)
AGREEMENT = (
    "You grade a customer-service bot. Say how well the ANSWER agrees with the REFERENCE "
    "answer written by the support team (5: same facts, nothing contradicting; 1: different or "
    "contradicting facts). Wording does not matter. " + _RULES
)


def groundedness_messages(question: str, answer: str, passages: Sequence[str]) -> list[dict[str, str]]:
    shown = "\n\n".join(f"[{i}] {p[:MAX_PASSAGE_CHARS]}" for i, p in enumerate(passages[:MAX_PASSAGES], 1))
    user = f"QUESTION: {question}\n\nPASSAGES:\n{shown or '(none)'}\n\nANSWER: {answer}"
    return [{"role": "system", "content": GROUNDEDNESS}, {"role": "user", "content": user}]


def agreement_messages(question: str, answer: str, reference: str) -> list[dict[str, str]]:
    user = f"QUESTION: {question}\n\nREFERENCE: {reference}\n\nANSWER: {answer}"
    return [{"role": "system", "content": AGREEMENT}, {"role": "user", "content": user}]


class Unusable(ValueError):
    """The judge replied, but not with a grade we can read."""


def parse(reply: str) -> tuple[float, str]:
    """(score 0–1, one-line reason) from the judge's reply. The score is asked for on 1–5 and
    normalised; a judge that answers on 0–1 instead (a fraction below 1) is taken as it is."""
    match = re.search(r"\{.*\}", reply, re.DOTALL)  # tolerate code fences and chatter around it
    if not match:
        raise Unusable(f"no JSON object in the reply: {_shorten(reply)!r}")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        raise Unusable(f"the reply is not valid JSON: {_shorten(reply)!r}") from None
    if not isinstance(data, dict):
        raise Unusable("the reply is not a JSON object")
    score, reason = data.get("score"), data.get("reason")
    if isinstance(score, bool) or not isinstance(score, int | float):
        raise Unusable(f"no numeric score: {_shorten(reply)!r}")
    if 1 <= score <= 5:
        normalised = (float(score) - 1) / 4
    elif 0 <= score < 1:
        normalised = float(score)
    else:
        raise Unusable(f"score {score} is outside 1-5")
    if not isinstance(reason, str) or not reason.strip():
        raise Unusable("no reason given")
    return round(normalised, 4), _shorten(reason.strip().splitlines()[0], MAX_REASON_CHARS)


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grade(model: ChatModel, messages: list[dict[str, str]], settings: EvaluationSettings) -> dict[str, Any]:
    """One judge check: {"passed", "reason", "score", "status", "counts"}. `passed` is None
    when nothing was graded; `counts` says whether the verdict decides the case."""
    try:
        reply = model.complete(messages, max_tokens=120, temperature=0.0)
    except ProviderError as err:
        return _check(None, f"judge errored: {err.code}: {err.detail or err.message}", "errored", settings)
    # What the grade cost, counted into the run's tokens and estimated cost (an unusable
    # reply was paid for too; an errored call reports nothing).
    tokens = {"prompt": reply.usage.prompt_tokens, "completion": reply.usage.completion_tokens}
    try:
        score, reason = parse(reply.text)
    except Unusable as err:
        return _check(None, f"judge unusable: {err}", "unusable", settings) | {"tokens": tokens}
    return _check(score, reason, "scored", settings) | {"tokens": tokens}


def _check(score: float | None, reason: str, status: str, settings: EvaluationSettings) -> dict[str, Any]:
    passed = None if score is None else score >= settings.judge_min_score
    return {
        "passed": passed,
        "reason": reason,
        "score": score,
        "status": status,
        # Only a score decides, and only when the bot says so: unusable or errored grades never fail a case.
        "counts": settings.judge_fails_case and score is not None,
    }


def judge_case(
    model: ChatModel,
    settings: EvaluationSettings,
    *,
    question: str,
    answer: str,
    passages: Sequence[str],
    fallback: bool,
    reference: str | None,
) -> dict[str, dict[str, Any]]:
    """The judge's checks for one answered case. A fallback answer claims nothing, so its
    groundedness is not graded; agreement is, when there is a reference."""
    out: dict[str, dict[str, Any]] = {}
    if not fallback:
        out["judge_groundedness"] = grade(model, groundedness_messages(question, answer, passages), settings)
    if reference:
        out["judge_agreement"] = grade(model, agreement_messages(question, answer, reference), settings)
    return out


def is_judge(name: str) -> bool:
    return name in JUDGE_CHECKS


def deciding(checks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The checks that decide whether a case passes: every deterministic one, and a judge's
    only when it counts."""
    return {n: c for n, c in checks.items() if not is_judge(n) or c.get("counts")}


def tokens_used(checks: Sequence[dict[str, dict[str, Any]]]) -> dict[str, int]:
    """The judge's tokens over a run's cases: {"prompt", "completion"}."""
    spent = [(c[n].get("tokens") or {}) for c in checks for n in JUDGE_CHECKS if n in c]
    return {
        "prompt": sum(int(t.get("prompt") or 0) for t in spent),
        "completion": sum(int(t.get("completion") or 0) for t in spent),
    }


def aggregate(checks: Sequence[dict[str, dict[str, Any]]], model_name: str, settings: EvaluationSettings) -> dict:
    """The run's judge scores: the mean of each grade over the cases it scored, and how many
    grades were unusable or errored."""
    out: dict[str, Any] = {
        "used": True,
        "model": model_name,
        "min_score": settings.judge_min_score,
        "fails_case": settings.judge_fails_case,
    }
    for name in JUDGE_CHECKS:
        grades = [c[name] for c in checks if name in c]
        scores = [g["score"] for g in grades if g.get("score") is not None]
        out[name.removeprefix("judge_")] = sum(scores) / len(scores) if scores else None
        out[name.removeprefix("judge_") + "_scored"] = len(scores)
    every = [c[n] for c in checks for n in JUDGE_CHECKS if n in c]
    out["unusable"] = sum(1 for g in every if g.get("status") == "unusable")
    out["errored"] = sum(1 for g in every if g.get("status") == "errored")
    return out
