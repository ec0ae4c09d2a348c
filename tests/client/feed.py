"""A tiny stand-in for the server's market-data side, written from the proto alone.

It keeps a full book of orders, gives each change one book sequence, and publishes what
marketdata.proto promises: L3 events per command, L2 diffs of the top `depth` levels
with the checksum after applying, and GetBook snapshots. Unit tests drive a LocalBook
with it, so the client is checked against the contract before any server exists.
"""

from __future__ import annotations

import random
import struct
import zlib

from tradepit_client.v1 import common_pb2, marketdata_pb2

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
L2, L3 = marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_L3
Kind = marketdata_pb2.OrderEvent
SYMBOL = "ACME"


def reference_checksum(bids, asks):
    """The proto's definition spelled out with int.to_bytes, independent of the SDK."""
    data = b"".join(
        level[0].to_bytes(8, "little", signed=True) + level[1].to_bytes(8, "little", signed=True)
        for side in (bids, asks) for level in side)
    return zlib.crc32(data)


assert reference_checksum([(100, 5)], [(101, 7)]) == zlib.crc32(
    struct.pack("<qqqq", 100, 5, 101, 7))


def levels_of(proto_levels):
    return [(level.price, level.quantity, level.order_count) for level in proto_levels]


class Feed:
    """One symbol's book and the updates the stream would carry for it."""

    def __init__(self, depth: int = 5, symbol: str = SYMBOL) -> None:
        self.symbol = symbol
        self.depth = depth
        self.sequence = 0
        self.orders: dict[int, list[int]] = {}   # id -> [side, price, quantity], priority order
        self.next_id = 1
        self._events: list[marketdata_pb2.OrderEvent] = []
        self._previous = {L2: 0, L3: 0}
        self._published_top = self._top()
        self.history: dict[int, marketdata_pb2.BookSnapshot] = {}  # GetBook after commands

    # --- the book ------------------------------------------------------------------

    def levels(self, side: int) -> list[tuple[int, int, int]]:
        totals: dict[int, list[int]] = {}
        for order_side, price, quantity in self.orders.values():
            if order_side == side:
                level = totals.setdefault(price, [0, 0])
                level[0] += quantity
                level[1] += 1
        return [(p, q, c) for p, (q, c) in sorted(totals.items(), reverse=side == BUY)]

    def book_orders(self, side: int) -> list[tuple[int, int, int, int]]:
        chosen = [(i, s, p, q) for i, (s, p, q) in self.orders.items() if s == side]
        # stable sort keeps time priority (insertion order) within a price
        return sorted(chosen, key=lambda o: -o[2] if side == BUY else o[2])

    def _top(self) -> dict[int, dict[int, tuple[int, int, int]]]:
        return {side: {lv[0]: lv for lv in self.levels(side)[:self.depth]} for side in (BUY, SELL)}

    def _event(self, kind, order_id, quantity, remaining) -> None:
        self.sequence += 1
        side, price, _ = self.orders[order_id]
        self._events.append(Kind(kind=kind, order_id=order_id, side=side, price=price,
                                 quantity=quantity, remaining=remaining, sequence=self.sequence))

    def add(self, side: int, price: int, quantity: int) -> int:
        order_id = self.next_id
        self.next_id += 1
        self.orders[order_id] = [side, price, quantity]
        self._event(Kind.KIND_ADD, order_id, quantity, quantity)
        return order_id

    def reduce(self, order_id: int, by: int) -> None:
        order = self.orders[order_id]
        order[2] -= by
        self._event(Kind.KIND_REDUCE, order_id, by, order[2])

    def delete(self, order_id: int) -> None:
        self._event(Kind.KIND_DELETE, order_id, self.orders[order_id][2], 0)
        del self.orders[order_id]

    def amend(self, order_id: int, price: int, quantity: int) -> None:
        """Priority lost: DELETE then ADD at the back, under the same id."""
        side = self.orders[order_id][0]
        self.delete(order_id)
        self.orders[order_id] = [side, price, quantity]
        self._event(Kind.KIND_ADD, order_id, quantity, quantity)

    def execute(self, side: int, quantity: int) -> None:
        """A taker eats `quantity` from the front of `side`."""
        for order_id, _, _, open_quantity in self.book_orders(side):
            if quantity == 0:
                break
            traded = min(quantity, open_quantity)
            quantity -= traded
            self.orders[order_id][2] -= traded
            self._event(Kind.KIND_EXECUTE, order_id, traded, open_quantity - traded)
            if open_quantity == traded:
                del self.orders[order_id]

    def random_command(self, rng: random.Random) -> None:
        """One command: mostly adds near the middle, then cancels, amends, reductions
        and trades, so levels enter and leave the top `depth`."""
        roll = rng.random()
        ids = list(self.orders)
        if roll < 0.45 or not ids:
            side = rng.choice((BUY, SELL))
            price = rng.randint(90, 100) if side == BUY else rng.randint(101, 111)
            self.add(side, price, rng.randint(1, 9))
        elif roll < 0.6:
            self.delete(rng.choice(ids))
        elif roll < 0.7:
            order_id = rng.choice(ids)
            if self.orders[order_id][2] > 1:
                self.reduce(order_id, rng.randint(1, self.orders[order_id][2] - 1))
        elif roll < 0.8:
            order_id = rng.choice(ids)
            side = self.orders[order_id][0]
            price = rng.randint(90, 100) if side == BUY else rng.randint(101, 111)
            self.amend(order_id, price, rng.randint(1, 9))
        else:
            self.execute(rng.choice((BUY, SELL)), rng.randint(1, 15))

    # --- what the server sends -----------------------------------------------------

    def checksum(self) -> int:
        return reference_checksum(self.levels(BUY)[:self.depth], self.levels(SELL)[:self.depth])

    def get_book(self, depth: int = 0, orders: bool = False) -> marketdata_pb2.BookSnapshot:
        depth = depth or 10
        bids, asks = self.levels(BUY)[:depth], self.levels(SELL)[:depth]
        snapshot = marketdata_pb2.BookSnapshot(
            symbol=self.symbol, sequence=self.sequence, depth=depth,
            bids=[marketdata_pb2.PriceLevel(price=p, quantity=q, order_count=c)
                  for p, q, c in bids],
            asks=[marketdata_pb2.PriceLevel(price=p, quantity=q, order_count=c)
                  for p, q, c in asks],
            checksum=reference_checksum(bids, asks))
        if orders:
            snapshot.bid_orders.extend(self._book_orders(BUY))
            snapshot.ask_orders.extend(self._book_orders(SELL))
        return snapshot

    def _book_orders(self, side: int) -> list[marketdata_pb2.BookOrder]:
        return [marketdata_pb2.BookOrder(order_id=i, side=s, price=p, quantity=q)
                for i, s, p, q in self.book_orders(side)]

    def stream_snapshot(self, channel: int) -> marketdata_pb2.MarketDataUpdate:
        update = marketdata_pb2.MarketDataUpdate(symbol=self.symbol, channel=channel,
                                                 sequence=self.sequence, snapshot=True)
        if channel == L2:
            book = self.get_book(self.depth)
            update.depth.CopyFrom(marketdata_pb2.DepthUpdate(
                bids=book.bids, asks=book.asks, checksum=book.checksum, depth=self.depth))
            self._published_top = self._top()
        else:
            update.orders.CopyFrom(marketdata_pb2.OrderUpdates(
                bids=self._book_orders(BUY), asks=self._book_orders(SELL)))
        self._previous[channel] = self.sequence
        return update

    def publish(self) -> list[marketdata_pb2.MarketDataUpdate]:
        """The updates for everything since the last call: one L3 update with the events,
        and one L2 update if the top `depth` levels changed."""
        updates = []
        if self._events:
            update = self._update(L3)
            update.orders.events.extend(self._events)
            self._events = []
            updates.append(update)
        top = self._top()
        changes = {}
        for side in (BUY, SELL):
            before, after = self._published_top[side], top[side]
            changed = [after[p] for p in after if before.get(p) != after[p]]
            changed += [(p, 0, 0) for p in before if p not in after]
            changes[side] = [marketdata_pb2.PriceLevel(price=p, quantity=q, order_count=c)
                             for p, q, c in changed]
        if changes[BUY] or changes[SELL]:
            update = self._update(L2)
            update.depth.CopyFrom(marketdata_pb2.DepthUpdate(
                bids=changes[BUY], asks=changes[SELL], checksum=self.checksum(),
                depth=self.depth))
            updates.append(update)
        self._published_top = top
        return updates

    def _update(self, channel: int) -> marketdata_pb2.MarketDataUpdate:
        update = marketdata_pb2.MarketDataUpdate(symbol=self.symbol, channel=channel,
                                                 sequence=self.sequence,
                                                 previous_sequence=self._previous[channel])
        self._previous[channel] = self.sequence
        return update


class FakeStub:
    """GetBook from the feed's current state; nothing else."""

    def __init__(self, feed: Feed) -> None:
        self.feed = feed
        self.get_book_calls = 0

    async def GetBook(self, request, metadata=()):
        self.get_book_calls += 1
        return self.feed.get_book(request.depth, request.orders)
