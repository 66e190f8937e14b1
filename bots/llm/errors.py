"""Errors from chat-model providers, each saying who sees what.

Customers see `customer_message` (friendly, no internals); operators see `operator_message`
in the logs (the real error and what to do about it). `code` is stable for programs and
matches the public API's error codes; `http_status` is what the public API should answer.
"""

from __future__ import annotations


class ProviderError(Exception):
    code = "model_error"
    http_status = 502
    customer_message = "Sorry, I can't answer right now because of a technical problem. Please try again in a moment."
    operator_hint = "Check the model provider's status and the bot's model settings."

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        partial_text: str = "",
        attempts: int = 1,
    ):
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
        self.partial_text = partial_text
        self.attempts = attempts

    @property
    def operator_message(self) -> str:
        status = f" (HTTP {self.status})" if self.status else ""
        tries = f" after {self.attempts} attempt(s)" if self.attempts > 1 else ""
        return f"{type(self).__name__}{status}{tries}: {self.detail}. {self.operator_hint}"

    def __str__(self) -> str:
        return self.operator_message


class ModelConfigError(ProviderError):
    """The bot's model settings cannot work (no key, no base URL). Raised before any call."""

    code = "model_not_configured"
    http_status = 503
    operator_hint = "Fix the bot's model settings (provider, base_url, api key) in the builder."


class ModelAuthError(ProviderError):
    code = "model_auth_failed"
    http_status = 502
    operator_hint = "The provider rejected the API key (401/403): set a valid key for this bot or server."


class ModelRequestError(ProviderError):
    code = "model_bad_request"
    http_status = 502
    operator_hint = (
        "The provider rejected the request (400/404/422): check the model name and that the "
        "prompt fits the model's context window."
    )


class ModelRateLimited(ProviderError):
    code = "model_rate_limited"
    http_status = 503
    customer_message = "Sorry, I'm receiving too many questions right now. Please try again in a moment."
    operator_hint = "The provider rate-limited us (429): raise the quota or lower traffic."


class ModelUnavailable(ProviderError):
    code = "model_unavailable"
    http_status = 503
    operator_hint = (
        "The provider failed or was unreachable (5xx or connection error): check that the model "
        "server is running and reachable from the Prompteur server."
    )


class ModelTimeout(ProviderError):
    code = "model_timeout"
    http_status = 502
    customer_message = "Sorry, answering took too long. Please try again in a moment."
    operator_hint = (
        "The provider did not answer within the bot's timeout: raise model.timeout_s, lower "
        "max_tokens, or use a faster model."
    )


class StreamInterrupted(ProviderError):
    """The answer stream broke after some text was sent; `partial_text` keeps that text."""

    code = "model_stream_interrupted"
    http_status = 502
    customer_message = "Sorry, my answer was cut short by a technical problem. Please ask again."
    operator_hint = (
        "The stream broke after tokens were sent, so it was not retried; check the provider or "
        "any proxy between it and Prompteur (idle timeouts, buffer limits)."
    )
