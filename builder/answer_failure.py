"""A playground answer that failed: what the person sees (what to change, and on which page)
and what stays behind a details toggle (the code and the server's own sentence)."""

from __future__ import annotations

from dataclasses import dataclass

from bots.core.spec import ModelSettings
from builder.i18n import t

# Errors whose fix is in the bot's model settings: the page links to Settings for these.
SETTINGS_FIXES = {
    "model_timeout",
    "model_unavailable",
    "model_auth_failed",
    "model_not_configured",
    "model_bad_request",
    # A pause between two pieces of a streamed answer longer than the timeout ends it so.
    "model_stream_interrupted",
}
KNOWN = SETTINGS_FIXES | {"model_rate_limited", "message_too_long", "empty_message"}


@dataclass
class AnswerFailure:
    code: str
    message: str  # the server's sentence (the customer's wording for model errors)
    detail: str = ""  # the operator's sentence: the real cause, for the details toggle
    partial: str = ""  # what was streamed before it broke
    version: str | int = "draft"

    def advice(self, model: dict) -> str:
        """Plain words: what happened and what to change where."""
        if self.code not in KNOWN:
            return self.message
        try:
            seconds = ModelSettings.model_validate(model).timeout()
        except ValueError:  # a spec this page cannot read still gets the advice, without the number
            seconds = 0
        return t(f"pg_fix_{self.code}", seconds=f"{seconds:g}")

    @property
    def fixed_in_settings(self) -> bool:
        return self.code in SETTINGS_FIXES
