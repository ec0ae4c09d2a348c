"""The market-data sequence rule (proto/tradepit/v1/marketdata.proto) for one symbol and
channel, for channels whose updates carry no state to check (trades).

After a snapshot at S an update is skipped if its sequence is <= S and is a gap if its
previous_sequence is > S; after that each update must chain on from the last one applied.
L2 books are checked by the SDK's LocalBook, which applies the same rule and a checksum.
"""

from __future__ import annotations

from typing import Protocol


class SequenceGap(Exception):
    """The chain broke: the reader must resubscribe (or fetch a snapshot) to go on."""


class _Update(Protocol):
    @property
    def sequence(self) -> int: ...

    @property
    def previous_sequence(self) -> int: ...

    @property
    def snapshot(self) -> bool: ...


class SequenceChain:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sequence = 0
        self.in_sync = False
        self._after_snapshot = False

    def offer(self, update: _Update) -> bool:
        """Apply `update` if it is next: True if applied, False if the snapshot already
        covers it; raises SequenceGap (and stays out of sync until a snapshot) if not."""
        if update.snapshot:
            self.sequence, self.in_sync, self._after_snapshot = update.sequence, True, True
            return True
        if not self.in_sync:
            raise self._gap(f"update {update.sequence} before any snapshot")
        if self._after_snapshot:
            if update.sequence <= self.sequence:
                return False
            if update.previous_sequence > self.sequence:
                raise self._gap(f"snapshot at {self.sequence}, first update follows "
                                f"{update.previous_sequence}")
        elif update.previous_sequence != self.sequence:
            raise self._gap(f"at {self.sequence}, update follows {update.previous_sequence}")
        self.sequence, self._after_snapshot = update.sequence, False
        return True

    def _gap(self, message: str) -> SequenceGap:
        self.in_sync = False
        return SequenceGap(f"{self.name}: {message}")
