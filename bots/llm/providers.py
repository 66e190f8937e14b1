"""Chat models over the OpenAI chat-completions protocol: OpenAI itself, the bundled local
model (served by llama.cpp), and any OpenAI-compatible base URL.

The SDK's own retries are off (`max_retries=0`): retries are ours, bounded, honour
Retry-After, and never happen once a token was streamed to the customer.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, cast

import openai

from bots.core.spec import ModelSettings
from bots.core.tokens import estimate_message_tokens, estimate_tokens
from bots.llm.errors import (
    ModelAuthError,
    ModelConfigError,
    ModelRateLimited,
    ModelRequestError,
    ModelTimeout,
    ModelUnavailable,
    ProviderError,
    StreamInterrupted,
)
from bots.llm.protocol import Completion, TextDelta, Usage

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

log = logging.getLogger(__name__)

# Keyless endpoints (llama.cpp, Ollama, vLLM without auth) still need a non-empty key for the SDK.
PLACEHOLDER_KEY = "no-key-needed"
OPENAI_BASE_URL = "https://api.openai.com/v1"
T = TypeVar("T")


@dataclass
class RetryPolicy:
    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    # A Retry-After longer than this is not waited for: the customer is told to come back.
    max_retry_after_s: float = 20.0

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None to give up."""
        if attempt > self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after_s else None
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return backoff * random.uniform(0.5, 1.0)  # jitter spreads out replicas retrying together


class OpenAIChatModel:
    """One model at one endpoint, over the OpenAI chat-completions protocol.
    `complete()` and `stream()` raise `ProviderError`s."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.model = model
        self.base_url = base_url
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=base_url,
            timeout=openai.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            max_retries=0,
        )

    @classmethod
    def from_settings(
        cls,
        settings: ModelSettings,
        *,
        keys: Mapping[str, str] | None = None,
        local_base_url: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> OpenAIChatModel:
        """Build from a bot's model settings. `keys` is the server-side key store by provider
        name ("openai", "openai_compatible"); a key in the spec wins over it.
        `local_base_url` is where the bundled model is served (see bots.llm.local_model)."""
        keys = keys or {}
        spec_key = settings.api_key.get_secret_value() if settings.api_key else None
        # Each branch below ends with both set, or raises.
        base_url: str | None
        api_key: str | None
        if settings.provider == "local":
            base_url = settings.base_url or local_base_url
            if not base_url:
                raise ModelConfigError("the bundled local model is not running (no base URL for it)")
            api_key = PLACEHOLDER_KEY
        elif settings.provider == "openai":
            base_url = settings.base_url
            # The server-wide key goes to OpenAI only: a bot's custom base_url gets its own key.
            official = base_url is None or base_url == OPENAI_BASE_URL
            api_key = spec_key or (keys.get("openai") if official else None)
            if not api_key and not official:
                raise ModelConfigError(
                    f"provider 'openai' with base_url {base_url} needs its own API key: the server-wide "
                    f"OPENAI_API_KEY is only sent to {OPENAI_BASE_URL}"
                )
            if not api_key:
                raise ModelConfigError("provider 'openai' needs an API key and none is set")
        else:
            base_url = settings.base_url
            if not base_url:
                raise ModelConfigError("provider 'openai_compatible' needs a base_url")
            api_key = spec_key or keys.get("openai_compatible") or PLACEHOLDER_KEY
        return cls(
            model=settings.default_model(),
            api_key=api_key,
            base_url=base_url,
            timeout_s=settings.timeout(),
            retry=RetryPolicy(max_retries=settings.max_retries),
            sleep=sleep,
        )

    def close(self) -> None:
        self._client.close()

    def complete(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int, temperature: float) -> Completion:
        def call() -> Completion:
            response = self._client.chat.completions.create(
                model=self.model,
                # Our {"role", "content"} dicts are OpenAI's message params; its stubs want the TypedDicts.
                messages=cast("list[ChatCompletionMessageParam]", list(messages)),
                max_tokens=max_tokens,
                temperature=temperature,
            )
            choice = response.choices[0]
            text = choice.message.content or ""
            usage = _usage(response.usage) or _estimated_usage(messages, text)
            return Completion(text=text, usage=usage, finish_reason=choice.finish_reason)

        return self._with_retries(call)

    def stream(
        self, messages: Sequence[Mapping[str, str]], *, max_tokens: int, temperature: float
    ) -> Iterator[TextDelta | Completion]:
        """Yield `TextDelta`s, then one final `Completion` (the whole text, usage and why the
        model stopped). Errors before the first token are retried like `complete()`; after
        it, `StreamInterrupted` carries the partial text."""
        attempt = 0
        while True:
            attempt += 1
            parts: list[str] = []
            try:
                yield from self._stream_once(messages, max_tokens, temperature, parts)
                return
            except openai.OpenAIError as exc:
                error = _translate(exc)
            except ProviderError as exc:
                error = exc
            error.attempts = attempt
            if parts:
                raise StreamInterrupted(
                    f"stream broke after {len(parts)} chunk(s): {error.detail}",
                    status=error.status,
                    partial_text="".join(parts),
                    attempts=attempt,
                ) from error
            self._wait_or_raise(error, attempt)

    def _stream_once(
        self, messages, max_tokens: int, temperature: float, parts: list[str]
    ) -> Iterator[TextDelta | Completion]:
        usage: Usage | None = None
        finish_reason: str | None = None
        stream = self._client.chat.completions.create(
            model=self.model,
            messages=list(messages),
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
            stream_options={"include_usage": True},
        )
        with stream:
            for chunk in stream:
                usage = _usage(chunk.usage) or usage
                for choice in chunk.choices:
                    text = choice.delta.content if choice.delta else None
                    if text:
                        parts.append(text)
                        yield TextDelta(text)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
        if not finish_reason:
            # A proxy may close the connection cleanly mid-answer: that is still a cut stream.
            raise ModelUnavailable("the stream ended without a finish_reason")
        text = "".join(parts)
        yield Completion(text=text, usage=usage or _estimated_usage(messages, text), finish_reason=finish_reason)

    def _with_retries(self, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except openai.OpenAIError as exc:
                error = _translate(exc)
            error.attempts = attempt
            self._wait_or_raise(error, attempt)

    def _wait_or_raise(self, error: ProviderError, attempt: int) -> None:
        retryable = isinstance(error, ModelRateLimited | ModelUnavailable)
        delay = self.retry.delay(attempt, error.retry_after) if retryable else None
        if delay is None:
            raise error
        log.warning("model call failed, retrying in %.1fs: %s", delay, error.operator_message)
        self._sleep(delay)


def _usage(raw) -> Usage | None:
    if raw is None:
        return None
    return Usage(prompt_tokens=raw.prompt_tokens or 0, completion_tokens=raw.completion_tokens or 0)


def _estimated_usage(messages, text: str) -> Usage:
    return Usage(estimate_message_tokens(messages), estimate_tokens(text), estimated=True)


def _translate(exc: openai.OpenAIError) -> ProviderError:
    if isinstance(exc, openai.APITimeoutError):
        # Not retried: the customer already waited a full timeout.
        return ModelTimeout(f"no answer within the timeout ({exc})")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return ModelUnavailable(f"connection failed: {type(cause).__name__}: {cause}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.response.status_code
        detail = _provider_message(exc)
        retry_after = _retry_after(exc.response.headers)
        if status == 429:
            return ModelRateLimited(detail, status=status, retry_after=retry_after)
        if status in (401, 403):
            return ModelAuthError(detail, status=status)
        if status == 408 or status >= 500:
            return ModelUnavailable(detail, status=status, retry_after=retry_after)
        return ModelRequestError(detail, status=status)
    return ModelUnavailable(f"{type(exc).__name__}: {exc}")


def _provider_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(error, str):
            return error
    return str(exc.message)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `retry-after-ms` (OpenAI) or `Retry-After` (seconds or an HTTP date)."""
    if ms := headers.get("retry-after-ms"):
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
