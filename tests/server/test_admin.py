"""AdminService at runtime: list and delist instruments, and see what each agent has done."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount
from tradepit_client import Client, TradepitError
from tradepit_client.v1 import account_pb2, admin_pb2, common_pb2, marketdata_pb2_grpc
from tradepit_client.v1 import marketdata_pb2 as md

from .test_marketdata import read_until

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT = common_pb2.ORDER_TYPE_LIMIT
CANCELED, DELISTED = common_pb2.EXEC_TYPE_CANCELED, common_pb2.TRADING_STATUS_DELISTED


async def admin_call(agents: Any, method: str, request: Any) -> Any:
    try:
        return await getattr(agents.admin.admin, method)(request, metadata=agents.admin.metadata)
    except grpc.aio.AioRpcError as error:
        raise TradepitError(error) from None


def market_data(agents: Any) -> marketdata_pb2_grpc.MarketDataServiceStub:
    anonymous = Client(agents.running.address)
    agents.clients.append(anonymous)
    return marketdata_pb2_grpc.MarketDataServiceStub(anonymous.channel)


async def test_a_runtime_instrument_is_listed_and_tradable(agents):
    created = await admin_call(agents, "CreateInstrument", admin_pb2.CreateInstrumentRequest(
        symbol="NEWCO", tick_size=5, lot_size=10, reference_price=500))
    assert (created.symbol, created.status) == ("NEWCO", common_pb2.TRADING_STATUS_TRADING)
    listed = await market_data(agents).ListInstruments(md.ListInstrumentsRequest())
    assert "NEWCO" in [i.symbol for i in listed.instruments]

    seller = await agents.new("seller", shares={"NEWCO": 100})
    buyer = await agents.new("buyer")
    await seller.submit("NEWCO", SELL, 30, 505, type=LIMIT)
    taken = await buyer.submit("NEWCO", BUY, 30, 505, type=LIMIT)
    assert taken.order.status == common_pb2.ORDER_STATUS_FILLED
    [position] = (await buyer.portfolio()).positions
    assert (position.symbol, position.quantity, position.mark_price) == ("NEWCO", 30, 505)


async def test_removing_an_instrument_cancels_and_refunds_then_delists_it(agents, server):
    seller = await agents.new("seller", shares={"ACME": 100, "LOTS": 100})
    buyer = await agents.new("buyer")
    await seller.submit("ACME", SELL, 10, 10_100, type=LIMIT)
    await buyer.submit("ACME", BUY, 10, 10_100, type=LIMIT)         # last price 10,100
    ask = await seller.submit("ACME", SELL, 20, 10_200, type=LIMIT)
    bid = await buyer.submit("ACME", BUY, 5, 10_000, type=LIMIT)
    other = await seller.submit("LOTS", SELL, 10, 2_100, type=LIMIT)  # another symbol
    buyer_before = await buyer.portfolio()
    assert buyer_before.reserved_cash == 5 * 10_000 + 5 * 10_000 * 10 // 10_000

    stub = market_data(agents)
    call = stub.StreamMarketData(md.StreamMarketDataRequest(subscriptions=[
        md.Subscription(symbol="ACME", channels=[md.CHANNEL_L1, md.CHANNEL_STATUS])]))
    await read_until(call, lambda u: u.channel == md.CHANNEL_STATUS)  # the snapshots

    async with seller.session() as reports:
        removed = await admin_call(agents, "RemoveInstrument",
                                   admin_pb2.RemoveInstrumentRequest(symbol="ACME"))
        assert sorted(removed.cancelled_order_ids) == sorted(
            [ask.order.order_id, bid.order.order_id])
        assert (removed.instrument.symbol, removed.instrument.status,
                removed.instrument.reference_price) == ("ACME", DELISTED, 10_100)
        # the owners hear of it as of any cancel
        report = await asyncio.wait_for(reports.__aiter__().__anext__(), 5)
        assert (report.exec_type, report.order_id, report.last_quantity) == (
            CANCELED, ask.order.order_id, 20)

    # market data sees the book empty, then the symbol delisted
    updates = await read_until(call, lambda u: u.channel == md.CHANNEL_STATUS)
    quotes = [u.quote for u in updates if u.channel == md.CHANNEL_L1]
    assert quotes[-1] == md.Quote()
    assert updates[-1].status.status == DELISTED
    call.cancel()

    # escrow is back; the shares stay, marked at the last trade
    buyer_after = await buyer.portfolio()
    assert (buyer_after.reserved_cash, buyer_after.cash) == (
        0, buyer_before.cash + buyer_before.reserved_cash)
    [held] = buyer_after.positions
    assert (held.symbol, held.quantity, held.mark_price, held.market_value) == (
        "ACME", 10, 10_100, 101_000)
    seller_view = {p.symbol: p for p in (await seller.portfolio()).positions}
    assert (seller_view["ACME"].quantity, seller_view["ACME"].reserved_quantity) == (90, 0)
    assert seller_view["LOTS"].reserved_quantity == 10      # other symbols are untouched
    assert (await seller.accounts.GetOrder(account_pb2.GetOrderRequest(
        order_id=other.order.order_id), metadata=seller.metadata)).status == \
        common_pb2.ORDER_STATUS_NEW

    # the symbol is gone from listings, and says so when asked for
    listed = await stub.ListInstruments(md.ListInstrumentsRequest())
    assert [i.symbol for i in listed.instruments] == ["LOTS"]
    with pytest.raises(TradepitError) as refused:
        await seller.submit("ACME", SELL, 1, 10_100, type=LIMIT)
    assert (refused.value.code, refused.value.reason) == (grpc.StatusCode.NOT_FOUND,
                                                          "UNKNOWN_SYMBOL")
    assert "ACME was delisted" in refused.value.message and "LOTS" in refused.value.message
    with pytest.raises(grpc.aio.AioRpcError) as no_book:
        await stub.GetBook(md.GetBookRequest(symbol="ACME"))
    assert no_book.value.code() == grpc.StatusCode.NOT_FOUND
    late = stub.StreamMarketData(md.StreamMarketDataRequest(subscriptions=[
        md.Subscription(symbol="ACME", channels=[md.CHANNEL_TRADES])]))
    with pytest.raises(grpc.aio.AioRpcError) as no_stream:
        await late.read()
    assert no_stream.value.code() == grpc.StatusCode.NOT_FOUND
    assert "delisted" in (no_stream.value.details() or "")

    # past orders in it stay readable; removing it again is NOT_FOUND
    orders = await buyer.accounts.ListOrders(account_pb2.ListOrdersRequest(symbol="ACME"),
                                             metadata=buyer.metadata)
    assert [o.status for o in orders.orders] == [common_pb2.ORDER_STATUS_FILLED,
                                                 common_pb2.ORDER_STATUS_CANCELED]
    with pytest.raises(TradepitError) as again:
        await admin_call(agents, "RemoveInstrument",
                         admin_pb2.RemoveInstrumentRequest(symbol="ACME"))
    assert again.value.code == grpc.StatusCode.NOT_FOUND


async def test_a_removed_symbol_is_never_listed_again(agents):
    await admin_call(agents, "RemoveInstrument", admin_pb2.RemoveInstrumentRequest(symbol="LOTS"))
    with pytest.raises(TradepitError) as refused:
        await admin_call(agents, "CreateInstrument", admin_pb2.CreateInstrumentRequest(
            symbol="LOTS", tick_size=5, lot_size=10, reference_price=2_000))
    assert refused.value.code == grpc.StatusCode.ALREADY_EXISTS
    assert "LOTS was delisted" in refused.value.message
    with pytest.raises(TradepitError) as unknown:
        await admin_call(agents, "RemoveInstrument",
                         admin_pb2.RemoveInstrumentRequest(symbol="NOPE"))
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND


async def test_list_agents_counts_orders_fills_volume_and_rejects(agents, server):
    gateway = server.gateway
    maker = gateway.apply(lambda now: CreateAccount("maker", "system:test", now, system=True))
    gateway.apply(lambda now: AdjustBalance(maker.account_id, 100, BalanceChange.DEPOSIT, now))
    seller = await agents.new("seller", shares={"ACME": 100})
    buyer = await agents.new("buyer")
    idle = await agents.new("idle")

    await seller.submit("ACME", SELL, 10, 10_000, type=LIMIT)
    await seller.submit("ACME", SELL, 10, 10_050, type=LIMIT)
    await buyer.submit("ACME", BUY, 15, 10_050, type=LIMIT)   # 10 @ 10,000 and 5 @ 10,050
    with pytest.raises(TradepitError):
        await seller.submit("ACME", SELL, 1_000, 10_000, type=LIMIT)   # not enough shares
    with pytest.raises(TradepitError):
        await buyer.cancel(order_id=4242)                              # no such order
    async with buyer.session() as session:                             # refused on the stream
        session.submit("NOPE", BUY, 1, 100, type=LIMIT)
        await session.flush()
        [report] = [r async for r in _first(session)]
        assert report.exec_type == common_pb2.EXEC_TYPE_REJECTED

    listed = await admin_call(agents, "ListAgents", admin_pb2.ListAgentsRequest())
    figures = {a.account.name: (a.orders, a.fills, a.traded_quantity, a.traded_notional,
                                a.rejects) for a in listed.agents}
    notional = 10 * 10_000 + 5 * 10_050
    assert figures == {
        "seller": (2, 2, 15, notional, 1),
        "buyer": (1, 2, 15, notional, 2),
        "idle": (0, 0, 0, 0, 0),
    }
    assert listed.next_page_token == ""
    assert (await idle.portfolio()).account.name == "idle"

    everyone = await admin_call(agents, "ListAgents",
                                admin_pb2.ListAgentsRequest(include_system=True, page_size=3))
    assert [a.account.name for a in everyone.agents] == ["maker", "seller", "buyer"]
    assert everyone.agents[0].account.system
    rest = await admin_call(agents, "ListAgents", admin_pb2.ListAgentsRequest(
        include_system=True, page_size=3, page_token=everyone.next_page_token))
    assert [a.account.name for a in rest.agents] == ["idle"]

    with pytest.raises(grpc.aio.AioRpcError) as not_admin:
        await buyer.admin.ListAgents(admin_pb2.ListAgentsRequest(), metadata=buyer.metadata)
    assert not_admin.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def _first(session: Any) -> Any:
    """The session's next report, within 5 s."""
    yield await asyncio.wait_for(session.__aiter__().__anext__(), 5)
