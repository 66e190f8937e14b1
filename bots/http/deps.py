"""Typed dependencies that keep route functions short."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from bots.http import access
from bots.http.errors import ApiError
from bots.runtime import Runtime
from bots.store import accounts
from bots.store import tables as t
from bots.store.accounts import Caller


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep):
    with runtime.sessions() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


UNAUTHORIZED = (
    "This needs a credential: sign in, or send `Authorization: Bearer <token>` with your API token "
    "(the first owner's is the admin token the server wrote to PROMPTEUR_HOME/admin_token)."
)


def require_admin(request: Request, runtime: RuntimeDep) -> Caller:
    """Every admin route's one check: who is calling (a session or an API token of an active
    user), and whether their role may use this route (bots.http.access). The caller is kept on
    the request for the audit log."""
    with runtime.sessions() as session:
        caller = accounts.resolve(session, bearer_token(request))
    if caller is None:
        raise ApiError("unauthorized", UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    needed = access.needed_role(request.method, template)
    if not caller.role.allows(needed):
        raise ApiError("forbidden", access.refusal(caller.role, needed, request.method, template))
    request.state.caller = caller
    return caller


AdminAuth = Depends(require_admin)
CallerDep = Annotated[Caller, Depends(require_admin)]


def get_bot(bot_id: str, session: DbSession) -> t.Bot:
    bot = session.get(t.Bot, bot_id)
    if bot is None:
        raise ApiError("bot_not_found", f"There is no bot with id {bot_id!r}.")
    return bot


BotDep = Annotated[t.Bot, Depends(get_bot)]
