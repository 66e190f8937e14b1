"""The one error vocabulary: every refusal or failure the server reports is a `DomainError`.

Each says three things to three readers:
- `code`: stable, for programs (the public API's `error.code`; the HTTP shell maps it to a
  status in one table, `bots.http.errors.STATUS`: the domain knows no HTTP);
- `message`: the sentence a person sees, looked up by code and language in the one table of
  sentences, `bots.core.phrases` (a raise site may word its own, e.g. the HTTP shell's);
- `operator_message`: what went wrong and what to do about it, for the log only.
`retry_after` (seconds) is set when waiting helps; the HTTP shell sends it as Retry-After.

Pure: the builder and the CLI import it without pulling in SQL or HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from bots.core.phrases import phrase


class DomainError(Exception):
    code: ClassVar[str] = "internal_error"
    operator_hint: ClassVar[str] = ""

    def __init__(
        self,
        detail: str = "",
        *,
        message: str | None = None,
        language: str | None = None,
        retry_after: float | None = None,
        **values: Any,
    ):
        super().__init__(detail or message or self.code)
        self.detail = detail
        self.language = language  # the customer's, once known: picks the sentence's language
        self.retry_after = retry_after
        self.values = values  # fill the sentence's {placeholders}
        self._message = message

    @property
    def message(self) -> str:
        if self._message is not None:
            return self._message
        return phrase(self.code, self.language, **{k: str(v) for k, v in self.values.items()})

    @property
    def customer_message(self) -> str:
        return self.message

    @property
    def operator_message(self) -> str:
        hint = f" {self.operator_hint}" if self.operator_hint else ""
        return f"{type(self).__name__} ({self.code}): {self.detail or self.message}.{hint}"

    def public(self) -> dict:
        """The body of `{"error": ...}`, for JSON responses and stream `error` events alike."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.retry_after is not None:
            out["retry_after"] = retry_seconds(self.retry_after)
        return out


def retry_seconds(retry_after: float) -> int:
    """Whole seconds, rounded up and at least 1: a client told 0 would retry at once."""
    return max(1, int(retry_after + 0.999))


# --- asking a bot -------------------------------------------------------------------------


class EmptyMessage(DomainError):
    code = "empty_message"


class MessageTooLong(DomainError):
    code = "message_too_long"  # values: length, limit


class HistoryTooLong(DomainError):
    code = "history_too_long"


class ConversationTooLong(DomainError):
    code = "conversation_too_long"  # values: limit


class RequestInProgress(DomainError):
    code = "request_in_progress"


class RequestFailed(DomainError):
    code = "request_failed"  # values: error


class RetrievalFailed(DomainError):
    code = "retrieval_failed"
    operator_hint = "Check the knowledge index (Chroma) for this bot; the traceback was logged."


class InvalidRequest(DomainError):
    code = "invalid_request"  # values: problems (see validation_problems)


class InvalidSpec(DomainError):
    code = "invalid_spec"  # values: problems (see validation_problems)


# --- things that are not there ------------------------------------------------------------


class BotNotFound(DomainError):
    code = "bot_not_found"  # values: bot_id


class BotNotPublished(DomainError):
    code = "bot_not_published"  # values: bot_id


class ConversationNotFound(DomainError):
    code = "conversation_not_found"


class MessageNotFound(DomainError):
    code = "message_not_found"


# --- the stores (issue #17) ----------------------------------------------------------------


class DatabaseUnavailable(DomainError):
    """The database refused or dropped the connection, or every pooled connection stayed busy
    for the pool timeout: waiting may help, so it is a 503 with Retry-After, never a hang."""

    code = "database_unavailable"
    operator_hint = (
        "Check PROMPTEUR_DATABASE_URL and that the database server is running and accepts connections "
        "(pool: PROMPTEUR_DATABASE_POOL_SIZE, PROMPTEUR_DATABASE_MAX_OVERFLOW, PROMPTEUR_DATABASE_POOL_TIMEOUT_S)."
    )

    def __init__(self, detail: str = "", **kw):
        kw.setdefault("retry_after", 5.0)
        super().__init__(detail, **kw)


class SearchUnavailable(DomainError):
    """The Chroma server (PROMPTEUR_CHROMA_URL) could not be reached: restarting, or a network
    fault. Waiting may help, so it is a 503 with Retry-After, like the database's."""

    code = "search_unavailable"
    operator_hint = "Check PROMPTEUR_CHROMA_URL and that the Chroma server (`chroma run`) is running and reachable."

    def __init__(self, detail: str = "", **kw):
        kw.setdefault("retry_after", 5.0)
        super().__init__(detail, **kw)


def validation_problems(errors: Iterable[Mapping[str, Any]], *, limit: int = 5) -> str:
    """Pydantic's errors as one sentence a person can act on: "field.sub: what is wrong; ...".
    The one place this is done (request bodies, bot specs, stored specs, the builder)."""
    problems = []
    for e in list(errors)[:limit]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        problems.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
    return "; ".join(problems)
