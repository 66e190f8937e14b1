"""Errors from chat-model providers: `DomainError`s (see `bots.core.errors`), each saying
who sees what. Customers see `message` (friendly, no internals, from `bots.core.phrases` by
`code`, in their language); operators see `operator_message` in the logs (the real error and
what to do about it). `status` is the provider's HTTP status, never ours.
"""

from __future__ import annotations

from bots.core.errors import DomainError


class ProviderError(DomainError):
    code = "model_error"
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
        super().__init__(detail, retry_after=retry_after)
        self.status = status
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
    operator_hint = "Fix the bot's model settings (provider, base_url, api key) in the builder."


class ModelAuthError(ProviderError):
    code = "model_auth_failed"
    operator_hint = "The provider rejected the API key (401/403): set a valid key for this bot or server."


class ModelRequestError(ProviderError):
    code = "model_bad_request"
    operator_hint = (
        "The provider rejected the request (400/404/422): check the model name and that the "
        "prompt fits the model's context window."
    )


class ModelRateLimited(ProviderError):
    code = "model_rate_limited"
    operator_hint = "The provider rate-limited us (429): raise the quota or lower traffic."


class ModelUnavailable(ProviderError):
    code = "model_unavailable"
    operator_hint = (
        "The provider failed or was unreachable (5xx or connection error): check that the model "
        "server is running and reachable from the Prompteur server."
    )


class ModelTimeout(ProviderError):
    code = "model_timeout"
    operator_hint = (
        "The provider did not answer within the bot's timeout: raise model.timeout_s, lower "
        "max_tokens, or use a faster model."
    )


class StreamInterrupted(ProviderError):
    """The answer stream broke after some text was sent; `partial_text` keeps that text."""

    code = "model_stream_interrupted"
    operator_hint = (
        "The stream broke after tokens were sent, so it was not retried; check the provider or "
        "any proxy between it and Prompteur (idle timeouts, buffer limits)."
    )


class LocalModelError(ModelUnavailable):
    """The bundled model cannot be served (missing, or it would not start). The detail says
    why and what to do; the customer gets the technical-problem sentence."""

    operator_hint = "See local_model.log in the server's home folder."
