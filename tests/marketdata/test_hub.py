"""Feeds through the hub: snapshot first, chained sequences, updates computed once."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from tradepit.exchange.model import BookChange
from tradepit.marketdata.feeds import FeedKey
from tradepit_client.v1 import marketdata_pb2 as md

from .desk import BUY, IOC, SECOND, SELL, SYMBOL, Desk
from .readers import Chains, DepthReader, OrdersReader

L1 = FeedKey(SYMBOL, md.CHANNEL_L1)
L2 = FeedKey(SYMBOL, md.CHANNEL_L2, 3)
L3 = FeedKey(SYMBOL, md.CHANNEL_L3)
TRADES = FeedKey(SYMBOL, md.CHANNEL_TRADES)
STATUS = FeedKey(SYMBOL, md.CHANNEL_STATUS)
CANDLES_1S = FeedKey(SYMBOL, md.CHANNEL_CANDLES, md.CANDLE_INTERVAL_1S)
HALTED, TRADING = 2, 1


def test_each_feed_starts_with_a_snapshot_then_chained_updates(desk: Desk) -> None:
    assert desk.hub is not None
    desk.order(desk.alice, SELL, 10_010, 5)
    subscriber = desk.hub.subscribe([L1, L2, L3, TRADES, STATUS], 1_000)
    snapshots = desk.read(subscriber)
    assert [u.channel for u in snapshots] == [k.channel for k in (L1, L2, L3, TRADES, STATUS)]
    assert all(u.snapshot and not u.conflated and u.sequence == desk.book.sequence
               for u in snapshots)
    assert snapshots[0].quote == md.Quote(ask_price=10_010, ask_quantity=5)
    assert [(o.price, o.quantity) for o in snapshots[2].orders.asks] == [(10_010, 5)]
    assert snapshots[4].status.status == TRADING

    chains, depth = Chains(), DepthReader()
    for update in snapshots:
        chains.check(update)
    depth.apply(snapshots[1])
    for price in (10_020, 10_005, 10_030, 10_001):
        desk.order(desk.alice, SELL, price, 2)  # levels come in and push others out
    desk.order(desk.bob, BUY, 10_006, 4)        # trades 2 at 10_001, 2 at 10_005
    desk.order(desk.bob, BUY, 9_990, 3)
    desk.status(HALTED)
    updates = desk.read(subscriber)
    for update in updates:
        assert not update.snapshot
        chains.check(update)
        if update.channel == md.CHANNEL_L2:
            depth.apply(update)
    assert depth.levels() == desk.book.depth(3)
    assert updates[-1].channel == md.CHANNEL_STATUS and updates[-1].status.status == HALTED
    assert updates[-1].sequence == desk.book.sequence
    trades = [t for u in updates if u.channel == md.CHANNEL_TRADES for t in u.trades.trades]
    assert [(t.price, t.quantity, t.aggressor_side) for t in trades] == [
        (10_001, 2, BUY), (10_005, 2, BUY)]
    last_quote = [u for u in updates if u.channel == md.CHANNEL_L1][-1].quote
    assert last_quote == md.Quote(bid_price=9_990, bid_quantity=3, ask_price=10_010,
                                  ask_quantity=5)


def test_an_unchanged_view_sends_nothing(desk: Desk) -> None:
    assert desk.hub is not None
    desk.order(desk.alice, SELL, 10_010, 5)
    subscriber = desk.hub.subscribe([L1, L2], 1_000)
    desk.read(subscriber)
    desk.order(desk.alice, SELL, 10_011, 5)  # inside the top 3: L2 only
    desk.order(desk.alice, SELL, 10_012, 5)
    desk.order(desk.alice, SELL, 10_013, 5)  # fourth level: neither
    desk.order(desk.bob, BUY, 9_000, 1, tif=IOC)  # no trade, no resting order: nothing
    assert [u.channel for u in desk.read(subscriber)] == [md.CHANNEL_L2, md.CHANNEL_L2]


def test_one_encoding_is_shared_and_feeds_live_only_while_followed(desk: Desk) -> None:
    hub = desk.hub
    assert hub is not None
    first = hub.subscribe([L2, TRADES], 100)
    second = hub.subscribe([L2], 100)
    same = hub.subscribe([TRADES, L2], 100)  # the same feeds as `first`: the same fanout
    assert hub.feed_count() == 2
    for reader in (first, second, same):
        desk.read(reader)
    desk.order(desk.alice, SELL, 10_010, 5)
    desk.order(desk.bob, BUY, 10_010, 2)  # a trade and an L2 update: one chunk of two
    [mine], [theirs], [ours] = first.take()[1], second.take()[1], same.take()[1]
    assert mine is ours  # joined once for the fanout
    assert theirs in mine  # the L2 updates were encoded once and shared
    assert [u.channel for u in md.MarketDataBatch.FromString(mine).updates] == [
        md.CHANNEL_L2, md.CHANNEL_L2, md.CHANNEL_TRADES]
    hub.unsubscribe(first)
    hub.unsubscribe(same)
    assert hub.feed_count() == 1
    hub.unsubscribe(second)
    assert hub.feed_count() == 0


def test_l3_updates_rebuild_the_resting_orders(desk: Desk) -> None:
    assert desk.hub is not None
    desk.order(desk.alice, SELL, 10_010, 5)
    subscriber = desk.hub.subscribe([L3], 100)
    [snapshot] = desk.read(subscriber)
    orders = {o.order_id: o.quantity for o in (*snapshot.orders.bids, *snapshot.orders.asks)}
    resting = desk.order(desk.alice, SELL, 10_020, 7)
    desk.order(desk.bob, BUY, 10_010, 3)
    desk.amend(resting, desk.alice, 10_020, 4)
    taker = desk.order(desk.bob, BUY, 10_015, 4)  # 2 trade, 2 rest
    desk.cancel(resting, desk.alice)
    for update in desk.read(subscriber):
        for e in update.orders.events:
            assert e.sequence <= update.sequence
            if e.kind == md.OrderEvent.KIND_ADD:
                orders[e.order_id] = e.quantity
            elif e.remaining:
                orders[e.order_id] = e.remaining
            else:
                del orders[e.order_id]
    bids, asks = desk.book.orders()
    assert orders == {o.order_id: o.remaining for o in (*bids, *asks)} == {taker: 2}


def test_trades_snapshot_holds_the_50_most_recent(desk: Desk) -> None:
    assert desk.hub is not None
    desk.order(desk.alice, SELL, 10_010, 60)
    for _ in range(60):
        desk.order(desk.bob, BUY, 10_010, 1)
    [snapshot] = desk.read(desk.hub.subscribe([TRADES], 100))
    trades = snapshot.trades.trades
    assert len(trades) == 50 and [t.trade_id for t in trades] == list(range(11, 61))


def test_a_slow_reader_gets_a_conflated_snapshot_of_the_latest_depth(desk: Desk) -> None:
    assert desk.hub is not None
    subscriber = desk.hub.subscribe([L1, L2], 3)
    desk.read(subscriber)
    for price in range(10_001, 10_011):
        desk.order(desk.alice, SELL, price, 1)
    updates = desk.read(subscriber)
    assert all(u.snapshot and u.conflated for u in updates)
    assert {u.channel for u in updates} == {md.CHANNEL_L1, md.CHANNEL_L2}
    reader = DepthReader()
    reader.apply(next(u for u in updates if u.channel == md.CHANNEL_L2))
    assert reader.levels() == desk.book.depth(3)
    desk.order(desk.alice, SELL, 10_000, 1)  # and updates flow again, chained on
    [quote, depth] = desk.read(subscriber)
    assert quote.channel == md.CHANNEL_L1 and not quote.snapshot
    assert not depth.snapshot and depth.previous_sequence <= updates[0].sequence


def test_the_hub_can_start_on_books_that_already_have_orders(backend: Any) -> None:
    desk = Desk(backend.Book, hub_first=False)
    ask = desk.order(desk.alice, SELL, 10_010, 5)
    desk.order(desk.bob, BUY, 9_990, 5)
    hub = desk.start_hub()
    subscriber = hub.subscribe([L3, L2], 10)
    l3, l2 = desk.read(subscriber)
    assert [level.price for level in l2.depth.bids] == [9_990]
    assert [o.order_id for o in l3.orders.asks] == [ask] and l3.sequence == desk.book.sequence
    desk.order(desk.bob, BUY, 10_010, 2)
    [l2_update, l3_update] = sorted(desk.read(subscriber), key=lambda u: u.channel)
    assert [(a.price, a.quantity) for a in l2_update.depth.asks] == [(10_010, 3)]
    assert [(e.kind, e.order_id, e.remaining) for e in l3_update.orders.events] == [
        (md.OrderEvent.KIND_EXECUTE, ask, 3)]


def test_a_failure_in_market_data_ends_the_streams_not_the_command(desk: Desk) -> None:
    hub = desk.hub
    assert hub is not None
    subscriber = hub.subscribe([L2], 10)
    broken = BookChange(SYMBOL, [object()], [], 0)
    hub.on_market_events([broken])  # logged, not raised
    assert subscriber.failed and hub.feed_count() == 0
    hub.unsubscribe(subscriber)


async def test_candles_stream_open_updates_and_close_with_the_tick(desk: Desk) -> None:
    hub = desk.hub
    assert hub is not None
    desk.order(desk.alice, SELL, 10_010, 10)
    subscriber = hub.subscribe([CANDLES_1S], 100)
    [snapshot] = desk.read(subscriber)
    assert snapshot.snapshot and list(snapshot.candles.candles) == []
    desk.order(desk.bob, BUY, 10_010, 2)
    desk.order(desk.bob, BUY, 10_010, 1)
    updates = desk.read(subscriber)
    assert [(c.volume, c.trade_count, c.closed) for u in updates for c in u.candles.candles] \
        == [(2, 1, False), (3, 2, False)]
    start = updates[-1].candles.candles[0].start_ns
    hub.tick(start + SECOND - 1)
    assert desk.read(subscriber) == []
    hub.tick(start + SECOND)
    [close] = desk.read(subscriber)
    [candle] = close.candles.candles
    assert candle.closed and candle.volume == 3 and candle.notional == 3 * 10_010
    assert close.sequence == close.previous_sequence == desk.book.sequence
    hub.tick(start + 5 * SECOND)
    assert desk.read(subscriber) == []  # closed once
    hub.unsubscribe(subscriber)


async def test_the_candle_ticker_waits_for_pending_effects(backend: Any) -> None:
    deferred: list[Any] = []
    desk = Desk(backend.Book, tick_seconds=0.01, defer=deferred.append)
    hub = desk.hub
    assert hub is not None
    desk.order(desk.alice, SELL, 10_010, 10)
    desk.order(desk.bob, BUY, 10_010, 1)
    subscriber = hub.subscribe([CANDLES_1S], 100)
    assert hub.ticking
    desk.read(subscriber)
    desk.now += 2 * SECOND
    for _ in range(100):
        await asyncio.sleep(0.01)
        if deferred:
            break
    assert deferred and desk.read(subscriber) == []  # not before the pending effects left
    deferred.pop(0)()
    [close] = desk.read(subscriber)
    assert close.candles.candles[0].closed
    hub.unsubscribe(subscriber)  # the last candle reader: the ticker stops
    assert not hub.ticking


def test_readers_stay_equal_to_the_book_through_random_trading(desk: Desk) -> None:
    """L1, L2 at two depths and L3, applied as a client would, against the live book
    after every command: the skips for changes below the top levels must be exact."""
    hub = desk.hub
    assert hub is not None
    deep = FeedKey(SYMBOL, md.CHANNEL_L2, 10)
    first, second = hub.subscribe([L1, L2, L3], 10_000), hub.subscribe([deep], 10_000)
    chains, shallow, wide, orders = Chains(), DepthReader(), DepthReader(), OrdersReader()
    quote = md.Quote()
    rng = random.Random(5)
    resting: list[tuple[int, int]] = []
    for step in range(1_500):
        roll = rng.random()
        if roll < 0.6 or not resting:
            side = rng.choice((BUY, SELL))
            account = desk.alice if side == SELL else desk.bob
            offset = rng.randint(-4, 25)
            price = 10_000 - offset if side == BUY else 10_000 + offset
            book_id = desk.order(account, side, price, rng.randint(1, 9),
                                 tif=IOC if rng.random() < 0.1 else 1)
            if desk.book.get_order(book_id) is not None:
                resting.append((book_id, account))
        else:
            book_id, account = resting.pop(rng.randrange(len(resting)))
            if desk.book.get_order(book_id) is None:
                continue
            if roll < 0.8:
                desk.cancel(book_id, account)
            else:
                order = desk.book.get_order(book_id)
                desk.amend(book_id, account, order.price + rng.choice((-1, 0, 1)),
                           max(1, order.remaining + rng.randint(-3, 3)))
                resting.append((book_id, account))
        for update in desk.read(first) + desk.read(second):
            if update.channel == md.CHANNEL_L2:
                (wide if update.depth.depth == 10 else shallow).apply(update)
            else:
                chains.check(update)
            if update.channel == md.CHANNEL_L1:
                quote = update.quote
            elif update.channel == md.CHANNEL_L3:
                orders.apply(update)
        assert shallow.levels() == desk.book.depth(3), step
        assert wide.levels() == desk.book.depth(10), step
        best_bid, best_ask = desk.book.best_bid() or (0, 0), desk.book.best_ask() or (0, 0)
        assert (quote.bid_price, quote.bid_quantity) == best_bid, step
        assert (quote.ask_price, quote.ask_quantity) == best_ask, step
        bids, asks = desk.book.orders()
        assert orders.orders == {o.order_id: (o.side, o.price, o.remaining)
                                 for o in (*bids, *asks)}, step
