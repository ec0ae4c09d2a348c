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

    def take(self, now: float, wanted: int = 1) -> int:
        """Take up to `wanted` tokens, as many whole ones as there are; return how many."""
        tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        taken = min(wanted, int(tokens))
        self._tokens = tokens - taken
        return taken

    def wait(self) -> float:
        """The seconds until the next whole token."""
        return max(0.0, (1 - self._tokens) / self._rate)


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
        if not self.grant(account_id, 1):
            raise self.refusal(account_id)

    def grant(self, account_id: int, orders: int) -> int:
        """How many of `orders` placed at once may go now (their tokens are taken): the
        first ones, as many as one `check` each would let through. An order stream asks
        once per message rather than once per order."""
        now = self._clock()
        bucket = self._buckets.get(account_id)
        if bucket is None:
            bucket = self._buckets[account_id] = TokenBucket(self._rate, self._burst, now)
        return bucket.take(now, orders)

    def refusal(self, account_id: int) -> RateLimited:
        """The refusal of an order beyond what `grant` allowed, with the retry delay."""
        return RateLimited(max(1, math.ceil(self._buckets[account_id].wait() * 1000)))
