"""The Rust exchange's own notes of what its commands change in the store, and the rows it
builds of them (`start_store_notes`, `take_store_notes`), against tradepit/store/
projection.py on the Python exchange, the reference: fed the same seeded command streams,
journaled as the group commit journals them, a `Projection` on either exchange takes the
same rows, in the same order, value for value and type for type once unpickled (the Rust
exchange's come pickled, for the journal's writer)."""

from __future__ import annotations

import pickle
import random
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
from tradepit.journal.codec import kind_of
from tradepit.journal.pending import TapedEntries
from tradepit.journal.schema import metadata
from tradepit.journal.store import MANY_ROWS, ROWS_PER_STATEMENT, ungroup
from tradepit.store.projection import (
    NativeTouched,
    Projection,
    Row,
    account_row,
    position_row,
)

from .streams import random_commands

COMMANDS = 6_000


@pytest.fixture(scope="module", autouse=True)
def native() -> Any:
    try:
        return load_backend("rust")
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)


def _unpickled(table: str, pickled: bytes | None) -> list[Row]:
    """What the journal's writer makes of a table's rows from the Rust exchange: tuples
    of the values of ROWS_PER_STATEMENT rows each for the tables it writes so many at a
    time, of one row for the others, the last tuple of what is left."""
    if pickled is None:
        return []
    tuples = pickle.loads(pickled)
    assert tuples, "an empty table is None, not pickled"
    width = len(metadata.tables[table].columns) * (
        ROWS_PER_STATEMENT if table in MANY_ROWS else 1)
    assert {len(values) for values in tuples[:-1]} <= {width}
    assert 0 < len(tuples[-1]) <= width
    return ungroup(table, tuples)


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


def _take(projection: Projection) -> Any:
    try:
        rows = projection.take()
    except Exception as error:
        return type(error).__name__, error.args
    return {table: _typed(_unpickled(table, found) if isinstance(found, bytes) else found)
            for table, found in rows.items()}


class Journaled:
    """The two exchanges, each with a projection, journaling as the group commit does
    (gateway `_record`: a refusal is not journaled; the Rust exchange's tape numbers
    the entries its notes carry)."""

    def __init__(self, first: int = 1) -> None:
        self.python, self.rust = Exchange(), NativeExchange()
        self.projections = Projection(self.python), Projection(self.rust)
        self.entries = TapedEntries(self.rust.journal_tape, first)
        self.sequence = first

    def apply(self, command: Command) -> str:
        outcome = _apply(self.rust, command)
        assert outcome == _apply(self.python, command), command
        if outcome != "reject":
            self.entries.add(self.sequence, kind_of(command), command)
            for exchange, projection in zip((self.python, self.rust), self.projections,
                                            strict=True):
                projection.note(self.sequence, command, exchange.take_reports(),
                                exchange.take_market_events())
            self.sequence += 1
        return outcome

    def takes(self) -> tuple[Any, Any]:
        return _take(self.projections[0]), _take(self.projections[1])


@pytest.mark.parametrize("seed", [5, 6])
def test_a_projection_takes_the_same_rows_on_either_exchange(seed: int) -> None:
    """Batches cut at random."""
    journaled = Journaled()
    assert isinstance(journaled.projections[1]._touched, NativeTouched)  # the Rust notes
    draw = random.Random(seed)
    tables: set[str] = set()
    for command in random_commands(seed, COMMANDS, lambda: journaled.python._next_order_id):
        journaled.apply(command)
        if draw.random() < 0.02:
            expected, got = journaled.takes()
            assert got == expected, f"after entry {journaled.sequence - 1}"
            if isinstance(expected, dict):
                tables.update(expected)
    expected, got = journaled.takes()
    assert got == expected
    assert {"orders", "accounts", "positions", "fills", "instruments"} <= tables, tables


def test_the_order_rows_show_every_status_fees_and_money_beyond_64_bits() -> None:
    journaled = Journaled()
    orders: list[Row] = []
    accounts: list[Row] = []
    largest = 0
    for index, command in enumerate(random_commands(8, COMMANDS,
                                                    lambda: journaled.python._next_order_id)):
        journaled.apply(command)
        if index == 100:  # a deposit beyond 64 bits
            assert journaled.apply(AdjustBalance(2, 10**30, 1, command.timestamp)) == "ok"
        if journaled.sequence % 500 == 0:
            expected, got = journaled.takes()
            assert got == expected
            orders += [tuple(v for _, v in row) for row in got.get("orders", [])]
            accounts += [tuple(v for _, v in row) for row in got.get("accounts", [])]
            largest = max(largest, len(got.get("orders", [])), len(got.get("fills", [])))
    assert largest > 2 * ROWS_PER_STATEMENT  # takes of whole groups and a rest
    assert {int(status) for status in OrderStatus} <= {row[11] for row in orders}
    assert any(row[16] is not None for row in orders)  # a reject reason
    assert any(row[15] for row in orders)  # fees
    assert any(row[3] >= 10**30 for row in accounts)  # cash beyond 64 bits


def test_an_unknown_account_raises_the_same_key_error() -> None:
    journaled = Journaled()
    for command in random_commands(4, 1_000, lambda: journaled.python._next_order_id):
        journaled.apply(command)
    for projection in journaled.projections:
        projection._touched.account(12_345, journaled.sequence)
    expected, got = journaled.takes()
    assert got == expected == ("KeyError", (12_345,))


def test_rows_come_pickled_value_for_value_at_every_size() -> None:
    """Ints at each edge of the pickle's encodings (one byte, four, then as many as it
    takes, both signs, beyond 64 bits), a str of 256 bytes of UTF-8, and bools; the
    sequences of admin notes beyond 64 bits too."""
    commands = [CreateInstrument("ACME", 1, 1, 100, 1_000, 1),
                CreateAccount("😀" * 64, "key-1", 2, True),
                AdjustBalance(1, 2**70, 1, 3), AdjustBalance(1, 5, 1, 4, "ACME")]
    commands += [SubmitOrder(1, f"c{i}", "ACME", 2, 1, 1, 100, 1, i % 2 == 0, 0, 5 + i)
                 for i in range(4)]
    for first in (1, 255, 2**31 - 3, 2**63 - 20):
        journaled = Journaled(first)
        for command in commands:
            assert journaled.apply(command) == "ok", command
        expected, got = journaled.takes()
        assert got == expected, first
    assert [v for _, v in got["accounts"][0]][1:4] == ["😀" * 64, True, 2**70]
    assert {row[9][1] for row in got["orders"]} == {True, False}
    python, rust = journaled.python, journaled.rust
    notes = rust.store_notes
    for sequence in (-1, -129, -2**31 - 1, 2**63, -2**63 - 1, 2**100, -2**100):
        notes.note_account(1, sequence)
        notes.note_position(1, "ACME", sequence)
        orders, accounts, positions, fills, instruments = notes.take_store_notes()
        assert (orders, fills, instruments) == (None, None, [])
        assert _typed(_unpickled("accounts", accounts)) == _typed([account_row(python.accounts[1],
                                                                   sequence)])
        assert _typed(_unpickled("positions", positions)) == _typed([position_row(
            1, "ACME", python.accounts[1].positions["ACME"], sequence)])
