"""Market data end to end: a LocalBook rebuilt from StreamMarketData during a randomised
trading session equals GetBook at the same sequence (L2 and L3, both book backends); a
stream that loses updates or carries a bad checksum is repaired by resyncing; candles
agree with the trades.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time

from tradepit_client import (
    BookOutOfSync,
    CandleSeries,
    Client,
    Level,
    LocalBook,
    RestingOrder,
    TradepitError,
    candles_from_trades,
    follow_candles,
    get_candles,
)
from tradepit_client.v1 import account_pb2, common_pb2, marketdata_pb2, marketdata_pb2_grpc

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT = common_pb2.ORDER_TYPE_LIMIT
L2, L3 = marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_L3
Kind = marketdata_pb2.OrderEvent
SYMBOL = "ACME"   # tick 1, lot 1, reference 10_000 (conftest)
DEPTH = 5         # shallow, so levels keep entering and leaving the top


async def traders(agents, count=4):
    return [await agents.new(f"trader-{i}", shares={SYMBOL: 2_000}) for i in range(count)]


async def trade_randomly(clients: list[Client], rng: random.Random, steps: int) -> None:
    """Limit orders around 10_000 (some crossing), market orders, cancels and amendments
    (in place and moving) from several agents. Refusals (an order already filled, not
    enough cash) are part of the game."""
    resting: list[tuple[Client, int]] = []
    for _ in range(steps):
        roll = rng.random()
        try:
            if roll < 0.5 or not resting:
                trader, side = rng.choice(clients), rng.choice((BUY, SELL))
                price = rng.randint(9_990, 10_004) if side == BUY else rng.randint(9_996, 10_010)
                response = await trader.submit(SYMBOL, side, rng.randint(1, 6), price, type=LIMIT)
                if response.order.leaves_quantity:
                    resting.append((trader, response.order.order_id))
            elif roll < 0.6:
                await rng.choice(clients).submit(SYMBOL, rng.choice((BUY, SELL)),
                                                 rng.randint(1, 8))
            elif roll < 0.8:
                trader, order_id = resting.pop(rng.randrange(len(resting)))
                await trader.cancel(order_id)
            else:
                trader, order_id = rng.choice(resting)
                order = (await trader.accounts.GetOrder(
                    account_pb2.GetOrderRequest(order_id=order_id),
                    metadata=trader.metadata))
                if rng.random() < 0.5:   # smaller, same price: keeps its place
                    await trader.amend(order_id, order.price,
                                       max(order.filled_quantity + 1, order.quantity - 2))
                else:                    # a new price: to the back, may trade
                    await trader.amend(order_id, order.price + rng.choice((-2, -1, 1, 2)),
                                       order.quantity)
        except TradepitError:
            pass


async def follow(book: LocalBook, stub, batches=None, seen: set[int] | None = None) -> None:
    async for update in book.follow(stub, batches):
        if seen is not None:
            seen.update(event.kind for event in update.orders.events)


async def until(condition, timeout=5.0) -> None:
    async def poll():
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def stop(*tasks: asyncio.Task) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def settle(stub, trader: Client, books: list[LocalBook]) -> marketdata_pb2.BookSnapshot:
    """After trading: one last change every feed must show (a bid joining the best bid,
    inside any depth), then GetBook, and wait until each book reached its sequence. Without
    it an L2 book could legitimately stay behind a final change below its top levels."""
    top = await stub.GetBook(marketdata_pb2.GetBookRequest(symbol=SYMBOL, depth=1))
    price = top.bids[0].price if top.bids else top.asks[0].price - 1 if top.asks else 10_000
    await trader.submit(SYMBOL, BUY, 1, price, type=LIMIT)
    snapshot = await stub.GetBook(marketdata_pb2.GetBookRequest(symbol=SYMBOL, depth=DEPTH,
                                                                orders=True))
    for book in books:
        await asyncio.wait_for(book.wait_for_sequence(snapshot.sequence), 5)
    return snapshot


def assert_matches(book: LocalBook, snapshot: marketdata_pb2.BookSnapshot) -> None:
    assert book.in_sync and book.sequence == snapshot.sequence
    for side, levels in ((BUY, snapshot.bids), (SELL, snapshot.asks)):
        assert book.levels(side, DEPTH) == [
            Level(level.price, level.quantity, level.order_count) for level in levels]
    assert book.checksum(DEPTH) == snapshot.checksum
    if book.channel == L3:
        for side, orders in ((BUY, snapshot.bid_orders), (SELL, snapshot.ask_orders)):
            assert book.orders(side) == [
                RestingOrder(o.order_id, o.side, o.price, o.quantity) for o in orders]


async def test_local_books_rebuilt_from_the_stream_equal_get_book(agents):
    clients = await traders(agents)
    stub = marketdata_pb2_grpc.MarketDataServiceStub(clients[0].channel)
    l2, l3 = LocalBook(SYMBOL, L2, DEPTH), LocalBook(SYMBOL, L3, DEPTH)
    kinds: set[int] = set()
    tasks = [asyncio.create_task(follow(l2, stub)),
             asyncio.create_task(follow(l3, stub, seen=kinds))]
    try:
        await until(lambda: l2.in_sync and l3.in_sync)
        await trade_randomly(clients, random.Random(20261121), 250)
        snapshot = await settle(stub, clients[0], [l2, l3])
    finally:
        await stop(*tasks)
    assert_matches(l2, snapshot)
    assert_matches(l3, snapshot)
    assert kinds == {Kind.KIND_ADD, Kind.KIND_REDUCE, Kind.KIND_DELETE, Kind.KIND_EXECUTE}
    assert len(snapshot.bid_orders) + len(snapshot.ask_orders) > DEPTH  # deeper than L2
    assert (l2.resyncs, l3.resyncs, l2.resubscribes, l3.resubscribes) == (0, 0, 0, 0)


@dataclasses.dataclass
class Sabotage:
    """A filter between the stream and a LocalBook: loses or corrupts updates on purpose,
    but only while trading goes on, so the final change always arrives."""

    rng: random.Random
    drop: float = 0.0
    corrupt_every: int = 0
    active: bool = True
    touched: int = 0

    async def filter(self, batches):
        count = 0
        async for batch in batches:
            kept = []
            for update in batch.updates:
                if not update.snapshot and self.active:
                    count += 1
                    if self.rng.random() < self.drop:
                        self.touched += 1
                        continue
                    if self.corrupt_every and count % self.corrupt_every == 0:
                        update.depth.checksum ^= 0x5A5A
                        self.touched += 1
                kept.append(update)
            if kept:
                yield marketdata_pb2.MarketDataBatch(updates=kept)


def stream(stub, book: LocalBook):
    return stub.StreamMarketData(
        marketdata_pb2.StreamMarketDataRequest(subscriptions=[book.subscription()]))


async def test_lost_updates_and_bad_checksums_are_detected_and_repaired(agents):
    clients = await traders(agents)
    stub = marketdata_pb2_grpc.MarketDataServiceStub(clients[0].channel)
    rng = random.Random(7)
    cases = [  # book, sabotage, the failure it must notice
        (LocalBook(SYMBOL, L2, DEPTH), Sabotage(rng, drop=0.08), BookOutOfSync.GAP),
        (LocalBook(SYMBOL, L3, DEPTH), Sabotage(rng, drop=0.08), BookOutOfSync.GAP),
        (LocalBook(SYMBOL, L2, DEPTH), Sabotage(rng, corrupt_every=15), BookOutOfSync.CHECKSUM),
    ]
    calls = [stream(stub, book) for book, _, _ in cases]
    tasks = [asyncio.create_task(follow(book, stub, sabotage.filter(call)))
             for (book, sabotage, _), call in zip(cases, calls, strict=True)]
    try:
        await until(lambda: all(book.in_sync for book, _, _ in cases))
        await trade_randomly(clients, random.Random(99), 200)
        for _, sabotage, _ in cases:
            sabotage.active = False
        snapshot = await settle(stub, clients[0], [book for book, _, _ in cases])
    finally:
        await stop(*tasks)
        for call in calls:
            call.cancel()
    for book, sabotage, reason in cases:
        assert sabotage.touched > 0
        assert book.resyncs > 0, (book.channel, sabotage)
        assert book.last_error is not None and book.last_error.reason == reason
        assert_matches(book, snapshot)


async def all_fills(clients: list[Client]) -> list[common_pb2.Fill]:
    """Every trade once, oldest first: each account's ListTrades, deduplicated by trade id
    (a trade between two of our agents shows up as two fills)."""
    fills: dict[int, common_pb2.Fill] = {}
    for client in clients:
        token = ""
        while True:
            response = await client.accounts.ListTrades(
                account_pb2.ListTradesRequest(symbol=SYMBOL, page_token=token),
                metadata=client.metadata)
            for fill in response.fills:
                fills.setdefault(fill.trade_id, fill)
            if not (token := response.next_page_token):
                break
    return [fills[trade_id] for trade_id in sorted(fills)]


def open_(candles):
    """Whether the server has closed a candle yet depends on its clock; compare the rest."""
    return [dataclasses.replace(candle, closed=False) for candle in candles]


async def test_candles_agree_with_the_trades(agents):
    clients = await traders(agents, 3)
    stub = marketdata_pb2_grpc.MarketDataServiceStub(clients[0].channel)
    second = marketdata_pb2.CANDLE_INTERVAL_1S
    series = CandleSeries(SYMBOL, second)
    prints: list[marketdata_pb2.TradePrint] = []

    async def follow_series():
        async for _ in follow_candles(stub, series):
            pass

    async def follow_trades():
        request = marketdata_pb2.StreamMarketDataRequest(subscriptions=[
            marketdata_pb2.Subscription(symbol=SYMBOL, channels=[marketdata_pb2.CHANNEL_TRADES])])
        async for batch in stub.StreamMarketData(request):
            for update in batch.updates:
                prints.extend(update.trades.trades)

    tasks = [asyncio.create_task(follow_series()), asyncio.create_task(follow_trades())]
    try:
        await asyncio.sleep(0.05)  # both streams subscribed (nothing has traded yet)
        rng = random.Random(31337)
        await trade_randomly(clients, rng, 100)
        # into the next second, so there are several 1s candles and a close to see
        await asyncio.sleep(1.02 - time.time() % 1)
        await trade_randomly(clients, rng, 100)
        fills = await all_fills(clients)
        await until(lambda: len(prints) == len(fills)
                    and sum(c.trade_count for c in series.candles) == len(fills)
                    and series.candles[0].closed)
    finally:
        await stop(*tasks)
    assert len(fills) > 20 and len(series.candles) >= 2
    # the trade stream carries exactly the trades the accounts were filled in
    taker_side = {}
    for client in clients:
        for fill in await all_fills([client]):
            if fill.liquidity == common_pb2.LIQUIDITY_TAKER:
                taker_side[fill.trade_id] = fill.side
    assert [(p.trade_id, p.price, p.quantity, p.timestamp_ns) for p in prints] == [
        (f.trade_id, f.price, f.quantity, f.timestamp_ns) for f in fills]
    assert all(p.aggressor_side == taker_side[p.trade_id] for p in prints)
    for interval in (second, marketdata_pb2.CANDLE_INTERVAL_1M):
        expected = candles_from_trades(fills, interval)
        before = time.time_ns()
        fetched = await get_candles(stub, SYMBOL, interval)
        after = time.time_ns()
        assert open_(fetched) == expected
        # closed once its interval has passed (either way if it ended during the call)
        assert all(c.closed for c in fetched if c.end_ns <= before)
        assert not any(c.closed for c in fetched if c.end_ns > after)
        assert sum(c.volume for c in expected) == sum(f.quantity for f in fills)
    assert open_(series.candles) == candles_from_trades(fills, second)
    assert series.gaps == 0
