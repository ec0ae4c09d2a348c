"""The native exchange against the Python one, the reference: fed the same seeded command
streams, they agree on every result, refusal (code and message), report, market event and
on the whole state."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from tradepit.book import load_backend
from tradepit.exchange import model
from tradepit.exchange.codes import ExecType, RejectCode
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange, OrderResult

from .state import python_state
from .streams import random_commands

COMMANDS = 30_000
SHAPES = {"ExecutionReport": model.ExecutionReport, "TradePrint": model.TradePrint,
          "BookChange": model.BookChange, "StatusChange": model.StatusChange,
          "Reject": Reject, "RejectCode": RejectCode, "Fill": model.Fill}


@pytest.fixture(scope="module")
def native() -> Any:
    try:
        return load_backend("rust")
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)


def _python_result(result: Any) -> Any:
    """The Python exchange's result in the native exchange's shape."""
    if isinstance(result, OrderResult):
        return result.order.order_id, result.reports
    if isinstance(result, model.Account):
        return result.account_id
    if isinstance(result, model.Instrument):
        return result.symbol
    if isinstance(result, tuple) and isinstance(result[0], model.Instrument):
        return result[0].symbol, result[1]
    if isinstance(result, list) and result and isinstance(result[0], model.Instrument):
        return [i.symbol for i in result]
    if hasattr(result, "max_order_notional"):
        return (result.maker_fee_bps, result.taker_fee_bps, result.max_order_quantity,
                result.max_order_notional)
    return result


def _run(exchange: Any, command: Any, shape: Any) -> Any:
    try:
        return "ok", shape(exchange.execute(command))
    except Reject as reject:
        return "reject", int(reject.code), reject.message
    except Exception as error:  # any other error must be the same error too
        return "error", type(error).__name__, str(error)


def _events(events: list[Any]) -> list[Any]:
    """Market events with the book's events as plain tuples (either book backend)."""
    plain = []
    for event in events:
        if isinstance(event, model.BookChange):
            event = event._replace(events=[tuple(e.astuple()) for e in event.events])
        plain.append(tuple(event))
    return plain


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_commands_same_everything(native: Any, seed: int) -> None:
    from tradepit._native import Exchange as NativeExchange

    python, rust = Exchange(), NativeExchange(SHAPES)
    outcomes: Counter[str] = Counter()
    exec_types: Counter[int] = Counter()
    for index, command in enumerate(random_commands(
            seed, COMMANDS, lambda: python._next_order_id)):
        expected = _run(python, command, _python_result)
        got = _run(rust, command, lambda result: result)
        assert got == expected, f"command {index}: {command}"
        reports = python.take_reports()
        assert rust.take_reports() == reports, f"reports of command {index}: {command}"
        assert _events(rust.take_market_events()) == _events(python.take_market_events()), (
            f"market events of command {index}: {command}")
        outcomes[expected[0] if expected[0] != "reject" else f"reject {expected[1]}"] += 1
        exec_types.update(int(r.exec_type) for r in reports)
        if index % 3_000 == 0:
            assert rust.state() == python_state(python), f"state after command {index}"
    assert rust.state() == python_state(python)
    assert python.audit() == [] and rust.audit() == []
    # The stream reached every path it is meant to.
    assert outcomes["ok"] > COMMANDS // 4
    assert {f"reject {int(code)}" for code in RejectCode if code not in (
        RejectCode.RATE_LIMITED, RejectCode.PERMISSION_DENIED, RejectCode.UNAVAILABLE,
        RejectCode.POST_ONLY_WOULD_CROSS)} <= set(outcomes), outcomes
    assert set(exec_types) == {int(t) for t in ExecType}, exec_types


def test_orders_beyond_the_books_limits_are_refused_alike_and_change_nothing(
        native: Any) -> None:
    """The book takes prices and quantities up to 10^12. An instrument listed near that
    price, or order limits set above it, must not let an order reach the book with more:
    both exchanges refuse it as bad input, before any escrow is taken."""
    from tradepit._native import Exchange as NativeExchange
    from tradepit.book import MAX_PRICE, MAX_QUANTITY
    from tradepit.exchange.commands import (
        AdjustBalance,
        AmendOrder,
        CreateAccount,
        CreateInstrument,
        OrderRef,
        SetLimits,
        SubmitOrder,
    )

    python, rust = Exchange(), NativeExchange(SHAPES)
    reference = 900_000_000_000  # a band of 100% reaches 1.8 * 10^12
    setup = [CreateInstrument("BIG", 1, 1, reference, 10_000, 1), CreateAccount("a", "k", 1),
             AdjustBalance(1, 10**30, 1, 1),
             SetLimits(0, 0, 10**13, 10**30, 1),
             SubmitOrder(1, "rests", "BIG", 1, 1, 1, reference, 1, False, 1, 2)]
    for command in setup:
        assert _run(rust, command, lambda r: r) == _run(python, command, _python_result)
    python.take_reports(), rust.take_reports()
    python.take_market_events(), rust.take_market_events()
    before = python_state(python)
    assert rust.state() == before

    refused = [
        (SubmitOrder(1, "", "BIG", 1, 1, 1, MAX_PRICE + 1, 1, False, 1, 3),
         RejectCode.INVALID_ARGUMENT, f"price {MAX_PRICE + 1} is above the largest price"),
        (SubmitOrder(1, "", "BIG", 1, 2, 2, 0, 1, False, 1, 3),
         RejectCode.INVALID_ARGUMENT, "a market buy in BIG would be held at its band's top"),
        (SubmitOrder(1, "", "BIG", 1, 1, 1, reference, MAX_QUANTITY + 1, False, 1, 3),
         RejectCode.QUANTITY_TOO_LARGE, f"quantity {MAX_QUANTITY + 1} is above the largest"),
        (AmendOrder(1, OrderRef(client_order_id="rests"), MAX_PRICE + 1, 1, 3),
         RejectCode.INVALID_ARGUMENT, f"price {MAX_PRICE + 1} is above the largest price"),
    ]
    for command, code, text in refused:
        expected = _run(python, command, _python_result)
        assert expected[:2] == ("reject", code) and text in expected[2], expected
        assert _run(rust, command, lambda r: r) == expected
        assert python.take_reports() == [] and rust.take_reports() == []
        assert python_state(python) == before and rust.state() == before
    assert python.audit() == [] and rust.audit() == []
