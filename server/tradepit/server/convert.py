"""Exchange values to and from tradepit.v1 messages. No logic beyond field mapping."""

from __future__ import annotations

from tradepit_client.v1 import account_pb2, admin_pb2, common_pb2, order_pb2

from tradepit.exchange.codes import RejectCode
from tradepit.exchange.commands import OrderRef, SubmitOrder
from tradepit.exchange.errors import Reject
from tradepit.exchange.model import Account, ExecutionReport, Fill, Instrument, OrderState
from tradepit.exchange.portfolio import PortfolioView
from tradepit.leaderboard.board import Entry
from tradepit.store.reader import OrderRecord


def account(value: Account) -> common_pb2.Account:
    return common_pb2.Account(account_id=value.account_id, name=value.name, system=value.system,
                              cash=value.cash, reserved_cash=value.reserved_cash)


# The exchange keeps proto enum values as ints and IntEnums with the same numbers
# (tradepit.exchange.codes). The generated stubs type enum fields as each enum's
# `ValueType`, a NewType of int that is plain `int` at runtime, so wrapping a value in
# it is the typed form of the `int(...)` the message takes anyway.
_Side = common_pb2.Side.ValueType
_OrderType = common_pb2.OrderType.ValueType
_TimeInForce = common_pb2.TimeInForce.ValueType
_SelfTradePrevention = common_pb2.SelfTradePrevention.ValueType
_ExecType = common_pb2.ExecType.ValueType
_OrderStatus = common_pb2.OrderStatus.ValueType
_RejectReason = common_pb2.RejectReason.ValueType
_Liquidity = common_pb2.Liquidity.ValueType
_TradingStatus = common_pb2.TradingStatus.ValueType


def instrument(value: Instrument) -> common_pb2.Instrument:
    return common_pb2.Instrument(
        symbol=value.symbol, tick_size=value.tick_size, lot_size=value.lot_size,
        reference_price=value.reference_price, band_bps=value.band_bps,
        status=_TradingStatus(value.status),
    )


def order(value: OrderState | OrderRecord) -> common_pb2.Order:
    return common_pb2.Order(
        order_id=value.order_id, client_order_id=value.client_order_id, symbol=value.symbol,
        side=_Side(value.side), type=_OrderType(value.order_type),
        time_in_force=_TimeInForce(value.tif),
        price=value.price, quantity=value.quantity, filled_quantity=value.filled_quantity,
        leaves_quantity=value.leaves, filled_notional=value.filled_notional,
        average_price=value.average_price, fees=value.fees,
        status=_OrderStatus(value.status), post_only=value.post_only,
        self_trade_prevention=_SelfTradePrevention(value.stp),
        created_ns=value.created_ns, updated_ns=value.updated_ns,
        reject_reason=_RejectReason(value.reject_reason or 0),
    )


def report(value: ExecutionReport) -> common_pb2.ExecutionReport:
    return common_pb2.ExecutionReport(
        sequence=value.sequence, order_id=value.order_id, client_order_id=value.client_order_id,
        symbol=value.symbol, exec_type=_ExecType(value.exec_type),
        order_status=_OrderStatus(value.order_status),
        side=_Side(value.side), price=value.price, quantity=value.quantity,
        last_quantity=value.last_quantity, last_price=value.last_price,
        cumulative_quantity=value.cumulative_quantity, leaves_quantity=value.leaves_quantity,
        average_price=value.average_price, fee=value.fee,
        liquidity=_Liquidity(value.liquidity or 0),
        trade_id=value.trade_id, reject_reason=_RejectReason(value.reject_reason or 0),
        reject_message=value.reject_message, timestamp_ns=value.timestamp_ns,
    )


def fill(value: Fill) -> common_pb2.Fill:
    return common_pb2.Fill(
        trade_id=value.trade_id, order_id=value.order_id, client_order_id=value.client_order_id,
        symbol=value.symbol, side=_Side(value.side), price=value.price,
        quantity=value.quantity, fee=value.fee, liquidity=_Liquidity(value.liquidity),
        timestamp_ns=value.timestamp_ns,
    )


def portfolio(value: PortfolioView) -> account_pb2.Portfolio:
    return account_pb2.Portfolio(
        account=account(value.account), cash=value.cash, reserved_cash=value.reserved_cash,
        buying_power=value.buying_power, equity=value.equity, fees_paid=value.fees_paid,
        positions=[
            account_pb2.Position(
                symbol=p.symbol, quantity=p.quantity, reserved_quantity=p.reserved,
                cost_basis=p.cost_basis, average_cost=p.average_cost,
                realised_pnl=p.realised_pnl, mark_price=p.mark_price,
                market_value=p.market_value, unrealised_pnl=p.unrealised_pnl,
            )
            for p in value.positions
        ],
    )


def leaderboard_entry(value: Entry) -> account_pb2.LeaderboardEntry:
    return account_pb2.LeaderboardEntry(
        rank=value.rank, account=account(value.account), equity=value.equity,
        net_deposits=value.net_deposits, pnl=value.pnl, total_return=value.total_return,
        sharpe=value.risk.sharpe, sortino=value.risk.sortino,
        max_drawdown=value.risk.max_drawdown, samples=value.risk.samples,
    )


def agent_activity(value: Account, rejects: int) -> admin_pb2.AgentActivity:
    return admin_pb2.AgentActivity(
        account=account(value), orders=len(value.order_ids), fills=len(value.fills),
        traded_quantity=value.traded_quantity, traded_notional=value.traded_notional,
        rejects=rejects,
    )


def submit_order(account_id: int, new: order_pb2.NewOrder, now: int) -> SubmitOrder:
    """The command for a new order, as received: the exchange checks every field."""
    return SubmitOrder(account_id, new.client_order_id, new.symbol, new.side, new.type,
                       new.time_in_force, new.price, new.quantity, new.post_only,
                       new.self_trade_prevention, now)


def order_ref(value: order_pb2.OrderRef | account_pb2.GetOrderRequest) -> OrderRef:
    which = value.WhichOneof("key")
    if which is None:
        raise Reject(RejectCode.INVALID_ARGUMENT, "name the order by order_id or client_order_id")
    if which == "client_order_id":
        return OrderRef(client_order_id=value.client_order_id)
    return OrderRef(order_id=value.order_id)
