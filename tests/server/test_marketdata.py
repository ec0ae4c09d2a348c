"""MarketDataService over gRPC, on both book backends: no key needed, snapshots first,
sequences that chain, checksums that match, trades and candles that agree with fills."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from marketdata.readers import Chains, DepthReader, OrdersReader
from tradepit_client import Client
from tradepit_client.v1 import account_pb2, admin_pb2, common_pb2, marketdata_pb2_grpc
from tradepit_client.v1 import marketdata_pb2 as md

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT = common_pb2.ORDER_TYPE_LIMIT
IOC = common_pb2.TIME_IN_FORCE_IOC
L1, L2, L3 = md.CHANNEL_L1, md.CHANNEL_L2, md.CHANNEL_L3
TRADES, CANDLES, STATUS = md.CHANNEL_TRADES, md.CHANNEL_CANDLES, md.CHANNEL_STATUS
SECOND = 1_000_000_000


@pytest.fixture
async def stub(agents: Any) -> marketdata_pb2_grpc.MarketDataServiceStub:
    """A stub on a channel that carries no key at all."""
    anonymous = Client(agents.running.address)
    agents.clients.append(anonymous)
    return marketdata_pb2_grpc.MarketDataServiceStub(anonymous.channel)


def subscribe(stub: Any, *subscriptions: md.Subscription) -> Any:
    return stub.StreamMarketData(md.StreamMarketDataRequest(subscriptions=subscriptions))


async def read_until(call: Any, done: Callable[[md.MarketDataUpdate], bool],
                     timeout: float = 5.0) -> list[md.MarketDataUpdate]:
    """Updates from the stream up to and including the first one `done` accepts."""
    updates: list[md.MarketDataUpdate] = []

    async def read() -> None:
        while True:
            batch = await call.read()
            assert batch is not grpc.aio.EOF, "the stream ended"
            for update in batch.updates:
                updates.append(update)
                if done(update):
                    return

    await asyncio.wait_for(read(), timeout)
    return updates


def adds(order_id: int) -> Callable[[md.MarketDataUpdate], bool]:
    return lambda u: any(e.kind == md.OrderEvent.KIND_ADD and e.order_id == order_id
                         for e in u.orders.events)


async def book_id(server: Any, response: Any) -> int:
    """The book's id for an exchange order (what L3 and GetBook show)."""
    return int(server.gateway.exchange.orders[response.order.order_id].book_id)


async def test_list_instruments_needs_no_key(stub):
    response = await stub.ListInstruments(md.ListInstrumentsRequest())
    assert [(i.symbol, i.tick_size, i.lot_size, i.status) for i in response.instruments] == [
        ("ACME", 1, 1, common_pb2.TRADING_STATUS_TRADING),
        ("LOTS", 5, 10, common_pb2.TRADING_STATUS_TRADING)]


async def test_get_book_gives_levels_orders_sequence_and_checksum(agents, server, stub):
    seller = await agents.new("seller", shares={"ACME": 100})
    buyer = await agents.new("buyer")
    for price, quantity in ((10_030, 3), (10_010, 2), (10_010, 5), (10_020, 1)):
        await seller.submit("ACME", SELL, quantity, price, type=LIMIT)
    await buyer.submit("ACME", BUY, 4, 9_990, type=LIMIT)
    await buyer.submit("ACME", BUY, 1, 10_010, type=LIMIT)  # takes 1 of the first 10_010

    book = server.gateway.exchange.books["ACME"]
    snapshot = await stub.GetBook(md.GetBookRequest(symbol="ACME", depth=2, orders=True))
    assert (snapshot.symbol, snapshot.depth, snapshot.sequence) == ("ACME", 2, book.sequence)
    assert [(lv.price, lv.quantity, lv.order_count) for lv in snapshot.bids] == [(9_990, 4, 1)]
    assert [(lv.price, lv.quantity, lv.order_count) for lv in snapshot.asks] == [
        (10_010, 6, 2), (10_020, 1, 1)]
    words = [9_990, 4, 10_010, 6, 10_020, 1]
    assert snapshot.checksum == zlib.crc32(b"".join(
        w.to_bytes(8, "little", signed=True) for w in words))
    bids, asks = book.orders()
    assert [(o.order_id, o.side, o.price, o.quantity) for o in snapshot.ask_orders] == [
        (o.order_id, o.side, o.price, o.remaining) for o in asks]
    assert [(o.order_id, o.price, o.quantity) for o in snapshot.bid_orders] == [
        (o.order_id, o.price, o.remaining) for o in bids]
    assert snapshot.timestamp_ns > 0
    default = await stub.GetBook(md.GetBookRequest(symbol="ACME"))
    assert default.depth == 10 and len(default.asks) == 3 and not default.ask_orders


async def test_a_stream_starts_with_snapshots_and_its_updates_rebuild_the_book(
        agents, server, stub):
    seller = await agents.new("seller", shares={"ACME": 100})
    buyer = await agents.new("buyer")
    await seller.submit("ACME", SELL, 5, 10_050, type=LIMIT)
    call = subscribe(stub, md.Subscription(symbol="ACME", channels=[L1, L2, L3, TRADES, STATUS],
                                           depth=3))
    first = await call.read()
    assert [u.channel for u in first.updates] == [L1, L2, L3, TRADES, STATUS]
    sequence = server.gateway.exchange.books["ACME"].sequence
    assert all(u.snapshot and not u.conflated and u.sequence == sequence and u.symbol == "ACME"
               for u in first.updates)

    chains, depth, orders = Chains(), DepthReader(), OrdersReader()
    quote = md.Quote()
    for update in first.updates:
        chains.check(update)
    depth.apply(first.updates[1])
    orders.apply(first.updates[2])
    assert depth.levels() == ([], [(10_050, 5, 1)])

    for price in (10_040, 10_030, 10_060, 10_020):
        await seller.submit("ACME", SELL, 2, price, type=LIMIT)
    await buyer.submit("ACME", BUY, 3, 10_030, type=LIMIT)  # 2 at 10_020, 1 at 10_030
    await buyer.submit("ACME", BUY, 6, 9_950, type=LIMIT)
    rest = await seller.submit("ACME", SELL, 3, 10_035, type=LIMIT)
    await seller.amend(rest.order.order_id, 10_035, 1)
    await seller.cancel(rest.order.order_id)
    marker = await buyer.submit("ACME", BUY, 1, 9_900, type=LIMIT)
    marker_id = await book_id(server, marker)

    updates = await read_until(call, adds(marker_id))
    for update in updates:
        assert not update.snapshot and update.timestamp_ns > 0
        chains.check(update)
        if update.channel == L1:
            quote = update.quote
        elif update.channel == L2:
            depth.apply(update)  # checks the checksum after each update
        elif update.channel == L3:
            orders.apply(update)
    snapshot = await stub.GetBook(md.GetBookRequest(symbol="ACME", depth=3, orders=True))
    assert depth.levels() == ([(lv.price, lv.quantity, lv.order_count) for lv in snapshot.bids],
                              [(lv.price, lv.quantity, lv.order_count) for lv in snapshot.asks])
    assert orders.orders == {o.order_id: (o.side, o.price, o.quantity)
                             for o in (*snapshot.bid_orders, *snapshot.ask_orders)}
    assert (quote.bid_price, quote.bid_quantity, quote.ask_price, quote.ask_quantity) == (
        9_950, 6, 10_030, 1)
    assert max(u.sequence for u in updates) == snapshot.sequence
    call.cancel()


async def test_the_trades_stream_agrees_with_list_trades(agents, stub):
    seller = await agents.new("seller", shares={"ACME": 100})
    buyer = await agents.new("buyer", shares={"ACME": 10})
    call = subscribe(stub, md.Subscription(symbol="ACME", channels=[TRADES]))
    [snapshot] = (await call.read()).updates
    assert snapshot.snapshot and not snapshot.trades.trades
    for price in (10_010, 10_020, 10_030):
        await seller.submit("ACME", SELL, 3, price, type=LIMIT)
    await buyer.submit("ACME", BUY, 7, 10_030, type=LIMIT)  # three trades, one message
    await seller.submit("ACME", BUY, 2, 10_000, type=LIMIT)  # nobody sells that low: rests
    await buyer.submit("ACME", SELL, 2, 10_000, type=LIMIT)  # the buyer hits it

    updates = await read_until(call, lambda u: any(t.aggressor_side == SELL
                                                   for t in u.trades.trades))
    prints = [t for u in updates for t in u.trades.trades]
    assert [len(u.trades.trades) for u in updates] == [3, 1]
    assert all(t.sequence <= u.sequence for u in updates for t in u.trades.trades)
    fills = await buyer.accounts.ListTrades(account_pb2.ListTradesRequest(symbol="ACME"),
                                            metadata=buyer.metadata)
    assert [(t.trade_id, t.price, t.quantity) for t in prints] == [
        (f.trade_id, f.price, f.quantity) for f in fills.fills]
    assert [t.aggressor_side for t in prints] == [BUY, BUY, BUY, SELL]
    assert [t.quantity for t in prints] == [3, 3, 1, 2]

    again = subscribe(stub, md.Subscription(symbol="ACME", channels=[TRADES]))
    [recent] = (await again.read()).updates
    assert [t.trade_id for t in recent.trades.trades] == [t.trade_id for t in prints]
    call.cancel()
    again.cancel()


async def test_candles_agree_with_the_trades_and_close_on_time(agents, stub):
    seller = await agents.new("seller", shares={"ACME": 100})
    buyer = await agents.new("buyer")
    follow = subscribe(stub, md.Subscription(symbol="ACME", channels=[CANDLES, TRADES],
                                             candle_interval=md.CANDLE_INTERVAL_1S))
    await follow.read()
    await seller.submit("ACME", SELL, 10, 10_010, type=LIMIT)
    await seller.submit("ACME", SELL, 10, 10_040, type=LIMIT)
    for quantity, price in ((2, 10_010), (5, 10_040), (1, 10_040)):
        await buyer.submit("ACME", BUY, quantity, price, type=LIMIT)
    # Until a candle closed and every print is in: a trade that closes a candle comes
    # right after the close, so stopping at the close alone would miss it.
    seen = {"closed": False, "quantity": 0}

    def closed_and_all_printed(update: md.MarketDataUpdate) -> bool:
        seen["closed"] |= any(c.closed for c in update.candles.candles)
        seen["quantity"] += sum(t.quantity for t in update.trades.trades)
        return seen["closed"] and seen["quantity"] == 8

    updates = await read_until(follow, closed_and_all_printed, timeout=5)
    prints = [t for u in updates for t in u.trades.trades]
    closes = [c for u in updates for c in u.candles.candles if c.closed]
    assert sum(c.volume for c in closes) <= sum(t.quantity for t in prints)
    for interval, length in ((md.CANDLE_INTERVAL_1S, SECOND), (md.CANDLE_INTERVAL_1M, 60 * SECOND),
                             (md.CANDLE_INTERVAL_1D, 86_400 * SECOND)):
        expected: dict[int, list[Any]] = {}
        for t in prints:
            expected.setdefault(t.timestamp_ns - t.timestamp_ns % length, []).append(t)
        response = await stub.GetCandles(md.GetCandlesRequest(symbol="ACME", interval=interval))
        assert [(c.start_ns, c.open, c.high, c.low, c.close, c.volume, c.notional,
                 c.trade_count, c.interval) for c in response.candles] == [
            (start, ts[0].price, max(t.price for t in ts), min(t.price for t in ts),
             ts[-1].price, sum(t.quantity for t in ts), sum(t.price * t.quantity for t in ts),
             len(ts), interval) for start, ts in sorted(expected.items())]
    one_second = await stub.GetCandles(md.GetCandlesRequest(symbol="ACME",
                                                             interval=md.CANDLE_INTERVAL_1S))
    streamed = {c.start_ns: c for c in closes}
    for candle in one_second.candles:
        if candle.start_ns in streamed:
            assert candle == streamed[candle.start_ns]
    follow.cancel()


async def test_the_status_channel_reports_halts_and_resumptions(agents, stub):
    call = subscribe(stub, md.Subscription(symbol="LOTS", channels=[STATUS]))
    [snapshot] = (await call.read()).updates
    assert snapshot.snapshot and snapshot.status.status == common_pb2.TRADING_STATUS_TRADING
    for status in (common_pb2.TRADING_STATUS_HALTED, common_pb2.TRADING_STATUS_TRADING):
        await agents.admin.admin.SetTradingStatus(
            admin_pb2.SetTradingStatusRequest(symbol="LOTS", status=status),
            metadata=agents.admin.metadata)
    updates = await read_until(
        call, lambda u: u.status.status == common_pb2.TRADING_STATUS_TRADING)
    chains = Chains()
    chains.check(snapshot)
    for update in updates:
        chains.check(update)
    assert [u.status.status for u in updates] == [common_pb2.TRADING_STATUS_HALTED,
                                                  common_pb2.TRADING_STATUS_TRADING]
    assert all(u.symbol == "LOTS" and u.channel == STATUS and not u.snapshot for u in updates)
    call.cancel()


def sub(**fields: Any) -> md.Subscription:
    fields.setdefault("symbol", "ACME")
    fields.setdefault("channels", [L2])
    return md.Subscription(**fields)


BAD_STREAMS = [
    ([], grpc.StatusCode.INVALID_ARGUMENT, "subscribe to something"),
    ([sub(symbol="NOPE")], grpc.StatusCode.NOT_FOUND, "unknown symbol 'NOPE'"),
    ([sub(channels=[])], grpc.StatusCode.INVALID_ARGUMENT, "names no channels"),
    ([sub(channels=[md.CHANNEL_UNSPECIFIED])], grpc.StatusCode.INVALID_ARGUMENT,
     "unknown channel 0"),
    ([sub(channels=[42])], grpc.StatusCode.INVALID_ARGUMENT, "choose from CHANNEL_L1"),
    ([sub(depth=101)], grpc.StatusCode.INVALID_ARGUMENT, "depth must be 1..100"),
    ([sub(depth=-1)], grpc.StatusCode.INVALID_ARGUMENT, "depth must be 1..100"),
    ([sub(channels=[CANDLES], candle_interval=9)], grpc.StatusCode.INVALID_ARGUMENT,
     "candle interval must be one of CANDLE_INTERVAL_1S"),
    ([sub(), sub(depth=5)], grpc.StatusCode.INVALID_ARGUMENT, "ACME CHANNEL_L2 is asked for twice"),
    ([sub(channels=[L1, L1])], grpc.StatusCode.INVALID_ARGUMENT, "asked for twice"),
    ([sub(symbol=s) for s in ["ACME", "LOTS"] * 26], grpc.StatusCode.INVALID_ARGUMENT,
     "at most 50 subscriptions per stream, got 52"),
]


@pytest.mark.parametrize(("subscriptions", "code", "message"), BAD_STREAMS)
async def test_bad_subscriptions_get_a_status_that_says_what_to_fix(stub, subscriptions, code,
                                                                     message):
    call = subscribe(stub, *subscriptions)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call.read()
    assert raised.value.code() == code
    assert message in (raised.value.details() or "")


async def test_fifty_subscriptions_are_fine(stub):
    subscriptions = [sub(symbol=s, channels=[c]) for s in ("ACME", "LOTS")
                     for c in (L1, L2, L3, TRADES, CANDLES, STATUS)]
    call = subscribe(stub, *subscriptions)
    first = await call.read()
    assert len(first.updates) == 12 and all(u.snapshot for u in first.updates)
    call.cancel()


BAD_CALLS = [
    ("GetBook", md.GetBookRequest(symbol="NOPE"), grpc.StatusCode.NOT_FOUND, "NOPE"),
    ("GetBook", md.GetBookRequest(symbol="ACME", depth=1_001), grpc.StatusCode.INVALID_ARGUMENT,
     "depth must be 1..1000"),
    ("GetCandles", md.GetCandlesRequest(symbol="ACME"), grpc.StatusCode.INVALID_ARGUMENT,
     "choose an interval"),
    ("GetCandles", md.GetCandlesRequest(symbol="ACME", interval=12),
     grpc.StatusCode.INVALID_ARGUMENT, "candle interval must be one of"),
    ("GetCandles", md.GetCandlesRequest(symbol="ACME", interval=1, limit=5_001),
     grpc.StatusCode.INVALID_ARGUMENT, "limit must be 1..5000"),
    ("GetCandles", md.GetCandlesRequest(symbol="ACME", interval=1, start_ns=5, end_ns=5),
     grpc.StatusCode.INVALID_ARGUMENT, "must be after start_ns"),
    ("GetCandles", md.GetCandlesRequest(symbol="ACME", interval=1, start_ns=-1),
     grpc.StatusCode.INVALID_ARGUMENT, "negative"),
    ("GetCandles", md.GetCandlesRequest(symbol="NOPE", interval=1), grpc.StatusCode.NOT_FOUND,
     "NOPE"),
]


@pytest.mark.parametrize(("method", "request_", "code", "message"), BAD_CALLS)
async def test_bad_requests_get_a_status_that_says_what_to_fix(stub, method, request_, code,
                                                               message):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await getattr(stub, method)(request_)
    assert raised.value.code() == code
    assert message in (raised.value.details() or "")


async def test_health_reports_the_service(stub, agents):
    channel = agents.clients[-1].channel
    health = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(
        service="tradepit.v1.MarketDataService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
