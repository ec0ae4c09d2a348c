"""Crash recovery of the native exchange: `Exchange.restore` rebuilds it from its saved
`state()` and book snapshots (pickled, as the server saves them), and the rebuilt exchange
is the original: the same state, then the same results, reports, market events and state
as the Python exchange for the rest of a seeded stream. Bad saves are refused."""

from __future__ import annotations

import pickle
import struct
from typing import Any

import pytest
from tradepit.exchange.exchange import Exchange

from .state import python_state
from .streams import random_commands
from .test_native_parity import SHAPES, _events, _python_result, _run, native  # noqa: F401

COMMANDS = 10_000
HALFWAY = 5_000
OPEN = (1, 2)  # NEW, PARTIALLY_FILLED
# Fields of a `state()` order record.
ORDER_ID, SYMBOL, BOOK_ID, STATUS = 0, 3, 23, 19


def _save(exchange: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """What the server saves: the state and each listed symbol's book, through pickle."""
    books = {symbol: exchange.book_view(symbol).snapshot()
             for symbol in exchange.listed_symbols()}
    return pickle.loads(pickle.dumps((exchange.state(), books)))


def _step(python: Exchange, rust: Any, index: int, command: Any) -> None:
    expected = _run(python, command, _python_result)
    got = _run(rust, command, lambda result: result)
    assert got == expected, f"command {index}: {command}"
    reports = python.take_reports()
    assert rust.take_reports() == reports, f"reports of command {index}: {command}"
    assert _events(rust.take_market_events()) == _events(python.take_market_events()), (
        f"market events of command {index}: {command}")


def _halfway(seed: int) -> tuple[Exchange, Any, Any]:
    """The Python and native exchanges after the first half of the stream, and the rest."""
    from tradepit._native import Exchange as NativeExchange

    python, rust = Exchange(), NativeExchange(SHAPES)
    stream = enumerate(random_commands(seed, COMMANDS, lambda: python._next_order_id))
    for index, command in stream:
        _step(python, rust, index, command)
        if index + 1 == HALFWAY:
            break
    return python, rust, stream


@pytest.mark.usefixtures("native")
@pytest.mark.parametrize("seed", [1, 2])
def test_a_restored_exchange_goes_on_as_the_original(seed: int) -> None:
    from tradepit._native import Exchange as NativeExchange

    python, original, rest = _halfway(seed)
    state, books = _save(original)
    assert any(order[STATUS] in OPEN for order in state["orders"]), "orders rest"
    restored = NativeExchange.restore(SHAPES, state, books)
    assert restored.state() == original.state() == python_state(python)
    assert restored.next_ids() == original.next_ids()
    assert restored.limits() == original.limits()
    assert restored.fee_rates() == original.fee_rates()
    count = 0
    for index, command in rest:
        _step(python, restored, index, command)
        count += 1
    assert count > HALFWAY // 2
    assert restored.state() == python_state(python)
    assert python.audit() == [] and restored.audit() == []


def _without_order(snapshot: bytes, book_id: int) -> bytes:
    """The snapshot with one resting order taken out."""
    words = list(struct.unpack(f"<{len(snapshot) // 8}q", snapshot))
    header, at = words[:5], 5
    sides = []
    for _ in range(2):
        count = words[at]
        orders = [words[at + 1 + 11 * k: at + 12 + 11 * k] for k in range(count)]
        sides.append([order for order in orders if order[0] != book_id])
        at += 1 + 11 * count
    out = header
    for orders in sides:
        out += [len(orders), *(word for order in orders for word in order)]
    return struct.pack(f"<{len(out)}q", *out)


@pytest.mark.usefixtures("native")
def test_restore_refuses_a_save_that_does_not_fit() -> None:
    from tradepit._native import Exchange as NativeExchange

    _, original, _ = _halfway(3)
    state, books = _save(original)
    order = next(order for order in state["orders"] if order[STATUS] in OPEN)
    symbol = order[SYMBOL]

    missing = dict(books)
    missing[symbol] = _without_order(books[symbol], order[BOOK_ID])
    assert len(missing[symbol]) == len(books[symbol]) - 8 * 11
    with pytest.raises(ValueError, match=(
            rf"^open order {order[ORDER_ID]} is not in the {symbol} book "
            rf"\(book id {order[BOOK_ID]}\)$")):
        NativeExchange.restore(SHAPES, state, missing)

    unlisted = {**books, "ZZZ": books[symbol]}
    with pytest.raises(ValueError, match=r"^book snapshot for ZZZ, which is not listed$"):
        NativeExchange.restore(SHAPES, state, unlisted)

    lacking = {name: data for name, data in books.items() if name != symbol}
    with pytest.raises(ValueError, match=rf"^no book snapshot for listed symbol {symbol}$"):
        NativeExchange.restore(SHAPES, state, lacking)

    acknowledged = next(i for i, o in enumerate(state["orders"]) if o[-1] is not None)
    orders = list(state["orders"])
    record = orders[acknowledged]
    orders[acknowledged] = (*record[:-1], record[-1]._replace(timestamp_ns=-1))
    with pytest.raises(ValueError, match=rf"^order {record[ORDER_ID]}: its acknowledgement"):
        NativeExchange.restore(SHAPES, {**state, "orders": orders}, books)

    with pytest.raises(ValueError, match=r"^shapes: shapes lacks Fill$"):
        NativeExchange.restore({k: v for k, v in SHAPES.items() if k != "Fill"}, state, books)

    # The saves themselves were fine.
    assert NativeExchange.restore(SHAPES, state, books).state() == original.state()
