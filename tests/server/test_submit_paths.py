"""The exchange's quick path for plain limit orders decides exactly as its full checks.

`Exchange._submit` accepts the common order with one combined test and hands everything
else to `_submit_checked`, whose checks word the refusals. Whatever an order carries,
both must refuse it with the same code and message, or accept it with the same state,
reports and market events.
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st
from tradepit.exchange.codes import BalanceChange, TradingStatus
from tradepit.exchange.commands import (
    AdjustBalance,
    CreateAccount,
    CreateInstrument,
    SetLimits,
    SetTradingStatus,
    SubmitOrder,
)
from tradepit.exchange.digest import state_digest
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange

SETUP = (
    CreateInstrument("ACME", 5, 10, 10_000, 1_000, 0),
    CreateInstrument("HALT", 1, 1, 500, 2_000, 0),
    SetTradingStatus("HALT", int(TradingStatus.HALTED), 0),
    SetLimits(5, 10, 5_000, 10**9, 0),
    CreateAccount("trader", "key-1", 0),
    CreateAccount("other", "key-2", 0),
    AdjustBalance(1, 3_000_000, int(BalanceChange.DEPOSIT), 0),
    AdjustBalance(1, 200, int(BalanceChange.DEPOSIT), 0, "ACME"),
    AdjustBalance(2, 10**8, int(BalanceChange.DEPOSIT), 0),
    AdjustBalance(2, 1_000, int(BalanceChange.DEPOSIT), 0, "ACME"),
    # A resting order on each side, and one whose client_order_id a resubmission reuses.
    SubmitOrder(2, "ask", "ACME", 2, 1, 1, 10_100, 100, False, 1, 1),
    SubmitOrder(2, "bid", "ACME", 1, 1, 1, 9_900, 100, False, 1, 1),
    SubmitOrder(1, "mine", "ACME", 1, 1, 1, 9_500, 10, False, 1, 1),
)

# Orders that pass every check, mostly, with one field now and then set to a value that
# one check (or none) refuses: the quick path must see exactly what the checks see.
plain = st.builds(
    SubmitOrder,
    account_id=st.sampled_from([1, 2]),
    client_order_id=st.sampled_from(["", "new"]),
    symbol=st.just("ACME"),
    side=st.sampled_from([1, 2]),
    order_type=st.sampled_from([0, 1]),
    tif=st.sampled_from([0, 1, 2, 3, 4]),
    price=st.integers(1_800, 2_200).map(lambda ticks: ticks * 5),
    quantity=st.integers(1, 40).map(lambda lots: lots * 10),
    post_only=st.booleans(),
    stp=st.sampled_from([0, 1, 2, 3]),
    timestamp=st.just(2),
)
EDGES: dict[str, list[Any]] = {
    "account_id": [9],
    "client_order_id": ["mine", "x" * 64, "x" * 65],
    "symbol": ["HALT", "NOPE"],
    "side": [0, 3],
    "order_type": [2, 7],
    "tif": [9],
    "price": [0, -5, 8_995, 9_000, 9_003, 11_000, 11_005],
    "quantity": [0, -10, 5, 5_000, 5_010, 10**17],
    "stp": [4],
}


def _with_an_edge(order: SubmitOrder) -> st.SearchStrategy[SubmitOrder]:
    return st.sampled_from(sorted(EDGES)).flatmap(
        lambda name: st.sampled_from(EDGES[name]).map(
            lambda value: order._replace(**{name: value})))


orders = st.one_of(plain, plain.flatmap(_with_an_edge))


def _exchange() -> Exchange:
    exchange = Exchange()
    for command in SETUP:
        exchange.execute(command)
    exchange.take_reports()
    exchange.take_market_events()
    return exchange


def _outcome(exchange: Exchange, submit: Any) -> tuple[Any, ...]:
    try:
        submit()
    except Reject as reject:
        return ("refused", reject.code, reject.message, state_digest(exchange))
    positions = {a.account_id: sorted(a.positions) for a in exchange.accounts.values()}
    events = [(type(e).__name__, e.symbol, getattr(e, "trades", None))
              for e in exchange.market_outbox]
    return ("accepted", state_digest(exchange), positions, exchange.take_reports(), events)


@settings(max_examples=400, deadline=None)
@given(order=orders)
def test_quick_path_decides_as_the_full_checks(order: SubmitOrder) -> None:
    quick, checked = _exchange(), _exchange()
    outcome = _outcome(quick, lambda: quick.execute(order))
    event(outcome[0])
    assert outcome == _outcome(checked, lambda: checked._submit_checked(order))
