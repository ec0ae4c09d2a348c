"""The L2 checksum, exactly as marketdata.proto defines it on BookSnapshot.checksum."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

Level = tuple[int, int, int]  # price, open quantity, order count (as Book.depth gives)
_PAIR = struct.Struct("<qq")


def depth_checksum(bids: Sequence[Level], asks: Sequence[Level]) -> int:
    """CRC-32 over (price, quantity) as little-endian i64: bids best first, then asks.

    One pack and one crc32 call, since this runs for every L2 update.
    """
    words: list[int] = []
    for price, quantity, _count in bids:
        words += (price, quantity)
    for price, quantity, _count in asks:
        words += (price, quantity)
    if not words:
        return 0
    return zlib.crc32(struct.pack(f"<{len(words)}q", *words))


def pack_levels(levels: Sequence[Level]) -> bytes:
    """One side's part of the checksummed bytes: an L2 feed keeps it per side, and packs a
    side again only when that side changed."""
    words: list[int] = []
    for price, quantity, _count in levels:
        words += (price, quantity)
    return struct.pack(f"<{len(words)}q", *words)


LEVEL_BYTES = _PAIR.size  # one level's part of `pack_levels`


def pack_level(level: Level) -> bytes:
    """`pack_levels` of one level."""
    return _PAIR.pack(level[0], level[1])


def pack_level_into(packed: bytearray, position: int, level: Level) -> None:
    """Rewrite the level at `position` of a side's `pack_levels` bytes (same price)."""
    _PAIR.pack_into(packed, position * _PAIR.size, level[0], level[1])


def packed_checksum(bids: bytes | bytearray, asks: bytes | bytearray) -> int:
    """`depth_checksum` from both sides' `pack_levels`: CRC-32 runs on across the two."""
    return zlib.crc32(asks, zlib.crc32(bids))
