"""Background traders: noise orders stay bounded and trade, momentum follows the last
price, and nothing the system agents do creates or destroys cash or shares."""

from __future__ import annotations

from typing import Any

from tradepit.exchange.commands import RemoveInstrument
from tradepit.simulation.runner import SimulationRunner
from tradepit.simulation.traders import MomentumTrader, NoiseTrader

from .conftest import BUY, SECOND, SELL, Market, open_market

MS = SECOND // 1_000


def noise_traders(market: Market) -> list[NoiseTrader]:
    return [t for t in market.traders if isinstance(t, NoiseTrader)]


def momentum_trader(market: Market, symbol: str) -> MomentumTrader:
    [trader] = [t for t in market.traders
                if isinstance(t, MomentumTrader) and t.symbol == symbol]
    return trader


def totals(market: Market) -> tuple[int, dict[str, int]]:
    """Cash everywhere (free, reserved, fees taken) and shares held, per symbol."""
    exchange = market.exchange
    cash = exchange.fees_collected + sum(a.cash + a.reserved_cash
                                         for a in exchange.accounts.values())
    shares = {symbol: sum(a.position(symbol).quantity for a in exchange.accounts.values())
              for symbol in exchange.instruments}
    return cash, shares


async def test_noise_traders_trade_and_rest_a_bounded_number(backend: Any) -> None:
    market = await open_market(backend.Book, seed=4, noise_traders_enabled=True,
                               noise_interval_ms=100, noise_marketable_pct=40,
                               makers="ACME:refresh_ms=100;LOTS:refresh_ms=100")
    traders = noise_traders(market)
    assert sorted(t.symbol for t in traders) == ["ACME", "LOTS"]
    most_resting = dict.fromkeys(traders, 0)
    for step in range(1, 1_001):
        market.run_due(step * 50 * MS)
        for trader in traders:
            account = market.exchange.accounts[trader.account_id]
            resting = [i for i in account.order_ids if market.exchange.orders[i].is_open]
            assert len(resting) <= trader.params.max_open
            most_resting[trader] = max(most_resting[trader], len(resting))
    for trader in traders:
        assert most_resting[trader] == trader.params.max_open  # passive orders rest
        assert len(market.exchange.accounts[trader.account_id].fills) > 20
    assert market.exchange.audit() == []


async def test_momentum_buys_a_rise_and_sells_a_fall(backend: Any) -> None:
    market = await open_market(backend.Book, momentum_traders_enabled=True,
                               momentum_lookback=3, momentum_threshold_bps=20,
                               momentum_lots=2)
    trader = momentum_trader(market, "ACME")
    buyer, seller = market.client("buyer"), market.client("seller", shares={"ACME": 100})
    liquidity = market.client("liquidity", shares={"ACME": 100})
    assert market.submit(liquidity, "ACME", BUY, 9_900, 50) is not None  # the makers
    assert market.submit(liquidity, "ACME", SELL, 10_100, 50) is not None  # stay out
    position = market.exchange.accounts[trader.account_id].position("ACME")

    def print_at(price: int, time_ns: int) -> None:
        """One client trade at `price` (the last price), then the trader looks."""
        assert market.submit(seller, "ACME", SELL, price, 1) is not None
        assert market.submit(buyer, "ACME", BUY, price, 1) is not None
        assert market.exchange.instruments["ACME"].reference_price == price
        trader.cycle(time_ns)

    start = position.quantity
    step = trader.interval_ns
    for i, price in enumerate((10_000, 10_010, 10_020)):  # +20 bps: not yet 3 samples back
        print_at(price, (i + 1) * step)
    assert position.quantity == start
    print_at(10_030, 4 * step)  # 10_000 -> 10_030 over three samples: +30 bps
    assert position.quantity == start + 2
    bought = position.quantity
    for i, price in enumerate((10_030, 10_030, 10_030, 10_000)):  # -30 bps in the end
        print_at(price, (5 + i) * step)
    assert position.quantity == bought - 2
    assert market.exchange.audit() == []


async def test_conservation_after_every_system_agent_trades(backend: Any) -> None:
    market = await open_market(backend.Book, seed=21, noise_traders_enabled=True,
                               momentum_traders_enabled=True, noise_interval_ms=50,
                               momentum_interval_ms=100, momentum_threshold_bps=5,
                               makers="ACME:refresh_ms=100;LOTS:refresh_ms=100")
    before = totals(market)
    for step in range(1, 2_001):
        market.run_due(step * 25 * MS)
        if step % 500 == 0:
            assert market.exchange.audit() == []
            assert totals(market) == before
    agents = [*market.makers.values(), *market.traders]
    traded = {kind: sum(len(market.exchange.accounts[a.account_id].fills)
                          for a in agents if a.kind == kind)
              for kind in ("maker", "noise", "momentum")}
    assert traded["maker"] > 100 and traded["noise"] > 100 and traded["momentum"] > 0
    assert all(market.exchange.accounts[a.account_id].system for a in agents)
    assert totals(market) == before


async def test_the_agents_of_a_removed_symbol_stop(backend: Any) -> None:
    market = await open_market(backend.Book, noise_traders_enabled=True,
                               momentum_traders_enabled=True)
    runner = SimulationRunner(market.gateway, list(market.makers.values()), market.traders,
                              seed=0)
    runner.cycle_due(SECOND)
    market.gateway.apply(lambda now: RemoveInstrument("LOTS", now))
    runner.cycle_due(10 * SECOND)
    assert {agent.symbol for agent in runner.agents} == {"ACME"}
    assert [m.symbol for m in runner.makers] == ["ACME"]
    assert {t.kind for t in runner.traders} == {"noise", "momentum"}
    lots = [a for a in (*market.makers.values(), *market.traders) if a.symbol == "LOTS"]
    assert all(not o.is_open for a in lots
               for o in map(market.exchange.orders.get,
                            market.exchange.accounts[a.account_id].order_ids))
    assert market.exchange.audit() == []
