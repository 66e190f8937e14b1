"""Rate limits shared by every server process: the token buckets live in the database.

Each hit is one statement, an upsert that refills the bucket for the time elapsed, takes a
token if there is one and returns what it decided. The database serialises writers of one
row (SQLite: one writer at a time; Postgres: the row lock of ON CONFLICT DO UPDATE), so two
processes cannot both take the last token, and a client cannot multiply its limit by the
number of processes its requests land on."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Float, bindparam, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import sessionmaker

from bots.store import tables as t

# A bucket idle for longer than this has refilled whatever its rate (a minute refills any
# bucket): forgetting it changes nothing. Swept once every PRUNE_EVERY hits of a process.
IDLE_S = 120.0
PRUNE_EVERY = 1000
MAX_KEY = 255


class SharedRateLimiter:
    """The interface of bots.rate_limit.RateLimiter, on the `rate_buckets` table."""

    def __init__(self, sessions: sessionmaker, clock: Callable[[], float] = time.time):
        # Wall-clock seconds, not monotonic: processes (and machines) must agree on "now".
        # Clocks that disagree by a little only shift refills by that much (never below 0).
        self._sessions = sessions
        self._clock = clock
        self._hits = 0
        self._lock = threading.Lock()
        self._upserts: dict[str, Any] = {}

    def hit(self, key: str, per_minute: int) -> int | None:
        now = self._clock()
        rate = per_minute / 60.0
        with self._sessions.begin() as s:
            connection = s.connection()
            tokens, allowed = connection.execute(
                self._upsert(connection.dialect.name),
                {"key": _stored_key(key), "now": now, "capacity": float(per_minute), "rate": rate},
            ).one()
        self._maybe_prune(now)
        if allowed:
            return None
        return max(1, math.ceil((1.0 - tokens) / rate))

    def _upsert(self, dialect: str):
        """The one statement of a hit, built once per dialect: every value is a parameter,
        so SQLAlchemy compiles it once (building and compiling it cost ~20× the database's
        own work per hit)."""
        if dialect not in self._upserts:
            b = t.RateBucket.__table__.c  # the existing row's columns, in the upsert's SET
            now, capacity, rate = (bindparam(n, type_=Float) for n in ("now", "capacity", "rate"))
            elapsed = case((b.counted_at < now, now - b.counted_at), else_=0.0)
            refilled = b.tokens + elapsed * rate
            available = case((refilled > capacity, capacity), else_=refilled)
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            upsert = insert(t.RateBucket).values(
                key=bindparam("key"), tokens=capacity - 1.0, counted_at=now, allowed=True
            )
            self._upserts[dialect] = upsert.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "tokens": case((available >= 1.0, available - 1.0), else_=available),
                    "counted_at": case((b.counted_at < now, now), else_=b.counted_at),
                    "allowed": available >= 1.0,
                },
            ).returning(b.tokens, b.allowed)
        return self._upserts[dialect]

    def _maybe_prune(self, now: float) -> None:
        with self._lock:
            self._hits += 1
            if self._hits % PRUNE_EVERY:
                return
        with self._sessions.begin() as s:
            s.execute(delete(t.RateBucket).where(t.RateBucket.counted_at < now - IDLE_S))


def _stored_key(key: str) -> str:
    """Keys hold user input (a login name): a long one is stored as its digest."""
    if len(key) <= MAX_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
