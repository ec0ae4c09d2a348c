"""Where the makers think each instrument is worth: a seeded random walk, or a CSV replay.

Floats live only inside the random process; every price that leaves this module is an
integer on the instrument's tick grid, at least one tick.
"""

from __future__ import annotations

import csv
import math
import random
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

NS_PER_HOUR = 3_600 * 10**9


class FairValue(Protocol):
    def price_at(self, time_ns: int) -> int:
        """The fair value at `time_ns` (not before the last time asked), on the tick grid."""
        ...


@dataclass(frozen=True, slots=True)
class WalkParams:
    """Geometric Brownian motion with Poisson jumps; rates are per hour of simulated time."""

    drift: float = 0.0        # expected log return per hour
    volatility: float = 0.02  # standard deviation of the log return over one hour
    jump_rate: float = 2.0    # expected jumps per hour
    jump_size: float = 0.01   # standard deviation of one jump's log return


def on_tick(value: float, tick_size: int) -> int:
    """The nearest price on the tick grid, never below one tick."""
    return max(tick_size, round(value / tick_size) * tick_size)


class RandomWalk:
    """One instrument's fair value; the same seed and the same steps give the same path."""

    def __init__(self, start_price: int, tick_size: int, params: WalkParams,
                 rng: random.Random, start_ns: int = 0) -> None:
        self.tick_size = tick_size
        self.params = params
        self._rng = rng
        self._log_price = math.log(start_price)
        self._time_ns = start_ns

    @property
    def price(self) -> int:
        return on_tick(math.exp(self._log_price), self.tick_size)

    def step(self, hours: float) -> int:
        """Advance the process by `hours` of simulated time and return the new price."""
        if hours > 0:
            p, rng = self.params, self._rng
            self._log_price += ((p.drift - p.volatility ** 2 / 2) * hours
                                + p.volatility * math.sqrt(hours) * rng.gauss(0.0, 1.0))
            for _ in range(_poisson(rng, p.jump_rate * hours)):
                self._log_price += rng.gauss(0.0, p.jump_size)
        return self.price

    def price_at(self, time_ns: int) -> int:
        if time_ns > self._time_ns:
            self.step((time_ns - self._time_ns) / NS_PER_HOUR)
            self._time_ns = time_ns
        return self.price


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    if mean <= 0:
        return 0
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def seeded_rng(seed: int, symbol: str) -> random.Random:
    """An instrument's own stream: adding an instrument leaves the others' paths alone."""
    return random.Random(f"{seed}:{symbol}")


class Replay:
    """Prices read from a feed: the last one at or before the asked time (the first one
    before that). Times are seconds after `start_ns`."""

    def __init__(self, points: list[tuple[float, int]], tick_size: int,
                 start_ns: int = 0) -> None:
        if not points:
            raise ValueError("a replay needs at least one price")
        points = sorted(points)
        self._times = [round(t * 10**9) + start_ns for t, _ in points]
        self._prices = [on_tick(price, tick_size) for _, price in points]

    def price_at(self, time_ns: int) -> int:
        return self._prices[max(0, bisect_right(self._times, time_ns) - 1)]


def read_replay_csv(path: str | Path) -> dict[str, list[tuple[float, int]]]:
    """`symbol,time,price` rows (a header row is allowed): time in seconds from the start
    of the replay, price an integer in price units."""
    points: dict[str, list[tuple[float, int]]] = defaultdict(list)
    with open(path, newline="") as file:
        for row in csv.reader(file):
            if not row or row[0].strip().lower() == "symbol":
                continue
            if len(row) != 3:
                raise ValueError(f"{path}: expected symbol,time,price; got {row!r}")
            symbol, time, price = (cell.strip() for cell in row)
            points[symbol].append((float(time), int(price)))
    return dict(points)
