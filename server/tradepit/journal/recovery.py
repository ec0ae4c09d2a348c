"""Recovery: load the newest snapshot that checks out, then check every journal entry
after it and apply it, in order, before serving.

A snapshot that does not check out (see journal/snapshots.py) is logged and skipped for
an older one, and without any the whole journal is replayed.

Replay stops at the first entry that does not check out (a gap in the sequence, a
checksum mismatch, a payload that does not decode, or a command the exchange now
refuses). What to do then is the operator's call: by default the server refuses to
start; `TRADEPIT_JOURNAL_ON_CORRUPTION=quarantine` moves that entry and everything
after it to journal_quarantine and serves the state before it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from tradepit.exchange.commands import Command
from tradepit.exchange.errors import Reject
from tradepit.journal.codec import CorruptEntry, Entry, decode
from tradepit.journal.store import Journal, SnapshotRow

log = logging.getLogger(__name__)

# Loads a stored snapshot into the live state, all or nothing; raises if it is unusable.
SnapshotLoader = Callable[[SnapshotRow], None]


class JournalCorrupted(RuntimeError):
    """The journal has an entry that does not check out; it was not applied."""

    def __init__(self, problem: CorruptEntry, remaining: int) -> None:
        super().__init__(
            f"{problem}; {remaining} entries from there on were not applied. Restore the "
            "database from a backup, or set TRADEPIT_JOURNAL_ON_CORRUPTION=quarantine to "
            "set them aside (in journal_quarantine) and start from the state before them")
        self.problem = problem
        self.remaining = remaining


@dataclass(frozen=True, slots=True)
class Replayed:
    entries: int  # applied, from sequence `after + 1`
    last_arrived_ns: int
    problem: CorruptEntry | None  # the first entry that did not check out


@dataclass(frozen=True, slots=True)
class Recovered:
    entries: int
    last_sequence: int
    last_arrived_ns: int
    seconds: float
    problem: str | None = None  # what was wrong with the tail, if it was quarantined
    quarantined: int = 0
    snapshot_sequence: int = 0  # the snapshot loaded (0: none; the whole journal replayed)
    replayed: int = 0  # entries applied after it


def replay(entries: Iterable[Entry], apply: Callable[[Command], object],
           after: int = 0) -> Replayed:
    """Check and apply entries from sequence `after + 1` on; stop at the first that fails."""
    applied = 0
    last_ns = 0
    for entry in entries:
        expected = after + applied + 1
        if entry.sequence != expected:
            return Replayed(applied, last_ns, CorruptEntry(
                expected, f"missing (the journal goes on at {entry.sequence})"))
        try:
            command = decode(entry)
        except CorruptEntry as problem:
            return Replayed(applied, last_ns, problem)
        try:
            apply(command)
        except Reject as reject:
            return Replayed(applied, last_ns, CorruptEntry(
                entry.sequence, f"replaying {entry.kind} was refused ({reject.code.name}: "
                f"{reject.message}); the journal and this version disagree"))
        except Exception:
            # A command that raised when it was first applied was journaled all the same,
            # since it may have changed state; it raises again here, and replay goes on.
            log.exception("journal entry %d (%s) raised while replaying", entry.sequence,
                          entry.kind)
        applied += 1
        last_ns = entry.arrived_ns
    return Replayed(applied, last_ns, None)


def load_newest_snapshot(journal: Journal, load: SnapshotLoader) -> SnapshotRow | None:
    """Load the newest snapshot that checks out; None (and nothing loaded) if none does."""
    sequences = journal.snapshot_sequences()
    if not sequences:
        return None
    last = journal.last_sequence()
    for sequence in sequences:
        if sequence > last:
            log.error("recovery: skipping the snapshot at entry %d, beyond the journal's "
                      "last entry %d", sequence, last)
            continue
        try:
            row = journal.read_snapshot(sequence)
            load(row)
        except SQLAlchemyError:
            raise
        except Exception as error:
            log.error("recovery: the snapshot at journal entry %d does not check out (%s); "
                      "trying an older one", sequence, error)
            continue
        return row
    log.error("recovery: no snapshot checks out; replaying the whole journal")
    return None


def recover(journal: Journal, apply: Callable[[Command], object],
            on_corruption: str = "refuse", load: SnapshotLoader | None = None) -> Recovered:
    """Load the newest good snapshot through `load` (None: replay everything), then replay
    the journal after it through `apply`; report what was found and how long it took."""
    started = time.perf_counter()
    try:
        snapshot = None if load is None else load_newest_snapshot(journal, load)
        after = 0 if snapshot is None else snapshot.sequence
        replayed = replay(journal.read(after), apply, after)
    except SQLAlchemyError as error:
        log.error("recovery stopped: the journal database %s cannot be read: %s",
                  journal.engine.url.render_as_string(hide_password=True), error)
        raise
    problem = replayed.problem
    quarantined = 0
    if problem is not None:
        remaining = sum(1 for _ in journal.read(problem.sequence - 1))
        corrupted = JournalCorrupted(problem, remaining)
        if on_corruption != "quarantine":
            log.error("recovery stopped: %s", corrupted)
            raise corrupted
        quarantined = journal.quarantine(problem.sequence, problem.reason)
        log.error("recovery: %s; %d entries from there on were moved to journal_quarantine "
                  "and NOT applied", problem, quarantined)
    seconds = time.perf_counter() - started
    last_ns = replayed.last_arrived_ns or (0 if snapshot is None else snapshot.last_time_ns)
    total = after + replayed.entries
    return Recovered(total, total, last_ns, seconds, None if problem is None else str(problem),
                     quarantined, after, replayed.entries)
