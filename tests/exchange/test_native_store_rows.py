"""The Rust exchange's own builder of the store's rows (`store_rows`) against the Python
functions of tradepit/store/projection.py on the Python exchange, the reference: fed the
same seeded command streams, they give the same rows for the same keys, value for value
and type for type once unpickled (the Rust exchange's come pickled, for the journal's
writer), and a `Projection` on either exchange takes the same rows."""

from __future__ import annotations

import pickle
import random
from collections.abc import Iterator
from typing import Any

import pytest
from tradepit.book import load_backend
from tradepit.exchange.codes import OrderStatus
from tradepit.exchange.commands import (
    AdjustBalance,
    Command,
    CreateAccount,
    CreateInstrument,
    SubmitOrder,
)
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange
from tradepit.store.projection import Projection, Row, account_row, order_row, position_row

from .streams import LISTINGS, random_commands

COMMANDS = 6_000
CHECK_EVERY = 500
# Symbols no position is ever held in, beside the listed ones (and any the stream lists).
STRANGERS = ["ZZZ", "", "NEW", "L7"]


@pytest.fixture(scope="module", autouse=True)
def native() -> Any:
    try:
        return load_backend("rust")
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)


def _unpickled(pickled: bytes | None) -> list[Row]:
    """What the journal's writer makes of a table's rows from the Rust exchange."""
    if pickled is None:
        return []
    rows = pickle.loads(pickled)
    assert rows, "an empty table is None, not pickled"
    return rows


def _typed(rows: list[Row]) -> list[tuple[tuple[type, Any], ...]]:
    """Rows with each value's type beside it: True is not 1 here."""
    return [tuple((type(value), value) for value in row) for row in rows]


def _apply(exchange: Any, command: Command) -> str:
    try:
        exchange.execute(command)
    except Reject:
        return "reject"
    except Exception as error:  # any other error must be the same error on both
        return type(error).__name__
    return "ok"


def _python_rows(exchange: Exchange, orders: dict[int, int], accounts: dict[int, int],
                 positions: dict[tuple[int, str], int]) -> tuple[list[Row], ...]:
    """What the Python functions build for these keys, skipping as `Projection.take` does."""
    order_rows = [order_row(exchange.orders[o], s) for o, s in orders.items()
                  if o in exchange.orders]
    account_rows = [account_row(exchange.accounts[a], s) for a, s in accounts.items()]
    position_rows = [position_row(a, symbol, exchange.accounts[a].positions[symbol], s)
                     for (a, symbol), s in positions.items()
                     if a in exchange.accounts and symbol in exchange.accounts[a].positions]
    return order_rows, account_rows, position_rows


def _keys(python: Exchange, draw: random.Random, *, grown: bool
          ) -> tuple[dict[int, int], dict[int, int], dict[tuple[int, str], int]]:
    """Every order, account and position there is, and orders and positions that are not
    (0, negative and future order ids; unknown accounts and symbols), in a shuffled
    order, each with a sequence (some beyond 64 bits if `grown`)."""

    def sequence() -> int:
        return draw.choice([draw.randint(1, 10**6), 2**64 + draw.randint(0, 9)] if grown
                           else [draw.randint(1, 10**6)])

    order_ids = list(range(-1, python._next_order_id + 3))
    account_ids = list(python.accounts)
    symbols = {*LISTINGS, *STRANGERS, *python.instruments, *python.delisted}
    position_keys = [(a, s) for a in [*account_ids, 0, 99] for s in sorted(symbols)]
    for keys in (order_ids, account_ids, position_keys):
        draw.shuffle(keys)
    return ({o: sequence() for o in order_ids}, {a: sequence() for a in account_ids},
            {k: sequence() for k in position_keys})


def _streams(seed: int, python: Exchange, rust: NativeExchange) -> Iterator[int]:
    """Feed both exchanges the seeded stream, with a few deposits beyond 64 bits near the
    end; yield after every CHECK_EVERY commands (and at the end)."""
    for index, command in enumerate(random_commands(seed, COMMANDS,
                                                    lambda: python._next_order_id)):
        if index == COMMANDS * 3 // 4:
            for account_id in (1, 2):
                big = AdjustBalance(account_id, 10**30, 1, command.timestamp)
                assert _apply(python, big) == _apply(rust, big) == "ok"
        assert _apply(rust, command) == _apply(python, command), f"command {index}"
        python.take_reports(), python.take_market_events()
        rust.take_reports(), rust.take_market_events()
        if index % CHECK_EVERY == 0:
            yield index
    yield COMMANDS


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_store_rows_are_the_python_functions_rows(seed: int) -> None:
    python, rust = Exchange(), NativeExchange()
    draw = random.Random(seed)
    skipped = 0
    for index in _streams(seed, python, rust):
        orders, accounts, positions = _keys(python, draw, grown=index > COMMANDS // 2)
        expected = _python_rows(python, orders, accounts, positions)
        got = [_unpickled(pickled) for pickled in rust.store_rows(orders, accounts, positions)]
        for table, want, have in zip(("orders", "accounts", "positions"), expected, got,
                                     strict=True):
            assert _typed(have) == _typed(want), f"{table} after command {index}"
        skipped += len(orders) - len(got[0]) + len(positions) - len(got[2])
    assert skipped > 0
    # The stream reached what the rows should show: fills, cancels, rejects, amends,
    # fees, exact money beyond 64 bits.
    statuses = {row[11] for row in got[0]}
    assert {int(status) for status in OrderStatus} <= statuses, statuses
    assert any(row[16] is not None for row in got[0])
    assert any(row[15] for row in got[0])
    assert any(row[3] >= 10**30 for row in got[1])
    assert any(row[3] for row in got[2]) and any(row[5] for row in got[2])


def test_an_unknown_account_raises_the_same_key_error() -> None:
    python, rust = Exchange(), NativeExchange()
    for index in _streams(4, python, rust):
        if index >= 1_000:
            break
    accounts = {2: 10, 1: 11, 12_345: 12, 3: 13, 999: 14}
    with pytest.raises(KeyError) as expected:
        _python_rows(python, {}, accounts, {})
    with pytest.raises(KeyError) as got:
        rust.store_rows({1: 5}, accounts, {(1, "AAA"): 5})
    assert got.value.args == expected.value.args == (12_345,)


def _take(projection: Projection) -> Any:
    try:
        rows = projection.take()
    except Exception as error:
        return type(error).__name__, error.args
    return {table: _typed(_unpickled(found) if isinstance(found, bytes) else found)
            for table, found in rows.items()}


@pytest.mark.parametrize("seed", [5, 6])
def test_a_projection_takes_the_same_rows_on_either_exchange(seed: int) -> None:
    """Commands noted as the group commit notes them (gateway `_record`: a refusal is not
    journaled), batches cut at random."""
    python, rust = Exchange(), NativeExchange()
    projections = Projection(python), Projection(rust)
    assert projections[1]._store_rows is not None  # the rows are the native exchange's own
    draw = random.Random(seed)
    tables: set[str] = set()
    sequence = 0
    for index, command in enumerate(random_commands(seed, COMMANDS,
                                                    lambda: python._next_order_id)):
        outcome = _apply(rust, command)
        assert outcome == _apply(python, command), f"command {index}"
        if outcome != "reject":
            sequence += 1
            for exchange, projection in zip((python, rust), projections, strict=True):
                projection.note(sequence, command, exchange.take_reports(),
                                exchange.take_market_events())
        if draw.random() < 0.02:
            expected = _take(projections[0])
            assert _take(projections[1]) == expected, f"after command {index}"
            if isinstance(expected, dict):
                tables.update(expected)
    assert _take(projections[1]) == _take(projections[0])
    assert {"orders", "accounts", "positions", "fills", "instruments"} <= tables, tables


def test_rows_come_pickled_value_for_value_at_every_size() -> None:
    """Ints at each edge of the pickle's encodings (one byte, four, then as many as it
    takes, both signs, beyond 64 bits), a str of 256 bytes of UTF-8, and bools."""
    python, rust = Exchange(), NativeExchange()
    commands = [CreateInstrument("ACME", 1, 1, 100, 1_000, 1),
                CreateAccount("😀" * 64, "key-1", 2, True),
                AdjustBalance(1, 2**70, 1, 3), AdjustBalance(1, 5, 1, 4, "ACME")]
    commands += [SubmitOrder(1, f"c{i}", "ACME", 2, 1, 1, 100, 1, i % 2 == 0, 0, 5 + i)
                 for i in range(4)]
    for command in commands:
        for exchange in (python, rust):
            exchange.execute(command)
    edges = [0, 1, 255, 256, -1, -128, -129, 2**31 - 1, 2**31, -2**31, -2**31 - 1,
             2**63 - 1, 2**63, -2**63 - 1, 2**100, -2**100]
    for edge in edges:
        keys = ({order_id: edge for order_id in range(1, 5)}, {1: edge}, {(1, "ACME"): edge})
        expected = _python_rows(python, *keys)
        got = [_unpickled(pickled) for pickled in rust.store_rows(*keys)]
        assert [_typed(rows) for rows in got] == [_typed(rows) for rows in expected], edge
    assert got[1][0][1] == "😀" * 64 and got[1][0][3] == 2**70
    assert {row[9] for row in got[0]} == {True, False}
