"""The market-data hub: the gateway's listener, and the registry of feeds and readers.

The gateway hands over each command's book and status changes, in order, once they may
be published. Per change the hub replays the events into the symbol's public view of
the book and records its trades and candles (kept for every symbol), then lets each
feed of that symbol compute its update once and encodes it once. Feeds exist only while
somebody follows them.

Subscribers that follow exactly the same feeds share a `Fanout`: an update is appended
to each fanout of its feed, not to each subscriber. At the end of the event loop's round
of callbacks (or sooner, when a writer takes its queue) the hub flushes: each fanout
joins what it gathered into one chunk, and every one of its subscribers queues that
same chunk. So what a subscriber costs per round is one `put` and one wakeup, however
many commands the round applied; the work per update does not grow with subscribers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from functools import partial

from tradepit.exchange.codes import TradingStatus
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.model import BookChange, MarketEvent, StatusChange
from tradepit.marketdata.candles import Candle
from tradepit.marketdata.feeds import (
    FEEDS,
    CandlesFeed,
    Change,
    Feed,
    FeedKey,
    Market,
    OrdersFeed,
)
from tradepit.marketdata.history import RECENT_TRADES, SymbolHistory
from tradepit.marketdata.messages import frame
from tradepit.marketdata.subscriptions import Fanout, Subscriber
from tradepit.marketdata.view import BookView, OrderEvent

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25  # how often open candles are checked for the end of their interval
_NONE_CLOSED: dict[int, list[Candle]] = {}  # shared, never written
_NO_ORDERS: list[OrderEvent] = []  # shared, never written
CHUNK_BYTES = 256 << 10  # a fanout starts a new chunk past this (a writer's batch is bigger)


class _SymbolFeeds:
    """The feeds of one symbol, and whether one of them wants the order-by-order events
    (building those costs more than anything else the view does)."""

    def __init__(self) -> None:
        self.feeds: dict[FeedKey, Feed] = {}
        self.orders = False

    def refresh(self) -> None:
        self.orders = any(isinstance(f, OrdersFeed) for f in self.feeds.values())


Defer = Callable[[Callable[[], None]], None]


def _now(release: Callable[[], None]) -> None:
    release()


class MarketDataHub:
    """Build it when none of the exchange's events is in flight (at start): it takes the
    books as they are then, and from there on knows them only by their events.

    `defer(fn)` runs `fn` after the effects of every command applied so far (the
    gateway's `after_pending`); the candle tick goes through it, so a candle never
    closes before a trade applied within its interval has been published.
    """

    def __init__(self, exchange: Exchange, clock: Callable[[], int], *, defer: Defer = _now,
                 tick_seconds: float = TICK_SECONDS, recent_trades: int = RECENT_TRADES,
                 candle_history: int | None = None) -> None:
        self._clock = clock
        self._defer = defer
        self._tick_seconds = tick_seconds
        self._history_args: dict[str, int] = {"recent_trades": recent_trades}
        if candle_history is not None:
            self._history_args["candle_history"] = candle_history
        self._markets: dict[str, Market] = {}
        self.restart(exchange)
        self._symbols: dict[str, _SymbolFeeds] = {}
        self._candle_feeds: dict[FeedKey, CandlesFeed] = {}
        self._subscribers: dict[Subscriber[Feed], Fanout[Feed]] = {}
        self._fanouts: dict[frozenset[Feed], Fanout[Feed]] = {}
        self._dirty: list[Fanout[Feed]] = []  # fanouts holding updates not flushed yet
        self._flush_scheduled = False
        self._chunk_bytes = CHUNK_BYTES
        self._ticker: asyncio.Task[None] | None = None

    def restart(self, exchange: Exchange) -> None:
        """Take the books as they are now. At start, after a snapshot is loaded: the
        events before it never reach the hub, so neither does their trade history."""
        self._markets = {
            symbol: Market(symbol, BookView.of(exchange.books[symbol]),
                           SymbolHistory(**self._history_args), int(instrument.status))
            for symbol, instrument in exchange.instruments.items()}

    def market(self, symbol: str) -> Market:
        """A symbol's market; one listed after the hub started begins empty, and all of
        its events come here."""
        market = self._markets.get(symbol)
        if market is None:
            market = self._markets[symbol] = Market(
                symbol, BookView(), SymbolHistory(**self._history_args),
                int(TradingStatus.TRADING))
        return market

    # ------------------------------------------------------------ changes in

    def on_market_events(self, events: list[MarketEvent]) -> None:
        """The gateway's listener. A failure here must not fail the command that caused it
        (it is applied already), so it ends every market-data stream instead."""
        try:
            for event in events:
                if isinstance(event, BookChange):
                    self._on_book_change(event)
                else:
                    self._on_status(event)
        except Exception:
            log.exception("market data failed; closing every market-data stream")
            self._fail_everyone()

    def _on_book_change(self, event: BookChange) -> None:
        """Runs for every command that changes a book: keep the common path short."""
        symbol = event.symbol
        market = self._markets.get(symbol) or self.market(symbol)
        trades = event.trades
        closed = market.history.record(trades) if trades else _NONE_CLOSED
        group = self._symbols.get(symbol)
        if group is None:
            market.view.replay(event.events)
            return
        view = market.view
        if group.orders:
            orders: list[OrderEvent] = []
            bids, asks = view.replay(event.events, orders)
        else:
            orders = _NO_ORDERS
            bids, asks = view.replay(event.events)
        change = Change(event, view, closed, orders, bids, asks)
        publish = self._publish
        for feed in group.feeds.values():
            data = feed.on_book_change(change)
            if data is not None:
                publish(feed, data)

    def _on_status(self, event: StatusChange) -> None:
        self.market(event.symbol).status = int(event.status)
        group = self._symbols.get(event.symbol)
        if group is None:
            return
        for feed in group.feeds.values():
            data = feed.on_status(event)
            if data is not None:
                self._publish(feed, data)

    def tick(self, now_ns: int) -> None:
        """Close the open candles whose interval ended by `now_ns`, for the feeds that
        follow them (a candle nobody follows closes with its next trade, or when read)."""
        for feed in self._candle_feeds.values():
            closed = feed.series.roll(now_ns)
            if closed is not None:
                self._publish(feed, feed.on_close(closed, now_ns))

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self._tick_seconds)
            now = self._clock()
            self._defer(partial(self._safe_tick, now))

    def _safe_tick(self, now_ns: int) -> None:
        try:
            self.tick(now_ns)
        except Exception:
            log.exception("closing candles failed")

    # ------------------------------------------------------------ readers

    def subscribe(self, keys: Iterable[FeedKey], queue_size: int) -> Subscriber[Feed]:
        """A reader of the feeds `keys` name (listed symbols only), owed a snapshot of each.

        Its queue is keyed by the feed objects themselves: identity hashing is the cheapest
        lookup there is. It joins the fanout of readers of the same feeds (or starts one).
        """
        feeds = [self._feed(key) for key in keys]
        subscriber = Subscriber(feeds, queue_size, self.flush)
        group = frozenset(feeds)
        fanout = self._fanouts.get(group)
        if fanout is None:
            fanout = self._fanouts[group] = Fanout(group, self._chunk_bytes)
            for feed in group:
                feed.fanouts.append(fanout)
        fanout.subscribers.add(subscriber)
        self._subscribers[subscriber] = fanout
        if self._candle_feeds and self._ticker is None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())
        return subscriber

    def unsubscribe(self, subscriber: Subscriber[Feed]) -> None:
        fanout = self._subscribers.pop(subscriber, None)
        if fanout is not None:
            fanout.subscribers.discard(subscriber)
            if not fanout.subscribers:
                del self._fanouts[fanout.keys]
                for feed in fanout.keys:
                    feed.fanouts.remove(fanout)
                fanout.clear()
        for feed in subscriber.keys:
            key = feed.key
            group = self._symbols.get(key.symbol)
            if feed.fanouts or group is None or group.feeds.get(key) is not feed:
                continue  # still followed, or dropped already after a failure
            del group.feeds[key]
            self._candle_feeds.pop(key, None)
            group.refresh()
            if not group.feeds:
                del self._symbols[key.symbol]
        if not self._candle_feeds:
            self.close()

    def limit_chunks(self, max_bytes: int) -> None:
        """Keep every chunk within `max_bytes` (a writer's batch budget), unless a single
        update is larger."""
        self._chunk_bytes = min(self._chunk_bytes, max_bytes)
        for fanout in self._fanouts.values():
            fanout.chunk_bytes = self._chunk_bytes

    # ------------------------------------------------------------ fan-out

    def _publish(self, feed: Feed, data: bytes) -> None:
        """An update, encoded once (as its frame): every fanout of the feed gathers the
        same bytes."""
        conflatable = feed.conflatable
        for fanout in feed.fanouts:
            if fanout.add(feed, data, conflatable):
                self._dirty.append(fanout)
                if not self._flush_scheduled:
                    self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Flush once the callbacks ready now have run: everything this round of the
        event loop publishes leaves together."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a test driving the hub by hand): `take` flushes
        self._flush_scheduled = True
        loop.call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def flush(self) -> None:
        """Hand what every fanout gathered to its subscribers: one chunk, shared."""
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, []
        try:
            for fanout in dirty:
                chunks = fanout.take()
                for subscriber in fanout.subscribers:
                    for chunk in chunks:
                        subscriber.put(chunk)
        except Exception:
            log.exception("market data failed; closing every market-data stream")
            self._fail_everyone()

    def snapshots(self, owed: dict[Feed, bool], max_bytes: int) -> list[bytes]:
        """Encoded snapshots for a subscriber's owed feeds (feed -> conflated), taken now;
        one too large for `max_bytes` comes in parts."""
        now = self._clock()
        return [frame(part) for feed, conflated in owed.items()
                for part in feed.snapshot_parts(now, conflated, max_bytes)]

    def feed_count(self) -> int:
        return sum(len(group.feeds) for group in self._symbols.values())

    @property
    def ticking(self) -> bool:
        """Whether the candle ticker runs (only while somebody follows candles)."""
        return self._ticker is not None

    def close(self) -> None:
        """Stop the candle ticker (it restarts with the next candle subscriber)."""
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _feed(self, key: FeedKey) -> Feed:
        group = self._symbols.get(key.symbol)
        if group is None:
            group = self._symbols[key.symbol] = _SymbolFeeds()
        feed = group.feeds.get(key)
        if feed is None:
            feed = group.feeds[key] = FEEDS[key.channel](key, self.market(key.symbol))
            group.refresh()
            if isinstance(feed, CandlesFeed):
                self._candle_feeds[key] = feed
        return feed

    def _fail_everyone(self) -> None:
        for subscriber in self._subscribers:
            subscriber.fail()
        self._subscribers.clear()
        for fanout in self._fanouts.values():
            fanout.clear()
        self._fanouts.clear()
        self._dirty.clear()
        self._symbols.clear()
        self._candle_feeds.clear()
        self.close()
