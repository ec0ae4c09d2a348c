"""A book too large for one message: the L3 stream snapshot comes in parts that rebuild
it exactly, and GetBook with every order says why it cannot answer and what to do."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from tradepit.config import Settings
from tradepit_client import BookOutOfSync, LocalBook, TradepitError
from tradepit_client.v1 import common_pb2, marketdata_pb2, marketdata_pb2_grpc

from .conftest import settings

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
L3 = marketdata_pb2.CHANNEL_L3
MAX_MESSAGE = 64 << 10  # small, so a few thousand orders need several messages
ORDERS = 6_000


@pytest.fixture
def server_settings() -> Settings:
    return settings(max_message_bytes=MAX_MESSAGE, starting_cash=10**9)


async def rest_many_orders(agents: Any) -> None:
    """ORDERS one-lot orders on both sides that never cross, sent 500 a message."""
    trader = await agents.new("wall", shares={"ACME": ORDERS})
    async with trader.session() as session:
        acks = 0
        for start in range(0, ORDERS, 500):
            for i in range(start, start + 500):
                side = BUY if i % 2 else SELL
                session.submit("ACME", side, 1, 9_900 - i % 90 if side == BUY else 10_100 + i % 90)
            await session.flush()
        async for report in session:
            assert report.exec_type == common_pb2.EXEC_TYPE_NEW, report
            acks += 1
            if acks == ORDERS:
                break


async def test_a_large_l3_snapshot_comes_in_parts_that_rebuild_the_book(agents: Any,
                                                                       server: Any) -> None:
    await rest_many_orders(agents)
    stub = marketdata_pb2_grpc.MarketDataServiceStub(agents.admin.channel)
    call = stub.StreamMarketData(marketdata_pb2.StreamMarketDataRequest(
        subscriptions=[marketdata_pb2.Subscription(symbol="ACME", channels=[L3])]))
    book = LocalBook("ACME", L3)
    parts: list[marketdata_pb2.MarketDataUpdate] = []
    async with asyncio.timeout(20):
        while not book.in_sync:
            batch = await call.read()
            assert batch is not grpc.aio.EOF
            assert batch.ByteSize() <= MAX_MESSAGE
            for update in batch.updates:
                parts.append(update)
                book.apply(update)
    call.cancel()
    assert len(parts) > 2
    assert [(p.snapshot, p.snapshot_part, p.snapshot_parts) for p in parts] == [
        (True, n, len(parts)) for n in range(1, len(parts) + 1)]
    assert {p.sequence for p in parts} == {book.sequence}
    bids, asks = server.gateway.exchange.books["ACME"].orders()
    assert [(o.order_id, o.price, o.quantity) for o in book.orders(BUY)] == [
        (o.order_id, o.price, o.quantity) for o in bids]
    assert [(o.order_id, o.price, o.quantity) for o in book.orders(SELL)] == [
        (o.order_id, o.price, o.quantity) for o in asks]
    assert len(bids) + len(asks) == ORDERS

    with pytest.raises(TradepitError) as refused:
        await get_every_order(stub)
    assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"{ORDERS} resting orders" in refused.value.message
    assert "CHANNEL_L3" in refused.value.message
    levels = await stub.GetBook(marketdata_pb2.GetBookRequest(symbol="ACME", depth=5))
    assert len(levels.bids) == len(levels.asks) == 5  # levels only still answer


async def get_every_order(stub: Any) -> Any:
    try:
        return await stub.GetBook(marketdata_pb2.GetBookRequest(symbol="ACME", orders=True))
    except grpc.aio.AioRpcError as error:
        raise TradepitError(error) from None


def test_an_update_before_the_last_part_is_a_gap() -> None:
    book = LocalBook("ACME", L3)
    first = marketdata_pb2.MarketDataUpdate(
        symbol="ACME", channel=L3, sequence=7, snapshot=True, snapshot_part=1,
        snapshot_parts=2, orders=marketdata_pb2.OrderUpdates(
            bids=[marketdata_pb2.BookOrder(order_id=1, side=BUY, price=99, quantity=1)]))
    assert book.apply(first)
    assert not book.in_sync
    update = marketdata_pb2.MarketDataUpdate(symbol="ACME", channel=L3, sequence=8,
                                             previous_sequence=7)
    with pytest.raises(BookOutOfSync, match="part 2 of 2 never came"):
        book.apply(update)
    wrong = marketdata_pb2.MarketDataUpdate(symbol="ACME", channel=L3, sequence=9,
                                            snapshot=True, snapshot_part=2, snapshot_parts=2)
    assert book.apply(first)
    with pytest.raises(BookOutOfSync, match="part 2 of 2 at 9"):
        book.apply(wrong)
    assert not book.in_sync
