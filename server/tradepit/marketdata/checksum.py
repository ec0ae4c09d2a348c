"""The L2 checksum, exactly as marketdata.proto defines it on BookSnapshot.checksum."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

Level = tuple[int, int, int]  # price, open quantity, order count (as Book.depth gives)


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
