"""History queries answered from the queryable store, so they outlive memory.

Blocking calls on an engine of their own (SQLite in WAL mode lets them read while the
journal writes); the services run them in a worker thread. Pages are keyset pages: a
page holds rows after the last key of the previous one, fetched with one row extra to
tell whether another page follows.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import Select, and_, func, literal, select, true

from tradepit.exchange.codes import Liquidity, OrderStatus, RejectCode
from tradepit.exchange.model import Account, Fill
from tradepit.exchange.money import decimal_text
from tradepit.journal.schema import accounts, candles, fills, instruments, orders, positions
from tradepit.journal.store import make_engine
from tradepit.marketdata.candles import Candle

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class OrderRecord(NamedTuple):
    """An order as stored: the fields a client sees (`convert.order`)."""

    order_id: int
    client_order_id: str
    symbol: str
    side: int
    order_type: int
    tif: int
    price: int
    quantity: int
    post_only: bool
    stp: int
    status: int
    filled_quantity: int
    leaves: int
    filled_notional: int
    fees: int
    reject_reason: RejectCode | None
    created_ns: int
    updated_ns: int

    @property
    def average_price(self) -> str:
        return decimal_text(self.filled_notional, self.filled_quantity)


class StoredStanding(NamedTuple):
    """An account and its equity: cash, reserved cash and positions at their marks."""

    account: Account
    equity: int


class StoreReader:
    def __init__(self, url: str, busy_timeout_ms: int = 1_000) -> None:
        self.engine = make_engine(url, busy_timeout_ms)

    def orders(self, account_id: int, symbol: str, open_only: bool, after: int,
               limit: int) -> list[OrderRecord]:
        """The account's orders with ids above `after`, oldest first, at most `limit`."""
        o = orders.c
        query = select(
            o.order_id, o.client_order_id, o.symbol, o.side, o.order_type, o.tif, o.price,
            o.quantity, o.post_only, o.stp, o.status, o.filled_quantity, o.leaves_quantity,
            o.filled_notional, o.fees, o.reject_reason, o.created_ns, o.updated_ns,
        ).where(o.account_id == account_id, o.order_id > after)
        if symbol:
            query = query.where(o.symbol == symbol)
        if open_only:
            query = query.where(o.status.in_([int(s) for s in OPEN]))
        query = query.order_by(o.order_id).limit(limit)
        with self.engine.connect() as connection:
            return [_order(tuple(row)) for row in connection.execute(query)]

    def fills(self, account_id: int, symbol: str, after: int, limit: int) -> list[Fill]:
        """The account's fills with trade ids above `after`, oldest first, at most `limit`."""
        f = fills.c
        query = select(f.trade_id, f.order_id, f.client_order_id, f.symbol, f.side, f.price,
                       f.quantity, f.fee, f.liquidity, f.timestamp_ns).where(
            f.account_id == account_id, f.trade_id > after)
        if symbol:
            query = query.where(f.symbol == symbol)
        query = query.order_by(f.trade_id).limit(limit)
        with self.engine.connect() as connection:
            return [Fill(*row[:8], Liquidity(row[8]), row[9])
                    for row in connection.execute(query)]

    def candles(self, symbol: str, interval: int, start_ns: int, end_ns: int,
                limit: int) -> list[Candle]:
        """The most recent `limit` candles starting in [start_ns, end_ns) (end 0: no
        bound), oldest first; none is flagged closed (the caller knows the time)."""
        c = candles.c
        query = select(c.candle_interval, c.start_ns, c.open, c.high, c.low, c.close,
                       c.volume, c.notional, c.trade_count).where(
            c.symbol == symbol, c.candle_interval == interval, c.start_ns >= start_ns)
        if end_ns:
            query = query.where(c.start_ns < end_ns)
        query = query.order_by(c.start_ns.desc()).limit(limit)
        with self.engine.connect() as connection:
            found = [Candle(*row) for row in connection.execute(query)]
        found.reverse()
        return found

    def standings(self, include_system: bool, offset: int, limit: int) -> list[StoredStanding]:
        """Accounts by equity, highest first, equal equity by account id: one statement."""
        with self.engine.connect() as connection:
            rows = connection.execute(standings_query(include_system, offset, limit)).all()
        return [StoredStanding(Account(row.account_id, row.name, "", system=bool(row.system),
                                       cash=row.cash, reserved_cash=row.reserved_cash,
                                       deposited_value=row.deposited_value),
                               int(row.equity))
                for row in rows]

    def close(self) -> None:
        self.engine.dispose()


def standings_query(include_system: bool, offset: int, limit: int) -> Select[tuple[int, ...]]:
    """Every account's equity (positions marked at their instrument's last trade price)
    ranked in SQL: the leaderboard in one statement, not one query per account. SQLite
    would turn a sum beyond 64 bits into a float; an account's value would have to pass
    9.2e18 units for that, some 920,000 fills at the default largest order notional."""
    a, p, i = accounts.c, positions.c, instruments.c
    held = func.coalesce(func.sum(p.quantity * i.reference_price), 0)
    equity = (a.cash + a.reserved_cash + held).label("equity")
    query = (
        select(a.account_id, a.name, a.system, a.cash, a.reserved_cash, a.deposited_value,
               equity)
        .select_from(accounts.outerjoin(positions, and_(p.account_id == a.account_id,
                                                        p.quantity != 0))
                     .outerjoin(instruments, i.symbol == p.symbol))
        .where(true() if include_system else a.system == literal(False))
        .group_by(a.account_id, a.name, a.system, a.cash, a.reserved_cash,
                  a.deposited_value)
        .order_by(equity.desc(), a.account_id)
        .offset(offset).limit(limit)
    )
    return query


def _order(row: tuple[Any, ...]) -> OrderRecord:
    reason = row[15]
    return OrderRecord._make((*row[:8], bool(row[8]), *row[9:15],
                              None if reason is None else RejectCode(reason), *row[16:]))
