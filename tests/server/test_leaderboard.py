"""GetLeaderboard against a hand computation on a small scripted market.

Three agents trade ACME four times; between trades the test takes the equity samples
itself, at scripted times, through the server's own sampler. Every expected figure is
worked out below from the hand-listed equities, with exact fractions, never by calling
the production code.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest
from tradepit.config import Settings
from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount
from tradepit.server.app import Running
from tradepit_client.v1 import admin_pb2, common_pb2

from .conftest import settings

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT = common_pb2.ORDER_TYPE_LIMIT


@pytest.fixture
def server_settings() -> Settings:
    # No fees, so the hand computation is only prices; no timer, so the only samples
    # are the test's own.
    return settings(maker_fee_bps=0, taker_fee_bps=0, leaderboard_sample_ms=0)


def sample(server: Running, time_ns: int) -> None:
    assert server.leaderboard is not None
    assert server.leaderboard.sample(time_ns)


def by_hand(equities: list[int], deposits: list[int]) -> dict[str, Any]:
    """Sharpe, Sortino and drawdown from hand-listed samples, exactly, per account.proto."""
    pnl = [e - d for e, d in zip(equities, deposits, strict=True)]
    returns = [Fraction(pnl[i] - pnl[i - 1], equities[i - 1]) for i in range(1, len(pnl))]
    n = len(returns)
    mean = sum(returns, Fraction(0)) / n
    variance = sum(((r - mean) ** 2 for r in returns), Fraction(0)) / (n - 1)  # sample, n - 1
    downside = sum((min(r, Fraction(0)) ** 2 for r in returns), Fraction(0)) / n
    drawdown = max(max(pnl[:j + 1]) - pnl[j] for j in range(len(pnl)))
    return {"returns": returns, "sharpe": float(mean) / math.sqrt(variance),
            "sortino": float(mean) / math.sqrt(downside), "max_drawdown": drawdown}


async def trade(seller: Any, buyer: Any, quantity: int, price: int) -> None:
    """The seller rests, the buyer takes all of it: one print at `price`."""
    resting = await seller.submit("ACME", SELL, quantity, price, type=LIMIT)
    taken = await buyer.submit("ACME", BUY, quantity, price, type=LIMIT)
    assert taken.order.status == common_pb2.ORDER_STATUS_FILLED
    assert resting.order.order_id != taken.order.order_id


async def test_figures_match_a_hand_computation(agents, server):
    alice = await agents.new("alice")                         # 1,000,000 cash
    bob = await agents.new("bob", shares={"ACME": 100})       # and 100 ACME at 10,000
    carol = await agents.new("carol")

    # t1: nothing has traded. bob's 100 shares are marked at the listing price.
    #   alice 1,000,000   bob 1,000,000 + 100 * 10,000 = 2,000,000   carol 1,000,000
    sample(server, 1_000)

    # bob sells alice 50 at 10,200.
    #   alice 1,000,000 - 510,000 = 490,000 cash + 50 * 10,200 = 1,000,000
    #   bob   1,000,000 + 510,000 = 1,510,000 cash + 50 * 10,200 = 2,020,000
    await trade(bob, alice, 50, 10_200)
    sample(server, 2_000)

    # bob sells carol 10 at 10,600: the mark moves for everybody.
    #   alice 490,000 + 50 * 10,600 = 1,020,000
    #   bob   1,616,000 + 40 * 10,600 = 2,040,000
    #   carol 894,000 + 10 * 10,600 = 1,000,000
    await trade(bob, carol, 10, 10_600)
    sample(server, 3_000)

    # alice sells carol 20 at 9,800.
    #   alice 686,000 + 30 * 9,800 = 980,000
    #   bob   1,616,000 + 40 * 9,800 = 2,008,000
    #   carol 698,000 + 30 * 9,800 = 992,000
    await trade(alice, carol, 20, 9_800)
    sample(server, 4_000)

    # bob sells carol 10 at 10,100; then carol is paid 100,000 more (not a return), alice
    # rests a buy (its escrow is still hers) and bob rests a sell (reserved shares count).
    #   alice 686,000 + 30 * 10,100 = 989,000 (595,000 free + 91,000 reserved + 303,000)
    #   bob   1,717,000 + 30 * 10,100 = 2,020,000 (5 of the 30 shares reserved)
    #   carol 597,000 + 100,000 + 40 * 10,100 = 1,101,000
    await trade(bob, carol, 10, 10_100)
    carol_id = (await carol.portfolio()).account.account_id
    await agents.admin.admin.AdjustBalance(
        admin_pb2.AdjustBalanceRequest(account_id=carol_id, amount=100_000,
                                       kind=admin_pb2.BALANCE_CHANGE_DEPOSIT),
        metadata=agents.admin.metadata)
    await alice.submit("ACME", BUY, 10, 9_100, type=LIMIT)
    await bob.submit("ACME", SELL, 5, 11_000, type=LIMIT)
    sample(server, 5_000)

    expected = {
        "bob": by_hand([2_000_000, 2_020_000, 2_040_000, 2_008_000, 2_020_000],
                       [2_000_000] * 5),
        "carol": by_hand([1_000_000, 1_000_000, 1_000_000, 992_000, 1_101_000],
                         [1_000_000] * 4 + [1_100_000]),
        "alice": by_hand([1_000_000, 1_000_000, 1_020_000, 980_000, 989_000],
                         [1_000_000] * 5),
    }
    # The returns written out, to show what the definitions give:
    assert expected["alice"]["returns"] == [0, Fraction(1, 50), Fraction(-2, 51),
                                            Fraction(9, 980)]
    assert expected["bob"]["returns"] == [Fraction(1, 100), Fraction(1, 101),
                                          Fraction(-4, 255), Fraction(3, 502)]
    # carol's 100,000 deposit is not a return: P goes from -8,000 to +1,000 on 992,000
    assert expected["carol"]["returns"] == [0, 0, Fraction(-1, 125), Fraction(9, 992)]
    assert [expected[n]["max_drawdown"] for n in ("alice", "bob", "carol")] == [
        40_000, 32_000, 8_000]

    board = await alice.leaderboard()
    assert [e.account.name for e in board.entries] == ["bob", "carol", "alice"]
    assert [e.rank for e in board.entries] == [1, 2, 3]
    assert [e.equity for e in board.entries] == [2_020_000, 1_101_000, 989_000]
    assert [e.net_deposits for e in board.entries] == [2_000_000, 1_100_000, 1_000_000]
    assert [e.pnl for e in board.entries] == [20_000, 1_000, -11_000]
    assert [e.total_return for e in board.entries] == pytest.approx(
        [float(Fraction(20_000, 2_000_000)), float(Fraction(1_000, 1_100_000)),
         float(Fraction(-11_000, 1_000_000))], rel=1e-12)
    for entry in board.entries:
        want = expected[entry.account.name]
        assert entry.samples == 5
        assert entry.max_drawdown == want["max_drawdown"]
        assert entry.sharpe == pytest.approx(want["sharpe"], rel=1e-9)
        assert entry.sortino == pytest.approx(want["sortino"], rel=1e-9)
    # equity is the portfolio's, reserved cash and reserved shares included
    for client in (alice, bob, carol):
        view = await client.portfolio()
        [entry] = [e for e in board.entries if e.account.account_id == view.account.account_id]
        assert entry.equity == view.equity


async def test_figures_are_unset_until_there_are_samples_enough(agents, server):
    alice = await agents.new("alice")
    [entry] = (await alice.leaderboard()).entries
    assert (entry.equity, entry.pnl, entry.samples, entry.max_drawdown) == (1_000_000, 0, 0, 0)
    assert entry.HasField("total_return") and entry.total_return == 0
    assert not entry.HasField("sharpe") and not entry.HasField("sortino")
    for time_ns in (10, 20, 30):  # flat equity: every return is 0, no spread, no downside
        sample(server, time_ns)
    assert server.leaderboard is not None
    assert not server.leaderboard.sample(30)  # a time that has not moved samples nothing
    [entry] = (await alice.leaderboard()).entries
    assert entry.samples == 3
    assert not entry.HasField("sharpe") and not entry.HasField("sortino")


async def test_system_accounts_are_left_out_unless_asked_for(agents, server):
    gateway = server.gateway
    maker = gateway.apply(lambda now: CreateAccount("maker-ACME", "system:test", now,
                                                    system=True))
    gateway.apply(lambda now: AdjustBalance(maker.account_id, 5_000_000,
                                            BalanceChange.DEPOSIT, now))
    alice = await agents.new("alice")
    bob = await agents.new("bob")

    default = await alice.leaderboard()
    assert [e.account.name for e in default.entries] == ["alice", "bob"]  # tie: oldest first
    assert all(not e.account.system for e in default.entries)

    everyone = await alice.leaderboard(include_system=True)
    assert [(e.rank, e.account.name, e.account.system) for e in everyone.entries] == [
        (1, "maker-ACME", True), (2, "alice", False), (3, "bob", False)]

    first = await bob.leaderboard(include_system=True, page_size=2)
    assert [e.rank for e in first.entries] == [1, 2] and first.next_page_token
    rest = await bob.leaderboard(include_system=True, page_size=2,
                                 page_token=first.next_page_token)
    assert [(e.rank, e.account.name) for e in rest.entries] == [(3, "bob")]
    assert rest.next_page_token == ""
