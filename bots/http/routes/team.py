"""Admin API for team use: signing in and out, who am I, people (owners), API tokens and the
audit log. Which role may call what is in bots.http.access, checked by AdminAuth; sign-in is
the one admin route without a credential."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from bots.core.roles import Role
from bots.http.deps import AdminAuth, CallerDep, DbSession, ReleasingRoute, RuntimeDep
from bots.http.errors import ApiError
from bots.http.public_auth import check_rate, client_ip
from bots.http.request_values import DbInt, RequestBody
from bots.schemas import team as schema
from bots.store import accounts
from bots.store import tables as t

router = APIRouter(route_class=ReleasingRoute, prefix="/admin", tags=["admin: team"])
signed_in = APIRouter(route_class=ReleasingRoute, prefix="/admin", dependencies=[AdminAuth], tags=["admin: team"])

LOGIN_FAILED = "That name and password do not match an active account."


class LoginBody(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class NewUser(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    # Left out: the server makes a one-time password and shows it once.
    password: str | None = Field(default=None, max_length=1000)


class UserChange(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, max_length=1000)


class SelfChange(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    password: str | None = Field(default=None, max_length=1000)
    # Needed to change a password that is set: a borrowed session cannot lock its owner out.
    current_password: str | None = Field(default=None, max_length=1000)


class NewToken(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


def _user(user: t.User) -> schema.User:
    return schema.User(
        id=user.id,
        name=user.name,
        role=Role(user.role),
        disabled=user.disabled,
        has_password=user.password_hash is not None,
        created_at=user.created_at,
    )


def _token(token: t.ApiToken, user: t.User) -> schema.Token:
    return schema.Token(
        id=token.id,
        name=token.name,
        kind=token.kind,
        user_id=user.id,
        user_name=user.name,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked=token.revoked,
    )


@router.post("/login", response_model=schema.LoginResult)
def login(body: LoginBody, request: Request, runtime: RuntimeDep, session: DbSession) -> schema.LoginResult:
    """A builder session for a name and password; it expires after PROMPTEUR_LOGIN_SESSION_HOURS.
    Attempts are limited per client IP and per name; a wrong name and a wrong password get the
    same answer in the same time."""
    per_minute = runtime.settings.login_attempts_per_minute
    check_rate(runtime, "login-ip:" + client_ip(request, runtime.settings.trusted_proxies), per_minute)
    check_rate(runtime, "login-name:" + body.name.strip().casefold(), per_minute)
    made = accounts.login(session, body.name, body.password, runtime.settings.login_session_hours)
    if made is None:
        raise ApiError("login_failed", LOGIN_FAILED)
    token, secret = made
    user = accounts.get_user(session, token.user_id)
    caller = accounts.resolve(session, secret, touch=False)
    accounts.record(session, caller, "session.login", "user", target_id=user.id)
    assert token.expires_at is not None  # a session always expires
    return schema.LoginResult(token=secret, expires_at=token.expires_at, user=_user(user))


@signed_in.post("/logout", status_code=204)
def logout(caller: CallerDep, session: DbSession) -> Response:
    """End this builder session. An API token is not ended here: revoke it by id."""
    if caller.token_kind == "session":
        accounts.revoke_token(session, caller.token_id, owned_by=caller.user_id)
    return Response(status_code=204)


@signed_in.get("/me", response_model=schema.Me)
def me(caller: CallerDep, session: DbSession) -> schema.Me:
    return schema.Me(
        user=_user(accounts.get_user(session, caller.user_id)),
        token_kind=caller.token_kind,
        expires_at=caller.expires_at,
    )


@signed_in.patch("/me", response_model=schema.User)
def change_me(body: SelfChange, caller: CallerDep, session: DbSession) -> schema.User:
    """Your own name or password (the first owner sets theirs here, signed in with the admin token)."""
    user = accounts.get_user(session, caller.user_id)
    if body.password is not None and user.password_hash is not None:
        if not accounts.password_matches(body.current_password or "", user.password_hash):
            raise ApiError("wrong_password", "Give your current password to choose a new one.")
    return _user(accounts.update_user(session, user, name=body.name, password=body.password))


@signed_in.get("/users", response_model=schema.UserList)
def list_users(session: DbSession) -> schema.UserList:
    return schema.UserList(users=[_user(u) for u in accounts.users(session)])


@signed_in.post("/users", response_model=schema.UserCreated, status_code=201)
def create_user(body: NewUser, session: DbSession) -> schema.UserCreated:
    chosen = body.password is None
    password = accounts.one_time_password() if chosen else body.password
    user = accounts.create_user(session, body.name, body.role, password)
    return schema.UserCreated(**_user(user).model_dump(), one_time_password=password if chosen else None)


@signed_in.patch("/users/{user_id}", response_model=schema.User)
def change_user(user_id: str, body: UserChange, session: DbSession) -> schema.User:
    user = accounts.get_user(session, user_id)
    changed = accounts.update_user(
        session, user, name=body.name, role=body.role, disabled=body.disabled, password=body.password
    )
    return _user(changed)


@signed_in.delete("/users/{user_id}", status_code=204)
def delete_user(user_id: str, session: DbSession) -> Response:
    """The user and all their tokens; their audit rows keep their name."""
    accounts.delete_user(session, accounts.get_user(session, user_id))
    return Response(status_code=204)


@signed_in.get("/tokens", response_model=schema.TokenList)
def list_tokens(
    caller: CallerDep, session: DbSession, everyone: Annotated[bool, Query(alias="all")] = False
) -> schema.TokenList:
    """Your tokens and sessions; an owner may ask for everyone's with `?all=true`."""
    if everyone and caller.role != Role.OWNER:
        raise ApiError("forbidden", "Only an owner can list the tokens of others.")
    rows = accounts.tokens(session, None if everyone else caller.user_id)
    return schema.TokenList(tokens=[_token(tok, user) for tok, user in rows])


@signed_in.post("/tokens", response_model=schema.TokenCreated, status_code=201)
def create_token(body: NewToken, caller: CallerDep, session: DbSession) -> schema.TokenCreated:
    """A named API token for the CLI or a script, with your role. The secret is in this answer only."""
    user = accounts.get_user(session, caller.user_id)
    lifetime = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, secret = accounts.create_token(session, user, body.name, "api", lifetime)
    return schema.TokenCreated(**_token(token, user).model_dump(), token=secret)


@signed_in.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: str, caller: CallerDep, session: DbSession) -> Response:
    """Revoke one of your tokens (an owner: anyone's)."""
    accounts.revoke_token(session, token_id, owned_by=None if caller.role == Role.OWNER else caller.user_id)
    return Response(status_code=204)


@signed_in.get("/audit", response_model=schema.AuditPage)
def audit(
    session: DbSession,
    bot_id: str | None = None,
    user: str | None = None,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[DbInt, Query(ge=0)] = 0,  # bounded: SQLite refuses integers past 64 bits
) -> schema.AuditPage:
    """Who changed what, newest first; filter by bot, user (id or name) and action."""
    rows, total = accounts.audit(session, bot_id=bot_id, user=user, action=action, limit=limit, offset=offset)
    return schema.AuditPage(
        entries=[
            schema.AuditEntry(
                id=r.id,
                at=r.at,
                user_id=r.user_id,
                user_name=r.user_name,
                action=r.action,
                target_type=r.target_type,
                target_id=r.target_id,
                bot_id=r.bot_id,
                detail=r.detail or {},
            )
            for r in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )
