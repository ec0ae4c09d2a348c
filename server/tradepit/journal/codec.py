"""Commands as journal entries: deterministic JSON, and a CRC32 that covers the whole entry.

An entry's payload is the command's fields as a compact JSON object (nested NamedTuples
as objects), its kind the command's class name. JSON keeps ints exact, and strings,
bools and None as they were, so decoding gives back an equal command. Entries are
encoded on the order path, so orjson writes them (4x faster than the json module;
strings as UTF-8); an int beyond 64 bits, which it refuses, goes through json.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import orjson

from tradepit.exchange.commands import (
    AdjustBalance,
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    CreateAccount,
    CreateInstrument,
    EndSession,
    OrderRef,
    RemoveInstrument,
    SetLimits,
    SetTradingStatus,
    SubmitOrder,
)

KINDS: dict[str, type[Any]] = {cls.__name__: cls for cls in (
    CreateAccount, AdjustBalance, CreateInstrument, SetTradingStatus, EndSession,
    SubmitOrder, CancelOrder, AmendOrder, CancelAll, RemoveInstrument, SetLimits,
)}
NESTED: dict[str, type[Any]] = {"ref": OrderRef}  # fields that hold a NamedTuple
# The entry kind of each journaled command class (its name).
KIND_OF: dict[type[Any], str] = {cls: kind for kind, cls in KINDS.items()}
_TIMESTAMP = {cls: cls._fields.index("timestamp") for cls in KINDS.values()}
_NESTED_FIELDS = {cls: [name for name in cls._fields if name in NESTED]
                  for cls in KINDS.values()}
_HEADER = struct.Struct(">qq")  # sequence, arrived_ns


class CorruptEntry(ValueError):
    """A journal entry that does not check out: it must not be applied."""

    def __init__(self, sequence: int, reason: str) -> None:
        super().__init__(f"journal entry {sequence}: {reason}")
        self.sequence = sequence
        self.reason = reason


class Entry(NamedTuple):
    """One row of the journal, as stored."""

    sequence: int
    arrived_ns: int
    kind: str
    payload: bytes
    checksum: int


_to_json = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode

NativeEntry = Callable[[int, int, str, tuple[str, ...], tuple[Any, ...]],
                       tuple[bytes, int] | None]
_native_entry: NativeEntry | None
_native_tape: Callable[[bytes, type[Any]], list[Any]] | None
_native_tape_rows: Callable[[bytes, int], list[tuple[Any, ...]]] | None
try:
    from tradepit._native import decode_journal_tape as _native_tape
    from tradepit._native import encode_journal_entry as _native_entry
    from tradepit._native import journal_rows_of_tape as _native_tape_rows
except ImportError:  # the same entries, from orjson and zlib; no tapes
    _native_entry = _native_tape = _native_tape_rows = None
ENCODER = "python" if _native_entry is None else "rust"


def encode_payload(command: Command) -> bytes:
    return _payload(type(command), command)


def _payload(cls: type[Any], values: tuple[Any, ...]) -> bytes:
    names = cls._fields
    if len(values) != len(names):
        raise TypeError(f"{cls.__name__} has {len(names)} fields, not {len(values)}")
    fields = dict(zip(names, values, strict=False))  # checked above: faster than strict
    for name in _NESTED_FIELDS[cls]:
        fields[name] = fields[name]._asdict()
    try:
        return orjson.dumps(fields)
    except orjson.JSONEncodeError:  # an int beyond 64 bits
        return _to_json(fields).encode()


def checksum(sequence: int, arrived_ns: int, kind: str, payload: bytes) -> int:
    """CRC32 of everything in the entry, so a changed sequence or kind fails it too."""
    return zlib.crc32(payload, zlib.crc32(_HEADER.pack(sequence, arrived_ns)
                                          + kind.encode() + b"\0"))


def kind_of(command: Command) -> str:
    """The entry kind `command` is journaled as; `TypeError` if it is not journaled."""
    kind = KIND_OF.get(type(command))
    if kind is None:
        raise TypeError(f"not a journal command: {command!r}")
    return kind


def encode(sequence: int, command: Command) -> Entry:
    """The entry for `command`; it arrived at its own timestamp."""
    return encode_fields(sequence, kind_of(command), command)


def encode_fields(sequence: int, kind: str, values: tuple[Any, ...]) -> Entry:
    """The entry for the command of `kind` with these field values, without building the
    command. Encoded in Rust when the extension is built and the values allow (about
    twice as fast), else in Python; the bytes are the same."""
    return encode_all([(sequence, kind, values)])[0]


def encode_all(commands: Iterable[tuple[int, str, tuple[Any, ...]]]) -> list[Entry]:
    """`encode_fields` for each (sequence, kind, values): what the journal's writer
    process does with a batch (journal/writer.py), in one loop. Entries are made with
    `tuple.__new__`: a named tuple's own constructor is a Python function, and would
    cost a third of the Rust encoder's time again."""
    native, make, entries = _native_entry, tuple.__new__, []
    for sequence, kind, values in commands:
        cls = KINDS[kind]
        arrived_ns = values[_TIMESTAMP[cls]]
        encoded = None if native is None else native(sequence, arrived_ns, kind, cls._fields,
                                                       values)
        if encoded is None:
            entries.append(python_encode_fields(sequence, kind, values))
        else:
            entries.append(make(Entry, (sequence, arrived_ns, kind, *encoded)))
    return entries


def decode_tape(tape: bytes) -> list[Entry]:
    """The entries on a tape of the Rust exchange's (journal/pending.py), checksummed;
    `ValueError` if it ends inside an entry."""
    if _native_tape is None:
        raise RuntimeError("a journal tape comes from the Rust exchange, which is not built")
    return _native_tape(tape, Entry)


def tape_rows(tape: bytes, entries_per_tuple: int) -> list[tuple[Any, ...]]:
    """`decode_tape`'s entries as flat tuples of the values of `entries_per_tuple`
    entries each, the last of what is left."""
    if _native_tape_rows is None:
        raise RuntimeError("a journal tape comes from the Rust exchange, which is not built")
    return _native_tape_rows(tape, entries_per_tuple)


def python_encode_fields(sequence: int, kind: str, values: tuple[Any, ...]) -> Entry:
    """`encode_fields` with orjson and zlib: the reference the Rust encoder matches."""
    cls = KINDS[kind]
    payload = _payload(cls, values)
    arrived_ns = values[_TIMESTAMP[cls]]
    return Entry(sequence, arrived_ns, kind, payload,
                 checksum(sequence, arrived_ns, kind, payload))


def decode(entry: Entry) -> Command:
    """The command an entry holds; `CorruptEntry` if its checksum or contents are wrong."""
    sequence, arrived_ns, kind, payload, stored = entry
    if checksum(sequence, arrived_ns, kind, payload) != stored:
        raise CorruptEntry(sequence, "checksum mismatch (the entry was changed or cut short)")
    cls = KINDS.get(kind)
    if cls is None:
        raise CorruptEntry(sequence, f"unknown command kind {kind!r}")
    try:
        fields = json.loads(payload)
        if not isinstance(fields, dict):
            raise TypeError("the payload is not an object")
        for name, nested in NESTED.items():
            if name in fields:
                fields[name] = nested(**fields[name])
        command: Command = cls(**fields)
    except (ValueError, TypeError) as error:
        raise CorruptEntry(sequence, f"payload does not decode as {kind}: {error}") from None
    if command.timestamp != arrived_ns:
        raise CorruptEntry(sequence, "the command's timestamp is not its arrival time")
    return command
