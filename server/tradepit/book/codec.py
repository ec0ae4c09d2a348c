"""The compact form of commands and events used by `Book.apply_batch`.

Fixed-width little-endian i64 records (layout in core_rs/README.md), so the Rust
backend can decode a whole batch without touching Python objects.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import NamedTuple

from tradepit.book.constants import CommandKind, OrderType, StpMode, TimeInForce

COMMAND_RECORD = struct.Struct("<11q")
EVENT_RECORD = struct.Struct("<14q")


class Command(NamedTuple):
    """One book command in record order; build it with the class methods."""

    kind: int
    timestamp: int = 0
    order_id: int = 0
    owner: int = 0
    side: int = 0
    price: int = 0
    quantity: int = 0
    order_type: int = 0
    tif: int = 0
    post_only: int = 0
    stp: int = 0

    @classmethod
    def submit(
        cls,
        owner: int,
        side: int,
        price: int,
        quantity: int,
        order_type: int = OrderType.LIMIT,
        tif: int = TimeInForce.GTC,
        post_only: bool = False,
        stp: int = StpMode.CANCEL_NEWEST,
        timestamp: int = 0,
    ) -> Command:
        return cls(
            CommandKind.SUBMIT, timestamp, 0, owner, side, price, quantity,
            order_type, tif, int(post_only), stp,
        )

    @classmethod
    def cancel(cls, order_id: int, timestamp: int = 0) -> Command:
        return cls(CommandKind.CANCEL, timestamp, order_id)

    @classmethod
    def amend(cls, order_id: int, price: int, quantity: int, timestamp: int = 0) -> Command:
        return cls(CommandKind.AMEND, timestamp, order_id, price=price, quantity=quantity)

    @classmethod
    def end_session(cls, timestamp: int = 0) -> Command:
        return cls(CommandKind.END_SESSION, timestamp)


class BatchRecord(NamedTuple):
    """One output record: the event fields, tagged with the command that caused them.

    `kind == EventKind.ERROR` marks a refused command; then `reason` is its ErrorCode.
    """

    command_index: int
    kind: int
    seq: int
    timestamp: int
    order_id: int
    owner: int
    side: int
    price: int
    quantity: int
    remaining: int
    reason: int
    maker_id: int
    maker_owner: int
    maker_remaining: int


def encode_commands(commands: Iterable[Command]) -> bytes:
    pack = COMMAND_RECORD.pack
    return b"".join(pack(*command) for command in commands)


def decode_commands(data: bytes) -> list[Command]:
    return [Command._make(fields) for fields in COMMAND_RECORD.iter_unpack(data)]


def decode_events(data: bytes) -> list[BatchRecord]:
    return [BatchRecord._make(fields) for fields in EVENT_RECORD.iter_unpack(data)]
