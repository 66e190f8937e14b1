"""People, their credentials and the audit log, in SQL.

A credential is a random secret whose SHA-256 is stored (`api_tokens.token_hash`): a builder
session (kind "session", expires) or a named API token for the CLI (kind "api"). Passwords are
bcrypt hashes. The first owner exists from the first start, and the admin token the server
already had is that owner's API token, so every existing client keeps working."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import bcrypt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bots.core.errors import DomainError
from bots.core.roles import Role
from bots.store import tables as t

FIRST_OWNER = "owner"
ADMIN_TOKEN_NAME = "admin token (PROMPTEUR_HOME/admin_token)"
MIN_PASSWORD = 10
# bcrypt reads only the first 72 bytes: a longer password would be silently cut, so refuse it.
MAX_PASSWORD_BYTES = 72
# Refreshing last_used_at on every request would be a write per request; once a minute is enough
# to tell a token in use from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Checked when the name is unknown, so an unknown name costs the same time as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"not a password of anyone", bcrypt.gensalt()).decode()


class AccountError(DomainError):
    """A refusal about accounts, worded where it is raised (codes are in bots.http.errors.STATUS)."""

    def __init__(self, code: str, message: str):
        super().__init__(message=message)
        self.code = code  # type: ignore[misc]


@dataclass(frozen=True)
class Caller:
    """Who sent a request, resolved from its bearer token."""

    user_id: str
    name: str
    role: Role
    token_id: str
    token_kind: str
    expires_at: datetime | None
    has_password: bool


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(kind: str) -> str:
    return ("pts_" if kind == "session" else "pta_") + secrets.token_urlsafe(32)


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite gives datetimes back without their zone; they were stored in UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


# --- passwords -----------------------------------------------------------------------------


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("weak_password", f"Choose a password of at least {MIN_PASSWORD} characters.")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise AccountError(
            "weak_password", f"A password may be at most {MAX_PASSWORD_BYTES} bytes long (bcrypt ignores the rest)."
        )


def hash_password(password: str) -> str:
    check_new_password(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def password_matches(password: str, stored: str | None) -> bool:
    """bcrypt's own comparison is constant-time; with no stored hash a dummy one is checked
    so the answer takes as long either way."""
    candidate = password.encode()[:MAX_PASSWORD_BYTES]
    matched = bcrypt.checkpw(candidate, (stored or _DUMMY_HASH).encode())
    return matched and stored is not None


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


# --- the first owner -----------------------------------------------------------------------


def ensure_first_owner(session: Session, admin_token: str) -> None:
    """At first start: an owner whose API token is the admin token. Later starts leave things
    as they are, except when the admin token is one the database has never seen (an operator
    replaced PROMPTEUR_HOME/admin_token or set PROMPTEUR_ADMIN_TOKEN): it then becomes a token
    of the oldest active owner, which is the way back in for whoever runs the server. A revoked
    admin token stays revoked."""
    digest = token_hash(admin_token)
    if session.scalar(select(t.ApiToken.id).where(t.ApiToken.token_hash == digest)) is not None:
        return
    owner = session.scalars(
        select(t.User).where(t.User.role == Role.OWNER, t.User.disabled.is_(False)).order_by(t.User.created_at)
    ).first()
    if owner is None:
        name = FIRST_OWNER
        while session.scalar(select(t.User.id).where(t.User.name == name)) is not None:
            name = f"{FIRST_OWNER}-{secrets.token_hex(2)}"
        owner = t.User(name=name, role=Role.OWNER, password_hash=None)
        session.add(owner)
        session.flush()
    session.add(t.ApiToken(user_id=owner.id, token_hash=digest, name=ADMIN_TOKEN_NAME, kind="api"))
    session.commit()


# --- credentials ---------------------------------------------------------------------------


def resolve(session: Session, secret: str | None, *, touch: bool = True) -> Caller | None:
    """The caller a bearer secret stands for, or None when it is unknown, revoked, expired or
    its user disabled (one answer for all four: a client learns nothing from which)."""
    if not secret:
        return None
    row = session.execute(
        select(t.ApiToken, t.User).join(t.User).where(t.ApiToken.token_hash == token_hash(secret))
    ).first()
    if row is None:
        return None
    token, user = row
    moment = datetime.now(UTC)
    expires = _aware(token.expires_at)
    if token.revoked or user.disabled or (expires is not None and expires <= moment):
        return None
    last = _aware(token.last_used_at)
    if touch and (last is None or moment - last > LAST_USED_RESOLUTION):
        token.last_used_at = moment
        session.commit()
    return Caller(
        user_id=user.id,
        name=user.name,
        role=Role(user.role),
        token_id=token.id,
        token_kind=token.kind,
        expires_at=expires,
        has_password=user.password_hash is not None,
    )


def login(session: Session, name: str, password: str, session_hours: float) -> tuple[t.ApiToken, str] | None:
    """A new builder session for name+password, or None. The same work is done whether the
    name exists or not (no telling which names are accounts)."""
    user = session.scalar(select(t.User).where(t.User.name == name.strip()))
    stored = user.password_hash if user is not None else None
    if not password_matches(password, stored) or user is None or user.disabled:
        return None
    return create_token(session, user, "builder session", "session", timedelta(hours=session_hours))


def create_token(
    session: Session, user: t.User, name: str, kind: str, lifetime: timedelta | None
) -> tuple[t.ApiToken, str]:
    secret = new_secret(kind)
    row = t.ApiToken(
        user_id=user.id,
        token_hash=token_hash(secret),
        name=name.strip() or kind,
        kind=kind,
        expires_at=datetime.now(UTC) + lifetime if lifetime else None,
    )
    session.add(row)
    session.commit()
    return row, secret


def tokens(session: Session, user_id: str | None) -> list[tuple[t.ApiToken, t.User]]:
    """Tokens of one user (or of everyone with None), newest first, revoked ones included."""
    query = select(t.ApiToken, t.User).join(t.User).order_by(t.ApiToken.created_at.desc())
    if user_id is not None:
        query = query.where(t.ApiToken.user_id == user_id)
    return [(tok, user) for tok, user in session.execute(query).all()]


def revoke_token(session: Session, token_id: str, *, owned_by: str | None) -> t.ApiToken:
    """Revoke a token; with `owned_by`, only one of that user's (another's is "not found",
    so ids of others' tokens cannot be probed)."""
    token = session.get(t.ApiToken, token_id)
    if token is None or (owned_by is not None and token.user_id != owned_by):
        raise AccountError("token_not_found", f"There is no token with id {token_id!r}.")
    token.revoked = True
    session.commit()
    return token


# --- users ---------------------------------------------------------------------------------


def get_user(session: Session, user_id: str) -> t.User:
    user = session.get(t.User, user_id)
    if user is None:
        raise AccountError("user_not_found", f"There is no user with id {user_id!r}.")
    return user


def users(session: Session) -> list[t.User]:
    return list(session.scalars(select(t.User).order_by(t.User.created_at, t.User.name)))


def _check_name(session: Session, name: str, but: str | None = None) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise AccountError("invalid_user", "A user needs a name (or an email) of 1 to 200 characters.")
    taken = session.scalar(select(t.User.id).where(t.User.name == name))
    if taken is not None and taken != but:
        raise AccountError("name_taken", f"There is already a user named {name!r}.")
    return name


def create_user(session: Session, name: str, role: Role, password: str | None) -> t.User:
    user = t.User(
        name=_check_name(session, name), role=role, password_hash=hash_password(password) if password else None
    )
    session.add(user)
    session.commit()
    return user


def _active_owners(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(t.User).where(t.User.role == Role.OWNER, t.User.disabled.is_(False))
        )
        or 0
    )


def update_user(
    session: Session,
    user: t.User,
    *,
    name: str | None = None,
    role: Role | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> t.User:
    """Change what is given. The last active owner cannot be demoted or disabled: nobody could
    manage the team any more."""
    was_active_owner = user.role == Role.OWNER and not user.disabled
    stays_owner = (role or Role(user.role)) == Role.OWNER and not (disabled if disabled is not None else user.disabled)
    if was_active_owner and not stays_owner and _active_owners(session) <= 1:
        raise AccountError("last_owner", "This is the last active owner: make someone else an owner first.")
    if name is not None:
        user.name = _check_name(session, name, but=user.id)
    if password is not None:
        user.password_hash = hash_password(password)
    if role is not None:
        user.role = role
    if disabled is not None:
        user.disabled = disabled
    session.commit()
    return user


def delete_user(session: Session, user: t.User) -> None:
    if user.role == Role.OWNER and not user.disabled and _active_owners(session) <= 1:
        raise AccountError("last_owner", "This is the last active owner: make someone else an owner first.")
    session.delete(user)
    session.commit()


# --- the audit log -------------------------------------------------------------------------


def record(
    session: Session,
    caller: Caller | None,
    action: str,
    target_type: str,
    target_id: str | None = None,
    bot_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        t.AuditEntry(
            user_id=caller.user_id if caller else None,
            user_name=caller.name if caller else "",
            action=action,
            target_type=target_type,
            target_id=target_id,
            bot_id=bot_id,
            detail=detail or {},
        )
    )
    session.commit()


def audit(
    session: Session,
    *,
    bot_id: str | None = None,
    user: str | None = None,
    action: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[t.AuditEntry], int]:
    """Newest first; `user` matches a user's id or name."""
    query = select(t.AuditEntry)
    if bot_id:
        query = query.where(t.AuditEntry.bot_id == bot_id)
    if user:
        query = query.where((t.AuditEntry.user_id == user) | (t.AuditEntry.user_name == user))
    if action:
        query = query.where(t.AuditEntry.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(t.AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), total
