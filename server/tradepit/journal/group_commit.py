"""Group commit: applied commands wait here, in order, until one transaction holds them.

The gateway applies a command to the in-memory exchange at once and appends it here
with what it produced (execution reports, market events). A background task writes
everything pending in one transaction, through the journal's writer process (writer.py),
so the event loop keeps serving: commits start at most every `flush_ms` (at once when
the journal was idle that long), or sooner when `batch_size` entries are waiting; one
commit is written at a time, and the next takes everything that waited meanwhile. Only
then are the batch's effects released, in order, and the callers that wait on it
acknowledged.

With `projection` set, what each command touched in the queryable store (tradepit/store)
is noted as it is appended, read when a batch is cut, and written in the batch's
transaction.

With `snapshots` set, a snapshot is started when a batch is cut at least N entries after
the last one (the state is then the batch's last entry's): a forked child captures and
seals it (journal/snapshots.py), and it is stored once that entry is durable. Closing
takes a last one after the final commit.

If a commit fails, the batch is retried with backoff until it succeeds, and meanwhile
new commands are refused (`UNAVAILABLE`): what is in memory but not yet durable is
never acknowledged, and never dropped while the process lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from tradepit.exchange.codes import RejectCode
from tradepit.exchange.commands import Command
from tradepit.exchange.errors import Reject
from tradepit.exchange.model import ExecutionReport, MarketEvent
from tradepit.journal.codec import kind_of
from tradepit.journal.pending import Batch, FieldEntries, PendingEntries
from tradepit.journal.snapshots import Captured, Forked, Snapshotter
from tradepit.journal.writer import JournalWriter
from tradepit.store.projection import Projection, Rows

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.01
RETRY_MAX_S = 1.0

Release = Callable[[], None]
# What the gateway does with commands' effects once they are durable.
Publish = Callable[[list[ExecutionReport], list[MarketEvent]], None]
# The reports and market events of consecutive commands, published in one call.
Effects = tuple[list[ExecutionReport], list[MarketEvent]]


class GroupCommit:
    """Per command, the order path numbers its entry (journal/pending.py), notes its store
    rows and adds its reports and market events to the pending ones. Cutting a batch
    takes those whole, and its effects leave in a few calls rather than one per command."""

    def __init__(self, journal: JournalWriter, next_sequence: int, publish: Publish, *,
                 flush_ms: float = 2.0, batch_size: int = 1_000,
                 max_pending: int = 100_000, batches_ahead: int = 3,
                 entries: PendingEntries | None = None) -> None:
        """`entries`: how entries reach the writer, numbered from `next_sequence` on
        (by default as fields, which any exchange allows)."""
        self.journal = journal
        self.publish = publish
        self.next_sequence = next_sequence
        self.committed_sequence = next_sequence - 1
        self.batch_size = batch_size
        # How many commands order streams may apply while a commit is being written before
        # they wait (`room`); the next commit takes them all, so when the disk is slow the
        # batches grow and more commands share each fsync.
        self.max_ahead = batch_size * batches_ahead
        self.failing: str | None = None  # the last commit error, while commits fail
        # Told the reason when commits start failing, and None once they work again.
        self.on_failing: Callable[[str | None], None] | None = None
        self.batches = 0  # transactions committed
        self.entries = 0  # entries they held
        self.flush_s = flush_ms / 1000
        self._max_pending = max_pending
        # Applied, not yet in a batch, numbered from next_sequence on; their entries, and
        # the reports and market events they produced.
        self._commands: list[Command] = []
        self._entries = FieldEntries() if entries is None else entries
        self._add_each = self._entries.each_command
        self._reports: list[ExecutionReport] = []
        self._events: list[MarketEvent] = []
        # Releases from `after_pending`, each after the first n reports and m events.
        self._releases: list[tuple[int, int, Release]] = []
        self._last_start = -float("inf")  # when the last commit started (loop time)
        self._closing: str | None = None
        self._give_up_at = float("inf")
        loop = asyncio.get_running_loop()
        self._covered: asyncio.Future[None] = loop.create_future()  # the pending batch's
        self._in_flight: asyncio.Future[None] | None = None  # the batch being written
        self._ready = asyncio.Event()
        self._full = asyncio.Event()
        self.snapshots: Snapshotter | None = None  # None: no snapshots
        self.projection: Projection | None = None  # None: no queryable store
        self._captured: Captured | Forked | None = None  # waiting for its entry to be durable
        self._snapshot_task: asyncio.Task[None] | None = None  # sealing and storing one
        self._last_arrived_ns = 0
        self._task = loop.create_task(self._run(), name="journal group commit")
        self._task.add_done_callback(self._stopped)

    # -------------------------------------------------------------- the writer's side

    def admit(self) -> None:
        """Refuse a new command, changing nothing, while it could not be made durable."""
        if self._closing is not None:
            raise Reject(RejectCode.UNAVAILABLE, self._closing)
        if self.failing is not None:
            raise Reject(RejectCode.UNAVAILABLE,
                         "the exchange cannot write its journal (database unavailable, locked "
                         f"or full: {self.failing}); nothing new is accepted until it can, "
                         "retry shortly")
        if len(self._commands) >= self._max_pending:
            raise Reject(RejectCode.UNAVAILABLE,
                         "the journal is behind; retry shortly")

    def append(self, command: Command, reports: list[ExecutionReport],
               events: list[MarketEvent], *, raised: bool = False) -> asyncio.Future[None]:
        """Queue an applied command (`raised`: one the exchange raised on, other than a
        refusal) for the next commit, with the reports and market events it produced;
        return the future that completes once it is durable and its effects are
        released."""
        commands = self._commands
        sequence = self.next_sequence + len(commands)
        if self._add_each or raised:
            # kind_of: a TypeError for what is not journaled, before any change
            self._entries.add(sequence, kind_of(command), command)
        commands.append(command)
        if reports:
            self._reports += reports
        if events:
            self._events += events
        if self.projection is not None:
            self.projection.note(sequence, command, reports, events)
        if len(commands) == 1:
            self._ready.set()
        elif len(commands) == self.batch_size:
            self._full.set()  # once: the committer waits only while there are fewer
        return self._covered

    def after_pending(self, release: Release) -> None:
        """Run `release` after the effects of everything applied so far, in order."""
        if not self._commands and not self._releases and self._in_flight is None:
            release()
        else:
            self._releases.append((len(self._reports), len(self._events), release))
            self._ready.set()

    def settled(self) -> asyncio.Future[None] | None:
        """The future for everything applied so far; None when all of it is durable."""
        if self._commands or self._releases:
            return self._covered
        return self._in_flight

    @property
    def pending(self) -> int:
        """Commands applied and not yet in a batch."""
        return len(self._commands)

    async def room(self) -> None:
        """Wait while `max_ahead` commands are pending behind a commit still being
        written: memory stays bounded, and the next commit takes them all."""
        while len(self._commands) >= self.max_ahead and self._closing is None:
            in_flight = self._in_flight
            if in_flight is None:
                await asyncio.sleep(0)  # the committer takes the full batch at once
                if self._in_flight is None:
                    return  # it could not (it stopped): admission says why
            else:
                await asyncio.shield(in_flight)

    async def close(self, timeout: float = 10.0) -> int:
        """Refuse new commands, commit what is pending and stop; give up on a failing
        database after `timeout` s. Return how many applied commands were not made
        durable (they were never acknowledged)."""
        if self._closing is None:
            self._closing = "the exchange is shutting down; retry once it is back"
            self._give_up_at = asyncio.get_running_loop().time() + timeout
            self._ready.set()
            self._full.set()
        await asyncio.wait([self._task])  # if it died, `_stopped` said why
        lost = len(self._commands)
        if self._snapshot_task is not None:
            await self._snapshot_task
        captured, self._captured = self._captured, None
        if isinstance(captured, Forked):  # its entry never became durable
            captured.discard()
        snapshots = self.snapshots
        if (snapshots is not None and snapshots.every > 0 and not lost
                and snapshots.stored_sequence < self.committed_sequence == self.next_sequence - 1):
            await self._store_snapshot(
                snapshots.capture(self.committed_sequence, self._last_arrived_ns))
        await self.journal.close()
        return lost

    # ------------------------------------------------------------ the committer task

    def _stopped(self, task: asyncio.Task[None]) -> None:
        """If the committer dies of a bug, say so and refuse everything from then on:
        nothing can become durable, so nothing may be accepted."""
        if not task.cancelled() and task.exception() is not None:
            log.critical("the journal's committer stopped; refusing every command",
                         exc_info=task.exception())
            self._closing = "the exchange's journal stopped; it must be restarted"
            self._fail_waiters(self._in_flight, self._covered)

    @staticmethod
    def _fail_waiters(*futures: asyncio.Future[None] | None) -> None:
        """Tell whoever waits on these that their commands were never made durable."""
        for future in futures:
            if future is not None and not future.done():
                future.set_exception(Reject(
                    RejectCode.UNAVAILABLE,
                    "the exchange stopped before this was durable; it did not happen"))
                future.exception()  # retrieved: no "never retrieved" warning

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._commands and not self._releases:
                if self._closing is not None:
                    return
                self._ready.clear()
                await self._ready.wait()  # set by the first append, or by close()
                continue
            wait = self._last_start + self.flush_s - loop.time()
            if wait > 0 and len(self._commands) < self.batch_size and self._closing is None:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), wait)
            self._last_start = loop.time()
            commands = self._commands
            # The state is now exactly as the batch's last command left it.
            batch, effects = self._cut()
            rows = None if self.projection is None else self.projection.take()
            in_flight = self._in_flight = self._covered
            self._covered = loop.create_future()
            if not await self._commit(batch, len(commands), rows):
                self._commands[:0] = commands  # for close() to count
                self._fail_waiters(in_flight, self._covered)
                return
            self._release(effects)
            self._in_flight = None
            in_flight.set_result(None)
            self._start_snapshot()

    def _cut(self) -> tuple[Batch, list[Effects | Release]]:
        """Take the pending commands as a batch: their entries, for the writer, and their
        effects in runs between the releases. A snapshot is captured if one is due (the
        state is the batch's last entry's)."""
        batch = self._entries.take(self.next_sequence + len(self._commands))
        commands, self._commands = self._commands, []
        reports, self._reports = self._reports, []
        events, self._events = self._events, []
        releases, self._releases = self._releases, []
        effects: list[Effects | Release] = []
        reported = published = 0  # the reports and events in effects so far
        for report_count, event_count, release in releases:
            if report_count > reported or event_count > published:
                effects.append((reports[reported:report_count], events[published:event_count]))
                reported, published = report_count, event_count
            effects.append(release)
        if reported < len(reports) or published < len(events):
            effects.append((reports[reported:], events[published:])
                           if reported or published else (reports, events))
        if commands:
            self.next_sequence += len(commands)
            last = self.next_sequence - 1
            self._last_arrived_ns = commands[-1].timestamp
            snapshots = self.snapshots
            if (snapshots is not None and snapshots.due(last) and self._captured is None
                    and self._snapshot_idle()):
                self._captured = snapshots.take(last, self._last_arrived_ns)
        return batch, effects

    def _release(self, effects: list[Effects | Release]) -> None:
        publish = self.publish
        for effect in effects:
            try:
                if type(effect) is tuple:
                    publish(*effect)
                else:
                    effect()  # type: ignore[operator]
            except Exception:
                log.exception("releasing the effects of durable commands failed")

    # ------------------------------------------------------------ snapshots

    def _snapshot_idle(self) -> bool:
        return self._snapshot_task is None or self._snapshot_task.done()

    def _start_snapshot(self) -> None:
        """Store the captured snapshot in the background once its entry is durable."""
        captured = self._captured
        if captured is not None and captured.sequence <= self.committed_sequence:
            self._captured = None
            self._snapshot_task = asyncio.get_running_loop().create_task(
                self._store_snapshot(captured), name="journal snapshot")

    async def _store_snapshot(self, captured: Captured | Forked) -> None:
        """Wait for the seal (commits go on meanwhile), then write through the writer,
        one transaction between two commits. A failure loses only the snapshot: the
        journal still holds everything."""
        assert self.snapshots is not None
        try:
            row = await captured.sealed(self.snapshots.book_factory)
            await self.journal.write_snapshot(row)
            self.snapshots.stored_sequence = max(self.snapshots.stored_sequence,
                                                 captured.sequence)
        except Exception:
            log.exception("the snapshot at journal entry %d was not stored; recovery will "
                          "use an older one and a longer replay", captured.sequence)
            return
        log.info("snapshot at journal entry %d stored (%d bytes)", captured.sequence,
                 len(row.payload))

    def _set_failing(self, reason: str | None) -> None:
        self.failing = reason
        if self.on_failing is not None:
            self.on_failing(reason)

    async def _commit(self, batch: Batch, count: int, rows: Rows | None) -> bool:
        """Write the batch's `count` commands, retrying until it works; False if closing
        gave up."""
        if not count:
            return True
        loop = asyncio.get_running_loop()
        retrying = False
        delay = RETRY_FIRST_S
        while True:
            try:
                await self.journal.append(batch, rows, retrying)
                break
            except Exception as error:
                # the first line: without the statement and its rows
                reason = (str(error).splitlines() or [type(error).__name__])[0]
                if self.failing is None:
                    log.error("journal commit failed; refusing new commands and retrying "
                              "%d pending: %s", count, reason)
                    self._set_failing(reason)
                self.failing = reason
                if loop.time() + delay > self._give_up_at:
                    log.error("gave up committing %d journal entries at shutdown; they were "
                              "never acknowledged", count)
                    return False
                retrying = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_S)
        if self.failing is not None:
            log.warning("journal commits again; accepting commands")
            self._set_failing(None)
        self.committed_sequence += count
        self.batches += 1
        self.entries += count
        return True

