"""Who is calling the public API, from where, and whether they may right now.

Credentials: a secret key (`sk_`, servers) or a widget session token (`st_`, opened with a
publishable key). Both are scoped to one bot. The client IP comes from the socket unless the
socket is a configured reverse proxy; only then is X-Forwarded-For believed."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from bots.http.deps import RuntimeDep, bearer_token
from bots.http.errors import ApiError
from bots.store import keys


@dataclass
class Caller:
    bot_id: str
    owner: str  # "key:<api key id>" | "session"
    channel: str  # api | widget
    conversation_id: str | None  # the one a session token is bound to

    @property
    def rate_key(self) -> str:
        return f"session:{self.conversation_id}" if self.owner == "session" else self.owner


def _unauthorized(message: str) -> ApiError:
    return ApiError("unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def _publishable_refused(runtime, token: str, bot_id: str | None) -> ApiError:
    """Routes without a bot in their path (the OpenAI-compatible ones) have no `bot_id`: the
    key's own bot names the sessions route then, and it is said that those routes need a
    secret key (this once told clients to `POST /v1/bots/None/sessions`)."""
    if bot_id is None:
        with runtime.sessions() as s:
            key = keys.find_key(s, token, "publishable")
        sessions = f"POST /v1/bots/{key.bot_id}/sessions" if key else "POST /v1/bots/<bot id>/sessions"
        return ApiError(
            "publishable_key",
            "This endpoint needs a secret key (`Authorization: Bearer sk_...`, created in the builder); "
            f"a publishable key (pk_) only opens widget sessions: {sessions}.",
        )
    return ApiError(
        "publishable_key",
        "A publishable key (pk_) only opens widget sessions: "
        f"POST /v1/bots/{bot_id}/sessions, then use the session token it returns.",
    )


def caller_for(request: Request, runtime, bot_id: str | None) -> Caller:
    """The caller, checked against `bot_id`; with None, any bot's secret key passes (the
    route checks the bot itself, once it has read it from the body)."""
    token = bearer_token(request)
    if not token:
        raise _unauthorized(
            "This needs credentials: send `Authorization: Bearer sk_...` (a secret key "
            "from the builder) or a widget session token."
        )
    if token.startswith(keys.PREFIXES["publishable"]):
        raise _publishable_refused(runtime, token, bot_id)
    if token.startswith(keys.SESSION_PREFIX) and bot_id is not None:
        claims = runtime.signer.verify(token)
        if claims is None:
            raise _unauthorized("The session token is invalid or expired: open a new session.")
        with runtime.sessions() as s:
            # Revoking the publishable key ends its sessions at once. Tokens from before
            # sessions named their key cannot be traced to one: they open a new session.
            active = bool(claims.key_id) and keys.is_active(s, claims.key_id)
        if not active:
            raise _unauthorized("The key that opened this session was revoked: open a new session.")
        if claims.bot_id != bot_id:
            raise ApiError("wrong_bot", "This session belongs to another bot.")
        return Caller(bot_id, "session", "widget", claims.conversation_id)
    with runtime.sessions() as s:
        key = keys.find_key(s, token, "secret")
    if key is None:
        raise _unauthorized("The API key is not valid (unknown or revoked). Create a key in the builder.")
    if bot_id is not None and key.bot_id != bot_id:
        raise ApiError("wrong_bot", "This key belongs to another bot: use a key created for this bot.")
    return Caller(key.bot_id, f"key:{key.id}", "api", None)


def bot_caller(bot_id: str, request: Request, runtime: RuntimeDep) -> Caller:
    return caller_for(request, runtime, bot_id)


PublicCaller = Annotated[Caller, Depends(bot_caller)]


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(ip: str, networks) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in n for n in networks)


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The socket's peer; through trusted proxies, the right-most X-Forwarded-For address
    that is not itself a trusted proxy (the left part is whatever the client wrote)."""
    peer = request.client.host if request.client else "unknown"
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def check_rate(runtime, key: str, per_minute: int) -> None:
    wait = runtime.limiter.hit(key, per_minute)
    if wait is not None:
        raise ApiError(
            "rate_limited",
            f"Too many requests; try again in {wait} seconds.",
            retry_after=wait,  # the handler sends Retry-After and the `retry_after` field
        )


def limit_ip(request: Request, runtime: RuntimeDep) -> None:
    check_rate(runtime, "ip:" + client_ip(request, runtime.settings.trusted_proxies), runtime.settings.rate_per_ip)


IpLimit = Depends(limit_ip)


def limit_question(runtime, caller: Caller) -> None:
    """Per caller (session or key), then per bot: one noisy client cannot starve a bot's
    other users before the bot's own cap does."""
    check_rate(runtime, caller.rate_key, runtime.settings.rate_per_session)
    check_rate(runtime, "bot:" + caller.bot_id, runtime.settings.rate_per_bot)
