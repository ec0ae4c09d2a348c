"""The makers quote two-sided around the fair value, lean with inventory, keep a bounded
book, ride out refusals, conserve money and shares, and ignore a single print."""

from __future__ import annotations

import random
from typing import Any

from tradepit.exchange.codes import OrderStatus, RejectCode, TradingStatus
from tradepit.exchange.commands import CancelAll, SetTradingStatus
from tradepit.exchange.model import OrderState

from .conftest import BUY, SECOND, SELL, Constant, Market, open_market


def filled(order: OrderState | None) -> bool:
    return order is not None and order.status == OrderStatus.FILLED


def test_two_sided_quotes_around_the_fair_value(market: Market) -> None:
    market.cycle(SECOND)
    for symbol, maker in market.makers.items():
        tick = market.exchange.instruments[symbol].tick_size
        fair, p = maker.last_fair_value, maker.params
        quotes = market.quotes(symbol)
        assert len(quotes[BUY]) == len(quotes[SELL]) == p.levels
        best_bid, best_ask = quotes[BUY][0].price, quotes[SELL][0].price
        assert best_bid < fair < best_ask
        assert best_ask - best_bid == p.spread * tick  # no inventory yet, so no skew
        assert [o.price for o in quotes[BUY]] == [
            best_bid - level * p.step * tick for level in range(p.levels)]
        assert all(o.leaves == p.size for side in quotes.values() for o in side)
        account = market.exchange.accounts[maker.account_id]
        assert account.system and account.deposits == p.cash
        assert account.share_deposits == {symbol: p.inventory}


def test_quotes_lean_against_inventory(market: Market) -> None:
    maker = market.makers["ACME"]
    maker.fair_value = Constant(10_000)
    market.cycle(SECOND)
    before = {side: market.quotes("ACME")[side][0].price for side in (BUY, SELL)}
    buyer = market.client("buyer")
    size = maker.params.size
    second_ask = market.quotes("ACME")[SELL][1].price
    assert market.submit(buyer, "ACME", BUY, second_ask, 2 * size) is not None
    market.cycle(2 * SECOND)  # the maker is short two quotes' worth: it leans up
    short = {side: market.quotes("ACME")[side][0].price for side in (BUY, SELL)}
    assert short[BUY] - before[BUY] == short[SELL] - before[SELL] == 2 * maker.params.skew
    seller = market.client("seller", shares={"ACME": 10 * size})
    for time in (3, 4):  # flat, then long two quotes' worth: it leans down
        second_bid = market.quotes("ACME")[BUY][1].price
        assert market.submit(seller, "ACME", SELL, second_bid, 2 * size) is not None
        market.cycle(time * SECOND)
    long = {side: market.quotes("ACME")[side][0].price for side in (BUY, SELL)}
    assert long[BUY] - before[BUY] == long[SELL] - before[SELL] == -2 * maker.params.skew


def test_stale_quotes_are_amended_never_piled_up(market: Market) -> None:
    rng = random.Random(5)
    for name in ("a", "b", "c"):
        market.client(name, shares={"ACME": 5_000, "LOTS": 50_000})
    orders_before = 0
    for step in range(1, 301):
        market.random_client_orders(rng, 3)
        market.cycle(step * SECOND * 30)  # thirty seconds a cycle: the fair value moves
        for symbol, maker in market.makers.items():
            quotes = market.quotes(symbol)
            assert len(quotes[BUY]) + len(quotes[SELL]) <= 2 * maker.params.levels
            if quotes[BUY] and quotes[SELL]:
                assert quotes[BUY][0].price < quotes[SELL][0].price
        if step == 1:
            orders_before = len(market.exchange.orders)
    maker_orders = sum(len(market.exchange.accounts[m.account_id].order_ids)
                       for m in market.makers.values())
    # Amends keep the same order: new maker orders come only after fills.
    assert maker_orders < 300 * 12
    assert len(market.exchange.orders) > orders_before
    assert market.exchange.audit() == []


def test_refusals_are_counted_and_the_maker_recovers(market: Market) -> None:
    market.cycle(SECOND)
    market.gateway.apply(lambda now: SetTradingStatus("ACME", TradingStatus.HALTED, now))
    maker = market.makers["ACME"]
    maker.fair_value = Constant(10_050)  # its quotes are stale, and cannot be amended
    market.cycle(2 * SECOND)
    assert maker.refusals[RejectCode.TRADING_HALTED] > 0
    assert market.quotes("ACME") == {BUY: [], SELL: []}  # cancels still work
    market.gateway.apply(lambda now: SetTradingStatus("ACME", TradingStatus.TRADING, now))
    market.cycle(3 * SECOND)
    quotes = market.quotes("ACME")
    assert quotes[BUY][0].price < 10_050 < quotes[SELL][0].price

    maker.fair_value = Constant(12_000)  # far above the band: only what fits is quoted
    market.cycle(4 * SECOND)
    low, high = market.exchange.instruments["ACME"].band()
    quotes = market.quotes("ACME")
    assert quotes[SELL] == [] and all(low <= o.price <= high for o in quotes[BUY])


async def test_a_maker_without_shares_quotes_bids_only(backend: Any) -> None:
    market = await open_market(backend.Book, makers="ACME:inventory=0,cash=100000000")
    market.cycle(SECOND)
    quotes = market.quotes("ACME")
    assert quotes[SELL] == [] and len(quotes[BUY]) == market.makers["ACME"].params.levels
    buyer = market.client("buyer")
    seller = market.client("seller", shares={"ACME": 1_000})
    assert market.submit(seller, "ACME", SELL, quotes[BUY][0].price, 10) is not None
    market.cycle(2 * SECOND)  # now it holds 10 shares: one small ask
    assert [o.leaves for o in market.quotes("ACME")[SELL]] == [10]
    assert buyer
    assert market.exchange.audit() == []


async def test_conservation_after_makers_and_clients_trade(backend: Any) -> None:
    market = await open_market(backend.Book, seed=11,
                               makers="ACME:refresh_ms=100;LOTS:levels=2,skew=2")
    rng = random.Random(11)
    for name in ("alice", "bob", "carol", "dave"):
        market.client(name, cash=50_000_000, shares={"ACME": 2_000, "LOTS": 20_000})
    for step in range(1, 401):
        market.random_client_orders(rng, 5)
        market.cycle(step * SECOND * 10)
        if step % 50 == 0:
            assert market.exchange.audit() == []
    makers = {m.account_id for m in market.makers.values()}
    traded = [f for a in makers for f in market.exchange.accounts[a].fills]
    assert len(traded) > 100  # the makers really traded
    assert market.exchange.audit() == []


def test_a_single_print_does_not_move_the_quotes(market: Market) -> None:
    maker = market.makers["ACME"]
    maker.fair_value = Constant(10_000)
    instrument = market.exchange.instruments["ACME"]
    buyer, seller = market.client("buyer"), market.client("seller", shares={"ACME": 100})
    extreme = instrument.band()[1]  # the top of the band: a print far from fair value
    assert market.submit(seller, "ACME", SELL, extreme, 1) is not None
    assert filled(market.submit(buyer, "ACME", BUY, extreme, 1))
    assert instrument.reference_price == extreme
    market.cycle(SECOND)
    quotes = market.quotes("ACME")
    assert quotes[BUY][0].price < 10_000 < quotes[SELL][0].price
    assert quotes[SELL][0].price - quotes[BUY][0].price == maker.params.spread


async def test_the_print_exploit_makes_no_money(backend: Any) -> None:
    """Buy the maker's ask, cross your own orders at an extreme price, let it requote,
    sell into its bid: self-trade prevention stops the print, and the quotes stay put."""
    market = await open_market(backend.Book)
    maker = market.makers["ACME"]
    maker.fair_value = Constant(10_000)
    market.cycle(SECOND)
    agent = market.client("agent")
    start = market.exchange.accounts[agent]
    cash_before = start.cash
    ask = market.quotes("ACME")[SELL][0].price
    assert filled(market.submit(agent, "ACME", BUY, ask, 5))
    high = market.exchange.instruments["ACME"].band()[1]
    resting = market.submit(agent, "ACME", SELL, high, 1)
    crossing = market.submit(agent, "ACME", BUY, high, 1)
    assert resting is not None and crossing is not None
    trades_at_high = [f for f in start.fills if f.price == high]
    assert trades_at_high == []  # self-trade prevention: no print
    market.cycle(2 * SECOND)
    bid = market.quotes("ACME")[BUY][0].price
    assert bid < 10_000
    assert filled(market.submit(agent, "ACME", SELL, bid, 5))
    market.gateway.apply(lambda now: CancelAll(agent, "ACME", now))
    assert market.exchange.accounts[agent].cash < cash_before
    assert market.exchange.audit() == []
