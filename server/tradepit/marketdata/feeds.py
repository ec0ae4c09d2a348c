"""Feeds: one per (symbol, channel[, depth or interval]) that somebody follows.

After every book change a feed computes its new state once and returns one update (or
nothing, when its view did not change); the hub encodes it once for all subscribers.
`sequence` is the book's sequence after the change, `previous_sequence` the sequence of
this feed's previous update, so every subscriber can check it missed nothing.
Snapshots are built per subscriber, from the feed's current state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from tradepit_client.v1 import common_pb2, marketdata_pb2

from tradepit.exchange.model import BookChange, StatusChange
from tradepit.marketdata import messages
from tradepit.marketdata.candles import Candle
from tradepit.marketdata.checksum import pack_level_into, pack_levels, packed_checksum
from tradepit.marketdata.history import SymbolHistory
from tradepit.marketdata.subscriptions import Fanout
from tradepit.marketdata.view import BUY, SELL, BookView, Level, OrderEvent, RestingOrder

Update = marketdata_pb2.MarketDataUpdate
L1, L2, L3 = marketdata_pb2.CHANNEL_L1, marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_L3
TRADES, CANDLES = marketdata_pb2.CHANNEL_TRADES, marketdata_pb2.CHANNEL_CANDLES
STATUS = marketdata_pb2.CHANNEL_STATUS
Quote = tuple[int, int, int, int]  # bid price, bid quantity, ask price, ask quantity


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
    """One BookChange as the feeds of its symbol see it, with what they share computed
    once: the top levels of a side (only if some L2 feed needs them, and only for a side
    the change touched) and the best price touched on each side, which tells L1 and L2
    feeds whether the change can concern them at all."""

    __slots__ = ("_asks", "_bids", "_depth", "_view", "closed_candles", "event", "orders",
                 "sequence", "touched_ask", "touched_asks", "touched_bid", "touched_bids",
                 "view")

    def __init__(self, event: BookChange, view: BookView, depth: int,
                 closed_candles: dict[int, list[Candle]], orders: list[OrderEvent]) -> None:
        self.event = event
        self.sequence = view.sequence  # the book's sequence after the change
        self.closed_candles = closed_candles  # per interval, the candles the trades closed
        self.orders = orders           # what an L3 reader sees of the change
        self.view = view
        self._depth = depth            # as deep as the deepest L2 feed looks
        self._bids: list[Level] | None = None
        self._asks: list[Level] | None = None
        # Every change to a price level is an L3 event: these are the prices that moved,
        # and the best of them on each side.
        bids: list[int] = []
        asks: list[int] = []
        for e in orders:
            (bids if e.side == BUY else asks).append(e.price)
        self.touched_bids, self.touched_asks = bids, asks
        self.touched_bid: int | None = max(bids) if bids else None
        self.touched_ask: int | None = min(asks) if asks else None

    def bids(self, depth: int) -> list[Level]:
        levels = self._bids
        if levels is None:
            levels = self._bids = self.view.bid_levels(self._depth)
        return levels if depth >= len(levels) else levels[:depth]

    def asks(self, depth: int) -> list[Level]:
        levels = self._asks
        if levels is None:
            levels = self._asks = self.view.ask_levels(self._depth)
        return levels if depth >= len(levels) else levels[:depth]


class Feed:
    channel: ClassVar[marketdata_pb2.Channel.ValueType]
    conflatable: ClassVar[bool] = False  # may a slow reader skip to the latest state?

    def __init__(self, key: FeedKey, market: Market) -> None:
        self.key = key
        self.market = market
        self.fanouts: list[Fanout[Feed]] = []  # its readers, grouped by what they follow
        self.last_sequence = market.view.sequence

    def on_book_change(self, change: Change) -> Update | None:
        return None

    def on_status(self, change: StatusChange) -> Update | None:
        return None

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        raise NotImplementedError

    def snapshot_parts(self, now_ns: int, conflated: bool, max_bytes: int) -> list[Update]:
        """The snapshot as updates of about `max_bytes` at most: one, but for L3."""
        return [self.snapshot(now_ns, conflated)]

    def _message(self, sequence: int, timestamp_ns: int, *, snapshot: bool = False,
                 conflated: bool = False) -> Update:
        """An update (advancing the feed's chain of sequences) or a snapshot (which does not:
        it is one subscriber's starting point), without its payload: the caller fills in
        its one payload field in place, which costs less than building it apart and
        having the constructor copy it."""
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

    def on_book_change(self, change: Change) -> Update | None:
        bid, ask = change.touched_bid, change.touched_ask
        if (bid is None or (self.quote[0] and bid < self.quote[0])) and (
                ask is None or (self.quote[2] and ask > self.quote[2])):
            return None  # only deeper levels moved
        quote = self._read()
        if quote == self.quote:
            return None
        self.quote = quote
        return _with_quote(self._message(change.sequence, change.event.timestamp_ns), quote)

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

    A side is looked at only when the change touched a price on it within reach of the
    top. If the touched levels were all in the top and are all still there (the usual
    case: orders added to or taken from existing levels), only they are read again, and
    the checksum's bytes are patched in place; when a level came or went, the side's
    top levels are read again and compared.
    """

    channel = L2
    conflatable = True

    def __init__(self, key: FeedKey, market: Market) -> None:
        super().__init__(key, market)
        self.depth = key.parameter
        self.bids: list[Level] = []
        self.asks: list[Level] = []
        self._bid_index: dict[int, int] = {}  # price -> position in self.bids
        self._ask_index: dict[int, int] = {}
        self._packed_bids = bytearray()       # pack_levels(self.bids), patched in place
        self._packed_asks = bytearray()
        self._set_bids(market.view.bid_levels(self.depth))
        self._set_asks(market.view.ask_levels(self.depth))

    def _set_bids(self, bids: list[Level]) -> None:
        self.bids, self._packed_bids = bids, bytearray(pack_levels(bids))
        self._bid_index = {level[0]: i for i, level in enumerate(bids)}

    def _set_asks(self, asks: list[Level]) -> None:
        self.asks, self._packed_asks = asks, bytearray(pack_levels(asks))
        self._ask_index = {level[0]: i for i, level in enumerate(asks)}

    def on_book_change(self, change: Change) -> Update | None:
        bid, ask, depth = change.touched_bid, change.touched_ask, self.depth
        changed_bids: list[Level] = []
        changed_asks: list[Level] = []
        if bid is not None and (len(self.bids) < depth or bid >= self.bids[-1][0]):
            moved = _moved(self.bids, self._bid_index, depth, change.touched_bids,
                           change.view.bid_level, BUY)
            if moved is None:
                bids = change.bids(depth)
                changed_bids = level_changes(self.bids, bids)
                if changed_bids:
                    self._set_bids(bids)
            elif moved:
                self.bids, changed_bids = _patch(self.bids, self._packed_bids, moved)
        if ask is not None and (len(self.asks) < depth or ask <= self.asks[-1][0]):
            moved = _moved(self.asks, self._ask_index, depth, change.touched_asks,
                           change.view.ask_level, SELL)
            if moved is None:
                asks = change.asks(depth)
                changed_asks = level_changes(self.asks, asks)
                if changed_asks:
                    self._set_asks(asks)
            elif moved:
                self.asks, changed_asks = _patch(self.asks, self._packed_asks, moved)
        if not changed_bids and not changed_asks:
            return None
        return self._depth(self._message(change.sequence, change.event.timestamp_ns),
                           changed_bids, changed_asks)

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        return self._depth(self._message(self.market.view.sequence, now_ns, snapshot=True,
                                         conflated=conflated), self.bids, self.asks)

    def _depth(self, update: Update, bids: Sequence[Level], asks: Sequence[Level]) -> Update:
        depth = update.depth
        add = depth.bids.add
        for price, quantity, count in bids:
            add(price=price, quantity=quantity, order_count=count)
        add = depth.asks.add
        for price, quantity, count in asks:
            add(price=price, quantity=quantity, order_count=count)
        depth.checksum = packed_checksum(self._packed_bids, self._packed_asks)
        depth.depth = self.depth
        return update


def _moved(levels: list[Level], index: dict[int, int], depth: int, touched: list[int],
           level_at: Callable[[int], Level | None], side: int) -> dict[int, Level] | None:
    """Position -> new level, for the touched levels of one side's top that moved in
    place; None when a level within reach came or went (read the side again)."""
    moved: dict[int, Level] = {}
    full = len(levels) >= depth
    worst = levels[-1][0] if levels else 0
    for price in touched:
        i = index.get(price)
        if i is None:
            if full and (price < worst if side == BUY else price > worst):
                continue  # below the top: no concern of this feed
            return None
        level = level_at(price)
        if level is None:
            return None
        if level != levels[i]:
            moved[i] = level
    return moved


def _patch(levels: list[Level], packed: bytearray,
           moved: dict[int, Level]) -> tuple[list[Level], list[Level]]:
    """The side with `moved` applied (a copy: the old list may be shared) and the moved
    levels best first; `packed` is patched in place."""
    levels = levels.copy()
    for i, level in moved.items():
        levels[i] = level
        pack_level_into(packed, i, level)
    return levels, [moved[i] for i in sorted(moved)]


def level_changes(old: list[Level], new: list[Level]) -> list[Level]:
    """The levels of `new` that differ from `old`, then those of `old` that are gone
    (quantity and count 0), so that applying them to `old` gives `new`."""
    if old == new:
        return []
    if len(old) == len(new):  # the usual case: the same prices, some quantities moved
        changed = []
        for was, now in zip(old, new, strict=True):
            if was != now:
                if was[0] != now[0]:
                    break
                changed.append(now)
        else:
            return changed
    before = {price: (quantity, count) for price, quantity, count in old}
    changed = [level for level in new if before.pop(level[0], None) != (level[1], level[2])]
    changed.extend((price, 0, 0) for price in before)
    return changed


class OrdersFeed(Feed):
    """L3: every resting order, and each add, reduce, delete and execution."""

    channel = L3

    def on_book_change(self, change: Change) -> Update | None:
        if not change.orders:
            return None
        update = self._message(change.sequence, change.event.timestamp_ns)
        update.orders.events.extend(messages.order_event(e) for e in change.orders)
        return update

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

    def on_book_change(self, change: Change) -> Update | None:
        trades = change.event.trades
        if not trades:
            return None
        update = self._message(change.sequence, change.event.timestamp_ns)
        messages.add_trades(update.trades.trades, trades)
        return update

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

    def on_book_change(self, change: Change) -> Update | None:
        if not change.event.trades:
            return None
        current = self.series.current
        candles = list(change.closed_candles.get(self.key.parameter, ()))
        if current is not None:
            candles.append(current)
        return self._candles(change.sequence, change.event.timestamp_ns, candles)

    def on_close(self, candle: Candle, now_ns: int) -> Update:
        """A candle whose interval ended with no later trade; the book did not change, so
        the update carries the book's current sequence."""
        return self._candles(self.market.view.sequence, now_ns, [candle])

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        current = self.series.current
        return self._candles(self.market.view.sequence, now_ns,
                             [] if current is None else [current], snapshot=True,
                             conflated=conflated)

    def _candles(self, sequence: int, timestamp_ns: int, candles: Sequence[Candle], *,
                 snapshot: bool = False, conflated: bool = False) -> Update:
        update = self._message(sequence, timestamp_ns, snapshot=snapshot, conflated=conflated)
        update.candles.SetInParent()  # present even when there is no open candle
        update.candles.candles.extend(messages.candle(c) for c in candles)
        return update


class StatusFeed(Feed):
    """Trading status changes; they leave the book as it is, so they carry its sequence."""

    channel = STATUS

    def on_status(self, change: StatusChange) -> Update | None:
        return self._status(self.market.view.sequence, change.timestamp_ns, int(change.status))

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        return self._status(self.market.view.sequence, now_ns, self.market.status, snapshot=True,
                            conflated=conflated)

    def _status(self, sequence: int, timestamp_ns: int, status: int, *, snapshot: bool = False,
                conflated: bool = False) -> Update:
        update = self._message(sequence, timestamp_ns, snapshot=snapshot, conflated=conflated)
        update.status.status = common_pb2.TradingStatus.ValueType(status)
        update.status.SetInParent()  # present even for TRADING_STATUS_UNSPECIFIED
        return update


FEEDS: dict[int, type[Feed]] = {
    feed.channel: feed
    for feed in (QuoteFeed, DepthFeed, OrdersFeed, TradesFeed, CandlesFeed, StatusFeed)
}
