"""Equity samples: every account's equity and net deposits at regular times, the last few kept.

The leaderboard's ratios need an equity path, and the exchange keeps none: it knows
only the present. `sample(now_ns)` records the present for every account; the server
calls it on a timer with the gateway's clock (`start`), and a test or an engine-time
simulation can call it directly with its own times. Samples live in memory only, in a
bounded ring per account, so memory stays flat however long the server runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import NamedTuple

from tradepit.exchange.exchange import Exchange
from tradepit.exchange.portfolio import equity

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 1_000


class Sample(NamedTuple):
    timestamp_ns: int
    equity: int
    net_deposits: int  # the account's deposited_value then

    @property
    def pnl(self) -> int:
        return self.equity - self.net_deposits


class EquitySampler:
    """Per-account rings of `capacity` samples. `clock` is where the timer takes its
    time (the gateway's `now`); `sample` may also be given a time directly."""

    def __init__(self, exchange: Exchange, clock: Callable[[], int],
                 capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 2:
            raise ValueError(f"keep at least 2 samples per account (a return needs 2), "
                             f"not {capacity}")
        self._exchange = exchange
        self.clock = clock
        self.capacity = capacity
        self.last_ns: int | None = None
        self._rings: dict[int, deque[Sample]] = {}
        self._task: asyncio.Task[None] | None = None

    def sample(self, now_ns: int) -> bool:
        """Record every account as of `now_ns`. A time not after the previous sample's
        (an engine clock that has not moved) records nothing and returns False."""
        if self.last_ns is not None and now_ns <= self.last_ns:
            return False
        self.last_ns = now_ns
        rings = self._rings
        for account_id, account in self._exchange.accounts.items():
            ring = rings.get(account_id)
            if ring is None:
                ring = rings[account_id] = deque(maxlen=self.capacity)
            ring.append(Sample(now_ns, equity(self._exchange, account), account.deposited_value))
        return True

    def samples(self, account_id: int) -> Sequence[Sample]:
        """The account's samples, oldest first (empty before its first)."""
        return self._rings.get(account_id, ())

    def every(self, interval_ms: float) -> Callable[[int], None]:
        """A listener for command times (`Gateway.on_command_applied`) that samples once
        `interval_ms` of that time has passed: on the engine clock, where time moves only
        with commands, the samples then fall at the same commands on every replay."""
        interval_ns = round(interval_ms * 1_000_000)

        def on_command(now_ns: int) -> None:
            if self.last_ns is None or now_ns - self.last_ns >= interval_ns:
                self.sample(now_ns)

        return on_command

    # ------------------------------------------------------------ on a timer

    def start(self, interval_ms: float) -> None:
        """Sample every `interval_ms` on an asyncio task, at the clock's time."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(interval_ms / 1_000),
                                             name="tradepit-leaderboard")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                self.sample(self.clock())
            except Exception:  # a reporting failure must never stop the exchange
                log.exception("leaderboard: sampling equity failed; trying again next time")
