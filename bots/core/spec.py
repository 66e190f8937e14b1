"""A bot's specification: who it is, how it answers, which model it uses, how it looks.

Stored in SQL as JSON (`stored_json()`); shown to admins with secrets masked (`redacted()`);
shown to the public only through `public_config()`, which carries display fields alone.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_serializer,
    field_validator,
    model_validator,
)

SECRET_MASK = "********"


class _Strict(BaseModel):
    # Unknown fields are a typo in a PATCH more often than not: reject them with a clear error.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Persona(_Strict):
    role: str = Field("a customer-service assistant", max_length=300, description="Who the bot is.")
    company: str = Field("", max_length=200, description="The company it speaks for.")
    tone: str = Field("friendly, clear and concise", max_length=200)
    instructions: str = Field("", max_length=4000, description="Free-text guidance for the model.")
    rules: list[str] = Field(default_factory=list, max_length=30)
    greeting: str = Field("Hello! How can I help you today?", max_length=500)

    @field_validator("rules")
    @classmethod
    def _drop_blank_rules(cls, rules: list[str]) -> list[str]:
        cleaned = [r.strip() for r in rules if r and r.strip()]
        if any(len(r) > 500 for r in cleaned):
            raise ValueError("each rule must be at most 500 characters; split long rules")
        return cleaned


class Handoff(_Strict):
    """How a customer reaches a human when the bot cannot help: a contact shown in the
    answer (an email, phone number or link) or the hand-off form of the widget/API."""

    enabled: bool = False
    kind: Literal["contact", "form"] = "form"
    label: str = Field("Talk to a person", max_length=80)
    contact: str = Field("", max_length=300)


class Fallback(_Strict):
    # Empty means: use the built-in sentence in the customer's language (see answering).
    message: str = Field("", max_length=1000)
    handoff: Handoff = Field(default_factory=Handoff)
    allow_small_talk: bool = Field(
        False,
        description="Let the model reply to greetings and thanks when no document matches.",
    )


class LanguagePolicy(_Strict):
    mode: Literal["auto", "fixed"] = "auto"
    # The fixed language, and the one used in auto mode when the customer's is unclear.
    language: str = Field("en", pattern=r"^[a-z]{2}$")


class ModelSettings(_Strict):
    provider: Literal["local", "openai", "openai_compatible"] = "local"
    model: str = Field("", max_length=200, description="Empty: the provider's default model.")
    base_url: str | None = Field(None, max_length=500)
    api_key: SecretStr | None = None
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(256, ge=1, le=8192)
    # Tokens the model reads and writes per call. None: 2048 for the bundled model (the n_ctx
    # it is served with), 16000 for others (conservative for today's hosted models).
    context_window: int | None = Field(None, ge=512, le=2_000_000)
    # Seconds to wait for the model (for a streamed answer: for each piece of it). None: 120 s
    # for the bundled model, which shares a 2-core machine and answers one question at a time
    # (5 s alone, a first token after 40-80 s with 20 conversations at once: benchmarks/README),
    # 30 s for hosted models.
    timeout_s: float | None = Field(None, gt=0, le=600)
    max_retries: int = Field(2, ge=0, le=6)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an http(s) URL such as http://localhost:11434/v1")
        return url.rstrip("/")

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, key: Any) -> Any:
        return None if key in ("", None) else key

    @field_serializer("api_key", when_used="always")
    def _mask_key(self, key: SecretStr | None, info) -> str | None:
        if key is None:
            return None
        if (info.context or {}).get("reveal_secrets"):
            return key.get_secret_value()
        return SECRET_MASK

    @model_validator(mode="after")
    def _room_for_the_prompt(self) -> ModelSettings:
        if self.max_tokens > self.window() - 512:
            raise ValueError(
                f"max_tokens ({self.max_tokens}) leaves too little of the {self.window()}-token "
                "context window for the instructions and passages: lower max_tokens or raise "
                "context_window (keep at least 512 tokens for the prompt)"
            )
        return self

    def window(self) -> int:
        if self.context_window:
            return self.context_window
        return 2048 if self.provider == "local" else 16000

    def timeout(self) -> float:
        if self.timeout_s:
            return self.timeout_s
        return 120.0 if self.provider == "local" else 30.0

    def default_model(self) -> str:
        if self.model:
            return self.model
        return {"local": "smollm2-135m-instruct", "openai": "gpt-4o-mini"}.get(self.provider, "")


# Default relevance thresholds on the best hit's dense cosine similarity, per embedding model:
# each model spreads cosines differently (e5 puts unrelated text near 0.8). Chosen with
# benchmarks/gate_calibration.py (each set's questions against its own bot; CLINC150
# out-of-scope and other-intent, banking77 and French Wikipedia questions against every bot).
# MiniLM at 0.40: Contoso 0% and COVID FAQ 7% of answerable questions fall back, 98-100% of
# off-topic ones do (targets met for 0.36-0.43). e5-small at 0.86: French COVID FAQ 6% and
# service-public 0% fall back, English off-topic 100%, French Wikipedia 91% (no threshold
# meets both targets there: short context-free questions such as "Quel montant en 2019" sit
# as close to a French administrative FAQ as its own questions do; BM25 evidence and the
# spread of the top hits did not separate them either).
DEFAULT_MIN_RELEVANCE = {"all-MiniLM-L6-v2": 0.40, "multilingual-e5-small": 0.86}
FALLBACK_MIN_RELEVANCE = 0.35


class RetrievalSettings(_Strict):
    k: int = Field(5, ge=1, le=20)
    # None: the calibrated default of the bot's embedding model (DEFAULT_MIN_RELEVANCE).
    min_relevance: float | None = Field(None, ge=-1.0, le=1.0)

    def threshold_for(self, embedding_model: str | None) -> float:
        if self.min_relevance is not None:
            return self.min_relevance
        return DEFAULT_MIN_RELEVANCE.get(embedding_model or "", FALLBACK_MIN_RELEVANCE)


# Corrected answers (bots/core/corrections.py): a question whose best cosine similarity to a
# corrected answer's question or paraphrases reaches `threshold` gets the approved text, no
# model; between `floor` and the threshold the closest ones become the top passages.
# Defaults per embedding model, chosen with benchmarks/corrected_answers.py on the COVID FAQ
# paraphrase pairs and hard negatives: MiniLM at 0.82 is the lowest threshold at which none
# of 244 hard negatives gets the answer (0.76: 1 of 244); 38% of paraphrases get it word for
# word there, and 80% are above the 0.60 floor, so they reach the model as the top passage.
# e5-small (cosines sit high: unrelated text near 0.8): 0.96 is where no English hard
# negative gets the answer (25% of paraphrases do); in French, where the FAQ has near-duplicate
# entries, a question's nearest OTHER entry still reaches 0.96 for 3% of questions (quick run).
DEFAULT_CORRECTION_THRESHOLD = {"all-MiniLM-L6-v2": 0.82, "multilingual-e5-small": 0.96}
DEFAULT_CORRECTION_FLOOR = {"all-MiniLM-L6-v2": 0.60, "multilingual-e5-small": 0.90}
FALLBACK_CORRECTION_THRESHOLD = 0.9
FALLBACK_CORRECTION_FLOOR = 0.7
# A sibling (another corrected answer that answers differently and scores at least the
# threshold minus this margin) makes the check strict: a swap of content words refuses the
# match (issue #14, families of templated questions). Chosen on English (the widest margin
# costing at most 2 points of English paraphrases), read on French (benchmarks/
# corrected_answers.py, README "Issue #14"): e5 0.01 (English paraphrases 24.2% -> 22.5%;
# French templated families 44.6% -> 4.5% wrong). MiniLM: even 0 costs 6.6 points of English
# paraphrases, so no default (off unless `family_margin` is set); nor for uncalibrated models.
DEFAULT_FAMILY_MARGIN = {"multilingual-e5-small": 0.01}


class CorrectionSettings(_Strict):
    enabled: bool = True
    # None: the calibrated default of the bot's embedding model.
    threshold: float | None = Field(None, ge=-1.0, le=1.0)
    floor: float | None = Field(None, ge=-1.0, le=1.0)
    # How many close corrected answers (below the threshold) become top passages.
    passages: int = Field(2, ge=0, le=5)
    # The family rule (bots/core/corrections.py) on or off; on, with a margin: the model's
    # default (`DEFAULT_FAMILY_MARGIN`; a model without one has the rule off) or this one
    # (0: a sibling must itself reach the threshold).
    family_check: bool = True
    family_margin: float | None = Field(None, ge=0.0, le=2.0)

    def threshold_for(self, embedding_model: str | None) -> float:
        if self.threshold is not None:
            return self.threshold
        return DEFAULT_CORRECTION_THRESHOLD.get(embedding_model or "", FALLBACK_CORRECTION_THRESHOLD)

    def floor_for(self, embedding_model: str | None) -> float:
        if self.floor is not None:
            return self.floor
        return DEFAULT_CORRECTION_FLOOR.get(embedding_model or "", FALLBACK_CORRECTION_FLOOR)

    def family_margin_for(self, embedding_model: str | None) -> float | None:
        """None: no family rule for this bot."""
        if not self.family_check:
            return None
        if self.family_margin is not None:
            return self.family_margin
        return DEFAULT_FAMILY_MARGIN.get(embedding_model or "")


# The review inbox lists a grounded answer as "low score" when its best passage's dense
# similarity is below this (the gate's default threshold plus a margin, per embedding model).
DEFAULT_LOW_SCORE = {"all-MiniLM-L6-v2": 0.50, "multilingual-e5-small": 0.88}
FALLBACK_LOW_SCORE = 0.45


class ReviewSettings(_Strict):
    # Customers' e-mail addresses and phone numbers masked in the review inbox and exports.
    mask_contacts: bool = False
    low_score: float | None = Field(None, ge=-1.0, le=1.0)

    def low_score_for(self, embedding_model: str | None) -> float:
        if self.low_score is not None:
            return self.low_score
        return DEFAULT_LOW_SCORE.get(embedding_model or "", FALLBACK_LOW_SCORE)


class AnswerSettings(_Strict):
    """How answers are written. "extractive": quoted from the passages, no model writes a
    word (the bundled 135M model contradicts its passages and invents fees); "generative":
    the model writes them. None: extractive with the bundled model, generative with others.
    `guard` checks a generated answer's numbers, amounts, dates and contacts against the
    passages: "replace" swaps an answer with an unsupported one for the extractive answer,
    "flag" keeps it and marks it in the debug output. `negation_check` also flags sentences
    that negate the passage they repeat (rough: measured before it is turned on)."""

    style: Literal["extractive", "generative"] | None = None
    max_chars: int = Field(700, ge=100, le=4000)
    guard: Literal["replace", "flag", "off"] = "replace"
    negation_check: bool = False

    def effective_style(self, model_settings: ModelSettings) -> Literal["extractive", "generative"]:
        if self.style is not None:
            return self.style
        return "extractive" if model_settings.provider == "local" else "generative"


class EvaluationSettings(_Strict):
    """How this bot's evaluation runs are graded beyond the deterministic checks. `judge`: an
    OpenAI-compatible model that scores groundedness and agreement (None: the server's judge,
    if it has one). A judge score is a measurement, not a verdict, unless `judge_fails_case`:
    then a score below `judge_min_score` fails the case."""

    judge: ModelSettings | None = None
    judge_min_score: float = Field(0.6, ge=0.0, le=1.0)
    judge_fails_case: bool = False
    # What the bot's model costs, for the runs' and experiments' estimated cost (None: unknown).
    prompt_price_per_million: float | None = Field(None, ge=0)
    completion_price_per_million: float | None = Field(None, ge=0)


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_PLAIN_ORIGIN = re.compile(r"^https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$")
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$|^#[0-9a-fA-F]{3}$")


class WidgetSettings(_Strict):
    title: str = Field("", max_length=80, description="Empty: the bot's name.")
    avatar_url: str | None = Field(None, max_length=500)
    welcome: str = Field("", max_length=500, description="Empty: the persona's greeting.")
    starters: list[str] = Field(default_factory=list, max_length=6)
    primary_color: str = "#2563eb"
    position: Literal["right", "left"] = "right"
    # Remote images in answers load only from these origins: an image URL is a request the
    # reader's browser makes, so a model or document could otherwise leak the conversation.
    image_origins: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("image_origins")
    @classmethod
    def _image_origins(cls, origins: list[str]) -> list[str]:
        cleaned = list(dict.fromkeys(_normalize_origin(o) for o in origins if o and o.strip()))
        for origin in cleaned:
            if not _PLAIN_ORIGIN.match(origin):  # no wildcards: the list is matched exactly
                raise ValueError(f"image origin {origin!r} must be a plain scheme://host[:port]")
            # Plain http only for a machine of one's own: elsewhere it is readable in transit
            # and browsers block it on https pages anyway.
            if origin.startswith("http://") and urlsplit(origin).hostname not in _LOCAL_HOSTS:
                raise ValueError(f"image origin {origin!r} must use https (http only for localhost)")
        return cleaned

    @field_validator("primary_color")
    @classmethod
    def _hex(cls, color: str) -> str:
        if not _HEX_COLOR.match(color):
            raise ValueError("primary_color must be a hex colour such as #2563eb")
        return color.lower()

    @field_validator("avatar_url")
    @classmethod
    def _avatar(cls, url: str | None) -> str | None:
        if not url:
            return None
        # No javascript:/data: URLs: the widget puts this in an <img src> on customers' sites.
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("avatar_url must be an http(s) URL")
        return url

    @field_validator("starters")
    @classmethod
    def _starters(cls, starters: list[str]) -> list[str]:
        cleaned = [s.strip() for s in starters if s and s.strip()]
        if any(len(s) > 200 for s in cleaned):
            raise ValueError("each starter question must be at most 200 characters")
        return cleaned


def _normalize_origin(origin: str) -> str:
    origin = origin.strip().rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise ValueError(
            f"{origin!r} is not a website origin; write it as scheme://host[:port], e.g. https://www.example.com"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


class BotSpec(_Strict):
    name: str = Field(..., min_length=1, max_length=120)
    persona: Persona = Field(default_factory=Persona)
    fallback: Fallback = Field(default_factory=Fallback)
    language: LanguagePolicy = Field(default_factory=LanguagePolicy)
    model: ModelSettings = Field(default_factory=ModelSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    corrections: CorrectionSettings = Field(default_factory=CorrectionSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)
    widget: WidgetSettings = Field(default_factory=WidgetSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        return list(dict.fromkeys(_normalize_origin(o) for o in origins if o.strip()))

    def stored_json(self) -> dict[str, Any]:
        """The full spec for SQL, secrets included. Never send this to a client."""
        return self.model_dump(mode="json", context={"reveal_secrets": True})

    def redacted(self) -> dict[str, Any]:
        """The spec for admin output: api keys replaced by a mask (or None when unset)."""
        return self.model_dump(mode="json")

    def keeping_secrets_of(self, previous: BotSpec) -> BotSpec:
        """This spec with a masked key taken from `previous`, so that an admin who edits a
        redacted spec and sends it back does not overwrite the stored key with the mask. Send
        an explicit empty string to remove a key.
        The stored key is kept only for the endpoint it was given for: when the provider or
        base_url changes, a masked key is dropped (the admin enters the key again), or the
        next question would send the stored key to whatever address was typed in."""
        spec = self
        model = _keeping_key(self.model, previous.model)
        if model is not self.model:
            spec = spec.model_copy(update={"model": model})
        judge = self.evaluation.judge
        if judge is not None:  # the judge's key, by the same rule
            kept = _keeping_key(judge, previous.evaluation.judge)
            if kept is not judge:
                spec = spec.model_copy(update={"evaluation": self.evaluation.model_copy(update={"judge": kept})})
        return spec


def _keeping_key(model: ModelSettings, previous: ModelSettings | None) -> ModelSettings:
    """`model` with a masked key replaced by `previous`'s when the endpoint is the same, else dropped."""
    key = model.api_key
    if key is None or key.get_secret_value() != SECRET_MASK:
        return model
    same_endpoint = previous is not None and (model.provider, model.base_url) == (previous.provider, previous.base_url)
    return model.model_copy(update={"api_key": previous.api_key if same_endpoint and previous else None})


def public_config(spec: BotSpec, bot_id: str) -> dict[str, Any]:
    """Display-only fields for `GET /v1/bots/{bot_id}/config`: never a prompt, model, key
    or document name."""
    handoff = spec.fallback.handoff
    return {
        "bot_id": bot_id,
        "title": spec.widget.title or spec.name,
        "avatar_url": spec.widget.avatar_url,
        "welcome": spec.widget.welcome or spec.persona.greeting,
        "starters": list(spec.widget.starters),
        "theme": {"primary": spec.widget.primary_color, "position": spec.widget.position},
        "language": "auto" if spec.language.mode == "auto" else spec.language.language,
        "handoff": {"enabled": handoff.enabled, "label": handoff.label},
        "image_origins": list(spec.widget.image_origins),
    }
