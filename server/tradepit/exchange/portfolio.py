"""What an account is worth: positions marked at each instrument's reference price.

The mark is the last trade price, or the listing price before the first trade; a
delisted instrument keeps the last price it had.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradepit.exchange.exchange import Exchange
from tradepit.exchange.model import Account
from tradepit.exchange.money import decimal_text


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    quantity: int
    reserved: int
    cost_basis: int
    average_cost: str
    realised_pnl: int
    mark_price: int
    market_value: int
    unrealised_pnl: int


@dataclass(frozen=True, slots=True)
class PortfolioView:
    account: Account
    cash: int
    reserved_cash: int
    buying_power: int
    positions: list[PositionView]
    equity: int
    fees_paid: int


def portfolio(exchange: Exchange, account_id: int) -> PortfolioView:
    account = exchange.account(account_id)
    positions = []
    for symbol in sorted(account.positions):
        held = account.positions[symbol]
        if not (held.quantity or held.realised_pnl):
            continue
        mark = exchange.listing(symbol).reference_price
        value = held.quantity * mark
        positions.append(PositionView(
            symbol, held.quantity, held.reserved, held.cost_basis,
            decimal_text(held.cost_basis, held.quantity), held.realised_pnl, mark, value,
            value - held.cost_basis,
        ))
    equity = account.cash + account.reserved_cash + sum(p.market_value for p in positions)
    return PortfolioView(account, account.cash, account.reserved_cash, account.cash, positions,
                         equity, account.fees_paid)


def equity(exchange: Exchange, account: Account) -> int:
    """Free and reserved cash plus every position (reserved shares too) at its mark:
    the same figure as `portfolio(...).equity`, without building the view."""
    value = account.cash + account.reserved_cash
    for symbol, held in account.positions.items():
        if held.quantity:
            value += held.quantity * exchange.listing(symbol).reference_price
    return value
