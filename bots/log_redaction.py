"""Secrets never reach the log: a provider's error body may quote the key it refused, and a
client may paste a token where a question goes. A filter on every log handler masks what
looks like a key or token in each record's message, arguments and traceback."""

from __future__ import annotations

import logging
import re

MASK = "[redacted]"

# Our keys (sk_, pk_, adm_, st_ session tokens, pts_/pta_ people's sessions and API tokens),
# OpenAI-style keys (sk-..., sk-proj-...), a bearer token, and `api_key=...`/`token: ...` pairs.
# The prefix is kept: it says which kind of secret was there, which is what an operator reading
# the log needs.
_SECRET = re.compile(
    r"""
    (?P<key>\b(?:sk|pk|adm|st|pts|pta)[-_])[A-Za-z0-9][A-Za-z0-9_\-]{7,}
    | (?P<bearer>\bBearer\s+)[^\s,;"']+
    | (?P<pair>\b(?:api[_-]?key|access[_-]?token|token|secret|password)["']?\s*[=:]\s*["']?)[^\s,;"'&}]+
    """,
    re.IGNORECASE | re.VERBOSE,
)


def redact(text: str) -> str:
    return _SECRET.sub(lambda m: (m.group("key") or m.group("bearer") or m.group("pair")) + MASK, text)


def _clean(value):
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    redacted = redact(text)
    return redacted if redacted != text else value


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Arguments are cleaned one by one, keeping their shape: formatters such as uvicorn's
        # access log unpack record.args.
        if isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_clean(a) for a in record.args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as it would
            return True
        redacted = redact(message)
        if redacted != message:  # a secret in the message, or made of both ("Bearer %s")
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install() -> None:
    """Add the filter to every handler that exists now (root's, uvicorn's). Call it again
    once a server has configured its own logging; a handler gets it once."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(RedactSecrets())
