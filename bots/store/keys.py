"""API keys and widget session tokens.

Keys are 256-bit random strings, so a plain SHA-256 is a safe way to store them (no salt or
slow hash needed: there is nothing to brute-force). Secret keys (`sk_`) reach a bot's API
from servers; publishable keys (`pk_`) sit in web pages and only open short-lived session
tokens, which are HMAC-signed and bound to one bot and one conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.file_modes import create_once
from bots.store import tables as t

PREFIXES = {"secret": "sk_", "publishable": "pk_"}
SESSION_PREFIX = "st_"


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_key(session: Session, bot_id: str, kind: str, label: str = "") -> tuple[t.ApiKey, str]:
    """The stored record and the plaintext, which exists only in this return value."""
    plaintext = PREFIXES[kind] + secrets.token_urlsafe(32)
    key = t.ApiKey(
        id=t.new_id("key"), bot_id=bot_id, kind=kind, prefix=plaintext[:10], hash=hash_key(plaintext), label=label
    )
    session.add(key)
    return key, plaintext


def find_key(session: Session, plaintext: str, kind: str) -> t.ApiKey | None:
    if not plaintext.startswith(PREFIXES[kind]):
        return None
    key = session.scalar(select(t.ApiKey).where(t.ApiKey.hash == hash_key(plaintext)))
    if key is None or key.revoked_at is not None or key.kind != kind:
        return None
    return key


def is_active(session: Session, key_id: str) -> bool:
    """Whether the key exists and is not revoked: sessions check it on every request, so
    revoking a publishable key ends the sessions it opened."""
    key = session.get(t.ApiKey, key_id)
    return key is not None and key.revoked_at is None


def masked(key: t.ApiKey) -> str:
    return f"{key.prefix}…"


@dataclass(frozen=True)
class SessionClaims:
    bot_id: str
    conversation_id: str
    expires_at: int
    key_id: str  # the publishable key that opened the session ("" in tokens from before keys were named)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Signed tokens, so any replica sharing the secret accepts them. They name the key that
    opened them, so that revoking it ends them (one lookup per request)."""

    def __init__(self, secret: str, ttl_s: int = 3600, clock=time.time):
        self._secret = secret.encode()
        self.ttl_s = ttl_s
        self._clock = clock

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    def issue(self, bot_id: str, conversation_id: str, key_id: str) -> tuple[str, int]:
        expires_at = int(self._clock()) + self.ttl_s
        claims = {"b": bot_id, "c": conversation_id, "e": expires_at, "k": key_id}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{SESSION_PREFIX}{payload}.{self._sign(payload)}", expires_at

    def verify(self, token: str, *, allow_expired: bool = False) -> SessionClaims | None:
        """The claims of a genuine token, or None. `allow_expired` is for resuming a
        conversation: an expired token still proves this browser owned it."""
        if not token.startswith(SESSION_PREFIX) or token.count(".") != 1:
            return None
        payload, signature = token[len(SESSION_PREFIX) :].split(".")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            claims = SessionClaims(str(data["b"]), str(data["c"]), int(data["e"]), str(data.get("k", "")))
        except (ValueError, KeyError, TypeError):
            return None
        if not allow_expired and claims.expires_at < self._clock():
            return None
        return claims


def ensure_session_secret(home: Path) -> str:
    return create_once(home / "session_secret", secrets.token_urlsafe(48))
