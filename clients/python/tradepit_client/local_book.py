"""A client-side order book kept in step with StreamMarketData.

The stream sends one snapshot and then only changes, so a single lost change leaves a
local copy silently wrong. `LocalBook` applies the proto's sequence rule and the L2
checksum to every update and says so the moment it cannot be trusted; `follow` then
fetches a fresh GetBook and carries on by itself.

    stub = marketdata_pb2_grpc.MarketDataServiceStub(client.channel)
    book = LocalBook("ACME", CHANNEL_L2, depth=10)
    async for _update in book.follow(stub):
        print(book.sequence, book.best_bid, book.best_ask)
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import TYPE_CHECKING, NamedTuple, Protocol

import grpc

from tradepit_client.client import TradepitError, _call
from tradepit_client.v1 import common_pb2, marketdata_pb2

if TYPE_CHECKING:
    from tradepit_client.v1.marketdata_pb2_grpc import MarketDataServiceAsyncStub

__all__ = ["BookOutOfSync", "Level", "LocalBook", "RestingOrder", "l2_checksum"]

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
L2, L3 = marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_L3
ADD, REDUCE, DELETE, EXECUTE = (marketdata_pb2.OrderEvent.KIND_ADD,
                                marketdata_pb2.OrderEvent.KIND_REDUCE,
                                marketdata_pb2.OrderEvent.KIND_DELETE,
                                marketdata_pb2.OrderEvent.KIND_EXECUTE)
_LEVEL = struct.Struct("<qq")


class Level(NamedTuple):
    """One aggregated price level, as in PriceLevel."""

    price: int
    quantity: int
    order_count: int


class RestingOrder(NamedTuple):
    """One resting order, as in BookOrder: the book's id, no owner."""

    order_id: int
    side: int
    price: int
    quantity: int


class _PriceQuantity(Protocol):
    @property
    def price(self) -> int: ...

    @property
    def quantity(self) -> int: ...


def l2_checksum(bids: Iterable[_PriceQuantity], asks: Iterable[_PriceQuantity]) -> int:
    """BookSnapshot.checksum of levels already cut to the top `depth`, best first: CRC-32
    over each bid then each ask as price and quantity, 8 bytes little-endian signed."""
    data = b"".join(_LEVEL.pack(level.price, level.quantity)
                    for side in (bids, asks) for level in side)
    return zlib.crc32(data)


class BookOutOfSync(Exception):
    """The local book can no longer be trusted; `resync()` (or `follow`) repairs it."""

    GAP = "gap"                    # previous_sequence does not chain on
    CHECKSUM = "checksum"          # the L2 checksum after applying differs
    INCONSISTENT = "inconsistent"  # an L3 event does not fit the orders we hold
    UNSYNCED = "unsynced"          # an update arrived before any usable snapshot

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {message}")


class LocalBook:
    """One symbol's book from the L2 channel (top `depth` levels) or the L3 channel
    (every order in priority order, levels derived). Prices and quantities are ints."""

    def __init__(self, symbol: str, channel: marketdata_pb2.Channel.ValueType = L2,
                 depth: int = 10) -> None:
        if channel not in (L2, L3):
            raise ValueError("a LocalBook follows CHANNEL_L2 or CHANNEL_L3")
        if not 1 <= depth <= (100 if channel == L2 else 1000):
            raise ValueError(f"depth {depth} is out of range")
        self.symbol = symbol
        self.channel = channel
        self.depth = depth        # L2: levels kept per side; L3: levels checked on GetBook
        self.sequence = 0         # the book sequence of the last snapshot or update applied
        self.in_sync = False
        self.resyncs = 0          # GetBook snapshots loaded after a failed check
        self.resubscribes = 0     # streams reopened after RESOURCE_EXHAUSTED
        self.last_error: BookOutOfSync | None = None
        self._after_snapshot = False
        self._parts_due: tuple[int, int] | None = None  # (next part, parts) of a snapshot
        self._levels: dict[int, dict[int, Level]] = {BUY: {}, SELL: {}}
        self._orders: dict[int, RestingOrder] = {}
        # L3: per side and price, order ids in time priority (dicts keep insertion order).
        self._queues: dict[int, dict[int, dict[int, None]]] = {BUY: {}, SELL: {}}
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    # --- reading -------------------------------------------------------------------

    def levels(self, side: int, depth: int | None = None) -> list[Level]:
        """Aggregated levels of one side, best first, at most `depth` of them."""
        book = self._levels[side]
        prices = sorted(book, reverse=side == BUY)[:depth]
        return [book[price] for price in prices]

    @property
    def bids(self) -> list[Level]:
        return self.levels(BUY)

    @property
    def asks(self) -> list[Level]:
        return self.levels(SELL)

    @property
    def best_bid(self) -> Level | None:
        book = self._levels[BUY]
        return book[max(book)] if book else None

    @property
    def best_ask(self) -> Level | None:
        book = self._levels[SELL]
        return book[min(book)] if book else None

    def orders(self, side: int) -> list[RestingOrder]:
        """L3 only: one side's resting orders by price, then time priority."""
        self._need_orders()
        queues = self._queues[side]
        return [self._orders[order_id]
                for price in sorted(queues, reverse=side == BUY)
                for order_id in queues[price]]

    def order(self, order_id: int) -> RestingOrder | None:
        self._need_orders()
        return self._orders.get(order_id)

    def checksum(self, depth: int | None = None) -> int:
        """The L2 checksum of the top `depth` levels (default: this book's depth)."""
        depth = depth or self.depth
        return l2_checksum(self.levels(BUY, depth), self.levels(SELL, depth))

    def _need_orders(self) -> None:
        if self.channel != L3:
            raise ValueError("an L2 book has levels, not orders; follow CHANNEL_L3")

    # --- applying ------------------------------------------------------------------

    def subscription(self) -> marketdata_pb2.Subscription:
        """What to ask StreamMarketData for to feed this book."""
        return marketdata_pb2.Subscription(symbol=self.symbol, channels=[self.channel],
                                           depth=self.depth if self.channel == L2 else 0)

    def apply(self, update: marketdata_pb2.MarketDataUpdate) -> bool:
        """Apply one stream update of this symbol and channel. Returns False for an update
        the current snapshot already covers; raises BookOutOfSync on a gap, a checksum
        mismatch or an L3 event that does not fit (the book is then unusable until a
        snapshot)."""
        if update.symbol != self.symbol or update.channel != self.channel:
            raise ValueError(f"update for {update.symbol} channel {update.channel} "
                             f"given to the {self.symbol} channel {self.channel} book")
        if update.snapshot:
            self._load_stream_snapshot(update)
            return True
        if self._parts_due:
            raise self._fail(BookOutOfSync.GAP, f"snapshot part {self._parts_due[0]} of "
                                                f"{self._parts_due[1]} never came")
        if not self.in_sync:
            raise self._fail(BookOutOfSync.UNSYNCED, "no usable snapshot yet")
        if self._after_snapshot:
            # The first update after a snapshot at S may start before S; what S already
            # covers is skipped (whole updates here, single L3 events below).
            if update.sequence <= self.sequence:
                return False
            if update.previous_sequence > self.sequence:
                raise self._fail(BookOutOfSync.GAP,
                                 f"snapshot at {self.sequence}, next update starts after "
                                 f"{update.previous_sequence}")
        elif update.previous_sequence != self.sequence:
            raise self._fail(BookOutOfSync.GAP, f"at {self.sequence}, update follows "
                                                f"{update.previous_sequence}")
        if self.channel == L2:
            self._apply_depth(update.depth)
            self._check_depth(update.depth.checksum, update.depth.depth,
                              f"update {update.sequence}")
        else:
            self._apply_events(update.orders.events, after=self.sequence)
        self._after_snapshot = False
        self._advance(update.sequence)
        return True

    def load_snapshot(self, snapshot: marketdata_pb2.BookSnapshot) -> None:
        """Replace the book with a GetBook snapshot (with `orders` for L3) and check it."""
        if snapshot.symbol and snapshot.symbol != self.symbol:
            raise ValueError(f"snapshot of {snapshot.symbol} given to the {self.symbol} book")
        self._clear()
        self._parts_due = None
        if self.channel == L2:
            self._set_levels(snapshot.bids, snapshot.asks)
        else:
            self._set_orders(snapshot.bid_orders, snapshot.ask_orders)
        # For L3 this checks that the orders add up to the server's own levels.
        self._check_depth(snapshot.checksum, snapshot.depth, f"snapshot {snapshot.sequence}")
        self._synced_at(snapshot.sequence)

    async def resync(self, stub: MarketDataServiceAsyncStub) -> None:
        """Load a fresh GetBook snapshot; stream updates then continue from it."""
        request = marketdata_pb2.GetBookRequest(symbol=self.symbol, depth=self.depth,
                                                orders=self.channel == L3)
        snapshot = await _call(stub.GetBook, request, ())
        self.resyncs += 1
        self.load_snapshot(snapshot)

    def _fail(self, reason: str, message: str) -> BookOutOfSync:
        self.in_sync = False
        self.last_error = BookOutOfSync(reason, f"{self.symbol}: {message}")
        return self.last_error

    def _clear(self) -> None:
        for side in (BUY, SELL):
            self._levels[side].clear()
            self._queues[side].clear()
        self._orders.clear()

    def _synced_at(self, sequence: int) -> None:
        self.in_sync = True
        self._after_snapshot = True
        self._advance(sequence)

    def _advance(self, sequence: int) -> None:
        self.sequence = sequence
        if self._waiters:
            waiting = []
            for target, future in self._waiters:
                if sequence >= target:
                    if not future.done():
                        future.set_result(None)
                else:
                    waiting.append((target, future))
            self._waiters = waiting

    def _load_stream_snapshot(self, update: marketdata_pb2.MarketDataUpdate) -> None:
        if update.snapshot_part > 1:
            self._load_snapshot_part(update)
            return
        self._clear()
        if update.snapshot_parts > 1:  # the first of several: in sync after the last
            self._set_orders(update.orders.bids, update.orders.asks)
            self.in_sync = False
            self._parts_due = (2, update.snapshot_parts)
            self.sequence = update.sequence
            return
        self._parts_due = None
        if self.channel == L2:
            if update.depth.depth:
                self.depth = update.depth.depth
            self._set_levels(update.depth.bids, update.depth.asks)
            self._check_depth(update.depth.checksum, update.depth.depth,
                              f"stream snapshot {update.sequence}")
        else:
            self._set_orders(update.orders.bids, update.orders.asks)
        self._synced_at(update.sequence)

    def _load_snapshot_part(self, update: marketdata_pb2.MarketDataUpdate) -> None:
        """A later part of an L3 snapshot: its orders go after the ones already held."""
        expected = self._parts_due
        if expected != (update.snapshot_part, update.snapshot_parts) or \
                update.sequence != self.sequence:
            self._parts_due = None
            raise self._fail(BookOutOfSync.GAP, f"snapshot part {update.snapshot_part} of "
                                                f"{update.snapshot_parts} at {update.sequence} "
                                                f"came when {expected} at {self.sequence} was due")
        self._set_orders(update.orders.bids, update.orders.asks)
        if update.snapshot_part == update.snapshot_parts:
            self._parts_due = None
            self._synced_at(update.sequence)
        else:
            self._parts_due = (update.snapshot_part + 1, update.snapshot_parts)

    def _check_depth(self, expected: int, depth: int, what: str) -> None:
        actual = self.checksum(depth or self.depth)
        if actual != expected:
            raise self._fail(BookOutOfSync.CHECKSUM,
                             f"{what}: checksum {actual:#010x}, server says {expected:#010x}")

    # --- L2 ------------------------------------------------------------------------

    def _set_levels(self, bids: Iterable[marketdata_pb2.PriceLevel],
                    asks: Iterable[marketdata_pb2.PriceLevel]) -> None:
        for side, levels in ((BUY, bids), (SELL, asks)):
            book = self._levels[side]
            for level in levels:
                book[level.price] = Level(level.price, level.quantity, level.order_count)

    def _apply_depth(self, depth: marketdata_pb2.DepthUpdate) -> None:
        for side, changes in ((BUY, depth.bids), (SELL, depth.asks)):
            book = self._levels[side]
            for level in changes:
                if level.quantity == 0:
                    book.pop(level.price, None)
                else:
                    book[level.price] = Level(level.price, level.quantity, level.order_count)
            if len(book) > self.depth:
                # A level pushed below the top `depth` by a better one is no longer sent.
                for price in sorted(book, reverse=side == BUY)[self.depth:]:
                    del book[price]

    # --- L3 ------------------------------------------------------------------------

    def _set_orders(self, bids: Iterable[marketdata_pb2.BookOrder],
                    asks: Iterable[marketdata_pb2.BookOrder]) -> None:
        for orders in (bids, asks):
            for order in orders:
                self._insert(RestingOrder(order.order_id, order.side, order.price,
                                          order.quantity))

    def _apply_events(self, events: Iterable[marketdata_pb2.OrderEvent], after: int) -> None:
        for event in events:
            if event.sequence and event.sequence <= after:
                continue  # already in the snapshot this update straddles
            if event.kind == ADD:
                if event.remaining != event.quantity or event.quantity <= 0:
                    raise self._fail(BookOutOfSync.INCONSISTENT,
                                     f"ADD of order {event.order_id} with quantity "
                                     f"{event.quantity}, remaining {event.remaining}")
                if event.order_id in self._orders:  # moved by an amendment
                    self._remove(self._orders[event.order_id])
                self._insert(RestingOrder(event.order_id, event.side, event.price,
                                          event.quantity))
                continue
            order = self._orders.get(event.order_id)
            if event.kind not in (REDUCE, DELETE, EXECUTE) or order is None \
                    or order.quantity - event.quantity != event.remaining \
                    or event.remaining < 0 or (event.kind == DELETE and event.remaining):
                raise self._fail(BookOutOfSync.INCONSISTENT,
                                 f"event {event.kind} on order {event.order_id} "
                                 f"(removes {event.quantity}, leaves {event.remaining}) "
                                 f"does not fit {order}")
            if event.remaining == 0:
                self._remove(order)
            else:
                self._reduce(order, event.remaining)

    def _insert(self, order: RestingOrder) -> None:
        self._orders[order.order_id] = order
        self._queues[order.side].setdefault(order.price, {})[order.order_id] = None
        self._adjust_level(order.side, order.price, order.quantity, 1)

    def _remove(self, order: RestingOrder) -> None:
        del self._orders[order.order_id]
        queues = self._queues[order.side]
        queue = queues[order.price]
        del queue[order.order_id]
        if not queue:
            del queues[order.price]
        self._adjust_level(order.side, order.price, -order.quantity, -1)

    def _reduce(self, order: RestingOrder, remaining: int) -> None:
        self._orders[order.order_id] = order._replace(quantity=remaining)
        self._adjust_level(order.side, order.price, remaining - order.quantity, 0)

    def _adjust_level(self, side: int, price: int, quantity: int, count: int) -> None:
        book = self._levels[side]
        old = book.get(price)
        level = Level(price, quantity, count) if old is None else \
            Level(price, old.quantity + quantity, old.order_count + count)
        if level.order_count == 0:
            del book[price]
        else:
            book[price] = level

    # --- following the stream ------------------------------------------------------

    async def wait_for_sequence(self, sequence: int) -> None:
        """Return once the book has reached `sequence`. On L2, a change below the top
        `depth` levels sends no update, so the book may never reach that exact number."""
        if self.sequence >= sequence:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((sequence, future))
        await future

    async def follow(self, stub: MarketDataServiceAsyncStub,
                     batches: AsyncIterable[marketdata_pb2.MarketDataBatch] | None = None,
                     ) -> AsyncIterator[marketdata_pb2.MarketDataUpdate]:
        """Keep the book in sync with a stream, yielding each update applied. On a gap or
        a checksum mismatch it loads GetBook and goes on. Without `batches` it opens its
        own StreamMarketData and reopens it if the server ends it as RESOURCE_EXHAUSTED;
        given `batches` (any stream carrying this book's channel) it reads only those."""
        while True:
            call = None
            source = batches
            if source is None:
                call = stub.StreamMarketData(
                    marketdata_pb2.StreamMarketDataRequest(subscriptions=[self.subscription()]))
                source = call
            try:
                async for batch in source:
                    for update in batch.updates:
                        if update.symbol == self.symbol and update.channel == self.channel \
                                and await self._offer(stub, update):
                            yield update
                return
            except grpc.aio.AioRpcError as error:
                if call is None or error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise TradepitError(error) from None
                self.resubscribes += 1
                self.in_sync = False  # the new stream starts with a snapshot
            finally:
                if call is not None:
                    call.cancel()

    async def _offer(self, stub: MarketDataServiceAsyncStub,
                     update: marketdata_pb2.MarketDataUpdate) -> bool:
        try:
            return self.apply(update)
        except BookOutOfSync:
            await self.resync(stub)
        try:
            # Normally the snapshot already covers the update that failed; if it does
            # not, the update chains on from it.
            return self.apply(update)
        except BookOutOfSync:
            return False  # still out of sync: the next update triggers another resync
