"""A batch's journal entries on their way from the event loop to the writer process.

The group commit numbers each applied command and hands the writer what it needs to make
the entries (journal/codec.py), in one of two forms:

- `FieldEntries` (the Python exchange): each command's kind and field values, pickled
  CHUNK commands at a time; the writer encodes them.
- `TapedEntries` (the Rust exchange): the exchange writes each applied command's entry
  on its tape as it applies it, from the values it read; the writer only splits the tape
  and checksums the entries. The loop then neither copies the fields out nor pickles
  them, and the writer makes an entry in 0.23-0.28 us instead of 1.9-2.4 (bench/
  RESULTS.md, durability notes).

Either way the writer gets a `Batch`, and `entries_of` in the writer makes the entries
(`journal_rows_of`, the journal table's rows of them).
"""

from __future__ import annotations

import pickle
from typing import Any, Literal, Protocol

from tradepit.exchange.commands import Command
from tradepit.journal.codec import Entry, decode_tape, encode_all, encode_fields, tape_rows
from tradepit.journal.store import ROWS_PER_STATEMENT, Grouped

# What the writer is sent: the form, and the pickled chunks or the tapes.
Batch = tuple[Literal["fields", "tape"], list[bytes]]
# Entries pickled together as they are appended, while the commands are still in the
# CPU's caches. Done on a cut batch of thousands, long evicted from them, the same work
# (numbering, noting the store's rows, grouping the effects, pickling) cost the loop
# twice as much: the journal's cost per order in bench.durability.loop_cost went from
# 7.3-7.5 us to 3.9-4.0 us when it moved here.
CHUNK = 100


class PendingEntries(Protocol):
    # Whether `add` is needed for every command applied. False when the exchange writes
    # the entries of the commands it applies itself: then only one it raised on is added.
    each_command: bool

    def add(self, sequence: int, kind: str, command: Command) -> None:
        """Journal `command`, just applied (or raised on), as entry `sequence`."""

    def take(self, next_sequence: int) -> Batch:
        """Everything since the last call, for the writer: the entries before
        `next_sequence`."""


class FieldEntries:
    """Entries as (sequence, kind, field values), pickled CHUNK at a time: a plain tuple
    of fields, not the command, pickles 2.5x faster than a named tuple."""

    each_command = True

    def __init__(self) -> None:
        self._entries: list[tuple[int, str, tuple[Any, ...]]] = []
        self._chunks: list[bytes] = []

    def add(self, sequence: int, kind: str, command: Command) -> None:
        entries = self._entries
        entries.append((sequence, kind, tuple(command)))
        if len(entries) >= CHUNK:
            self._seal()

    def _seal(self) -> None:
        self._chunks.append(pickle.dumps(self._entries, protocol=pickle.HIGHEST_PROTOCOL))
        self._entries = []

    def take(self, next_sequence: int) -> Batch:
        if self._entries:
            self._seal()
        chunks, self._chunks = self._chunks, []
        return "fields", chunks


class Tape(Protocol):
    """The Rust exchange's journal tape (`tradepit._native.Exchange`)."""

    def start_tape(self, next_sequence: int) -> None: ...
    def tape_next(self) -> int | None: ...
    def take_tape(self) -> bytes: ...
    def tape_encoded(self, kind: str, arrived_ns: int, payload: bytes) -> None: ...


class TapedEntries:
    """Entries the exchange wrote on its tape as it applied the commands, numbered from
    the group commit's next sequence on. The order path calls nothing here per command
    (three Python calls fewer per order); that the tape and the journal agree is checked
    once per batch."""

    each_command = False

    def __init__(self, tape: Tape, next_sequence: int) -> None:
        tape.start_tape(next_sequence)
        self._tape = tape

    def add(self, sequence: int, kind: str, command: Command) -> None:
        """A command the exchange raised on: taped already if it raised after the change,
        otherwise encoded here."""
        taped = self._tape.tape_next()
        if taped == sequence + 1:
            return
        self._check(taped, sequence)
        # The exchange raised on it before any change, and wrote nothing: encoded here.
        entry = encode_fields(sequence, kind, tuple(command))
        self._tape.tape_encoded(kind, entry.arrived_ns, entry.payload)

    def take(self, next_sequence: int) -> Batch:
        self._check(self._tape.tape_next(), next_sequence)
        return "tape", [self._tape.take_tape()]

    @staticmethod
    def _check(taped: int | None, sequence: int) -> None:
        if taped != sequence:
            raise RuntimeError(f"the exchange's journal tape is at entry {taped}, the "
                               f"journal at {sequence}: a command bypassed the journal")


def pending_entries(exchange: Any, next_sequence: int) -> PendingEntries:
    """Taped entries on an exchange that keeps a tape (the Rust one), else fields."""
    tape = getattr(exchange, "journal_tape", None)
    return FieldEntries() if tape is None else TapedEntries(tape, next_sequence)


def entries_of(batch: Batch) -> list[Entry]:
    """The entries of a batch, made in the writer process."""
    form, parts = batch
    if form == "tape":
        return [entry for tape in parts for entry in decode_tape(tape)]
    return encode_all(entry for chunk in parts for entry in pickle.loads(chunk))


def journal_rows_of(batch: Batch) -> list[Entry] | Grouped:
    """What `Journal.append` writes of a batch: its entries, or a tape's as the journal
    table's rows already grouped for its statements (`entries_of` gives the same)."""
    form, parts = batch
    if form == "tape":
        return Grouped(tape_rows(b"".join(parts), ROWS_PER_STATEMENT))
    return entries_of(batch)
