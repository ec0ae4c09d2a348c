"""Feeds: one per (symbol, channel[, depth or interval]) that somebody follows.

After every book change a feed computes its new state once and returns one update (or
nothing, when its view did not change); the hub encodes it once for all subscribers.
`sequence` is the book's sequence after the change, `previous_sequence` the sequence of
this feed's previous update, so every subscriber can check it missed nothing.
Snapshots are built per subscriber, from the feed's current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from tradepit_client.v1 import common_pb2, marketdata_pb2

from tradepit.exchange.model import BookChange, StatusChange
from tradepit.marketdata import messages
from tradepit.marketdata.candles import Candle
from tradepit.marketdata.checksum import depth_checksum
from tradepit.marketdata.history import SymbolHistory
from tradepit.marketdata.subscriptions import Fanout
from tradepit.marketdata.view import BUY, BookView, Level, OrderEvent, RestingOrder

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
    once: the top levels (only if some L2 feed needs them) and the best price touched on
    each side, which tells L1 and L2 feeds whether the change can concern them at all."""

    __slots__ = ("_depth", "_levels", "_view", "candles", "event", "orders", "sequence",
                 "touched_ask", "touched_bid")

    def __init__(self, event: BookChange, view: BookView, depth: int,
                 candles: dict[int, list[Candle]], orders: list[OrderEvent]) -> None:
        self.event = event
        self.sequence = view.sequence  # the book's sequence after the change
        self.candles = candles         # per interval, the candles the trades changed
        self.orders = orders           # what an L3 reader sees of the change
        self._view = view
        self._depth = depth            # as deep as the deepest L2 feed looks
        self._levels: tuple[list[Level], list[Level]] | None = None
        # Every change to a price level is an L3 event, so these bound what moved.
        bid = ask = None
        for e in orders:
            if e.side == BUY:
                if bid is None or e.price > bid:
                    bid = e.price
            elif ask is None or e.price < ask:
                ask = e.price
        self.touched_bid: int | None = bid
        self.touched_ask: int | None = ask

    def levels(self, depth: int) -> tuple[list[Level], list[Level]]:
        if self._levels is None:
            self._levels = self._view.depth(self._depth)
        bids, asks = self._levels
        return bids[:depth], asks[:depth]


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
                 conflated: bool = False,
                 quote: marketdata_pb2.Quote | None = None,
                 depth: marketdata_pb2.DepthUpdate | None = None,
                 orders: marketdata_pb2.OrderUpdates | None = None,
                 trades: marketdata_pb2.TradeUpdates | None = None,
                 candles: marketdata_pb2.CandleUpdates | None = None,
                 status: marketdata_pb2.StatusUpdate | None = None) -> Update:
        """An update (advancing the feed's chain of sequences) or a snapshot (which does not:
        it is one subscriber's starting point)."""
        previous = 0
        if not snapshot:
            previous, self.last_sequence = self.last_sequence, sequence
        return Update(symbol=self.key.symbol, channel=self.channel, sequence=sequence,
                      previous_sequence=previous, snapshot=snapshot, conflated=conflated,
                      timestamp_ns=timestamp_ns, quote=quote, depth=depth, orders=orders,
                      trades=trades, candles=candles, status=status)


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
        return self._message(change.sequence, change.event.timestamp_ns, quote=_quote(quote))

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        return self._message(self.market.view.sequence, now_ns, snapshot=True,
                             conflated=conflated, quote=_quote(self.quote))


def _quote(quote: Quote) -> marketdata_pb2.Quote:
    bid_price, bid_quantity, ask_price, ask_quantity = quote
    return marketdata_pb2.Quote(bid_price=bid_price, bid_quantity=bid_quantity,
                                ask_price=ask_price, ask_quantity=ask_quantity)


class DepthFeed(Feed):
    """L2: the top `depth` levels per side; updates carry only the levels that changed."""

    channel = L2
    conflatable = True

    def __init__(self, key: FeedKey, market: Market) -> None:
        super().__init__(key, market)
        self.depth = key.parameter
        self.bids, self.asks = market.view.depth(self.depth)

    def on_book_change(self, change: Change) -> Update | None:
        if not self._concerned(change):
            return None
        bids, asks = change.levels(self.depth)
        changed_bids, changed_asks = level_changes(self.bids, bids), level_changes(self.asks, asks)
        if not changed_bids and not changed_asks:
            return None
        self.bids, self.asks = bids, asks
        return self._message(change.sequence, change.event.timestamp_ns, depth=self._depth(
            changed_bids, changed_asks))

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        return self._message(self.market.view.sequence, now_ns, snapshot=True,
                             conflated=conflated, depth=self._depth(self.bids, self.asks))

    def _concerned(self, change: Change) -> bool:
        """Whether the change touched a price within (or that could enter) the top levels."""
        bid, ask, depth = change.touched_bid, change.touched_ask, self.depth
        return (bid is not None and (len(self.bids) < depth or bid >= self.bids[-1][0])) or (
            ask is not None and (len(self.asks) < depth or ask <= self.asks[-1][0]))

    def _depth(self, bids: Sequence[Level], asks: Sequence[Level]) -> marketdata_pb2.DepthUpdate:
        return marketdata_pb2.DepthUpdate(
            bids=messages.levels(bids), asks=messages.levels(asks),
            checksum=depth_checksum(self.bids, self.asks), depth=self.depth)


def level_changes(old: list[Level], new: list[Level]) -> list[Level]:
    """The levels of `new` that differ from `old`, then those of `old` that are gone
    (quantity and count 0), so that applying them to `old` gives `new`."""
    if old == new:
        return []
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
        return self._message(change.sequence, change.event.timestamp_ns,
                             orders=marketdata_pb2.OrderUpdates(
                                 events=[messages.order_event(e) for e in change.orders]))

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
        return self._message(self.market.view.sequence, now_ns, snapshot=True,
                             conflated=conflated, orders=marketdata_pb2.OrderUpdates(
                                 bids=[messages.book_order(o) for o in bids],
                                 asks=[messages.book_order(o) for o in asks]))


class TradesFeed(Feed):
    channel = TRADES

    def on_book_change(self, change: Change) -> Update | None:
        trades = change.event.trades
        if not trades:
            return None
        return self._message(change.sequence, change.event.timestamp_ns,
                             trades=marketdata_pb2.TradeUpdates(
                                 trades=[messages.trade(t) for t in trades]))

    def snapshot(self, now_ns: int, conflated: bool) -> Update:
        recent = self.market.history.trades
        return self._message(self.market.view.sequence, now_ns, snapshot=True,
                             conflated=conflated, trades=marketdata_pb2.TradeUpdates(
                                 trades=[messages.trade(t) for t in recent]))


class CandlesFeed(Feed):
    """The open candle at one interval as trades change it, and each candle's close."""

    channel = CANDLES

    def __init__(self, key: FeedKey, market: Market) -> None:
        super().__init__(key, market)
        self.series = market.history.candles[key.parameter]

    def on_book_change(self, change: Change) -> Update | None:
        candles = change.candles.get(self.key.parameter)
        if not candles:
            return None
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
        return self._message(sequence, timestamp_ns, snapshot=snapshot, conflated=conflated,
                             candles=marketdata_pb2.CandleUpdates(
                                 candles=[messages.candle(c) for c in candles]))


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
        return self._message(sequence, timestamp_ns, snapshot=snapshot, conflated=conflated,
                             status=marketdata_pb2.StatusUpdate(
                                 status=common_pb2.TradingStatus.ValueType(status)))


FEEDS: dict[int, type[Feed]] = {
    feed.channel: feed
    for feed in (QuoteFeed, DepthFeed, OrdersFeed, TradesFeed, CandlesFeed, StatusFeed)
}
