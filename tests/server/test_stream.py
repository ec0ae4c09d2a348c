"""The order stream: batched requests in, every report of the account out, in sequence."""

import asyncio

import grpc
import pytest
from tradepit_client.v1 import common_pb2, order_pb2

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT = common_pb2.ORDER_TYPE_LIMIT


async def collect(session, count, timeout=5.0):
    """The next `count` reports from a session, or fail after `timeout` seconds."""
    reports = []

    async def read():
        async for report in session:
            reports.append(report)
            if len(reports) == count:
                return

    await asyncio.wait_for(read(), timeout)
    return reports


async def test_two_agents_trade_over_the_stream(agents):
    seller = await agents.new("seller", shares={"ACME": 10})
    buyer = await agents.new("buyer")
    async with seller.session() as sells, buyer.session() as buys:
        sells.submit("ACME", SELL, 10, 10_000, type=LIMIT, client_order_id="ask")
        await sells.flush()
        [ack] = await collect(sells, 1)
        assert (ack.exec_type, ack.client_order_id, ack.sequence) == (
            common_pb2.EXEC_TYPE_NEW, "ask", 1)
        buys.submit("ACME", BUY, 4, 10_000, type=LIMIT, client_order_id="bid")
        await buys.flush()
        _new, fill = await collect(buys, 2)
        assert (fill.exec_type, fill.last_quantity, fill.liquidity) == (
            common_pb2.EXEC_TYPE_TRADE, 4, common_pb2.LIQUIDITY_TAKER)
        [maker_fill] = await collect(sells, 1)
        assert (maker_fill.client_order_id, maker_fill.leaves_quantity, maker_fill.sequence) == (
            "ask", 6, 2)
        assert maker_fill.order_status == common_pb2.ORDER_STATUS_PARTIALLY_FILLED


async def test_stream_reports_orders_entered_by_unary_calls_too(agents):
    trader = await agents.new("trader")
    async with trader.session() as session:
        await asyncio.sleep(0.05)  # let the stream subscribe first
        response = await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT)
        [report] = await collect(session, 1)
        assert report.order_id == response.order.order_id
        assert report == response.reports[0]


async def test_batches_are_applied_in_order_and_sequences_are_gapless(agents, server):
    trader = await agents.new("trader", shares={"ACME": 50})
    async with trader.session() as session:
        ids = [session.submit("ACME", SELL, 5, 10_000 + i, type=LIMIT) for i in range(10)]
        session.cancel(client_order_id=ids[3])
        session.amend(0, 10_050, 2, client_order_id=ids[4])
        assert await session.flush() == 12
        reports = await collect(session, 12)
    assert [r.sequence for r in reports] == list(range(1, 13))
    assert [r.client_order_id for r in reports[:10]] == ids
    assert reports[10].exec_type == common_pb2.EXEC_TYPE_CANCELED
    assert reports[11].exec_type == common_pb2.EXEC_TYPE_REPLACED
    assert reports[11].price == 10_050 and reports[11].leaves_quantity == 2


async def test_several_reports_travel_in_one_message(agents):
    trader = await agents.new("trader", shares={"ACME": 50})
    call = trader.orders.OrderStream(metadata=trader.metadata)
    await call.write(order_pb2.OrderStreamRequest(requests=[
        order_pb2.OrderRequest(new=order_pb2.NewOrder(symbol="ACME", side=SELL, type=LIMIT,
                                                      price=10_000 + i, quantity=1))
        for i in range(20)
    ]))
    sizes = []
    while sum(sizes) < 20:
        response = await asyncio.wait_for(call.read(), 5)
        sizes.append(len(response.reports))
    call.cancel()
    assert max(sizes) > 1


async def test_rejections_on_the_stream_are_reports_not_errors(agents, server):
    trader = await agents.new("trader")
    async with trader.session() as session:
        session.submit("NOPE", BUY, 1, 100, type=LIMIT, client_order_id="bad-symbol")
        session.submit("ACME", BUY, 1, 9_000, type=LIMIT, client_order_id="good")
        session.cancel(order_id=4242)
        await session.flush()
        bad, good, bad_cancel = await collect(session, 3)
    assert (bad.exec_type, bad.reject_reason, bad.client_order_id, bad.sequence) == (
        common_pb2.EXEC_TYPE_REJECTED, common_pb2.REJECT_REASON_UNKNOWN_SYMBOL, "bad-symbol", 0)
    assert "NOPE" in bad.reject_message
    assert (good.exec_type, good.sequence) == (common_pb2.EXEC_TYPE_NEW, 1)
    assert (bad_cancel.reject_reason, bad_cancel.order_id) == (
        common_pb2.REJECT_REASON_UNKNOWN_ORDER, 4242)


async def test_post_only_that_would_cross_is_rejected_with_its_reason(agents):
    seller = await agents.new("seller", shares={"ACME": 5})
    buyer = await agents.new("buyer")
    await seller.submit("ACME", SELL, 5, 10_000, type=LIMIT)
    async with buyer.session() as session:
        session.submit("ACME", BUY, 5, 10_000, type=LIMIT, post_only=True)
        await session.flush()
        [report] = await collect(session, 1)
    assert report.exec_type == common_pb2.EXEC_TYPE_REJECTED
    assert report.reject_reason == common_pb2.REJECT_REASON_POST_ONLY_WOULD_CROSS
    assert (await buyer.portfolio()).reserved_cash == 0
    from tradepit_client import TradepitError

    with pytest.raises(TradepitError) as raised:
        await buyer.submit("ACME", BUY, 5, 10_000, type=LIMIT, post_only=True)
    assert (raised.value.code.name, raised.value.reason) == (
        "FAILED_PRECONDITION", "POST_ONLY_WOULD_CROSS")


async def test_self_trade_prevention_stops_crossing_your_own_orders(agents):
    trader = await agents.new("trader", shares={"ACME": 5})
    await trader.submit("ACME", SELL, 5, 10_000, type=LIMIT)
    response = await trader.submit("ACME", BUY, 5, 10_000, type=LIMIT)
    assert response.order.status == common_pb2.ORDER_STATUS_CANCELED
    assert response.order.filled_quantity == 0
    view = await trader.portfolio()
    assert view.positions[0].quantity == 5 and view.reserved_cash == 0


async def test_a_stream_needs_a_key(agents):
    trader = await agents.new("trader")
    call = trader.orders.OrderStream()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call.read()
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_stream_that_falls_behind_is_closed_not_silently_trimmed(book_backend):
    """Reports are never dropped: past the stream's buffer it ends with RESOURCE_EXHAUSTED."""
    from .conftest import settings, start_with

    running = await start_with(book_backend, settings(stream_queue_size=5))
    try:
        from tradepit_client import Client, TradepitError

        async with Client(running.address) as trader:
            await trader.create_account("slow")
            async with trader.session() as session:
                for i in range(10):   # one message, ten acknowledgements: the buffer holds 5
                    session.submit("ACME", BUY, 1, 9_000 + i, type=LIMIT)
                await session.flush()
                with pytest.raises(TradepitError) as raised:
                    async for _ in session:
                        pass
        assert raised.value.code.name == "RESOURCE_EXHAUSTED"
        assert "ListOrders" in raised.value.message
        assert running.gateway.exchange.audit() == []
    finally:
        await running.server.stop(None)
