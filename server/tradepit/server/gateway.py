"""The single writer: every state change enters the exchange here, one at a time.

The gateway stamps each command with the time, applies it, and fans the resulting
execution reports out to the account's open order streams. It is the seam where the
journal goes: a command is acknowledged only after `execute` returns.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tradepit_client.v1 import common_pb2

from tradepit.exchange.commands import Command
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.model import ExecutionReport, MarketEvent

# What an order stream carries: the exchange's reports, and refusals of stream requests
# that never reached the exchange, which OrderService queues as ready-made messages.
StreamReport = ExecutionReport | common_pb2.ExecutionReport


class ReportQueue:
    """One order stream's bounded buffer; overflowing ends that stream, never drops.

    A plain list plus one Event: the writer wakes once for everything that arrived,
    which is what lets many reports leave in one message.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._reports: list[StreamReport] = []
        self._ready = asyncio.Event()
        self.overflowed = False

    def put(self, report: StreamReport) -> None:
        if len(self._reports) >= self._size:
            self.overflowed = True
        else:
            self._reports.append(report)
        self._ready.set()

    def wake(self) -> None:
        self._ready.set()

    async def wait(self) -> None:
        await self._ready.wait()
        self._ready.clear()

    def drain(self) -> list[StreamReport]:
        reports, self._reports = self._reports, []
        return reports


MarketListener = Callable[[list[MarketEvent]], None]


class Gateway:
    def __init__(self, exchange: Exchange, clock: Callable[[], int] = time.time_ns) -> None:
        self.exchange = exchange
        self._clock = clock
        self._last_time = 0
        self._streams: dict[int, set[ReportQueue]] = defaultdict(set)
        self._market_listeners: list[MarketListener] = []

    def on_market_events(self, listener: MarketListener) -> None:
        """Call `listener` after every command with the book and status changes it made."""
        self._market_listeners.append(listener)

    def now(self) -> int:
        """Wall-clock nanoseconds, never going backwards (commands replay in order)."""
        self._last_time = max(self._last_time, self._clock())
        return self._last_time

    def execute(self, make: Callable[[int], Command]) -> Any:
        """Build the command with the current time, apply it, publish its reports."""
        command = make(self.now())
        try:
            return self.exchange.execute(command)
        finally:
            self._publish(self.exchange.take_reports())
            market_events = self.exchange.take_market_events()
            if market_events:
                for listener in self._market_listeners:
                    listener(market_events)

    def subscribe(self, account_id: int, size: int) -> ReportQueue:
        queue = ReportQueue(size)
        self._streams[account_id].add(queue)
        return queue

    def unsubscribe(self, account_id: int, queue: ReportQueue) -> None:
        streams = self._streams.get(account_id)
        if streams is not None:
            streams.discard(queue)
            if not streams:
                del self._streams[account_id]

    def _publish(self, reports: list[ExecutionReport]) -> None:
        streams = self._streams
        for report in reports:
            for queue in streams.get(report.account_id, ()):
                queue.put(report)
