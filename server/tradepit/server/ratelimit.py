"""Per-account token buckets: each order (new or amend) takes one token.

Admission control, not trading state, so it reads a monotonic clock; a throttled
account never slows another one down.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from tradepit.server.status import RateLimited


class TokenBucket:
    __slots__ = ("_burst", "_rate", "_tokens", "_updated")

    def __init__(self, rate: int, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._updated = now

    def take(self, now: float) -> float:
        """Take one token; return 0, or the seconds until one is available."""
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._rate


class RateLimiter:
    def __init__(self, rate: int, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate limit and burst must be positive")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[int, TokenBucket] = {}

    def check(self, account_id: int) -> None:
        """Raise `RateLimited` (with the retry delay) when the account is over its rate."""
        now = self._clock()
        bucket = self._buckets.get(account_id)
        if bucket is None:
            bucket = self._buckets[account_id] = TokenBucket(self._rate, self._burst, now)
        wait = bucket.take(now)
        if wait:
            raise RateLimited(max(1, math.ceil(wait * 1000)))
