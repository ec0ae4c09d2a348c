"""The queryable store's rows, derived from what each journaled command changed.

The group commit hands every command it is given to `note`, with the execution reports
and market events the command produced: they name every order, account, position and
instrument the command touched, and carry its fills and trades. When a batch is cut, the
exchange is exactly as its last entry left it, and `take` reads the current state of
everything touched since the last cut into rows, which the batch's transaction writes
beside its journal entries. So the tables always show the state after one journal entry,
and each row only once per batch however often it moved. What was touched is kept by a
`Touched`: `PythonTouched` notes the Python exchange's reports and events here;
`NativeTouched` is the Rust exchange's own notes, which it takes as it applies commands.

`rebuild` gives the same rows for the whole state at once, for a store that is behind
its journal (a database migrated to the store, or a journal tail set aside at recovery).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from operator import attrgetter
from typing import Any, Protocol

from tradepit.exchange.codes import ExecType, Liquidity
from tradepit.exchange.commands import (
    AdjustBalance,
    Command,
    CreateAccount,
    CreateInstrument,
    RemoveInstrument,
)
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.model import (
    Account,
    BookChange,
    ExecutionReport,
    Fill,
    Instrument,
    MarketEvent,
    OrderState,
    Position,
)
from tradepit.journal.store import ROWS_PER_STATEMENT
from tradepit.marketdata.candles import INTERVAL_NS, Candle, Tally

Row = tuple[Any, ...]
# A table's rows, the columns in the table's order (journal/schema.py): a list, or
# pickled by the Rust exchange, which the journal's writer unpickles, laid out as its
# statements take them (`Grouped` in journal/store.py).
TableRows = list[Row] | bytes
# Rows to write, per table.
Rows = dict[str, TableRows]
CandleKey = tuple[str, int]  # symbol, CandleInterval
# What a batch touched, as rows: orders, accounts, positions and fills (each None when
# empty), and the instruments with the last entry that touched each.
TouchedRows = tuple[TableRows | None, TableRows | None, TableRows | None, TableRows | None,
                    list[tuple[str, int]]]

_TRADE = ExecType.TRADE
# The commands whose own fields (not only their reports and events) touch the store.
_ACCOUNT_OR_LISTING = frozenset({AdjustBalance, CreateAccount, CreateInstrument,
                                 RemoveInstrument})


class Touched(Protocol):
    """The keys a batch touched, each with the last journal entry that touched it."""

    def account(self, account_id: int, sequence: int) -> None: ...
    def position(self, account_id: int, symbol: str, sequence: int) -> None: ...
    def instrument(self, symbol: str, sequence: int) -> None: ...
    def take(self) -> TouchedRows:
        """The rows of everything touched since the last call, as the exchange is now: a
        missing order or position has none, an unknown account raises KeyError."""


class Projection:
    """What changed since the last batch, and the candles still open."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        native = getattr(exchange, "store_notes", None)
        # The Rust exchange notes what its commands' reports and market events touch as
        # it applies them (core_rs/python/src/store_notes.rs): done here, that was the
        # loop's largest cost of the journal after the writer's.
        self._touched: Touched
        # What notes each command's reports and market events: None when the exchange
        # does (the Rust one).
        self._from_reports: Callable[[int, Sequence[ExecutionReport],
                                      Sequence[MarketEvent]], None] | None
        if native is None:
            python = PythonTouched(exchange)
            self._touched, self._from_reports = python, python.reports
        else:
            self._touched, self._from_reports = NativeTouched(native), None
        self._candles = CandleCounts()
        self._balance_changes: list[Row] = []

    def resume(self, newest: Iterable[tuple[str, Candle]]) -> None:
        """Continue the stored candles: the newest one stored per symbol and interval."""
        self._candles.resume(newest)

    def note(self, sequence: int, command: Command, reports: Sequence[ExecutionReport],
             events: Sequence[MarketEvent]) -> None:
        """Record what journal entry `sequence` changed: the command, with the reports and
        market events it produced."""
        from_reports = self._from_reports
        if from_reports is not None:
            from_reports(sequence, reports, events)
        for event in events:
            if type(event) is BookChange and event.trades:
                self._candles.count(event.symbol, event.trades, event.timestamp_ns, sequence)
        if type(command) in _ACCOUNT_OR_LISTING:  # not the orders and cancels of trading
            self._note_other(sequence, command)

    def _note_other(self, sequence: int, command: Command) -> None:
        touched = self._touched
        match command:
            case AdjustBalance():
                touched.account(command.account_id, sequence)
                if command.symbol:
                    touched.position(command.account_id, command.symbol, sequence)
                self._balance_changes.append(balance_change_row(sequence, command))
            case CreateAccount():  # its key names it: the account's id is not in the command
                created = self._exchange.account_for_key(command.key_hash)
                if created is not None:
                    touched.account(created.account_id, sequence)
            case CreateInstrument() | RemoveInstrument():
                touched.instrument(command.symbol, sequence)
            case _:
                pass

    def take(self) -> Rows:
        """The rows of everything touched since the last call, as it is now."""
        exchange = self._exchange
        orders, accounts, positions, fills, instruments = self._touched.take()
        rows: dict[str, TableRows | None] = {
            "accounts": accounts, "positions": positions, "orders": orders, "fills": fills}
        if instruments:
            listed, delisted = exchange.instruments, exchange.delisted
            rows["instruments"] = [instrument_row(listed.get(symbol) or delisted[symbol], s)
                                   for symbol, s in instruments]
        rows["candles"] = self._candles.take()
        if self._balance_changes:
            rows["balance_changes"], self._balance_changes = self._balance_changes, []
        return {table: found for table, found in rows.items() if found}


class PythonTouched:
    """The keys the Python exchange's commands touched, noted from their reports and
    market events, and their rows read from its objects."""

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._orders: dict[int, int] = {}
        self._accounts: dict[int, int] = {}
        self._positions: dict[tuple[int, str], int] = {}
        self._instruments: dict[str, int] = {}
        self._fills: list[Row] = []

    def reports(self, sequence: int, reports: Sequence[ExecutionReport],
                events: Sequence[MarketEvent]) -> None:
        """Every report touches its account, its position and its order, and a trade
        adds a fill; every market event touches its instrument."""
        orders, accounts, positions = self._orders, self._accounts, self._positions
        for r in reports:
            account_id, order_id = r.account_id, r.order_id
            accounts[account_id] = sequence
            positions[account_id, r.symbol] = sequence
            if order_id:
                orders[order_id] = sequence
            if r.exec_type == _TRADE:
                liquidity = r.liquidity
                assert liquidity is not None  # a fill is always a maker's or a taker's
                self._fills.append((
                    account_id, r.trade_id, order_id, r.client_order_id, r.symbol,
                    r.side, r.last_price, r.last_quantity, r.fee, int(liquidity),
                    r.timestamp_ns, sequence))
        for event in events:
            self._instruments[event.symbol] = sequence

    def account(self, account_id: int, sequence: int) -> None:
        self._accounts[account_id] = sequence

    def position(self, account_id: int, symbol: str, sequence: int) -> None:
        self._positions[account_id, symbol] = sequence

    def instrument(self, symbol: str, sequence: int) -> None:
        self._instruments[symbol] = sequence

    def take(self) -> TouchedRows:
        exchange = self._exchange
        accounts = exchange.accounts
        account_rows = [account_row(accounts[a], s) for a, s in self._accounts.items()]
        position_rows = []
        for (account_id, symbol), sequence in self._positions.items():
            account = accounts.get(account_id)
            held = None if account is None else account.positions.get(symbol)
            if held is not None:
                position_rows.append(position_row(account_id, symbol, held, sequence))
        order = exchange.orders.get
        order_rows = [order_row(found, s) for o, s in self._orders.items()
                      if (found := order(o)) is not None]
        instruments = list(self._instruments.items())
        fills, self._fills = self._fills, []
        self._orders, self._accounts, self._positions, self._instruments = {}, {}, {}, {}
        return order_rows, account_rows, position_rows, fills, instruments


class NativeTouched:
    """The Rust exchange's own notes (`start_store_notes`), its rows pickled."""

    def __init__(self, native: Any) -> None:
        native.start_store_notes(ROWS_PER_STATEMENT)  # the orders and fills grouped
        self.account = native.note_account
        self.position = native.note_position
        self.instrument = native.note_instrument
        self.take: Callable[[], TouchedRows] = native.take_store_notes


class CandleCounts:
    """The store's candles: each symbol's trades counted into a candle per interval."""

    def __init__(self) -> None:
        self._open: dict[CandleKey, Candle] = {}  # the newest candle per symbol and interval
        # Candles with new trades since the last take, by symbol, interval and start: the
        # object (no longer changed once a later interval replaces it) and the entry.
        self._changed: dict[tuple[str, int, int], tuple[Candle, int]] = {}

    def resume(self, newest: Iterable[tuple[str, Candle]]) -> None:
        """Continue the stored candles: the newest one stored per symbol and interval."""
        for symbol, candle in newest:
            self._open[symbol, candle.interval] = candle

    def count(self, symbol: str, trades: Sequence[Any], timestamp_ns: int,
              sequence: int) -> None:
        """Add one command's trades (one timestamp) to the symbol's candle at each interval."""
        tally = Tally.of((t.price, t.quantity) for t in trades)
        for interval, length in INTERVAL_NS.items():
            start = timestamp_ns - timestamp_ns % length
            candle = self._open.get((symbol, interval))
            if candle is None or candle.start_ns != start:
                candle = self._open[symbol, interval] = Candle(interval, start, *tally)
            else:
                candle.add(tally)
            self._changed[symbol, interval, start] = candle, sequence

    def take(self) -> list[Row]:
        """The rows of the candles changed since the last call."""
        rows = [candle_row(symbol, candle, sequence)
                for (symbol, _, _), (candle, sequence) in self._changed.items()]
        self._changed = {}
        return rows


def balance_change_row(sequence: int, c: AdjustBalance) -> Row:
    return (sequence, c.account_id, c.kind, c.symbol, c.amount, c.timestamp)


def account_row(a: Account, sequence: int) -> Row:
    return (a.account_id, a.name, a.system, a.cash, a.reserved_cash, a.fees_paid, a.deposits,
            a.deposited_value, a.traded_quantity, a.traded_notional, sequence)


def position_row(account_id: int, symbol: str, p: Position, sequence: int) -> Row:
    return (account_id, symbol, p.quantity, p.reserved, p.cost_basis, p.realised_pnl, sequence)


def instrument_row(i: Instrument, sequence: int) -> Row:
    return (i.symbol, i.tick_size, i.lot_size, i.reference_price, i.band_bps, int(i.status),
            sequence)


def order_row(o: OrderState, sequence: int) -> Row:
    """Rows for every order a batch touched are built on the event loop, so: attribute
    by attribute (twice as fast as an attrgetter of the same columns), and the enums as
    ints (a batch pickles a sixth faster for the writer)."""
    reason = o.reject_reason
    return (o.order_id, o.account_id, o.client_order_id, o.symbol, o.side, o.order_type, o.tif,
            o.price, o.quantity, o.post_only, o.stp, int(o.status), o.filled_quantity,
            o.leaves, o.filled_notional, o.fees, None if reason is None else int(reason),
            o.created_ns, o.updated_ns, sequence)


def fill_row(account_id: int, f: Fill, sequence: int) -> Row:
    return (account_id, f.trade_id, f.order_id, f.client_order_id, f.symbol, f.side, f.price,
            f.quantity, f.fee, int(f.liquidity), f.timestamp_ns, sequence)


def candle_row(symbol: str, c: Candle, sequence: int) -> Row:
    return (symbol, c.interval, c.start_ns, c.open, c.high, c.low, c.close, c.volume,
            c.notional, c.trade_count, sequence)


def rebuild(exchange: Exchange, sequence: int, balance_changes: list[Row]) -> Rows:
    """Every row of the store for the exchange's state after journal entry `sequence`;
    `balance_changes` from the journal's AdjustBalance entries (the state keeps only
    their sums). Candles are counted again from the taker side of every fill, which
    sees each trade once."""
    accounts = exchange.accounts.values()
    listings = [*exchange.instruments.values(), *exchange.delisted.values()]
    fills = [(a.account_id, f) for a in accounts for f in a.fills]
    taken = sorted((f for _, f in fills if f.liquidity == Liquidity.TAKER),
                   key=attrgetter("trade_id"))
    candles = CandleCounts()
    for (symbol, timestamp), trades in groupby(taken, key=attrgetter("symbol", "timestamp_ns")):
        candles.count(symbol, list(trades), timestamp, sequence)
    return {
        "accounts": [account_row(a, sequence) for a in accounts],
        "positions": [position_row(a.account_id, symbol, p, sequence)
                      for a in accounts for symbol, p in a.positions.items()],
        "instruments": [instrument_row(i, sequence) for i in listings],
        "orders": [order_row(o, sequence) for o in exchange.orders.values()],
        "fills": [fill_row(account_id, f, sequence) for account_id, f in fills],
        "candles": candles.take(),
        "balance_changes": balance_changes,
    }
