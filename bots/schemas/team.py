"""Team use: people, their credentials and the audit log, as the admin API sends them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel

from bots.core.roles import Role


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# Times are stored in UTC, but SQLite hands them back without their offset; sent bare, they
# broke the documented `date-time` format (RFC 3339 needs the offset: found by the API fuzzer).
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class User(BaseModel):
    id: str
    name: str
    role: Role
    disabled: bool
    has_password: bool
    created_at: UtcDatetime


class UserCreated(User):
    # Only when the server chose the password: shown this once, never stored in clear.
    one_time_password: str | None = None


class UserList(BaseModel):
    users: list[User]


class Me(BaseModel):
    user: User
    token_kind: str  # "session" (signed in to the builder) or "api"
    expires_at: UtcDatetime | None


class LoginResult(BaseModel):
    token: str  # the session's secret: shown once, sent as `Authorization: Bearer <token>`
    expires_at: UtcDatetime
    user: User


class Token(BaseModel):
    id: str
    name: str
    kind: str
    user_id: str
    user_name: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
    revoked: bool


class TokenCreated(Token):
    token: str  # the secret, shown once


class TokenList(BaseModel):
    tokens: list[Token]


class AuditEntry(BaseModel):
    id: int
    at: UtcDatetime
    user_id: str | None
    user_name: str
    action: str
    target_type: str
    target_id: str | None
    bot_id: str | None
    detail: dict


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    total: int
    limit: int
    offset: int
