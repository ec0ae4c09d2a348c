"""What a client does with market-data updates, written plainly, to check the server.

Shared by the hub's unit tests and the gRPC tests (tests/server/test_marketdata.py).
"""

from __future__ import annotations

from typing import Any

from tradepit.marketdata.checksum import depth_checksum
from tradepit_client.v1 import marketdata_pb2 as md


class Chains:
    """Checks the proto's sequence rule per symbol and channel, as a client would.

    Status changes and candle closes at the end of an interval change no book: they
    carry the current sequence, which may equal the snapshot's.
    """

    def __init__(self) -> None:
        self.last: dict[tuple[str, int], int] = {}
        self.fresh: set[tuple[str, int]] = set()

    def check(self, update: md.MarketDataUpdate) -> None:
        key = (update.symbol, update.channel)
        if update.snapshot:
            self.last[key] = update.sequence
            self.fresh.add(key)
            return
        last = self.last[key]
        if key in self.fresh:
            assert update.previous_sequence <= last, update
            if update.channel in (md.CHANNEL_STATUS, md.CHANNEL_CANDLES):
                assert update.sequence >= last, update
            else:
                assert update.sequence > last, update
            self.fresh.discard(key)
        else:
            assert update.previous_sequence == last, update
            assert update.sequence >= last, update
        self.last[key] = update.sequence


class DepthReader:
    """A client's top-N levels from L2 snapshots and updates, checksum checked each time."""

    def __init__(self) -> None:
        self.sides: tuple[dict[int, Any], dict[int, Any]] = ({}, {})
        self.depth = 0

    def apply(self, update: md.MarketDataUpdate) -> None:
        depth = update.depth
        if update.snapshot:
            self.sides = ({}, {})
            self.depth = depth.depth
        for side, levels in zip(self.sides, (depth.bids, depth.asks), strict=True):
            for level in levels:
                if level.quantity:
                    side[level.price] = (level.price, level.quantity, level.order_count)
                else:
                    side.pop(level.price, None)
        assert depth_checksum(*self.levels()) == depth.checksum

    def levels(self) -> tuple[list[Any], list[Any]]:
        bids, asks = self.sides
        return ([bids[p] for p in sorted(bids, reverse=True)][:self.depth],
                [asks[p] for p in sorted(asks)][:self.depth])


class OrdersReader:
    """A client's resting orders (id -> (side, price, open quantity)) from L3."""

    def __init__(self) -> None:
        self.orders: dict[int, tuple[int, int, int]] = {}

    def apply(self, update: md.MarketDataUpdate) -> None:
        orders = update.orders
        if update.snapshot:
            self.orders = {o.order_id: (o.side, o.price, o.quantity)
                           for o in (*orders.bids, *orders.asks)}
        for e in orders.events:
            if e.kind == md.OrderEvent.KIND_ADD:
                assert e.order_id not in self.orders
                self.orders[e.order_id] = (e.side, e.price, e.quantity)
                continue
            side, price, remaining = self.orders[e.order_id]
            assert (side, price, remaining - e.quantity) == (e.side, e.price, e.remaining)
            if e.remaining:
                self.orders[e.order_id] = (side, price, e.remaining)
            else:
                del self.orders[e.order_id]
