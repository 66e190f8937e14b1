"""Answer a customer's question from a bot's documents.

retrieve → relevance gate → prompt → model → guarded text + citations. When no passage is
relevant enough, the bot's fallback (and hand-off offer) is the answer and the model is not
called at all: a small model asked about something its documents don't cover makes things up.

`answer()` returns a whole `Answer` or raises `AnswerFailed`; `answer_stream()` yields
`Start`, `Delta`s, `Citations`, then `Done` — or `Failed` (then nothing more).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bots.core.answer_text import (
    StreamGuard,
    citation_dict,
    cited_passages,
    customer_text,
    cut_at_delimiter,
    leaks,
    passage_links,
)
from bots.core.language import detect_language
from bots.core.phrases import fallback_message, handoff_offer, phrase
from bots.core.prompting import Prompt, build_prompt
from bots.core.spec import BotSpec
from bots.llm.errors import ProviderError
from bots.llm.protocol import ChatModel, TextDelta, Usage
from knowledge.documents import Hit

log = logging.getLogger(__name__)

Retrieve = Callable[[str, int], Sequence[Hit]]
History = Sequence[Mapping[str, str]]

_SMALL_TALK = re.compile(
    r"^\W*(hi|hello|hey|good (morning|afternoon|evening)|thanks?( you)?( so much| a lot)?|"
    r"thx|bye|goodbye|see you|ok(ay)?|cool|great|bonjour|bonsoir|salut|coucou|merci"
    r"( beaucoup)?|au revoir|bonne (journée|soirée)|d'accord)\W*$",
    re.IGNORECASE,
)


@dataclass
class Debug:
    """What the builder's playground shows: why the bot answered as it did."""

    # "grounded" | "no_relevant_passage" | "small_talk" | "model_fallback" (the model said
    # it does not know) | "withheld" (the answer leaked instructions and was replaced)
    reason: str
    language: str | None
    hits: list[Hit]
    passages: list[Hit]
    messages: list[dict[str, str]] = field(default_factory=list)
    prompt_tokens_estimate: int = 0
    # The max_tokens limit the model ran into, if it did: the answer ends at a whole sentence.
    cut_at_tokens: int | None = None


@dataclass
class Answer:
    text: str
    citations: list[dict]
    fallback: bool
    handoff: bool
    usage: Usage
    latency_ms: int
    debug: Debug


@dataclass
class Start:
    pass


@dataclass
class Delta:
    text: str


@dataclass
class Citations:
    citations: list[dict]


@dataclass
class Done:
    usage: Usage
    fallback: bool
    handoff: bool
    latency_ms: int
    text: str  # the whole answer as the customer saw it, to store
    debug: Debug


@dataclass
class Failed:
    code: str
    message: str  # for the customer, in their language
    partial_text: str  # what the customer already saw; store it marked partial
    retry_after: float | None
    http_status: int
    latency_ms: int


Event = Start | Delta | Citations | Done | Failed


class AnswerFailed(Exception):
    """`answer()` could not answer. `message` is for the customer; the operator's version
    was logged. `__cause__` is the underlying error."""

    def __init__(self, failed: Failed):
        super().__init__(failed.message)
        self.failed = failed
        self.code = failed.code
        self.http_status = failed.http_status
        self.retry_after = failed.retry_after


def answer_language(spec: BotSpec, question: str, history: History = ()) -> str:
    if spec.language.mode == "fixed":
        return spec.language.language
    for text in [question, *(m.get("content") or "" for m in reversed(history) if m.get("role") == "user")]:
        if detected := detect_language(text):
            return detected
    return spec.language.language


def relevant_passages(hits: Sequence[Hit], min_relevance: float) -> list[Hit]:
    """Hits to ground an answer on, or [] when the best dense similarity is below the
    threshold. Hits found only lexically (no dense score) ride along once the gate is open:
    they are often exact matches on product names or codes."""
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    if not dense or max(dense) < min_relevance:
        return []
    return [h for h in hits if h.dense_score is None or h.dense_score >= min_relevance]


def is_small_talk(question: str) -> bool:
    return bool(_SMALL_TALK.match(question.strip()))


@dataclass
class _Plan:
    language: str
    hits: list[Hit]
    fallback_text: str  # the bot's "I don't know" sentence
    prompt: Prompt | None  # None: answer with the fallback, no model call
    reason: str
    canary: str

    def debug(self, reason: str | None = None, *, cut_at_tokens: int | None = None) -> Debug:
        prompt = self.prompt
        return Debug(
            reason=reason or self.reason,
            language=self.language,
            hits=self.hits,
            passages=prompt.passages if prompt else [],
            messages=prompt.messages if prompt else [],
            prompt_tokens_estimate=prompt.prompt_tokens if prompt else 0,
            cut_at_tokens=cut_at_tokens,
        )


def _plan(spec: BotSpec, question: str, history: History, hits: list[Hit], embedding_model: str | None) -> _Plan:
    language = answer_language(spec, question, history)
    fallback_text = fallback_message(spec, language)
    passages = relevant_passages(hits, spec.retrieval.threshold_for(embedding_model))
    canary = secrets.token_hex(6)
    if passages:
        reason = "grounded"
    elif spec.fallback.allow_small_talk and is_small_talk(question):
        reason = "small_talk"
    else:
        return _Plan(language, hits, fallback_text, None, "no_relevant_passage", canary)
    prompt = build_prompt(
        spec, question, history, passages, fallback_text=fallback_text, language=language, canary=canary
    )
    return _Plan(language, hits, fallback_text, prompt, reason, canary)


def _normalized(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _said_fallback(text: str, fallback_text: str) -> bool:
    """The model gave the "I don't know" sentence (maybe with chatter around it), or nothing."""
    return not text.strip() or _normalized(fallback_text) in _normalized(text)


def _fallback_answer(spec: BotSpec, plan: _Plan) -> str:
    return " ".join(t for t in (plan.fallback_text, handoff_offer(spec, plan.language)) if t)


def _model_failed(error: ProviderError, language: str | None, partial: str, started: float) -> Failed:
    log.error("answer failed: %s", error.operator_message)
    return Failed(
        code=error.code,
        message=phrase(error.code, language),
        partial_text=partial,
        retry_after=error.retry_after,
        http_status=error.http_status,
        latency_ms=_ms(started),
    )


def _retrieve(spec: BotSpec, question: str, retrieve: Retrieve, started: float) -> list[Hit] | Failed:
    try:
        return list(retrieve(question, spec.retrieval.k))
    except Exception:  # the knowledge store is a boundary: whatever broke, the customer gets a sentence
        log.exception("answer failed: retrieval raised; check the knowledge index for this bot")
        language = spec.language.language if spec.language.mode == "fixed" else detect_language(question)
        return Failed(
            code="retrieval_failed",
            message=phrase("retrieval_failed", language),
            partial_text="",
            retry_after=None,
            http_status=503,
            latency_ms=_ms(started),
        )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def answer_stream(
    spec: BotSpec,
    question: str,
    history: History = (),
    *,
    retrieve: Retrieve,
    model: ChatModel,
    embedding_model: str | None = None,
) -> Iterator[Event]:
    """`embedding_model` (the bot's) picks the default relevance threshold."""
    started = time.monotonic()
    yield Start()
    hits = _retrieve(spec, question, retrieve, started)
    if isinstance(hits, Failed):
        yield hits
        return
    plan = _plan(spec, question, history, hits, embedding_model)
    language = plan.language

    if plan.prompt is None:
        text = _fallback_answer(spec, plan)
        yield Delta(text)
        yield Citations([])
        yield Done(
            Usage(),
            fallback=True,
            handoff=spec.fallback.handoff.enabled,
            latency_ms=_ms(started),
            text=text,
            debug=plan.debug(),
        )
        return

    guard = StreamGuard(
        canary=plan.canary, protected=plan.prompt.protected, known_links=passage_links(plan.prompt.passages)
    )
    usage, finish_reason = Usage(), None
    events = model.stream(plan.prompt.messages, max_tokens=spec.model.max_tokens, temperature=spec.model.temperature)
    try:
        for event in events:
            if isinstance(event, TextDelta):
                if released := guard.feed(event.text):
                    yield Delta(released)
                if guard.leaked or guard.stopped:
                    break  # stop paying for tokens we will not show
            else:
                usage, finish_reason = event.usage, event.finish_reason
    except ProviderError as error:
        rest = guard.finish()
        if rest:
            yield Delta(rest)
        yield _model_failed(error, language, guard.released, started)
        return
    finally:
        events.close()

    if guard.leaked:
        log.warning("answer withheld: the model output contained system-prompt text or its canary")
        yield Failed(
            code="answer_withheld",
            message=phrase("withheld", language),
            partial_text="",
            retry_after=None,
            http_status=502,
            latency_ms=_ms(started),
        )
        return
    cut_by_limit = finish_reason == "length"
    if rest := guard.finish(cut_by_limit=cut_by_limit):
        yield Delta(rest)
    text = guard.released
    if _said_fallback(text, plan.fallback_text):
        offer = handoff_offer(spec, language)
        if not text.strip():
            offer = _fallback_answer(spec, plan)
        if offer:
            yield Delta((" " if text else "") + offer)
            text = f"{text} {offer}".strip()
        yield Citations([])
        yield Done(
            usage,
            fallback=True,
            handoff=spec.fallback.handoff.enabled,
            latency_ms=_ms(started),
            text=text,
            debug=plan.debug("model_fallback"),
        )
        return
    yield Citations([citation_dict(h) for h in cited_passages(guard.raw, plan.prompt.passages)])
    yield Done(
        usage,
        fallback=False,
        handoff=False,
        latency_ms=_ms(started),
        text=text,
        debug=plan.debug(cut_at_tokens=spec.model.max_tokens if cut_by_limit else None),
    )


def answer(
    spec: BotSpec,
    question: str,
    history: History = (),
    *,
    retrieve: Retrieve,
    model: ChatModel,
    embedding_model: str | None = None,
) -> Answer:
    """The whole answer at once. Uses `complete()`, so transient provider errors are retried
    for the whole answer (nothing was shown to the customer yet)."""
    started = time.monotonic()
    hits = _retrieve(spec, question, retrieve, started)
    if isinstance(hits, Failed):
        raise AnswerFailed(hits)
    plan = _plan(spec, question, history, hits, embedding_model)
    if plan.prompt is None:
        return Answer(
            _fallback_answer(spec, plan), [], True, spec.fallback.handoff.enabled, Usage(), _ms(started), plan.debug()
        )
    try:
        completion = model.complete(
            plan.prompt.messages, max_tokens=spec.model.max_tokens, temperature=spec.model.temperature
        )
    except ProviderError as error:
        raise AnswerFailed(_model_failed(error, plan.language, "", started)) from error
    language = plan.language

    raw, _ = cut_at_delimiter(completion.text)
    if leaks(raw, canary=plan.canary, protected=plan.prompt.protected):
        log.warning("answer withheld: the model output contained system-prompt text or its canary")
        return Answer(
            phrase("withheld", language), [], False, False, completion.usage, _ms(started), plan.debug("withheld")
        )
    cut_by_limit = completion.finish_reason == "length"
    text = customer_text(raw, passage_links(plan.prompt.passages), cut_by_limit=cut_by_limit)
    if _said_fallback(text, plan.fallback_text):
        return Answer(
            _fallback_answer(spec, plan),
            [],
            True,
            spec.fallback.handoff.enabled,
            completion.usage,
            _ms(started),
            plan.debug("model_fallback"),
        )
    citations = [citation_dict(h) for h in cited_passages(raw, plan.prompt.passages)]
    return Answer(
        text,
        citations,
        False,
        False,
        completion.usage,
        _ms(started),
        plan.debug(cut_at_tokens=spec.model.max_tokens if cut_by_limit else None),
    )
