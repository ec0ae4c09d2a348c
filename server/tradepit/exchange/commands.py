"""Everything that can change the exchange's state, as plain values.

Each command carries the time it arrived, so applying the same commands in the same
order always gives the same state: the journal stores these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CreateAccount:
    name: str
    key_hash: str
    timestamp: int
    system: bool = False


@dataclass(frozen=True, slots=True)
class AdjustBalance:
    account_id: int
    amount: int
    kind: int  # a BalanceChange value as received; Exchange rejects any other
    timestamp: int
    symbol: str = ""  # empty: cash; otherwise shares of this symbol


@dataclass(frozen=True, slots=True)
class CreateInstrument:
    symbol: str
    tick_size: int
    lot_size: int
    reference_price: int
    band_bps: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class SetTradingStatus:
    symbol: str  # empty: every instrument
    status: int  # a TradingStatus value as received; Exchange rejects any other
    timestamp: int


@dataclass(frozen=True, slots=True)
class EndSession:
    symbol: str  # empty: every instrument
    timestamp: int


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    account_id: int
    client_order_id: str
    symbol: str
    side: int
    order_type: int
    tif: int
    price: int
    quantity: int
    post_only: bool
    stp: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class OrderRef:
    """An order named by the exchange's id, or by the account's client_order_id."""

    order_id: int = 0
    client_order_id: str = ""


@dataclass(frozen=True, slots=True)
class CancelOrder:
    account_id: int
    ref: OrderRef
    timestamp: int


@dataclass(frozen=True, slots=True)
class AmendOrder:
    account_id: int
    ref: OrderRef
    price: int
    quantity: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class CancelAll:
    account_id: int
    symbol: str
    timestamp: int


Command = (
    CreateAccount | AdjustBalance | CreateInstrument | SetTradingStatus | EndSession
    | SubmitOrder | CancelOrder | AmendOrder | CancelAll
)
