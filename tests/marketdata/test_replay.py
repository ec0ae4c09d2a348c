"""A scripted random session whose every market-data byte is pinned by a digest.

Everything a client can get from market data goes into one SHA-256: the encoded updates
and snapshots of readers following every kind of feed (one of them slow enough to be
conflated, one joining and leaving midway), GetBook answers and candle queries. Both book
backends must give the same digest, and it must equal GOLDEN: a change that was meant
to leave the output alone (an optimisation of the hub, the view or the feeds) keeps it.

If the output is meant to change, check the new output, then set GOLDEN to the digest
the failure reports.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest
from tradepit.exchange.commands import EndSession, SubmitOrder
from tradepit.exchange.errors import Reject
from tradepit.marketdata import feeds, messages
from tradepit.marketdata.checksum import depth_checksum
from tradepit.marketdata.feeds import FeedKey
from tradepit.marketdata.hub import MarketDataHub
from tradepit.marketdata.subscriptions import Subscriber
from tradepit_client.v1 import marketdata_pb2 as md

from .desk import BUY, GTC, IOC, LIMIT, SECOND, SELL, SYMBOL, Desk

GOLDEN = {  # with and without a reader of candles (candles are kept either way)
    True: "f1547849957d93e25981f71ae2ccedbe3dfac9f6445c0cf4701905927731dfe9",
    False: "d99b064690976153f5c3490c96247253e02f0a282f90106d034ab4d70f8b90d1",
}

MARKET, FOK, DAY = 2, 3, 4
HALTED, TRADING = 2, 1


def _key(channel: int, parameter: int = 0) -> FeedKey:
    return FeedKey(SYMBOL, channel, parameter)


EVERYTHING = [_key(md.CHANNEL_L1), _key(md.CHANNEL_L2, 3), _key(md.CHANNEL_L3),
              _key(md.CHANNEL_TRADES), _key(md.CHANNEL_STATUS),
              _key(md.CHANNEL_CANDLES, md.CANDLE_INTERVAL_1S),
              _key(md.CHANNEL_CANDLES, md.CANDLE_INTERVAL_1M)]
BENCH = [_key(md.CHANNEL_L2, 10), _key(md.CHANNEL_TRADES)]  # what bench/marketdata follows
SLOW = [_key(md.CHANNEL_L1), _key(md.CHANNEL_L2, 1), _key(md.CHANNEL_TRADES)]
LATE = [_key(md.CHANNEL_L2, 5), _key(md.CHANNEL_L3), _key(md.CHANNEL_TRADES)]


class _Recorder:
    def __init__(self, hub: MarketDataHub) -> None:
        self.hub = hub
        self.digest = hashlib.sha256()

    def add(self, tag: str, data: bytes) -> None:
        self.digest.update(f"{tag}:{len(data)}:".encode())
        self.digest.update(data)

    def read(self, tag: str, subscriber: Subscriber[Any], max_bytes: int = 1 << 19) -> None:
        """What the subscriber's writer would send now, as bytes."""
        owed, queued = subscriber.take()
        self.add(tag, b"".join(self.hub.snapshots(owed, max_bytes) + queued))
        self.add(tag + "-state", bytes((subscriber.overflowed, subscriber.failed)))

    def book(self, now: int) -> None:
        """GetBook at a few depths, with its orders, built as the service builds it."""
        view = self.hub.market(SYMBOL).view
        for depth in (1, 7, 50):
            bids, asks = view.depth(depth)
            snapshot = md.BookSnapshot(
                symbol=SYMBOL, sequence=view.sequence, bids=messages.levels(bids),
                asks=messages.levels(asks), checksum=depth_checksum(bids, asks), depth=depth,
                timestamp_ns=now)
            self.add(f"book{depth}", snapshot.SerializeToString())
        bid_orders, ask_orders = view.orders()
        snapshot = md.BookSnapshot(symbol=SYMBOL)
        snapshot.bid_orders.extend(messages.book_order(o) for o in bid_orders)
        snapshot.ask_orders.extend(messages.book_order(o) for o in ask_orders)
        self.add("orders", snapshot.SerializeToString())
        self.add("best", repr((view.best_bid(), view.best_ask(), len(view))).encode())

    def candles(self, now: int) -> None:
        history = self.hub.market(SYMBOL).history
        for interval, series in history.candles.items():
            for start, end, limit in ((0, 0, 5), (now - 90 * SECOND, now, 1000)):
                found = series.query(start, end, limit, now)
                self.add(f"candles{interval}", md.GetCandlesResponse(
                    candles=[messages.candle(c) for c in found]).SerializeToString())
        self.add("recent", b"".join(messages.trade(t).SerializeToString()
                                    for t in history.trades))


def _session(backend: Any, seed: int, steps: int, candle_readers: bool = True) -> str:
    desk = Desk(backend.Book)
    hub = desk.hub
    assert hub is not None
    carol = desk._trader("carol")
    traders = (desk.alice, desk.bob, carol)
    record = _Recorder(hub)
    rng = random.Random(seed)
    everything = [key for key in EVERYTHING
                  if candle_readers or key.channel != md.CHANNEL_CANDLES]
    readers = {"all": hub.subscribe(everything, 100_000), "bench": hub.subscribe(BENCH, 100_000),
               "slow": hub.subscribe(SLOW, 4)}
    late: Subscriber[Any] | None = None
    resting: list[tuple[int, int]] = []
    halted = False
    for step in range(steps):
        desk.now += rng.choice((0, 0, 0, 1_000, SECOND // 3, SECOND, 70 * SECOND))
        if halted and rng.random() < 0.3:
            desk.status(TRADING)
            halted = False
        roll = rng.random()
        try:
            if roll < 0.55 or not resting:
                side = rng.choice((BUY, SELL))
                offset = rng.randint(-5, 30)
                price = 10_000 - offset if side == BUY else 10_000 + offset
                account = rng.choice(traders)
                kind = rng.random()
                order_type, tif = LIMIT, GTC
                if kind < 0.08:
                    tif = IOC
                elif kind < 0.12:
                    tif = FOK
                elif kind < 0.18:
                    tif = DAY
                elif kind < 0.21:
                    order_type, tif, price = MARKET, IOC, 0
                result = desk.run(SubmitOrder(
                    account, "", SYMBOL, side, order_type, tif, price, rng.randint(1, 12),
                    rng.random() < 0.05, rng.randint(1, 4), desk.now))
                book_id = int(result.order.book_id)
                if desk.book.get_order(book_id) is not None:
                    resting.append((book_id, account))
            elif roll < 0.97:
                book_id, account = resting.pop(rng.randrange(len(resting)))
                order = desk.book.get_order(book_id)
                if order is None:
                    continue
                if roll < 0.75:
                    desk.cancel(book_id, account)
                else:
                    desk.amend(book_id, account, order.price + rng.choice((-2, 0, 0, 1)),
                               max(1, order.remaining + rng.randint(-4, 4)))
                    resting.append((book_id, account))
            elif roll < 0.985:
                halted = rng.random() < 0.5
                desk.status(HALTED if halted else TRADING)
            else:
                desk.run(EndSession(SYMBOL, desk.now))
        except Reject as reject:
            record.add("reject", str(int(reject.code)).encode())
        if rng.random() < 0.05:
            hub.tick(desk.now)
        for name, subscriber in readers.items():
            if rng.random() < (0.9 if name == "slow" else 0.2):
                record.read(name, subscriber)
        if late is None and rng.random() < 0.01:
            late = hub.subscribe(LATE, 100_000)
        elif late is not None and rng.random() < 0.2:
            record.read("late", late, max_bytes=rng.choice((1 << 19, 200)))
            if rng.random() < 0.05:
                hub.unsubscribe(late)
                late = None
        if step % 97 == 0:
            record.book(desk.now)
            record.candles(desk.now)
    for name, subscriber in readers.items():
        record.read(name, subscriber)
        hub.unsubscribe(subscriber)
    if late is not None:
        record.read("late", late)
        hub.unsubscribe(late)
    record.book(desk.now)
    record.candles(desk.now + 3_600 * SECOND)
    assert not hub.ticking
    return record.digest.hexdigest()


@pytest.mark.parametrize("candle_readers", [True, False])
@pytest.mark.parametrize("refills", [feeds.REFILLS, 3])
async def test_every_market_data_byte_is_as_recorded(backend: Any, refills: int,
                                                     candle_readers: bool,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Async only because candle subscribers start the hub's ticker on the running loop;
    the session never awaits, so the ticker never runs and `tick` is called by hand. With
    few refills, the feeds' messages are built anew all along (see Feed._fresh); with no
    candle reader, trades are summed and added to the candles only when they are read
    (see SymbolHistory)."""
    monkeypatch.setattr(feeds, "REFILLS", refills)
    assert _session(backend, 4, 3_000, candle_readers) == GOLDEN[candle_readers]
