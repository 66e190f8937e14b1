"""Typed dependencies that keep route functions short."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from bots.http.errors import ApiError
from bots.runtime import Runtime
from bots.store import tables as t


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


def require_admin(request: Request, runtime: RuntimeDep) -> None:
    token = bearer_token(request)
    if not token or not hmac.compare_digest(token.encode(), runtime.admin_token.encode()):
        raise ApiError(
            "unauthorized",
            "This needs the admin token: send `Authorization: Bearer <token>` "
            "(the server wrote it to PROMPTEUR_HOME/admin_token).",
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminAuth = Depends(require_admin)


def get_bot(bot_id: str, session: DbSession) -> t.Bot:
    bot = session.get(t.Bot, bot_id)
    if bot is None:
        raise ApiError("bot_not_found", f"There is no bot with id {bot_id!r}.")
    return bot


BotDep = Annotated[t.Bot, Depends(get_bot)]
