"""The fair value: reproducible from its seed, on the tick grid, positive; the CSV replay;
the per-instrument overrides."""

from __future__ import annotations

from itertools import pairwise

import pytest
from tradepit.config import InstrumentSpec
from tradepit.simulation.fair_value import (
    NS_PER_HOUR,
    RandomWalk,
    Replay,
    WalkParams,
    read_replay_csv,
    seeded_rng,
)
from tradepit.simulation.params import maker_params, parse_overrides

WILD = WalkParams(drift=0.0, volatility=0.5, jump_rate=20.0, jump_size=0.2)


def path(seed: int, symbol: str = "ACME", steps: int = 2_000, tick: int = 5,
         params: WalkParams = WILD) -> list[int]:
    walk = RandomWalk(2_000, tick, params, seeded_rng(seed, symbol))
    return [walk.price_at(i * NS_PER_HOUR // 60) for i in range(steps)]


def test_same_seed_same_path_other_seed_other_path() -> None:
    assert path(42) == path(42)
    assert path(42) != path(43)
    assert path(42, "ACME") != path(42, "GLOBEX")  # each instrument has its own stream


def test_prices_stay_on_the_tick_grid_and_positive() -> None:
    prices = path(7, steps=5_000)
    assert all(p % 5 == 0 and p >= 5 for p in prices)
    assert len(set(prices)) > 50  # it moves


def test_jumps_move_the_price_without_volatility() -> None:
    jumps_only = WalkParams(volatility=0.0, jump_rate=60.0, jump_size=0.05)
    prices = path(3, tick=1, steps=600, params=jumps_only)
    moves = sum(a != b for a, b in pairwise(prices))
    assert 100 < moves < 600  # about one a minute, and not every step
    calm = path(3, tick=1, steps=600, params=WalkParams(volatility=0.0, jump_rate=0.0))
    assert set(calm) == {2_000}


def test_time_that_does_not_advance_changes_nothing() -> None:
    walk = RandomWalk(10_000, 1, WILD, seeded_rng(1, "ACME"))
    first = walk.price_at(NS_PER_HOUR)
    assert walk.price_at(NS_PER_HOUR) == first
    assert walk.price_at(NS_PER_HOUR - 1) == first


def test_replay_reads_a_csv_and_steps_through_it(tmp_path) -> None:
    feed = tmp_path / "prices.csv"
    feed.write_text("symbol,time,price\nACME,0,10000\nACME,1.5,10012\nLOTS,0,2003\n"
                    "ACME,3,9990\n")
    points = read_replay_csv(feed)
    assert sorted(points) == ["ACME", "LOTS"]
    replay = Replay(points["ACME"], 1, start_ns=100)
    assert [replay.price_at(100 + int(t * 1e9)) for t in (-1, 0, 1, 1.5, 2, 3, 60)] == [
        10_000, 10_000, 10_000, 10_012, 10_012, 9_990, 9_990]
    assert Replay(points["LOTS"], 5).price_at(0) == 2_005  # rounded onto the tick grid


def test_overrides_parse_per_instrument() -> None:
    spec = InstrumentSpec("ACME", 1, 1, 10_000)
    overrides = parse_overrides("ACME:spread=4,size=10,levels=3,refresh_ms=500,volatility=0.1;"
                                "LOTS:levels=1")
    params = maker_params(spec, overrides["ACME"])
    assert (params.spread, params.step, params.size, params.levels, params.refresh_ms) == (
        4, 2, 10, 3, 500)
    assert params.walk.volatility == 0.1
    assert overrides["LOTS"] == {"levels": "1"}
    with pytest.raises(ValueError, match="key=value"):
        parse_overrides("ACME:wings=3")
    with pytest.raises(ValueError, match="lot"):
        maker_params(InstrumentSpec("LOTS", 5, 10, 2_000), {"size": "15"})
