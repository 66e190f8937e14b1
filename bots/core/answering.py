"""Answer a customer's question from a bot's documents: one pipeline.

retrieve → relevance gate → prompt → streamed model output → guarded text + citations.
`answer_stream()` is the pipeline; it yields `Start`, `Delta`s, `Citations`, then `Done` — or
`Failed` (then nothing more). `answer()` is that stream collected: JSON clients, SSE clients,
the widget, the OpenAI-compatible endpoint and the playground get the same answer for the same
model output, because every decision below is made once, here. `Done.text` is always the
answer: what is stored and what clients show.

What the customer gets, case by case:
Two styles (`spec.answer.effective_style`): "extractive" quotes the passages and calls no
model at all (the default with the bundled 135M model, which contradicts its passages);
"generative" lets the model write. `debug.style` says which wrote the answer.

- extractive answer: the passages' most relevant sentences, items or rows, quoted under their
  heading (`extractive.compose`), streamed sentence by sentence; cites the passages quoted;
  reason "grounded", usage zero. Nothing quotable within `answer.max_chars`: the fallback +
  hand-off offer, marked fallback, reason "no_quotable_passage".
- a corrected answer matches (`corrections`: scored by the caller, decided in
  `bots.core.corrections`): its approved text, word for word, citing its sources; no
  retrieval, no model; reason "corrected", style "corrected". Close but below the bot's
  threshold (or in another language than the answer's): it is the top passage instead.
- small talk with an extractive bot: the persona's greeting, as written by the support team
  (no model writes a word; a greeting fits "hello" and is harmless after "thanks").
- grounded answer: the model's text, cleaned (markers stripped, invented links dropped,
  bullets as Markdown), with the passages it cites. The deltas joined equal `Done.text`,
  except when cleaning changes text already streamed (text glued to a marker or an address;
  see `StreamGuard.finish`), which `Done.text` then corrects.
- cut by the token limit: the answer ends at its last whole sentence; near the limit only
  whole sentences are streamed, so the deltas joined still equal `Done.text` (a sentence
  already shown in part is kept and ends with "…"). `debug.cut_at_tokens` says so.
- no passage relevant enough (the gate), and no small talk allowed: the bot's fallback
  sentence + hand-off offer; the model is not called (a small model asked about something its
  documents don't cover makes things up). Marked fallback; reason "no_relevant_passage".
- small talk (when the bot allows it): the model answers without passages; reason
  "small_talk", not a fallback.
- the guard (`answer.guard`, generative answers): the model's text is released a whole
  sentence at a time, once the numbers, amounts, dates, durations, contacts, links and quoted
  names of the answer so far are found in the passages or the question (`grounding`), so an
  unsupported claim is never streamed. "replace": at the first unsupported claim the model
  is no longer read and the answer becomes the extractive one over the same passages (the
  sentences already shown are superseded: `Done.text` is the answer); `debug.guard` is
  {"action": "replaced", "claims": [{"kind", "text"}]}, and a warning is logged. "flag":
  the text streams as usual and is kept; the claims are recorded ("action": "flagged").
  "off": no check. `answer.negation_check` also counts sentences that negate the passage
  sentence they repeat (kind "negation").
- the model says the fallback sentence, alone or with chatter around it, or says nothing:
  the canned fallback + hand-off offer (the chatter is unverified). Marked fallback, reason
  "model_fallback", no citations.
- the output leaks the system prompt or its canary: not an error — the fallback + hand-off
  offer, marked fallback, reason "withheld". Nothing of the leaked text is stored or in
  `Done.text` (the stream stops reading the model at once).
- retrieval or the provider fails before any text: `Failed` with the error (a `DomainError`:
  its code picks the HTTP status; its message is in the customer's language). `answer()`
  raises it.
- the provider fails mid-stream: the text shown so far, then `Failed`; the answer is stored
  partial. `answer()` raises the error too: a JSON client gets the same code.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from bots.core import corrections as corrected
from bots.core import extractive
from bots.core.answer_text import StreamGuard, citation_dict, cited_passages, passage_links, settled_sentences
from bots.core.errors import DomainError, RetrievalFailed
from bots.core.grounding import Claim, contradicted_sentences, unsupported_claims
from bots.core.language import detect_language
from bots.core.phrases import fallback_message, handoff_offer
from bots.core.prompting import Prompt, build_prompt
from bots.core.spec import BotSpec
from bots.core.tokens import estimate_message_tokens, estimate_tokens
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
    # it does not know, or nothing) | "withheld" (the answer leaked instructions: replaced)
    # | "no_quotable_passage" (an extractive answer found nothing to quote within max_chars)
    # | "corrected" (a corrected answer, word for word)
    reason: str
    language: str | None
    hits: list[Hit]
    passages: list[Hit]
    messages: list[dict[str, str]] = field(default_factory=list)
    prompt_tokens_estimate: int = 0
    # The max_tokens limit the model ran into, if it did: the answer ends at a whole sentence.
    cut_at_tokens: int | None = None
    # Who wrote the answer: "extractive" (quoted, no model) or "generative" (the model).
    style: str = "generative"
    # What the guard did, when it found claims: {"action": "replaced" | "flagged",
    # "claims": [{"kind": ..., "text": ...}]}; None when it found nothing or is off.
    guard: dict | None = None
    # The bundled 135M model wrote this answer: demo quality, which the builder says.
    demo_model: bool = False
    # The corrected answer given word for word: {"id", "score"}; None otherwise.
    corrected: dict | None = None
    # A corrected answer close enough but not given word for word because the questions name
    # different terms ("why": "corrected answer not used: the question names X, the approved
    # one names Y"; "sibling": the look-alike corrected answer that made the check strict, or
    # None); it is among the passages instead. None otherwise.
    corrected_refused: dict | None = None


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
    error: DomainError  # its message is in the customer's language; the operator's was logged
    partial_text: str  # what the customer already saw; store it marked partial
    latency_ms: int

    @property
    def code(self) -> str:
        return self.error.code


Event = Start | Delta | Citations | Done | Failed


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
    prompt: Prompt | None  # None: no model call (the fallback, or an extractive answer)
    reason: str
    canary: str
    style: str  # "extractive" | "generative"
    passages: list[Hit] = field(default_factory=list)  # what the gate let through
    bundled: bool = False  # the bot's model is the bundled demo one
    corrected_refused: dict | None = None  # see Debug.corrected_refused

    def debug(
        self,
        reason: str | None = None,
        *,
        cut_at_tokens: int | None = None,
        passages: list[Hit] | None = None,
        guard: dict | None = None,
        by_model: bool = False,
    ) -> Debug:
        prompt = self.prompt
        return Debug(
            reason=reason or self.reason,
            language=self.language,
            hits=self.hits,
            passages=passages if passages is not None else (prompt.passages if prompt else []),
            messages=prompt.messages if prompt else [],
            prompt_tokens_estimate=prompt.prompt_tokens if prompt else 0,
            cut_at_tokens=cut_at_tokens,
            style=self.style,
            guard=guard,
            demo_model=by_model and self.bundled,
            corrected_refused=self.corrected_refused,
        )


def _plan(spec: BotSpec, question: str, history: History, hits: list[Hit], embedding_model: str | None) -> _Plan:
    language = answer_language(spec, question, history)
    fallback_text = fallback_message(spec, language)
    passages = relevant_passages(hits, spec.retrieval.threshold_for(embedding_model))
    canary = secrets.token_hex(6)
    style = spec.answer.effective_style(spec.model)
    bundled = spec.model.provider == "local" and not spec.model.base_url
    if passages:
        reason = "grounded"
    elif spec.fallback.allow_small_talk and is_small_talk(question):
        reason = "small_talk"
    else:
        return _Plan(language, hits, fallback_text, None, "no_relevant_passage", canary, style, bundled=bundled)
    if style == "extractive":
        return _Plan(language, hits, fallback_text, None, reason, canary, style, passages, bundled)
    prompt = build_prompt(
        spec, question, history, passages, fallback_text=fallback_text, language=language, canary=canary
    )
    return _Plan(language, hits, fallback_text, prompt, reason, canary, style, passages, bundled)


def _normalized(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _said_fallback(text: str, fallback_text: str) -> bool:
    """The model gave the "I don't know" sentence (maybe with chatter around it), or nothing."""
    return not text.strip() or _normalized(fallback_text) in _normalized(text)


def _fallback_answer(spec: BotSpec, plan: _Plan) -> str:
    return " ".join(t for t in (plan.fallback_text, handoff_offer(spec, plan.language)) if t)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _retrieve(spec: BotSpec, question: str, retrieve: Retrieve) -> list[Hit]:
    try:
        return list(retrieve(question, spec.retrieval.k))
    except DomainError as err:  # already worded (e.g. the Chroma server is unreachable: 503)
        err.language = err.language or (
            spec.language.language if spec.language.mode == "fixed" else detect_language(question)
        )
        raise
    except Exception as err:  # the knowledge store is a boundary: whatever broke, the customer gets a sentence
        log.exception("answer failed: retrieval raised; check the knowledge index for this bot")
        language = spec.language.language if spec.language.mode == "fixed" else detect_language(question)
        raise RetrievalFailed(f"{type(err).__name__}: {err}", language=language) from err


# Where an extractive answer is cut into deltas: after each line and each sentence end.
_DELTA_END = re.compile(r"(?<=\n)|(?<=[.!?…] )")


def _pieces(text: str) -> list[str]:
    return [piece for piece in _DELTA_END.split(text) if piece]


def _claims_record(action: str, claims: Sequence[Claim]) -> dict:
    return {"action": action, "claims": [{"kind": c.kind, "text": c.text} for c in claims]}


class ClaimCheck:
    """The guard on generated text: releases the text `StreamGuard` lets through only up to
    a settled sentence end, and only once every claim of the answer so far is found in the
    passages or the question. The whole text so far is checked each time, not the new
    sentence alone: a claim written across a sentence boundary ("e.g. 5 days") is read whole.
    `claims` holds the unsupported ones once found; nothing more is released then."""

    def __init__(self, passages: Sequence[Hit], question: str, *, language: str, negation: bool):
        self.passages = list(passages)
        self.question = question
        self.language = language
        self.negation = negation
        self.released = ""
        self.claims: list[Claim] = []

    def unsupported(self, text: str) -> list[Claim]:
        claims = unsupported_claims(text, self.passages, self.question)
        if self.negation:
            claims += [
                Claim("negation", c.sentence) for c in contradicted_sentences(text, self.passages, self.language)
            ]
        return claims

    def feed(self, shown: str) -> str:
        """`shown`: all the text StreamGuard released so far. Returns what may now stream."""
        if self.claims:
            return ""
        settled = settled_sentences(shown)
        if len(settled) <= len(self.released) or not settled.startswith(self.released):
            return ""
        if claims := self.unsupported(settled):
            self.claims = claims
            return ""
        return self._advance(settled)

    def finish(self, text: str) -> str:
        """The rest of the final text, checked ("" and `claims` set if it fails)."""
        if not self.claims and (claims := self.unsupported(text)):
            self.claims = claims
        if self.claims:
            return ""
        if text.startswith(self.released):
            return self._advance(text)
        self.released = text  # StreamGuard corrected released text: Done.text carries it
        return ""

    def _advance(self, text: str) -> str:
        new = text[len(self.released) :]
        self.released = text
        return new


def answer_stream(
    spec: BotSpec,
    question: str,
    history: History = (),
    *,
    retrieve: Retrieve,
    model: ChatModel | None,
    embedding_model: str | None = None,
    corrections: Sequence[corrected.Match] = (),
) -> Iterator[Event]:
    """The answer as events (see the module docstring for what each case gives).
    `embedding_model` (the bot's) picks the default relevance threshold. `model` may be None
    for a bot whose answers are extractive: it is never called. `corrections`: the bot's
    corrected answers scored against the question (any order)."""
    started = time.monotonic()
    yield Start()
    language = answer_language(spec, question, history)
    decision = corrected.decide(
        spec, corrections, language=language, embedding_model=embedding_model, question=question
    )
    if decision.refused:
        log.info(
            "corrected answer %s at %.3f: %s",
            decision.refused["id"],
            decision.refused["score"],
            decision.refused["why"],
        )
    if decision.direct:
        yield from _corrected_answer(decision.direct, language, started)
        return
    try:
        hits = decision.passages + _retrieve(spec, question, retrieve)
    except DomainError as error:  # RetrievalFailed, or an unreachable store (SearchUnavailable)
        yield Failed(error, "", _ms(started))
        return
    plan = _plan(spec, question, history, hits, embedding_model)
    plan.corrected_refused = decision.refused

    def fallback(usage: Usage, reason: str | None, shown: str, guard: dict | None = None) -> Iterator[Event]:
        text = _fallback_answer(spec, plan)
        yield Delta((" " if shown else "") + text)
        yield Citations([])
        yield Done(usage, True, spec.fallback.handoff.enabled, _ms(started), text, plan.debug(reason, guard=guard))

    def quoted(passages: list[Hit], usage: Usage, shown: str, guard: dict | None = None) -> Iterator[Event]:
        """The extractive answer over `passages`: no model writes a word of it."""
        extract = extractive.compose(question, passages, max_chars=spec.answer.max_chars, language=plan.language)
        if not extract.text:
            yield from fallback(usage, "no_quotable_passage", shown, guard)
            return
        for i, piece in enumerate(_pieces(extract.text)):
            # After superseded model text, the quote starts a paragraph of its own.
            yield Delta(("\n\n" if shown and i == 0 else "") + piece)
        yield Citations([citation_dict(h) for h in extract.used])
        debug = plan.debug(passages=extract.used, guard=guard)
        yield Done(usage, False, False, _ms(started), extract.text, debug)

    if plan.reason == "no_relevant_passage":
        yield from fallback(Usage(), None, "")
        return
    if plan.style == "extractive":
        if plan.reason == "small_talk":
            greeting = spec.persona.greeting.strip()
            if not greeting:
                yield from fallback(Usage(), None, "")
                return
            yield Delta(greeting)
            yield Citations([])
            yield Done(Usage(), False, False, _ms(started), greeting, plan.debug())
        else:
            yield from quoted(plan.passages, Usage(), "")
        return
    if model is None or plan.prompt is None:
        raise ValueError("a generative answer needs a model")  # a caller's bug, not the customer's

    prompt = plan.prompt
    max_tokens = spec.model.max_tokens
    guard = StreamGuard(
        canary=plan.canary,
        protected=prompt.protected,
        known_links=passage_links(prompt.passages),
        token_limit=max_tokens,
    )
    mode = spec.answer.guard
    check = ClaimCheck(prompt.passages, question, language=plan.language, negation=spec.answer.negation_check)
    holding = mode == "replace"  # only "replace" holds sentences back: "flag" keeps them anyway

    def replaced(usage: Usage, shown: str) -> Iterator[Event]:
        claims = ", ".join(f"{c.kind} {c.text!r}" for c in check.claims)
        log.warning("answer replaced by quotes: the model wrote %s, which its passages do not support", claims)
        yield from quoted(prompt.passages, usage, shown, _claims_record("replaced", check.claims))

    usage, finish_reason, shown = Usage(), None, ""
    events = model.stream(prompt.messages, max_tokens=max_tokens, temperature=spec.model.temperature)
    try:
        for event in events:
            if isinstance(event, TextDelta):
                released = guard.feed(event.text)
                if released and holding:
                    released = check.feed(guard.released)
                if released:
                    shown += released
                    yield Delta(released)
                if guard.leaked or guard.stopped or check.claims:
                    break  # stop paying for tokens we will not show
            else:
                usage, finish_reason = event.usage, event.finish_reason
    except ProviderError as error:
        log.error("answer failed: %s", error.operator_message)
        error.language = plan.language
        if holding:
            guard.released = check.released  # what the customer saw: the end is cut from there
        rest = guard.finish()
        if holding:
            rest = check.finish(guard.released)  # an unchecked rest is not shown, nor stored
        if rest:
            yield Delta(rest)
        yield Failed(error, check.released if holding else guard.released, _ms(started))
        return
    finally:
        close = getattr(events, "close", None)
        if close:
            close()
    if finish_reason is None and guard.raw:
        # We stopped reading before the provider's closing chunk (a leak, a stop marker, an
        # unsupported claim): the tokens received were still paid for, so count them ourselves.
        usage = Usage(estimate_message_tokens(prompt.messages), estimate_tokens(guard.raw), estimated=True)

    if guard.leaked:
        log.warning("answer withheld: the model output contained system-prompt text or its canary")
        yield from fallback(usage, "withheld", shown)
        return
    if check.claims:
        yield from replaced(usage, shown)
        return
    cut_by_limit = finish_reason == "length"
    if holding:
        # The customer saw only checked sentences: a cut ends at the last whole sentence, not
        # after text the guard held back ("…" is for a sentence already shown in part).
        guard.released = check.released
    rest = guard.finish(cut_by_limit=cut_by_limit)
    text = guard.released
    if _said_fallback(text, plan.fallback_text):
        # What was already streamed is unverified chatter: the canned answer replaces it.
        yield from fallback(usage, "model_fallback", shown)
        return
    record = None
    if holding:
        rest = check.finish(text)
        if check.claims:
            yield from replaced(usage, shown)
            return
    elif mode == "flag" and (claims := check.unsupported(text)):
        log.warning("answer flagged: %s", ", ".join(f"{c.kind} {c.text!r}" for c in claims))
        record = _claims_record("flagged", claims)
    if rest:
        yield Delta(rest)
    yield Citations([citation_dict(h) for h in cited_passages(guard.raw, prompt.passages)])
    yield Done(
        usage,
        fallback=False,
        handoff=False,
        latency_ms=_ms(started),
        text=text,
        debug=plan.debug(cut_at_tokens=max_tokens if cut_by_limit else None, guard=record, by_model=True),
    )


def _corrected_answer(match: corrected.Match, language: str, started: float) -> Iterator[Event]:
    for piece in _pieces(match.answer):
        yield Delta(piece)
    yield Citations(corrected.citations(match))
    debug = Debug(
        reason="corrected",
        language=language,
        hits=[],
        passages=[],
        style="corrected",
        corrected={"id": match.id, "score": round(match.score, 4)},
    )
    yield Done(Usage(), False, False, _ms(started), match.answer, debug)


def answer(
    spec: BotSpec,
    question: str,
    history: History = (),
    *,
    retrieve: Retrieve,
    model: ChatModel | None,
    embedding_model: str | None = None,
    corrections: Sequence[corrected.Match] = (),
) -> Answer:
    """The whole answer at once: `answer_stream()` collected. Raises the `DomainError` a
    stream would end with (`Failed.error`)."""
    citations: list[dict] = []
    for event in answer_stream(
        spec,
        question,
        history,
        retrieve=retrieve,
        model=model,
        embedding_model=embedding_model,
        corrections=corrections,
    ):
        if isinstance(event, Citations):
            citations = event.citations
        elif isinstance(event, Done):
            return Answer(
                event.text, citations, event.fallback, event.handoff, event.usage, event.latency_ms, event.debug
            )
        elif isinstance(event, Failed):
            raise event.error
    raise AssertionError("answer_stream ended without Done or Failed")
