"""When to take a snapshot, how to seal one for storage, and how to open a stored one.

Taking one has two halves. `capture` runs on the event loop, between two commands, so
the bytes hold exactly the state after one journal entry: that is the pause. `seal`
runs in a worker thread: it loads the bytes into a scratch exchange (proof that they
load) and records the state digest that load gives and a checksum of the bytes.
`open_snapshot` checks both before recovery trusts a snapshot.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from hashlib import blake2b
from typing import Any, NamedTuple

from tradepit.exchange.digest import state_digest
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.snapshot import Unusable, capture, load
from tradepit.journal.store import SnapshotRow

log = logging.getLogger(__name__)

BookFactory = Callable[[int, int], Any]


class Captured(NamedTuple):
    sequence: int
    last_time_ns: int
    payload: bytes
    pause_s: float  # how long the event loop was held


def checksum(payload: bytes) -> str:
    return blake2b(payload, digest_size=16).hexdigest()


def seal(captured: Captured, book_factory: BookFactory) -> SnapshotRow:
    """The row to store: the digest of the state the payload loads to, and its checksum."""
    digest = state_digest(load(captured.payload, book_factory))
    return SnapshotRow(captured.sequence, time.time_ns(), captured.last_time_ns, digest,
                       checksum(captured.payload), captured.payload)


def open_snapshot(row: SnapshotRow, book_factory: BookFactory) -> Exchange:
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
        self.pauses: list[float] = []

    def due(self, sequence: int) -> bool:
        return self.every > 0 and sequence - self.last_sequence >= self.every

    def capture(self, sequence: int, last_time_ns: int) -> Captured:
        """The state now, which must be the state right after entry `sequence`."""
        started = time.perf_counter()
        payload = capture(self.exchange)
        pause = time.perf_counter() - started
        self.last_sequence = sequence
        self.pauses.append(pause)
        log.info("snapshot at journal entry %d captured: %d bytes, loop held %.3f s",
                 sequence, len(payload), pause)
        return Captured(sequence, last_time_ns, payload, pause)
