"""Token-bucket rate limits kept in this process's memory.

With several server processes each would keep its own buckets, multiplying the limit by
their number: the runtime then uses the database's buckets instead
(bots.store.rate_buckets.SharedRateLimiter, same interface; Settings.shared_rate_limits)."""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

MAX_BUCKETS = 100_000


class Limiter(Protocol):
    def hit(self, key: str, per_minute: int) -> int | None:
        """Take one token from `key`'s bucket (capacity `per_minute`, refilled evenly over a
        minute). None if allowed, else the whole seconds to wait before trying again."""
        ...


class RateLimiter:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def hit(self, key: str, per_minute: int) -> int | None:
        """Take one token from `key`'s bucket (capacity `per_minute`, refilled evenly over a
        minute). None if allowed, else the whole seconds to wait before trying again."""
        now = self._clock()
        rate = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return max(1, math.ceil((1.0 - tokens) / rate))
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_BUCKETS:
                self._prune(now)
        return None

    def _prune(self, now: float) -> None:
        # Buckets idle for a minute are full again: forgetting them changes nothing.
        for key in [k for k, (_, last) in self._buckets.items() if now - last > 60]:
            del self._buckets[key]
