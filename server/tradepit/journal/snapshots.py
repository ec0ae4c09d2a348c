"""When to take a snapshot, how to seal one for storage, and how to open a stored one.

A snapshot must hold exactly the state after one journal entry, and capturing a large
state takes seconds (7 s for a million orders of history), far too long to hold the
event loop. So the server forks between two commands (`Snapshotter.fork`): the child
has the state as it was at the fork, copy-on-write, and no command can move it. It
captures the bytes, seals them (the state's digest and a checksum of the bytes) and
hands the row back through an unlinked file, while the parent goes on serving: the loop
is held only for the fork. Where forking is not safe (not Linux, or gRPC's fork
handlers are on: they are meant for children that keep using gRPC, and can stall a fork
while its threads run), and at a clean stop, `capture` runs on the loop and `seal` in a
worker thread; the state has moved on by then, so `seal` takes the digest from loading
the bytes. `open_snapshot` checks both the digest and the checksum before recovery
trusts one.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import pickle
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from hashlib import blake2b
from typing import IO, Any, NamedTuple, NoReturn

from tradepit.exchange.digest import state_digest
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange
from tradepit.exchange.snapshot import Unusable, capture, load
from tradepit.journal.children import die_with_parent
from tradepit.journal.store import SnapshotRow

log = logging.getLogger(__name__)

BookFactory = Callable[[int, int], Any]


class Captured(NamedTuple):
    """A snapshot's bytes, captured on the event loop."""

    sequence: int
    last_time_ns: int
    payload: bytes
    pause_s: float  # how long the event loop was held

    async def sealed(self, book_factory: BookFactory) -> SnapshotRow:
        return await asyncio.to_thread(seal, self, book_factory)


class Forked:
    """A snapshot being captured and sealed by a forked child."""

    def __init__(self, sequence: int, pid: int, out: IO[bytes], pause_s: float) -> None:
        self.sequence = sequence
        self.pid = pid
        self.pause_s = pause_s  # how long the fork held the event loop
        self.child_cpu_s: float | None = None  # the child's CPU time, once it has exited
        self._out = out

    async def sealed(self, book_factory: BookFactory) -> SnapshotRow:
        """The child's row, once it has exited; `RuntimeError` if it failed. Cancelled,
        the child is killed."""
        try:
            try:
                code, self.child_cpu_s = await _exited(self.pid)
            except BaseException:  # not collected yet, so the pid is still the child's
                self._kill()
                raise
            if code != 0:
                raise RuntimeError(f"the snapshot process exited with code {code}")
            log.info("snapshot at journal entry %d sealed by process %d in %.3f s of CPU",
                     self.sequence, self.pid, self.child_cpu_s)
            return await asyncio.to_thread(_read_row, self._out)
        finally:
            self._out.close()

    def discard(self) -> None:
        """Stop the child and drop its snapshot (its entry never became durable)."""
        self._kill()
        self._out.close()

    def _kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def checksum(payload: bytes) -> str:
    return blake2b(payload, digest_size=16).hexdigest()


def seal(captured: Captured, book_factory: BookFactory) -> SnapshotRow:
    """The row to store: the digest of the state the payload loads to, and its checksum."""
    digest = state_digest(load(captured.payload, book_factory))
    return SnapshotRow(captured.sequence, time.time_ns(), captured.last_time_ns, digest,
                       checksum(captured.payload), captured.payload)


def open_snapshot(row: SnapshotRow, book_factory: BookFactory) -> Exchange | NativeExchange:
    """The exchange a stored snapshot holds, or `Unusable` if it does not check out."""
    if checksum(row.payload) != row.checksum:
        raise Unusable("its payload does not match its checksum")
    exchange = load(row.payload, book_factory)
    digest = state_digest(exchange)
    if digest != row.state_digest:
        raise Unusable(f"it loads to state digest {digest}, not the {row.state_digest} "
                       "it was taken with")
    return exchange


class Snapshotter:
    """Captures the exchange every `every` journal entries (0: never)."""

    def __init__(self, exchange: Exchange, every: int, book_factory: BookFactory,
                 last_sequence: int = 0) -> None:
        self.exchange = exchange
        self.every = every
        self.book_factory = book_factory
        self.last_sequence = last_sequence  # of the newest snapshot taken or found
        # Of the newest one stored or found: a snapshot taken may still fail to be stored.
        self.stored_sequence = last_sequence
        self.pauses: list[float] = []

    def due(self, sequence: int) -> bool:
        return self.every > 0 and sequence - self.last_sequence >= self.every

    def take(self, sequence: int, last_time_ns: int) -> Captured | Forked:
        """Start a snapshot of the state now, which must be the state right after entry
        `sequence`: in a forked child where that is safe, else on the loop."""
        return self.fork(sequence, last_time_ns) if can_fork() else \
            self.capture(sequence, last_time_ns)

    def capture(self, sequence: int, last_time_ns: int) -> Captured:
        """The state now as bytes, captured on the loop."""
        started = time.perf_counter()
        payload = capture(self.exchange)
        pause = time.perf_counter() - started
        self.last_sequence = sequence
        self.pauses.append(pause)
        log.info("snapshot at journal entry %d captured: %d bytes, loop held %.3f s",
                 sequence, len(payload), pause)
        return Captured(sequence, last_time_ns, payload, pause)

    def fork(self, sequence: int, last_time_ns: int) -> Forked:
        """A child that captures and seals the state now; the loop waits only for the
        fork. The child's memory is the parent's, copied page by page as either writes:
        at worst the state's size again, for as long as the child runs."""
        # Unlinked, so a crash leaves nothing behind; Forked.sealed closes it.
        out = tempfile.TemporaryFile(prefix="tradepit-snapshot-")  # noqa: SIM115
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child
            _capture_and_exit(self.exchange, sequence, last_time_ns, out)
        pause = time.perf_counter() - started
        self.last_sequence = sequence
        self.pauses.append(pause)
        log.info("snapshot at journal entry %d: process %d captures it, loop held %.3f s",
                 sequence, pid, pause)
        return Forked(sequence, pid, out, pause)


def can_fork() -> bool:
    """Whether a snapshot may be taken by a forked child: on Linux (pidfd), with gRPC's
    fork handlers off (the server turns them off: tradepit/server/__init__.py)."""
    setting = os.environ.get("GRPC_ENABLE_FORK_SUPPORT", "").strip().lower()
    return sys.platform == "linux" and hasattr(os, "pidfd_open") and \
        setting in ("0", "false", "no", "off")


def _capture_and_exit(exchange: Exchange, sequence: int, last_time_ns: int,
                      out: IO[bytes]) -> NoReturn:
    """The child's whole life. It never returns to the event loop, touches nothing of
    gRPC's, and leaves with `os._exit`, so no finalizer or atexit hook of the server's
    runs twice. Signals meant for the server's loop must not reach it through a wakeup
    descriptor the two share."""
    code = 1
    try:
        gc.disable()  # no collection may finalize an object of the parent's
        die_with_parent()
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        _yield_the_cpu()
        # Only the output file and the standard streams: the parent's sockets and pipes
        # must close when the parent closes them, not when this child is done.
        keep = out.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
        # The state cannot move here, so its digest is the one the payload must load to:
        # recovery checks that (open_snapshot), and loading it here too would add half
        # again to the child's time.
        payload = capture(exchange)
        row = SnapshotRow(sequence, time.time_ns(), last_time_ns, state_digest(exchange),
                          checksum(payload), payload)
        pickle.dump(tuple(row), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _yield_the_cpu() -> None:
    """Run only on CPU time the server does not want (SCHED_IDLE, else the lowest nice
    value): nothing waits for a snapshot, while every order waits for the event loop and
    the journal's writer."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


async def _exited(pid: int) -> tuple[int, float]:
    """Wait, without blocking the loop, for child `pid` to exit; collect it and return
    its exit code and the CPU time it used."""
    descriptor = os.pidfd_open(pid)
    try:
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(descriptor, readable)
        try:
            await exited
        finally:
            loop.remove_reader(descriptor)
    finally:
        os.close(descriptor)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def _read_row(out: IO[bytes]) -> SnapshotRow:
    out.seek(0)
    return SnapshotRow._make(pickle.load(out))
