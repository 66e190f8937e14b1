"""Typed dependencies that keep route functions short."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy import event
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
        # Flushed and not yet committed: what `release` must not commit for the route.
        event.listen(session, "after_flush", _wrote)
        event.listen(session, "after_commit", _saved)
        event.listen(session, "after_rollback", _saved)
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def _wrote(session: Session, _flush_context) -> None:
    session.info["unsaved_writes"] = True


def _saved(session: Session) -> None:
    session.info.pop("unsaved_writes", None)


def release(session: Session, failed: bool) -> None:
    """Give the session's pooled connection back while the route's thread still runs.

    FastAPI closes a `DbSession` only after the response is sent, and between the route and
    then it needs another thread-pool call (validating the response model). A request holding
    a connection while it queues for a thread deadlocks the server under load: once all 40
    threads wait for a connection, the holders wait for a thread, until the pool timeout fails
    them all with 503s (200 widget visitors: every session request;
    tests/test_pool_under_load.py). Ending a read-only transaction keeps the loaded objects
    (expire_on_commit is off) and changes nothing; a failed route's work is rolled back, as
    closing would have done. Writes a route flushed and did not commit are left for the close
    to roll back, as before."""
    if failed:
        with contextlib.suppress(Exception):  # the route's own error is the one to report
            session.rollback()
    elif not session.info.get("unsaved_writes"):
        session.commit()


def _releasing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint) or getattr(endpoint, "_releases_session", False):
        return endpoint  # async routes run on the event loop, with no thread to queue for

    @functools.wraps(endpoint)  # FastAPI reads the route's signature through __wrapped__
    def route(**values: Any) -> Any:
        sessions = [value for value in values.values() if isinstance(value, Session)]
        try:
            result = endpoint(**values)
        except BaseException:
            for session in sessions:
                release(session, failed=True)
            raise
        for session in sessions:
            release(session, failed=False)
        return result

    route._releases_session = True  # type: ignore[attr-defined]
    return route


class ReleasingRoute(APIRoute):
    """The route class of every router: see `release`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _releasing(endpoint), **kwargs)


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
    release(session, failed=False)  # the route is another thread-pool call
    if bot is None:
        raise ApiError("bot_not_found", f"There is no bot with id {bot_id!r}.")
    return bot


BotDep = Annotated[t.Bot, Depends(get_bot)]
