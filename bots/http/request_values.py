"""What every request may carry, checked at the edge so that no route has to: text that is
Unicode, and integers the database can hold.

JSON can spell a lone UTF-16 surrogate (`"\\ud800"`); Python decodes it into a str that no
UTF-8 encoder accepts, so it failed much later, in SQLite's insert, as a 500 with a traceback.
An integer past 64 bits did the same in any query that used it. Both are the client's
mistake and get a 422 with a sentence: request bodies inherit `RequestBody`, whose one
validator walks everything the client sent; integer query and path parameters are `DbInt`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

# SQLite's INTEGER and Postgres's BIGINT: the widest integer a query can compare against.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

DbInt = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]


def _lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in `text`, if any (paired ones were joined by the decoder)."""
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return char
    return None


def _problem(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        if (char := _lone_surrogate(value)) is not None:
            return (
                f"{where or 'the body'} holds a lone surrogate (\\u{ord(char):04x}), which is not text: "
                "send valid UTF-8 (in JSON, \\ud800-\\udfff escapes only come in pairs)"
            )
    elif isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            return f"{where or 'the body'} is {value}, larger than the server can store (at most {INT64_MAX})"
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _problem(key, where) or _problem(item, f"{where}.{key}" if where else str(key))
            if problem:
                return problem
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if problem := _problem(item, f"{where}.{i}" if where else str(i)):
                return problem
    return None


class RequestBody(BaseModel):
    """The base of every JSON request body: unknown fields are refused, and nothing in it
    may be a lone surrogate or an integer beyond 64 bits (see the module's docstring)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        if problem := _problem(data, ""):
            raise PydanticCustomError("unstorable_value", problem)
        return data
