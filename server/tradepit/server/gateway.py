"""The single writer: every state change enters the exchange here, one at a time.

The gateway stamps each command with the time and applies it. With a journal, the
command then joins the next group commit, and its effects (execution reports to the
account's order streams, market events to the listeners) leave in order only once that
commit covers it: `execute` returns, and so acknowledges, only what is durable.
Without one (durability off), effects leave at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from tradepit_client.v1 import common_pb2

from tradepit.exchange.commands import Command
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.model import ExecutionReport, MarketEvent
from tradepit.journal.group_commit import GroupCommit
from tradepit.server.clock import Clock, WallClock

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

    def put_many(self, reports: list[StreamReport]) -> None:
        """`put` each, in one call: what fits, and overflowed if not all did."""
        room = self._size - len(self._reports)
        if len(reports) > room:
            self.overflowed = True
            reports = reports[:max(room, 0)]
        self._reports += reports
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
CommandListener = Callable[[int], None]
T = TypeVar("T")


class Gateway:
    def __init__(self, exchange: Exchange, clock: Clock | None = None) -> None:
        self.exchange = exchange
        self.journal: GroupCommit | None = None  # None: durability off
        # Refusals per account since this start: never journaled, so never replayed.
        self.rejects: Counter[int] = Counter()
        self.clock: Clock = clock or WallClock()
        self._last_time = 0
        self._streams: dict[int, set[ReportQueue]] = defaultdict(set)
        self._market_listeners: list[MarketListener] = []
        self._applied_listeners: list[MarketListener] = []
        self._command_listeners: list[CommandListener] = []

    def on_market_events(self, listener: MarketListener) -> None:
        """Call `listener` with the book and status changes of every command, in order,
        once the command is durable (the books may have moved on by then). One call may
        carry the changes of several commands."""
        self._market_listeners.append(listener)

    def on_applied_market_events(self, listener: MarketListener) -> None:
        """Call `listener` with a command's changes as soon as it is applied, while the
        books are exactly as it left them. Anything it sends out must wait for the
        journal: pass it to `after_pending`."""
        self._applied_listeners.append(listener)

    def on_command_applied(self, listener: CommandListener) -> None:
        """Call `listener` with the time of every command applied (not refused), right
        after it: what an engine-clock simulation runs on. The listener may apply
        commands itself, and is then called for those too."""
        self._command_listeners.append(listener)

    def now(self) -> int:
        """The clock's time in nanoseconds, never going backwards (commands replay in
        order); with the engine clock, the time of the last command applied."""
        self._last_time = self.clock.now(self._last_time)
        return self._last_time

    async def execute(self, make: Callable[[int], Command], answer: Callable[[Any], T]) -> T:
        """Apply a command built with the current time and return `answer(result)` once
        the command is durable. The answer is built at once: later commands may change
        the objects the result names before the commit, and they are not durable yet."""
        result = self.apply(make)
        try:
            return answer(result)
        finally:
            await self.settled()

    def admit(self) -> None:
        """Raise `Reject` (UNAVAILABLE) while a command could not be made durable."""
        if self.journal is not None:
            self.journal.admit()

    def apply(self, make: Callable[[int], Command], *, admit: bool = True) -> Any:
        """Apply a command now; its effects leave once it is durable, and nothing waits.

        A refusal (`Reject`) changed nothing and is not journaled. `admit=False` skips
        the journal's admission check, for commands admitted together (`admit`): the
        second half of a pair, or the requests of one stream message.
        """
        journal = self.journal
        if journal is not None and admit:
            journal.admit()
        stamp = self.clock.stamp(self._last_time)
        command = make(stamp)
        try:
            result = self.exchange.execute(command)
        except Reject:
            account_id = getattr(command, "account_id", None)
            if account_id is not None:
                self.rejects[account_id] += 1
            raise
        except Exception:
            self._last_time = stamp
            # It may have changed state: keep the journal faithful.
            self._record(command, raised=True)
            raise
        self._last_time = stamp
        self._record(command)
        for listener in self._command_listeners:
            listener(stamp)
        return result

    async def settled(self) -> None:
        """Wait until everything applied so far is durable and its effects have left."""
        journal = self.journal
        if journal is not None:
            covering = journal.settled()
            if covering is not None:
                await asyncio.shield(covering)

    async def throttle(self) -> None:
        """Make a writer that does not wait per command (an order stream) wait for the
        journal while it is as far ahead of the commit in flight as the journal allows:
        memory stays bounded."""
        journal = self.journal
        if journal is not None and journal.pending >= journal.max_ahead:
            await journal.room()

    def after_pending(self, release: Callable[[], None]) -> None:
        """Run `release` after the effects of every command applied so far, in order."""
        if self.journal is None:
            release()
        else:
            self.journal.after_pending(release)

    def replay(self, command: Command) -> None:
        """Apply a journaled command at recovery: market listeners see its events, and
        there is no one to report to yet."""
        self._last_time = max(self._last_time, command.timestamp)
        try:
            self.exchange.execute(command)
        finally:
            _, events = self._take_effects()
            if events:
                self.release([], events)

    def _take_effects(self) -> tuple[list[ExecutionReport], list[MarketEvent]]:
        """The last command's reports and market events; applied-listeners see the events
        now, while the books are as the command left them."""
        reports = self.exchange.take_reports()
        events = self.exchange.take_market_events()
        if events:
            for listener in self._applied_listeners:
                listener(events)
        return reports, events

    def _record(self, command: Command, raised: bool = False) -> None:
        reports, events = self._take_effects()
        if self.journal is not None:
            self.journal.append(command, reports, events, raised=raised)
        elif reports or events:
            self.release(reports, events)

    def release(self, reports: list[ExecutionReport], events: list[MarketEvent]) -> None:
        """Send out the effects of durable commands: reports to the accounts' order
        streams, market events to the listeners."""
        self._publish(reports)
        if events:
            for listener in self._market_listeners:
                listener(events)

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
        """Each report to its account's order streams, in order. A durable batch's many
        go to each stream in one call (`put_many`), not one call per report."""
        streams = self._streams
        if len(reports) == 1:
            for queue in streams.get(reports[0].account_id, ()):
                queue.put(reports[0])
            return
        streamed: dict[int, list[StreamReport]] = {}
        for report in reports:
            account_id = report.account_id
            if account_id in streams:
                theirs = streamed.get(account_id)
                if theirs is None:
                    streamed[account_id] = [report]
                else:
                    theirs.append(report)
        for account_id, theirs in streamed.items():
            for queue in streams[account_id]:
                queue.put_many(theirs)
