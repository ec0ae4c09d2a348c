"""Every bad request gets the right status and ErrorInfo reason, and changes nothing."""

import grpc
import pytest
from tradepit_client import TradepitError
from tradepit_client.v1 import common_pb2, order_pb2

from .conftest import state

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL


def order(**fields):
    values = {"symbol": "ACME", "side": BUY, "price": 10_000, "quantity": 1,
              "type": common_pb2.ORDER_TYPE_LIMIT}
    values.update(fields)
    return order_pb2.NewOrder(**values)


SUBMITS = [
    ("unknown symbol", order(symbol="NOPE"), "NOT_FOUND", "UNKNOWN_SYMBOL"),
    ("zero price", order(price=0), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("negative price", order(price=-100), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("price off the tick", order(symbol="LOTS", price=2_001, quantity=10), "INVALID_ARGUMENT",
     "PRICE_OFF_TICK"),
    ("zero quantity", order(quantity=0), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("negative quantity", order(quantity=-5), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("quantity off the lot", order(symbol="LOTS", price=2_000, quantity=15),
     "INVALID_ARGUMENT", "QUANTITY_OFF_LOT"),
    ("price x quantity overflows 64 bits", order(price=9_000_000_000, quantity=9_000_000_000),
     "INVALID_ARGUMENT", "QUANTITY_TOO_LARGE"),
    ("price x quantity overflows 64 bits within the quantity limit",
     order(price=9_000_000_000_000_000_000, quantity=2), "INVALID_ARGUMENT", "NOTIONAL_TOO_LARGE"),
    ("notional above the maximum", order(price=10_000, quantity=6_000), "INVALID_ARGUMENT",
     "NOTIONAL_TOO_LARGE"),
    ("quantity above the maximum", order(quantity=100_001), "INVALID_ARGUMENT",
     "QUANTITY_TOO_LARGE"),
    ("side outside the enum", order(side=7), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("type outside the enum", order(type=9), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("time in force outside the enum", order(time_in_force=12), "INVALID_ARGUMENT",
     "INVALID_ARGUMENT"),
    ("stp outside the enum", order(self_trade_prevention=-1), "INVALID_ARGUMENT",
     "INVALID_ARGUMENT"),
    ("every field at its default", order_pb2.NewOrder(), "NOT_FOUND", "UNKNOWN_SYMBOL"),
    ("defaults but a symbol", order_pb2.NewOrder(symbol="ACME"), "INVALID_ARGUMENT",
     "INVALID_ARGUMENT"),
    ("market order with a price", order(type=common_pb2.ORDER_TYPE_MARKET), "INVALID_ARGUMENT",
     "INVALID_ARGUMENT"),
    ("post-only market order", order(type=common_pb2.ORDER_TYPE_MARKET, price=0,
                                     post_only=True), "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    ("price outside the band", order(price=12_000), "FAILED_PRECONDITION",
     "PRICE_OUTSIDE_BAND"),
    ("more than the buying power", order(price=10_000, quantity=200), "FAILED_PRECONDITION",
     "INSUFFICIENT_BUYING_POWER"),
    ("a short sale", order(side=SELL), "FAILED_PRECONDITION", "INSUFFICIENT_SHARES"),
    ("client_order_id too long", order(client_order_id="x" * 65), "INVALID_ARGUMENT",
     "INVALID_ARGUMENT"),
]


@pytest.mark.parametrize(("request_", "code", "reason"), [s[1:] for s in SUBMITS],
                         ids=[s[0] for s in SUBMITS])
async def test_bad_orders_are_refused_and_change_nothing(agents, server, request_, code, reason):
    trader = await agents.new("trader")
    await trader.submit("ACME", BUY, 1, 9_000, type=common_pb2.ORDER_TYPE_LIMIT)
    before = state(server)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await trader.orders.SubmitOrder(request_, metadata=trader.metadata)
    error = TradepitError(raised.value)
    assert (error.code.name, error.reason) == (code, reason), error.message
    assert error.message  # a sentence a person can act on
    assert state(server) == before


async def test_duplicate_client_order_id_with_other_parameters(agents, server):
    trader = await agents.new("trader")
    await trader.submit("ACME", BUY, 1, 9_000, type=common_pb2.ORDER_TYPE_LIMIT,
                        client_order_id="dup")
    before = state(server)
    with pytest.raises(TradepitError) as raised:
        await trader.submit("ACME", BUY, 2, 9_000, type=common_pb2.ORDER_TYPE_LIMIT,
                            client_order_id="dup")
    assert (raised.value.code.name, raised.value.reason) == (
        "ALREADY_EXISTS", "DUPLICATE_CLIENT_ORDER_ID")
    assert state(server) == before


@pytest.mark.parametrize("target", ["another account's", "an unknown", "a filled", "no"])
async def test_cancel_and_amend_of_orders_you_cannot_touch(agents, server, target):
    owner = await agents.new("owner", shares={"ACME": 5})
    other = await agents.new("other")
    resting = await owner.submit("ACME", SELL, 5, 10_000, type=common_pb2.ORDER_TYPE_LIMIT)
    caller, order_id, code, reason = {
        "another account's": (other, resting.order.order_id, "NOT_FOUND", "UNKNOWN_ORDER"),
        "an unknown": (owner, 999, "NOT_FOUND", "UNKNOWN_ORDER"),
        "a filled": (owner, resting.order.order_id, "FAILED_PRECONDITION", "ORDER_NOT_OPEN"),
        "no": (owner, None, "INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    }[target]
    if target == "a filled":
        await other.submit("ACME", BUY, 5, 10_000, type=common_pb2.ORDER_TYPE_LIMIT)
    before = state(server)
    ref = order_pb2.OrderRef() if order_id is None else order_pb2.OrderRef(order_id=order_id)
    for call, request_ in (
        (caller.orders.CancelOrder, order_pb2.CancelOrderRequest(order=ref)),
        (caller.orders.AmendOrder, order_pb2.AmendOrderRequest(order=ref, price=10_000,
                                                               quantity=1)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call(request_, metadata=caller.metadata)
        error = TradepitError(raised.value)
        assert (error.code.name, error.reason) == (code, reason)
    assert state(server) == before


@pytest.mark.parametrize("key", [None, "tp_wrong", ""])
async def test_calls_without_a_valid_key_are_unauthenticated(agents, server, key):
    trader = await agents.new("trader")
    before = state(server)
    metadata = () if key is None else (("authorization", f"Bearer {key}"),)
    for call, request_ in ((trader.orders.SubmitOrder, order()),
                           (trader.accounts.GetPortfolio, None)):
        if request_ is None:
            from tradepit_client.v1 import account_pb2

            request_ = account_pb2.GetPortfolioRequest()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call(request_, metadata=metadata)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "authorization" in raised.value.details() or "key" in raised.value.details()
    assert state(server) == before


async def test_an_account_key_cannot_use_the_admin_service(agents, server):
    from tradepit_client.v1 import admin_pb2

    trader = await agents.new("trader")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await trader.admin.AdjustBalance(
            admin_pb2.AdjustBalanceRequest(account_id=1, amount=10**9,
                                           kind=admin_pb2.BALANCE_CHANGE_DEPOSIT),
            metadata=trader.metadata)
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await trader.admin.ListAccounts(admin_pb2.ListAccountsRequest(),
                                        metadata=(("authorization", "Bearer nope"),))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_an_oversized_message_is_refused(agents, server):
    trader = await agents.new("trader")
    before = state(server)
    huge = order_pb2.OrderStreamRequest(
        requests=[order_pb2.OrderRequest(new=order(client_order_id=f"{i:060d}"))
                  for i in range(20_000)])
    assert huge.ByteSize() > server.settings.max_message_bytes
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        call = trader.orders.OrderStream(iter([huge]), metadata=trader.metadata)
        async for _ in call:
            pass
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert state(server) == before


async def test_admin_refusals_change_nothing(agents, server):
    from tradepit_client.v1 import admin_pb2

    admin = agents.admin
    before = state(server)
    cases = [
        (admin.admin.CreateInstrument(admin_pb2.CreateInstrumentRequest(
            symbol="ACME", tick_size=1, lot_size=1, reference_price=100),
            metadata=admin.metadata), "ALREADY_EXISTS"),
        (admin.admin.CreateInstrument(admin_pb2.CreateInstrumentRequest(
            symbol="bad symbol", tick_size=1, lot_size=1, reference_price=100),
            metadata=admin.metadata), "INVALID_ARGUMENT"),
        (admin.admin.AdjustBalance(admin_pb2.AdjustBalanceRequest(
            account_id=42, amount=5, kind=admin_pb2.BALANCE_CHANGE_DEPOSIT),
            metadata=admin.metadata), "NOT_FOUND"),
    ]
    for call, code in cases:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code().name == code
    assert state(server) == before


async def test_oversized_metadata_is_refused(agents, server):
    trader = await agents.new("trader")
    before = state(server)
    padding = "x" * (server.settings.max_metadata_bytes * 2)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await trader.orders.SubmitOrder(order(), metadata=(*trader.metadata, ("padding", padding)))
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert state(server) == before
    # and the connection still serves well-formed calls afterwards
    assert (await trader.submit("ACME", BUY, 1, 9_000, type=common_pb2.ORDER_TYPE_LIMIT)).order
