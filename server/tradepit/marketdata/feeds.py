"""Feeds: one per (symbol, channel[, depth or interval]) that somebody follows.

After every book change a feed computes its new state once and returns one update,
encoded as one element of MarketDataBatch.updates (or nothing, when its view did not
change); the hub hands the same bytes to all subscribers.
`sequence` is the book's sequence after the change, `previous_sequence` the sequence of
this feed's previous update, so every subscriber can check it missed nothing.
Snapshots are built per subscriber, from the feed's current state.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from tradepit_client.v1 import common_pb2, marketdata_pb2

from tradepit.exchange.model import BookChange, StatusChange
from tradepit.marketdata import messages
from tradepit.marketdata.candles import Candle
from tradepit.marketdata.checksum import (
    LEVEL_BYTES,
    pack_level,
    pack_level_into,
    pack_levels,
    packed_checksum,
)
from tradepit.marketdata.history import SymbolHistory
from tradepit.marketdata.subscriptions import Fanout
from tradepit.marketdata.view import BookView, Level, OrderEvent, RestingOrder

Update = marketdata_pb2.MarketDataUpdate
L1, L2, L3 = marketdata_pb2.CHANNEL_L1, marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_L3
TRADES, CANDLES = marketdata_pb2.CHANNEL_TRADES, marketdata_pb2.CHANNEL_CANDLES
STATUS = marketdata_pb2.CHANNEL_STATUS
Quote = tuple[int, int, int, int]  # bid price, bid quantity, ask price, ask quantity
REFILLS = 1_000  # updates a feed's message serves before it is built anew (Feed._fresh)


class FeedKey(NamedTuple):
    symbol: str
    channel: int
    parameter: int = 0  # L2: levels per side; CANDLES: the CandleInterval; else 0


@dataclass(slots=True)
class Market:
    """One symbol as market data knows it, from the events published so far."""

    symbol: str
    view: BookView
    history: SymbolHistory
    status: int  # TradingStatus


class Change:
    """One BookChange as the feeds of its symbol see it, with what they share: the prices
    of the levels it touched on each side (as BookView.replay tells) and the best of
    them, which tells L1 and L2 feeds whether the change can concern them at all."""

    __slots__ = ("closed_candles", "event", "orders", "sequence", "touched_ask",
                 "touched_asks", "touched_bid", "touched_bids", "view")

    def __init__(self, event: BookChange, view: BookView,
                 closed_candles: dict[int, list[Candle]], orders: list[OrderEvent],
                 touched_bids: list[int], touched_asks: list[int]) -> None:
        self.event = event
        self.sequence = view.sequence  # the book's sequence after the change
        self.closed_candles = closed_candles  # per interval, the candles the trades closed
        self.orders = orders           # what an L3 reader sees of the change (if one follows)
        self.view = view
        self.touched_bids, self.touched_asks = touched_bids, touched_asks
        self.touched_bid: int | None = max(touched_bids) if touched_bids else None
        self.touched_ask: int | None = min(touched_asks) if touched_asks else None


class Feed:
    channel: ClassVar[marketdata_pb2.Channel.ValueType]
    conflatable: ClassVar[bool] = False  # may a slow reader skip to the latest state?
    _batch: marketdata_pb2.MarketDataBatch  # holds only _update
    _update: Update
    _refills: int  # updates _update serves before _fresh builds it anew

    def __init__(self, key: FeedKey, market: Market) -> None:
        self.key = key
        self.market = market
        self.fanouts: list[Fanout[Feed]] = []  # its readers, grouped by what they follow
        self.last_sequence = market.view.sequence
        self._fresh()

    def _fresh(self) -> None:
        """Build the message the feed's updates refill. Setting a few fields of a message
        costs less than building one; it sits alone in a batch, so encoding the batch
        gives the update's frame (messages.frame) in one call. Elements taken out of a
        repeated field keep their memory until the message goes, so it is built anew
        every REFILLS updates. Subclasses set what every update carries, and keep the
        fields they refill at hand."""
        self._batch = marketdata_pb2.MarketDataBatch()
        self._update = self._batch.updates.add(symbol=self.key.symbol, channel=self.channel)
        self._refills = REFILLS

    def on_book_change(self, change: Change) -> bytes | None:
        return None

    def on_status(self, change: StatusChange) -> bytes | None:
        return None

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        raise NotImplementedError

    def snapshot_parts(self, now_ns: int, conflated: bool, max_bytes: int) -> list[Update]:
        """The snapshot as updates of about `max_bytes` at most: one, but for L3."""
        return [self.snapshot(now_ns, conflated)]

    def _next(self, sequence: int, timestamp_ns: int) -> Update:
        """The feed's update, advancing its chain of sequences; the caller refills its
        payload (every field of it an update may set) and encodes `_batch`."""
        self._refills -= 1
        if not self._refills:
            self._fresh()
        update = self._update
        update.previous_sequence, self.last_sequence = self.last_sequence, sequence
        update.sequence = sequence
        update.timestamp_ns = timestamp_ns
        return update

    def _message(self, sequence: int, timestamp_ns: int, *, snapshot: bool = False,
                 conflated: bool = False) -> Update:
        """A new update: a snapshot (which does not advance the chain of sequences: it is
        one subscriber's starting point), or an update of the chain. The caller fills in its
        one payload field in place, which costs less than building it apart and having the
        constructor copy it."""
        previous = 0
        if not snapshot:
            previous, self.last_sequence = self.last_sequence, sequence
        return Update(symbol=self.key.symbol, channel=self.channel, sequence=sequence,
                      previous_sequence=previous, snapshot=snapshot, conflated=conflated,
                      timestamp_ns=timestamp_ns)


class QuoteFeed(Feed):
    """L1: best bid and ask with their total quantities."""

    channel = L1
    conflatable = True

    def __init__(self, key: FeedKey, market: Market) -> None:
        super().__init__(key, market)
        self.quote = self._read()

    def _read(self) -> Quote:
        view = self.market.view
        bid_price, bid_quantity = view.best_bid() or (0, 0)
        ask_price, ask_quantity = view.best_ask() or (0, 0)
        return bid_price, bid_quantity, ask_price, ask_quantity

    def on_book_change(self, change: Change) -> bytes | None:
        bid, ask = change.touched_bid, change.touched_ask
        if (bid is None or (self.quote[0] and bid < self.quote[0])) and (
                ask is None or (self.quote[2] and ask > self.quote[2])):
            return None  # only deeper levels moved
        quote = self._read()
        if quote == self.quote:
            return None
        self.quote = quote
        _with_quote(self._next(change.sequence, change.event.timestamp_ns), quote)
        return self._batch.SerializeToString()

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        return _with_quote(self._message(self.market.view.sequence, now_ns, snapshot=True,
                                         conflated=conflated), self.quote)


def _with_quote(update: Update, quote: Quote) -> Update:
    q = update.quote
    q.SetInParent()  # present even when both sides are empty
    q.bid_price, q.bid_quantity, q.ask_price, q.ask_quantity = quote
    return update


class DepthFeed(Feed):
    """L2: the top `depth` levels per side; updates carry only the levels that changed.

    A side is looked at only when the change touched a price on it within reach of its
    top (see `_Top`). The checksum is patched, not computed again: each side keeps its
    part of the checksummed bytes.
    """

    channel = L2
    conflatable = True

    def __init__(self, key: FeedKey, market: Market) -> None:
        super().__init__(key, market)
        self.depth = key.parameter
        view = market.view
        self._bids = _Top(view.bid_levels(self.depth), self.depth, True, view.bid_level,
                          view.bid_levels_below)
        self._asks = _Top(view.ask_levels(self.depth), self.depth, False, view.ask_level,
                          view.ask_levels_above)

    @property
    def bids(self) -> list[Level]:
        return self._bids.levels

    @property
    def asks(self) -> list[Level]:
        return self._asks.levels

    def _fresh(self) -> None:
        super()._fresh()
        payload = self._payload = self._update.depth
        payload.depth = self.key.parameter
        self._bids_out, self._asks_out = payload.bids, payload.asks
        self._bids_filled = self._asks_filled = False  # by the last update

    def on_book_change(self, change: Change) -> bytes | None:
        bids, asks = self._bids, self._asks
        changed_bids = changed_asks = None
        bid = change.touched_bid
        if bid is not None and (len(bids.levels) < bids.depth or bid >= bids.levels[-1][0]):
            changed_bids = bids.update(change.touched_bids)
        ask = change.touched_ask
        if ask is not None and (len(asks.levels) < asks.depth or ask <= asks.levels[-1][0]):
            changed_asks = asks.update(change.touched_asks)
        if not changed_bids and not changed_asks:
            return None
        self._next(change.sequence, change.event.timestamp_ns)
        if self._bids_filled:
            del self._bids_out[:]
        if changed_bids:
            _add_levels(self._bids_out, changed_bids)
        self._bids_filled = bool(changed_bids)
        if self._asks_filled:
            del self._asks_out[:]
        if changed_asks:
            _add_levels(self._asks_out, changed_asks)
        self._asks_filled = bool(changed_asks)
        self._payload.checksum = zlib.crc32(asks.packed, zlib.crc32(bids.packed))
        return self._batch.SerializeToString()

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        update = self._message(self.market.view.sequence, now_ns, snapshot=True,
                               conflated=conflated)
        depth = update.depth
        add = depth.bids.add
        for price, quantity, count in self.bids:
            add(price=price, quantity=quantity, order_count=count)
        add = depth.asks.add
        for price, quantity, count in self.asks:
            add(price=price, quantity=quantity, order_count=count)
        depth.checksum = packed_checksum(self._bids.packed, self._asks.packed)
        depth.depth = self.depth
        return update


def _add_levels(into: Any, levels: list[Level]) -> None:
    """Append to a repeated PriceLevel field (setting fields beats keyword arguments)."""
    add = into.add
    for price, quantity, count in levels:
        level = add()
        level.price = price
        level.quantity = quantity
        level.order_count = count


class _Top:
    """One side's top levels as an L2 feed shows them, kept equal to the view's.

    A change to the side is known by the prices it touched. A level that stayed in the
    top and only changed quantity (the usual case: an order added to or taken from an
    existing level) is patched in place, in the level list and in the checksum bytes;
    one that came or went is inserted or removed in place, the next level below the top
    moving up from the view. After a change that touched several prices, the new top is
    built from the old one and the touched levels, topped up from the view past the old
    last level if levels left it, and the side's bytes are packed again.
    """

    __slots__ = ("below", "depth", "index", "is_bid", "level_at", "levels", "packed")

    def __init__(self, levels: list[Level], depth: int, is_bid: bool,
                 level_at: Callable[[int], Level | None],
                 below: Callable[[int, int], list[Level]]) -> None:
        self.depth = depth
        self.is_bid = is_bid
        self.level_at = level_at  # the view's level at a price of this side, if any
        self.below = below        # the view's next levels worse than a price
        self._reset(levels)

    def _reset(self, levels: list[Level]) -> None:
        self.levels = levels  # its own list: patched in place
        self.index = {level[0]: i for i, level in enumerate(levels)}  # price -> position
        self.packed = bytearray(pack_levels(levels))

    def update(self, touched: list[int]) -> list[Level]:
        """Follow the view after a change that touched these prices; return what an L2
        update says of it: the levels of the new top that are new or moved, best first,
        then those of the old top that left it (quantity and count 0), in their order."""
        if len(touched) != 1:
            return self._update(touched)
        price = touched[0]  # the usual case: one order added, executed or cancelled
        levels = self.levels
        i = self.index.get(price)
        level = self.level_at(price)
        if i is not None:
            if level is None:
                return self._remove(i)
            if level == levels[i]:
                return []
            levels[i] = level
            pack_level_into(self.packed, i, level)
            return [level]
        if level is None:
            return []  # it came and went within the change
        return self._insert(level)

    def _remove(self, i: int) -> list[Level]:
        """The level at position `i` left; the next one below the top moves up, if any."""
        levels, packed = self.levels, self.packed
        price, worst = levels[i][0], levels[-1][0]
        full = len(levels) >= self.depth
        del levels[i]
        del packed[i * LEVEL_BYTES:(i + 1) * LEVEL_BYTES]
        changed = self.below(worst, 1) if full else []
        if changed:
            levels += changed
            packed += pack_level(changed[0])
        self.index = {level[0]: j for j, level in enumerate(levels)}
        changed.append((price, 0, 0))
        return changed

    def _insert(self, level: Level) -> list[Level]:
        """A level came (at a price not in the top); the last one leaves a full top."""
        levels, packed, depth = self.levels, self.packed, self.depth
        price = level[0]
        if self.is_bid:
            j = bisect_left(levels, -price, key=_negated_price)
        else:
            j = bisect_left(levels, price, key=_price)
        if j >= depth:
            return []  # below a full top
        levels.insert(j, level)
        packed[j * LEVEL_BYTES:j * LEVEL_BYTES] = pack_level(level)
        changed = [level]
        if len(levels) > depth:
            changed.append((levels.pop()[0], 0, 0))
            del packed[depth * LEVEL_BYTES:]
        self.index = {level[0]: j for j, level in enumerate(levels)}
        return changed

    def _update(self, touched: list[int]) -> list[Level]:
        levels, index, level_at = self.levels, self.index, self.level_at
        moved: dict[int, Level] = {}
        gone: set[int] | None = None
        new: list[Level] | None = None
        full = len(levels) >= self.depth
        worst = levels[-1][0] if levels else 0
        for price in touched:
            i = index.get(price)
            level = level_at(price)
            if i is not None:
                if level is None:
                    if gone is None:
                        gone = set()
                    gone.add(i)
                elif level != levels[i]:
                    moved[i] = level
            elif level is not None and not (
                    full and (price < worst if self.is_bid else price > worst)):
                if new is None:
                    new = []
                if level not in new:
                    new.append(level)
        if gone is None and new is None:
            for i, level in moved.items():
                levels[i] = level
                pack_level_into(self.packed, i, level)
            if len(moved) < 2:
                return list(moved.values())
            return [moved[i] for i in sorted(moved)]
        top = [moved.get(i, level) for i, level in enumerate(levels)
               if gone is None or i not in gone]
        if new is not None:
            top += new
            top.sort(reverse=self.is_bid)  # by price: prices differ
        depth = self.depth
        if len(top) > depth:
            del top[depth:]
        elif full and len(top) < depth:
            top += self.below(worst, depth - len(top))
        changed = [level for level in top
                   if (i := index.get(level[0])) is None or levels[i] != level]
        prices = {level[0] for level in top}
        changed += [(price, 0, 0) for price, _, _ in levels if price not in prices]
        self._reset(top)
        return changed


def _price(level: Level) -> int:
    return level[0]


def _negated_price(level: Level) -> int:
    return -level[0]


class OrdersFeed(Feed):
    """L3: every resting order, and each add, reduce, delete and execution."""

    channel = L3

    def _fresh(self) -> None:
        super()._fresh()
        self._events = self._update.orders.events

    def on_book_change(self, change: Change) -> bytes | None:
        if not change.orders:
            return None
        self._next(change.sequence, change.event.timestamp_ns)
        events = self._events
        del events[:]
        add = events.add
        for e in change.orders:
            add(kind=e.kind, order_id=e.order_id, side=e.side, price=e.price,
                quantity=e.quantity, remaining=e.remaining, sequence=e.sequence)
        return self._batch.SerializeToString()

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        bids, asks = self.market.view.orders()
        return self._orders_snapshot(bids, asks, now_ns, conflated)

    def snapshot_parts(self, now_ns: int, conflated: bool, max_bytes: int) -> list[Update]:
        """Every resting order, in parts of at most `max_bytes` when they do not fit in
        one: each order takes at most messages.MAX_BOOK_ORDER_BYTES."""
        bids, asks = self.market.view.orders()
        per_part = max(1, max_bytes // messages.MAX_BOOK_ORDER_BYTES)
        if len(bids) + len(asks) <= per_part:
            return [self._orders_snapshot(bids, asks, now_ns, conflated)]
        tagged = [(True, o) for o in bids] + [(False, o) for o in asks]
        chunks = [tagged[i:i + per_part] for i in range(0, len(tagged), per_part)]
        parts = []
        for number, chunk in enumerate(chunks, 1):
            update = self._orders_snapshot([o for bid, o in chunk if bid],
                                           [o for bid, o in chunk if not bid],
                                           now_ns, conflated)
            update.snapshot_part, update.snapshot_parts = number, len(chunks)
            parts.append(update)
        return parts

    def _orders_snapshot(self, bids: Sequence[RestingOrder], asks: Sequence[RestingOrder],
                         now_ns: int, conflated: bool) -> Update:
        update = self._message(self.market.view.sequence, now_ns, snapshot=True,
                               conflated=conflated)
        orders = update.orders
        orders.SetInParent()  # present even when the book is empty
        orders.bids.extend(messages.book_order(o) for o in bids)
        orders.asks.extend(messages.book_order(o) for o in asks)
        return update


class TradesFeed(Feed):
    channel = TRADES

    def _fresh(self) -> None:
        super()._fresh()
        self._trades = self._update.trades.trades

    def on_book_change(self, change: Change) -> bytes | None:
        event = change.event
        trades = event.trades
        if not trades:
            return None
        self._next(change.sequence, event.timestamp_ns)
        into = self._trades
        del into[:]
        add = into.add
        for t in trades:
            add(trade_id=t.trade_id, price=t.price, quantity=t.quantity,
                aggressor_side=t.aggressor_side, timestamp_ns=t.timestamp_ns,
                sequence=t.sequence)
        return self._batch.SerializeToString()

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        update = self._message(self.market.view.sequence, now_ns, snapshot=True,
                               conflated=conflated)
        update.trades.SetInParent()  # present even with no trade yet
        messages.add_trades(update.trades.trades, self.market.history.trades)
        return update


class CandlesFeed(Feed):
    """The open candle at one interval as trades change it, and each candle's close."""

    channel = CANDLES

    def __init__(self, key: FeedKey, market: Market) -> None:
        super().__init__(key, market)
        self.series = market.history.candles[key.parameter]

    def _fresh(self) -> None:
        super()._fresh()
        self._update.candles.SetInParent()  # present even when there is no open candle
        self._candles = self._update.candles.candles

    def on_book_change(self, change: Change) -> bytes | None:
        if not change.event.trades:
            return None
        current = self.series.current
        candles = list(change.closed_candles.get(self.key.parameter, ()))
        if current is not None:
            candles.append(current)
        return self._encode(change.sequence, change.event.timestamp_ns, candles)

    def on_close(self, candle: Candle, now_ns: int) -> bytes:
        """A candle whose interval ended with no later trade; the book did not change, so
        the update carries the book's current sequence."""
        return self._encode(self.market.view.sequence, now_ns, [candle])

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        current = self.series.current
        update = self._message(self.market.view.sequence, now_ns, snapshot=True,
                               conflated=conflated)
        update.candles.SetInParent()  # present even when there is no open candle
        if current is not None:
            update.candles.candles.append(messages.candle(current))
        return update

    def _encode(self, sequence: int, timestamp_ns: int, candles: Sequence[Candle]) -> bytes:
        self._next(sequence, timestamp_ns)
        into = self._candles
        del into[:]
        into.extend(messages.candle(c) for c in candles)
        return self._batch.SerializeToString()


class StatusFeed(Feed):
    """Trading status changes; they leave the book as it is, so they carry its sequence."""

    channel = STATUS

    def on_status(self, change: StatusChange) -> bytes | None:
        _with_status(self._next(self.market.view.sequence, change.timestamp_ns),
                     int(change.status))
        return self._batch.SerializeToString()

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        return _with_status(self._message(self.market.view.sequence, now_ns, snapshot=True,
                                          conflated=conflated), self.market.status)


def _with_status(update: Update, status: int) -> Update:
    update.status.status = common_pb2.TradingStatus.ValueType(status)
    update.status.SetInParent()  # present even for TRADING_STATUS_UNSPECIFIED
    return update


FEEDS: dict[int, type[Feed]] = {
    feed.channel: feed
    for feed in (QuoteFeed, DepthFeed, OrdersFeed, TradesFeed, CandlesFeed, StatusFeed)
}
