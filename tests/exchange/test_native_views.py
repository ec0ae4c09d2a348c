"""The native exchange's live views against the Python exchange's objects: after the same
seeded command stream, every account, position, order, instrument and book reads the same
through its view as through the Python model, field by field; and a view stays live."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pytest
from tradepit.book import load_backend
from tradepit.exchange import model
from tradepit.exchange.commands import (
    AdjustBalance,
    CancelOrder,
    CreateAccount,
    OrderRef,
    RemoveInstrument,
    SubmitOrder,
)
from tradepit.exchange.digest import order_rows
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange

from .streams import random_commands, setup
from .test_native_parity import SHAPES

COMMANDS = 5_000
ACCOUNT_FIELDS = ("account_id", "name", "key_hash", "system", "cash", "reserved_cash",
                  "fees_paid", "deposits", "deposited_value", "traded_quantity",
                  "traded_notional", "report_sequence", "fill_count")
POSITION_FIELDS = ("quantity", "reserved", "cost_basis", "realised_pnl", "available")
ORDER_FIELDS = (*(f.name for f in dataclasses.fields(model.OrderState)), "is_open",
                "average_price")
INSTRUMENT_FIELDS = ("symbol", "tick_size", "lot_size", "reference_price", "band_bps",
                     "status")


def _run(exchange: Any, command: Any) -> None:
    with contextlib.suppress(Reject):
        exchange.execute(command)


def _plain(value: Any) -> Any:
    """A model value as the views give it: `FeeRates` as a plain tuple."""
    return tuple(value) if isinstance(value, model.FeeRates) else value


@pytest.fixture(scope="module")
def exchanges() -> tuple[Exchange, Any]:
    try:
        load_backend("rust")
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)
    from tradepit._native import Exchange as NativeExchange

    python, rust = Exchange(), NativeExchange(SHAPES)
    for command in random_commands(7, COMMANDS, lambda: python._next_order_id):
        _run(python, command)
        _run(rust, command)
    python.take_reports(), rust.take_reports()
    python.take_market_events(), rust.take_market_events()
    return python, rust


def _same_type(got: Any, expected: Any, where: str) -> None:
    assert got == expected, where
    if isinstance(expected, bool):
        assert isinstance(got, bool), where
    elif isinstance(expected, int) and not isinstance(expected, bool):
        assert type(got) is int, where  # enums come out as plain ints
    elif expected is None:
        assert got is None, where


def test_top_level(exchanges: tuple[Exchange, Any]) -> None:
    python, rust = exchanges
    limits = python.limits
    assert rust.limits() == (limits.maker_fee_bps, limits.taker_fee_bps,
                             limits.max_order_quantity, limits.max_order_notional)
    assert rust.fee_rates() == tuple(python.fee_rates)
    assert rust.fees_collected() == python.fees_collected
    assert rust.next_ids() == (python._next_account_id, python._next_order_id,
                               python._next_trade_id)
    assert rust.account_ids() == sorted(python.accounts)
    assert rust.order_count() == len(python.orders) == max(python.orders)
    assert rust.listed_symbols() == list(python.instruments)
    assert rust.delisted_symbols() == list(python.delisted)
    for account in python.accounts.values():
        assert rust.account_id_for_key(account.key_hash) == \
            python.account_for_key(account.key_hash).account_id
    assert rust.account_id_for_key("no such key") is None
    assert rust.account_view(0) is None and rust.account_view(len(python.accounts) + 1) is None
    assert rust.order_view(0) is None and rust.order_view(len(python.orders) + 1) is None
    assert rust.instrument_view("NOPE") is None and rust.book_view("NOPE") is None
    for symbol in python.delisted:
        assert rust.book_view(symbol) is None


def test_accounts(exchanges: tuple[Exchange, Any]) -> None:
    python, rust = exchanges
    assert len(python.accounts) > 6
    for account_id, account in python.accounts.items():
        view = rust.account_view(account_id)
        where = f"account {account_id}"
        for name in ACCOUNT_FIELDS:
            _same_type(getattr(view, name), getattr(account, name), f"{where} {name}")
        assert list(view.share_deposits.items()) == list(account.share_deposits.items()), where
        positions = view.positions
        assert list(positions) == list(account.positions), where
        for symbol, position in account.positions.items():
            for got in (positions[symbol], view.position(symbol)):
                for name in POSITION_FIELDS:
                    _same_type(getattr(got, name), getattr(position, name),
                               f"{where} {symbol} {name}")
        assert view.order_ids == account.order_ids, where
        assert list(view.client_order_ids.items()) == list(account.client_order_ids.items())
        fills = view.fills
        assert all(type(fill) is model.Fill for fill in fills)
        assert fills == account.fills, where
        assert [type(f.liquidity) for f in fills] == [int] * len(fills)
        # Identity: equal and hashed alike by exchange and account id.
        assert view == rust.account_view(account_id) and view != rust.account_view(
            account_id % len(python.accounts) + 1)
        assert hash(view) == hash(rust.account_view(account_id))
        assert f"account_id={account_id}" in repr(view)
    assert sum(len(a.fills) for a in python.accounts.values()) > 100


def test_orders(exchanges: tuple[Exchange, Any]) -> None:
    python, rust = exchanges
    acknowledged = 0
    for order_id, order in python.orders.items():
        view = rust.order_view(order_id)
        where = f"order {order_id}"
        for name in ORDER_FIELDS:
            got, expected = getattr(view, name), _plain(getattr(order, name))
            if name in ("request", "fee_rates"):
                assert type(got) is tuple and got == tuple(expected), where
            elif name == "acknowledgement":
                assert got == expected, where
                if expected is not None:
                    assert type(got) is model.ExecutionReport, where
                    acknowledged += 1
            else:
                _same_type(got, expected, f"{where} {name}")
    assert acknowledged > len(python.orders) // 2
    statuses = {int(o.status) for o in python.orders.values()}
    assert len(statuses) >= 4, statuses


def test_order_digest_rows(exchanges: tuple[Exchange, Any]) -> None:
    """The rows the state digest reads from the Rust exchange in one call are the
    Python exchange's, value and type alike (the digest pickles them)."""
    python, rust = exchanges
    rows = NativeExchange(native=rust).order_digest_rows()
    expected = order_rows(python)
    assert len(rows) == len(expected) == len(python.orders) > 0
    for got, want in zip(rows, expected, strict=True):
        assert got == want, f"order {want[0]}"
        assert [type(v) for v in got] == [type(v) for v in want], f"order {want[0]}"


def test_instruments(exchanges: tuple[Exchange, Any]) -> None:
    python, rust = exchanges
    assert python.delisted, "the stream delists something"
    for instrument in [*python.instruments.values(), *python.delisted.values()]:
        view = rust.instrument_view(instrument.symbol)
        where = f"instrument {instrument.symbol}"
        for name in INSTRUMENT_FIELDS:
            _same_type(getattr(view, name), getattr(instrument, name), f"{where} {name}")
        assert view.band() == instrument.band(), where


def test_books(exchanges: tuple[Exchange, Any]) -> None:
    python, rust = exchanges
    resting = 0
    for symbol, book in python.books.items():
        view = rust.book_view(symbol)
        where = f"book {symbol}"
        assert view.sequence == book.sequence and view.next_order_id == book.next_order_id
        assert (view.tick_size, view.lot_size) == (book.tick_size, book.lot_size), where
        assert len(view) == len(book), where
        assert view.best_bid() == book.best_bid() and view.best_ask() == book.best_ask()
        assert view.depth(5) == book.depth(5), where
        assert view.state_hash() == book.state_hash(), where
        assert view.snapshot() == book.snapshot(), where
        got_bids, got_asks = view.orders()
        bids, asks = book.orders()
        assert [o.astuple() for o in got_bids] == [o.astuple() for o in bids], where
        assert [o.astuple() for o in got_asks] == [o.astuple() for o in asks], where
        for order in [*bids, *asks][:20]:
            assert view.get_order(order.order_id).astuple() == order.astuple(), where
        assert view.get_order(10**9) is None
        assert view.validate() is None
        resting += len(book)
    assert resting > 0


def test_views_are_live() -> None:
    from tradepit._native import Exchange as NativeExchange

    python, rust = Exchange(), NativeExchange(SHAPES)

    def both(command: Any) -> None:
        _run(python, command)
        _run(rust, command)

    for command in setup():
        both(command)
    account_id = rust.next_ids()[0]
    both(CreateAccount("live", "live-key", 2))
    account = rust.account_view(account_id)
    symbol = rust.listed_symbols()[0]
    position = account.position(symbol)
    instrument = rust.instrument_view(symbol)
    book = rust.book_view(symbol)
    before = rust.state()
    # Looking at a position that does not exist reads zeros and creates nothing.
    assert (position.quantity, position.reserved, position.cost_basis, position.realised_pnl,
            position.available) == (0, 0, 0, 0, 0)
    assert account.positions == {} and rust.state() == before
    assert (account.cash, account.order_ids, account.fills) == (0, [], [])
    sequence = book.sequence

    lot = instrument.lot_size
    low, high = instrument.band()
    both(AdjustBalance(account_id, 10**9, 1, 3))
    both(AdjustBalance(account_id, 10 * lot, 1, 4, symbol))
    both(SubmitOrder(account_id, "live-1", symbol, 1, 1, 1, low, lot, False, 1, 5))
    both(SubmitOrder(account_id, "live-2", symbol, 2, 1, 1, high, lot, False, 1, 6))
    python_account = python.accounts[account_id]
    assert account.cash == python_account.cash > 0
    assert account.reserved_cash == python_account.reserved_cash > 0
    assert account.client_order_ids == python_account.client_order_ids == {
        "live-1": account.order_ids[0], "live-2": account.order_ids[1]}
    assert list(account.positions) == [symbol]
    assert position.quantity == 10 * lot and position.reserved == lot
    assert account.positions[symbol].available == 9 * lot
    order = rust.order_view(account.order_ids[0])
    assert order.is_open and order.leaves == lot
    assert book.sequence > sequence and len(book) == 2
    assert book.best_bid() == (low, lot) and book.best_ask() == (high, lot)

    # A trade moves the reference price, the band, fills and positions.
    buyer = 1
    both(SubmitOrder(buyer, "", symbol, 1, 1, 1, high, lot, False, 1, 7))
    assert instrument.reference_price == high == python.instruments[symbol].reference_price
    assert instrument.band() == python.instruments[symbol].band()
    assert account.fills == python_account.fills and len(account.fills) == 1
    assert position.quantity == 9 * lot and position.reserved == 0
    assert rust.account_view(buyer).fills == python.accounts[buyer].fills

    both(CancelOrder(account_id, OrderRef(order_id=order.order_id), 8))
    assert not order.is_open and order.status == int(python.orders[order.order_id].status)
    assert order.updated_ns == 8 and len(book) == 0

    # Delisted: the instrument's view keeps working, its book's is gone.
    both(RemoveInstrument(symbol, 9))
    assert rust.delisted_symbols() == [symbol] == list(python.delisted)
    assert instrument.status == int(python.delisted[symbol].status)
    assert instrument.symbol == symbol
    with pytest.raises(KeyError):
        len(book)
    assert rust.book_view(symbol) is None
    assert rust.state()["accounts"][account_id - 1][4] == account.cash
