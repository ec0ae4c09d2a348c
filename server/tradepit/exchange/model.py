"""The exchange's state: instruments, accounts with positions, orders, fills and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from tradepit.exchange.codes import ExecType, Liquidity, OrderStatus, RejectCode, TradingStatus
from tradepit.exchange.money import BPS, decimal_text


@dataclass(slots=True)
class Instrument:
    symbol: str
    tick_size: int
    lot_size: int
    reference_price: int  # the last trade price; the listing price until the first trade
    band_bps: int
    status: TradingStatus = TradingStatus.TRADING

    def band(self) -> tuple[int, int]:
        """The lowest and highest price an order may carry now, on the tick grid."""
        return price_band(self.reference_price, self.band_bps, self.tick_size)


@lru_cache(maxsize=4096)
def price_band(reference_price: int, band_bps: int, tick_size: int) -> tuple[int, int]:
    """The band around `reference_price`, on the tick grid: cached, since every order
    is checked against it and the reference price moves only with trades."""
    half_width = reference_price * band_bps // BPS
    low = -(-(reference_price - half_width) // tick_size) * tick_size
    high = (reference_price + half_width) // tick_size * tick_size
    return max(low, tick_size), high


@dataclass(slots=True)
class Position:
    quantity: int = 0     # shares held, reserved ones included
    reserved: int = 0     # held for open sell orders
    cost_basis: int = 0   # cash paid (fees included) for the shares still held
    realised_pnl: int = 0

    @property
    def available(self) -> int:
        return self.quantity - self.reserved


@dataclass(slots=True)
class Fill:
    trade_id: int
    order_id: int
    client_order_id: str
    symbol: str
    side: int
    price: int
    quantity: int
    fee: int
    liquidity: Liquidity
    timestamp_ns: int


@dataclass(slots=True)
class Account:
    account_id: int
    name: str
    key_hash: str
    system: bool = False
    cash: int = 0            # free cash
    reserved_cash: int = 0   # held by open buy orders
    fees_paid: int = 0
    deposits: int = 0        # net cash paid in from outside: deposits and adjustments
    share_deposits: dict[str, int] = field(default_factory=dict)
    # Net value paid in: cash as paid, shares at the instrument's reference price when
    # they were paid in or taken out. The leaderboard's baseline for returns.
    deposited_value: int = 0
    traded_quantity: int = 0  # activity figures: shares bought and sold over all fills,
    traded_notional: int = 0  # and their price * quantity
    positions: dict[str, Position] = field(default_factory=dict)
    report_sequence: int = 0
    order_ids: list[int] = field(default_factory=list)
    client_order_ids: dict[str, int] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)

    @property
    def fill_count(self) -> int:
        """len(fills), which the Rust exchange's view answers without building them."""
        return len(self.fills)

    def position(self, symbol: str) -> Position:
        position = self.positions.get(symbol)
        if position is None:
            position = self.positions[symbol] = Position()
        return position


class FeeRates(NamedTuple):
    """The fees an order pays, fixed when it is accepted, and the largest of them (what
    a buy order holds in escrow for fees)."""

    maker_bps: int = 0
    taker_bps: int = 0
    max_bps: int = 0


NO_FEES = FeeRates()


@dataclass(slots=True)
class OrderState:
    order_id: int
    account_id: int
    client_order_id: str
    symbol: str
    side: int
    order_type: int
    tif: int
    price: int              # as entered: 0 for a market order
    book_price: int         # the limit the book sees (a market order's is its band limit)
    quantity: int
    post_only: bool
    stp: int
    created_ns: int
    request: tuple[object, ...]  # what was asked for, to recognise an idempotent resubmission
    fee_rates: FeeRates = NO_FEES
    leaves: int = 0
    filled_quantity: int = 0
    filled_notional: int = 0
    fees: int = 0
    status: OrderStatus = OrderStatus.NEW
    updated_ns: int = 0
    reject_reason: RejectCode | None = None
    reserved_cash: int = 0
    book_id: int = 0
    acknowledgement: ExecutionReport | None = None

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)

    @property
    def average_price(self) -> str:
        """Exact decimal text; empty until the first fill (every new order's report)."""
        return decimal_text(self.filled_notional, self.filled_quantity) \
            if self.filled_quantity else ""


class ExecutionReport(NamedTuple):
    """What happened to an order. Immutable, and a tuple because one is built per event."""

    account_id: int
    sequence: int  # per account, gapless from 1; 0 for a request refused before it was an order
    order_id: int
    client_order_id: str
    symbol: str
    exec_type: ExecType
    order_status: OrderStatus
    side: int
    price: int
    quantity: int
    last_quantity: int
    last_price: int
    cumulative_quantity: int
    leaves_quantity: int
    average_price: str
    fee: int
    liquidity: Liquidity | None
    trade_id: int
    reject_reason: RejectCode | None
    reject_message: str
    timestamp_ns: int


class TradePrint(NamedTuple):
    """One trade as the market sees it: no owners."""

    symbol: str
    trade_id: int
    price: int
    quantity: int
    aggressor_side: int
    timestamp_ns: int
    sequence: int  # the book sequence of the trade


class BookChange(NamedTuple):
    """What one command did to one book: its events in order, and the trades among them."""

    symbol: str
    events: list[Any]
    trades: list[TradePrint]
    timestamp_ns: int


class StatusChange(NamedTuple):
    symbol: str
    status: TradingStatus
    timestamp_ns: int


MarketEvent = BookChange | StatusChange
