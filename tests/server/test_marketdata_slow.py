"""Slow market-data readers, over gRPC: L1/L2 conflate, trades and L3 end the stream.

A queue of 4 updates per stream, and bursts sent as one OrderStream message: the
server applies a message's requests back to back, so the stream's writer cannot run
in between and its queue overflows the same way every time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from marketdata.readers import Chains, DepthReader
from tradepit.config import Settings
from tradepit_client import Client
from tradepit_client.v1 import common_pb2, marketdata_pb2_grpc
from tradepit_client.v1 import marketdata_pb2 as md

from .conftest import settings
from .test_marketdata import read_until, subscribe

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT = common_pb2.ORDER_TYPE_LIMIT
IOC = common_pb2.TIME_IN_FORCE_IOC
QUEUE = 4


@pytest.fixture
def server_settings() -> Settings:
    return settings(market_data_queue_size=QUEUE)


@pytest.fixture
async def stub(agents: Any) -> marketdata_pb2_grpc.MarketDataServiceStub:
    anonymous = Client(agents.running.address)
    agents.clients.append(anonymous)
    return marketdata_pb2_grpc.MarketDataServiceStub(anonymous.channel)


async def burst(trader: Client, orders: list[tuple[int, int, int]], **fields: Any) -> None:
    """Send (side, quantity, price) orders as one message; wait for their reports."""
    async with trader.session() as session:
        for side, quantity, price in orders:
            session.submit("ACME", side, quantity, price, type=LIMIT, **fields)
        await session.flush()
        seen = 0
        async for _report in session:
            seen += 1
            if seen >= len(orders):
                break


async def test_a_slow_l2_reader_gets_conflated_snapshots_and_stays_in_step(agents, stub):
    seller = await agents.new("seller", shares={"ACME": 100})
    call = subscribe(stub, md.Subscription(symbol="ACME", channels=[md.CHANNEL_L1,
                                                                    md.CHANNEL_L2], depth=5))
    chains, depth = Chains(), DepthReader()
    for update in (await call.read()).updates:
        chains.check(update)
        if update.channel == md.CHANNEL_L2:
            depth.apply(update)
    await burst(seller, [(SELL, 1, 10_100 - i) for i in range(30)])  # 30 new best asks
    await seller.submit("ACME", SELL, 1, 10_001, type=LIMIT)  # one more, after the burst

    updates = await read_until(call, lambda u: u.channel == md.CHANNEL_L2 and any(
        a.price == 10_001 for a in u.depth.asks) and not u.snapshot)
    conflated = [u for u in updates if u.conflated]
    assert {u.channel for u in conflated} == {md.CHANNEL_L1, md.CHANNEL_L2}
    assert all(u.snapshot for u in conflated)
    assert len(updates) < 30  # the intermediate states were skipped
    for update in updates:
        chains.check(update)
        if update.channel == md.CHANNEL_L2:
            depth.apply(update)
    snapshot = await stub.GetBook(md.GetBookRequest(symbol="ACME", depth=5))
    assert depth.levels() == ([], [(lv.price, lv.quantity, lv.order_count)
                                   for lv in snapshot.asks])
    assert [lv.price for lv in snapshot.asks] == [10_001, 10_071, 10_072, 10_073, 10_074]
    call.cancel()


@pytest.mark.parametrize("channel", [md.CHANNEL_L3, md.CHANNEL_TRADES])
async def test_trades_and_l3_that_do_not_fit_end_the_stream(agents, stub, channel):
    seller = await agents.new("seller", shares={"ACME": 100})
    buyer = await agents.new("buyer")
    await burst(seller, [(SELL, 1, 10_001 + i) for i in range(30)])
    call = subscribe(stub, md.Subscription(symbol="ACME", channels=[channel]))
    [snapshot] = (await call.read()).updates
    assert snapshot.snapshot
    # L3: each buy executes one ask; trades: each is one trade. Thirty updates at once.
    await burst(buyer, [(BUY, 1, 10_100)] * 30, time_in_force=IOC)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await asyncio.wait_for(read_until(call, lambda u: False), 5)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "resubscribe" in (raised.value.details() or "")
    # A new stream starts again from snapshots.
    again = subscribe(stub, md.Subscription(symbol="ACME", channels=[channel]))
    [fresh] = (await again.read()).updates
    assert fresh.snapshot
    if channel == md.CHANNEL_TRADES:
        assert len(fresh.trades.trades) == 30
    else:
        assert not fresh.orders.asks
    again.cancel()
