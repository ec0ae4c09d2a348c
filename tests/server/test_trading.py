"""Two agents trade end to end; escrow, fees and P&L move exactly."""

import asyncio

from tradepit_client.v1 import common_pb2

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT, MARKET = common_pb2.ORDER_TYPE_LIMIT, common_pb2.ORDER_TYPE_MARKET


async def test_two_agents_trade_over_unary_calls(agents):
    seller = await agents.new("seller", shares={"ACME": 100})
    buyer = await agents.new("buyer")
    resting = await seller.submit("ACME", SELL, 40, 10_000, type=LIMIT)
    assert resting.order.status == common_pb2.ORDER_STATUS_NEW
    taken = await buyer.submit("ACME", BUY, 30, 10_100, type=LIMIT)
    assert taken.order.status == common_pb2.ORDER_STATUS_FILLED
    assert taken.order.average_price == "10000"           # maker's price
    trade = taken.reports[-1]
    assert (trade.exec_type, trade.last_quantity, trade.last_price) == (
        common_pb2.EXEC_TYPE_TRADE, 30, 10_000)
    assert trade.liquidity == common_pb2.LIQUIDITY_TAKER
    assert trade.fee == 300_000 * 10 // 10_000            # taker 10 bps, rounded down

    buyer_view = await buyer.portfolio()
    assert buyer_view.cash == 1_000_000 - 300_000 - 300
    assert buyer_view.reserved_cash == 0                  # price improvement refunded
    [position] = buyer_view.positions
    assert (position.quantity, position.cost_basis) == (30, 300_300)

    seller_view = await seller.portfolio()
    assert seller_view.cash == 1_000_000 + 300_000 - 150  # maker 5 bps
    [position] = seller_view.positions
    assert (position.quantity, position.reserved_quantity) == (70, 10)


async def test_partial_fill_refunds_escrow_exactly(agents, server):
    seller = await agents.new("seller", shares={"ACME": 10})
    buyer = await agents.new("buyer")
    order = await buyer.submit("ACME", BUY, 25, 10_050, type=LIMIT)
    reserved = 25 * 10_050 + 25 * 10_050 * 10 // 10_000
    assert (await buyer.portfolio()).reserved_cash == reserved
    await seller.submit("ACME", SELL, 10, 10_000, type=LIMIT)   # fills 10 at 10_050
    view = await buyer.portfolio()
    still_needed = 15 * 10_050 + 15 * 10_050 * 10 // 10_000
    assert view.reserved_cash == still_needed
    assert view.cash == 1_000_000 - still_needed - (10 * 10_050 + 10 * 10_050 * 5 // 10_000)
    cancelled = await buyer.cancel(order.order.order_id)
    assert cancelled.order.status == common_pb2.ORDER_STATUS_CANCELED
    assert (await buyer.portfolio()).reserved_cash == 0


async def test_market_buy_reserves_the_band_limit_and_releases_the_rest(agents, server):
    seller = await agents.new("seller", shares={"ACME": 5})
    buyer = await agents.new("buyer")
    await seller.submit("ACME", SELL, 5, 10_000, type=LIMIT)
    response = await buyer.submit("ACME", BUY, 8, 0, type=MARKET)
    kinds = [r.exec_type for r in response.reports]
    assert kinds == [common_pb2.EXEC_TYPE_NEW, common_pb2.EXEC_TYPE_TRADE,
                     common_pb2.EXEC_TYPE_CANCELED]
    assert response.order.filled_quantity == 5 and response.order.leaves_quantity == 0
    view = await buyer.portfolio()
    assert view.reserved_cash == 0
    assert view.cash == 1_000_000 - 50_000 - 50


async def test_market_order_never_trades_outside_the_band(agents):
    seller = await agents.new("seller", shares={"ACME": 10})
    buyer = await agents.new("buyer")
    await seller.submit("ACME", SELL, 5, 11_000, type=LIMIT)    # at the band edge (10%)
    await seller.submit("ACME", SELL, 5, 10_900, type=LIMIT)
    response = await buyer.submit("ACME", BUY, 10, 0, type=MARKET)
    assert [r.last_price for r in response.reports if r.exec_type == 2] == [10_900, 11_000]


async def test_selling_more_than_you_hold_is_refused(agents):
    from tradepit_client import TradepitError

    seller = await agents.new("seller", shares={"ACME": 5})
    try:
        await seller.submit("ACME", SELL, 6, 10_000, type=LIMIT)
    except TradepitError as error:
        assert error.reason == "INSUFFICIENT_SHARES"
        assert error.code.name == "FAILED_PRECONDITION"
    else:
        raise AssertionError("short sale accepted")


async def test_realised_and_unrealised_pnl(agents):
    alice = await agents.new("alice", shares={"ACME": 10})   # cost basis 10 x 10_000
    bob = await agents.new("bob")
    await alice.submit("ACME", SELL, 4, 10_500, type=LIMIT)
    await bob.submit("ACME", BUY, 4, 10_500, type=LIMIT)
    [position] = (await alice.portfolio()).positions
    assert position.realised_pnl == 4 * 10_500 - (4 * 10_500 * 5 // 10_000) - 40_000
    assert position.mark_price == 10_500
    assert position.unrealised_pnl == 6 * 10_500 - 60_000
    assert position.average_cost == "10000"


async def test_fills_are_listed_with_fee_and_liquidity(agents):
    seller = await agents.new("seller", shares={"ACME": 10})
    buyer = await agents.new("buyer")
    await seller.submit("ACME", SELL, 10, 10_000, type=LIMIT, client_order_id="s-1")
    await buyer.submit("ACME", BUY, 4, 10_000, type=LIMIT)
    await buyer.submit("ACME", BUY, 6, 10_000, type=LIMIT)
    from tradepit_client.v1 import account_pb2

    fills = (await seller.accounts.ListTrades(account_pb2.ListTradesRequest(page_size=1),
                                              metadata=seller.metadata))
    assert [(f.quantity, f.liquidity, f.client_order_id) for f in fills.fills] == [
        (4, common_pb2.LIQUIDITY_MAKER, "s-1")]
    rest = await seller.accounts.ListTrades(
        account_pb2.ListTradesRequest(page_token=fills.next_page_token), metadata=seller.metadata)
    assert [f.quantity for f in rest.fills] == [6] and rest.next_page_token == ""
    assert sum(f.fee for f in (*fills.fills, *rest.fills)) == (40_000 + 60_000) * 5 // 10_000


async def test_orders_are_listed_open_or_all_and_by_symbol(agents):
    trader = await agents.new("trader", shares={"LOTS": 100})
    await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT)
    cancel_me = await trader.submit("ACME", BUY, 1, 9_001, type=LIMIT)
    await trader.submit("LOTS", SELL, 10, 2_100, type=LIMIT)
    await trader.cancel(cancel_me.order.order_id)
    from tradepit_client.v1 import account_pb2

    async def listed(**fields):
        response = await trader.accounts.ListOrders(account_pb2.ListOrdersRequest(**fields),
                                                    metadata=trader.metadata)
        return [o.order_id for o in response.orders]

    assert await listed() == [1, 2, 3]
    assert await listed(open_only=True) == [1, 3]
    assert await listed(symbol="LOTS") == [3]
    order = await trader.accounts.GetOrder(account_pb2.GetOrderRequest(order_id=2),
                                           metadata=trader.metadata)
    assert order.status == common_pb2.ORDER_STATUS_CANCELED


async def test_cancel_all_cancels_only_open_orders_of_the_caller(agents):
    a = await agents.new("a")
    b = await agents.new("b")
    for price in (9_000, 9_100):
        await a.submit("ACME", BUY, 1, price, type=LIMIT)
    await b.submit("ACME", BUY, 1, 9_200, type=LIMIT)
    assert sorted(await a.cancel_all()) == [1, 2]
    assert await a.cancel_all() == []
    assert (await b.portfolio()).reserved_cash > 0


async def test_day_orders_expire_at_end_of_session_and_are_refunded(agents):
    from tradepit_client.v1 import admin_pb2

    trader = await agents.new("trader")
    day = await trader.submit("ACME", BUY, 2, 9_500, type=LIMIT,
                              time_in_force=common_pb2.TIME_IN_FORCE_DAY)
    await trader.submit("ACME", BUY, 2, 9_400, type=LIMIT)
    ended = await agents.admin.admin.EndSession(admin_pb2.EndSessionRequest(),
                                                metadata=agents.admin.metadata)
    assert list(ended.expired_order_ids) == [day.order.order_id]
    view = await trader.portfolio()
    assert view.reserved_cash == 2 * 9_400 + 2 * 9_400 * 10 // 10_000


async def test_halted_symbol_refuses_orders_but_allows_cancels(agents):
    from tradepit_client import TradepitError
    from tradepit_client.v1 import admin_pb2

    trader = await agents.new("trader")
    order = await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT)
    await agents.admin.admin.SetTradingStatus(
        admin_pb2.SetTradingStatusRequest(symbol="ACME", status=common_pb2.TRADING_STATUS_HALTED),
        metadata=agents.admin.metadata)
    try:
        await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT)
        raise AssertionError("order accepted while halted")
    except TradepitError as error:
        assert (error.code.name, error.reason) == ("FAILED_PRECONDITION", "TRADING_HALTED")
    await trader.cancel(order.order.order_id)
    await agents.admin.admin.SetTradingStatus(
        admin_pb2.SetTradingStatusRequest(status=common_pb2.TRADING_STATUS_TRADING),
        metadata=agents.admin.metadata)
    await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT)


async def test_client_order_id_is_idempotent(agents, server):
    trader = await agents.new("trader")
    first = await trader.submit("ACME", BUY, 3, 9_900, type=LIMIT, client_order_id="once")
    again = await trader.submit("ACME", BUY, 3, 9_900, type=LIMIT, client_order_id="once")
    assert again.order.order_id == first.order.order_id
    assert list(again.reports) == [first.reports[0]]        # the original acknowledgement
    assert len(server.gateway.exchange.orders) == 1
    assert (await trader.portfolio()).reserved_cash == 3 * 9_900 + 29


async def test_many_agents_trading_concurrently_conserve_money(agents):
    """A burst of crossing orders from several agents at once; the audit checks the rest."""
    makers = [await agents.new(f"maker{i}", shares={"ACME": 50}) for i in range(3)]
    takers = [await agents.new(f"taker{i}") for i in range(3)]
    calls = []
    for i, maker in enumerate(makers):
        calls += [maker.submit("ACME", SELL, 5, 10_000 + 10 * j + i, type=LIMIT)
                  for j in range(5)]
    for taker in takers:
        calls += [taker.submit("ACME", BUY, 7, 10_060, type=LIMIT) for _ in range(4)]
    await asyncio.gather(*calls)
    views = [await c.portfolio() for c in (*makers, *takers)]
    assert sum(p.quantity for view in views for p in view.positions) == 150
    assert sum(p.quantity for view in views[3:] for p in view.positions) == 75  # all offered
