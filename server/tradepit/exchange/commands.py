"""Everything that can change the exchange's state, as plain values.

Each command carries the time it arrived, so applying the same commands in the same
order always gives the same state: the journal stores these. They are NamedTuples:
immutable, and cheap to build on the order path.
"""

from __future__ import annotations

from typing import NamedTuple


class CreateAccount(NamedTuple):
    name: str
    key_hash: str
    timestamp: int
    system: bool = False


class AdjustBalance(NamedTuple):
    account_id: int
    amount: int
    kind: int  # a BalanceChange value as received; Exchange rejects any other
    timestamp: int
    symbol: str = ""  # empty: cash; otherwise shares of this symbol


class CreateInstrument(NamedTuple):
    symbol: str
    tick_size: int
    lot_size: int
    reference_price: int
    band_bps: int
    timestamp: int


class SetTradingStatus(NamedTuple):
    symbol: str  # empty: every instrument
    status: int  # a TradingStatus value as received; Exchange rejects any other
    timestamp: int


class SetLimits(NamedTuple):
    """Fees and order-size limits from now on: journaled, so a replay charges what was
    charged. Orders already accepted keep the fees they were accepted with."""

    maker_fee_bps: int
    taker_fee_bps: int
    max_order_quantity: int
    max_order_notional: int
    timestamp: int


class RemoveInstrument(NamedTuple):
    """Delist a symbol: its resting orders are cancelled, positions stay (see Exchange)."""

    symbol: str
    timestamp: int


class EndSession(NamedTuple):
    symbol: str  # empty: every instrument
    timestamp: int


class SubmitOrder(NamedTuple):
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


class OrderRef(NamedTuple):
    """An order named by the exchange's id, or by the account's client_order_id."""

    order_id: int = 0
    client_order_id: str = ""


class CancelOrder(NamedTuple):
    account_id: int
    ref: OrderRef
    timestamp: int


class AmendOrder(NamedTuple):
    account_id: int
    ref: OrderRef
    price: int
    quantity: int
    timestamp: int


class CancelAll(NamedTuple):
    account_id: int
    symbol: str
    timestamp: int


Command = (
    CreateAccount | AdjustBalance | CreateInstrument | RemoveInstrument | SetTradingStatus
    | EndSession | SetLimits | SubmitOrder | CancelOrder | AmendOrder | CancelAll
)
