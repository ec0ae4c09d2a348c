"""Crash recovery of the native exchange: `Exchange.restore` rebuilds it from the bytes
its `snapshot()` gave, and the rebuilt exchange is the original: the same state, then
the same results, reports, market events and state as the Python exchange for the rest
of a seeded stream. Bytes that are not a whole snapshot of this engine are refused."""

from __future__ import annotations

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
STATUS = 19  # of a `state()` order record


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
    assert any(order[STATUS] in OPEN for order in original.state()["orders"]), "orders rest"
    restored = NativeExchange.restore(SHAPES, original.snapshot())
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


@pytest.mark.usefixtures("native")
def test_restore_refuses_bytes_that_are_not_a_whole_snapshot() -> None:
    from tradepit._native import Exchange as NativeExchange

    _, original, _ = _halfway(3)
    snapshot = original.snapshot()
    (version,) = struct.unpack_from("<I", snapshot)
    with pytest.raises(ValueError, match=r"^the exchange parts do not decode: "):
        NativeExchange.restore(SHAPES, snapshot[:-1])
    with pytest.raises(ValueError, match=r"^2 bytes follow the exchange parts$"):
        NativeExchange.restore(SHAPES, snapshot + b"xy")
    other = struct.pack("<I", version + 1) + snapshot[4:]
    with pytest.raises(ValueError, match=(
            rf"^exchange parts of version {version + 1}; this engine reads version "
            rf"{version}$")):
        NativeExchange.restore(SHAPES, other)
    with pytest.raises(ValueError, match=r"^shapes lacks Fill$"):
        NativeExchange.restore({k: v for k, v in SHAPES.items() if k != "Fill"}, snapshot)

    # The snapshot itself was fine.
    assert NativeExchange.restore(SHAPES, snapshot).state() == original.state()
