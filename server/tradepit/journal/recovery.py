"""Recovery: check every journal entry and apply it, in order, before serving.

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
from tradepit.journal.store import Journal

log = logging.getLogger(__name__)


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
    entries: int  # applied, from sequence 1
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


def replay(entries: Iterable[Entry], apply: Callable[[Command], object]) -> Replayed:
    """Check and apply entries from sequence 1 on; stop at the first that fails."""
    applied = 0
    last_ns = 0
    for entry in entries:
        expected = applied + 1
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


def recover(journal: Journal, apply: Callable[[Command], object],
            on_corruption: str = "refuse") -> Recovered:
    """Replay the whole journal through `apply`; report what was found and how long it took."""
    started = time.perf_counter()
    try:
        replayed = replay(journal.read(), apply)
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
    return Recovered(replayed.entries, replayed.entries, replayed.last_arrived_ns, seconds,
                     None if problem is None else str(problem), quarantined)
