"""Return and risk figures from an account's equity samples (definitions in account.proto).

With P = equity - net deposits, a return is the change of P between consecutive samples
over the earlier equity, so money paid in or out is never a gain or a loss. The ratios
are floats: they are reports, and nothing is paid from them. Drawdown stays in cash.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from tradepit.leaderboard.sampler import Sample


@dataclass(frozen=True, slots=True)
class Risk:
    sharpe: float | None    # None: undefined (fewer than 2 returns, or no spread)
    sortino: float | None   # None: undefined (fewer than 2 returns, or none negative)
    max_drawdown: int       # cash units
    samples: int


def returns(samples: Sequence[Sample]) -> list[float]:
    """Per-interval returns; a pair whose earlier equity is not positive gives none."""
    return [(after.pnl - before.pnl) / before.equity
            for before, after in pairwise(samples) if before.equity > 0]


def sharpe(values: Sequence[float]) -> float | None:
    """mean / sample standard deviation (n - 1); not annualised, no risk-free rate."""
    n = len(values)
    if n < 2 or max(values) == min(values):
        return None
    mean = math.fsum(values) / n
    deviation = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return mean / deviation


def sortino(values: Sequence[float]) -> float | None:
    """mean / downside deviation, sqrt(sum(min(r, 0)^2) / n), the target return 0."""
    n = len(values)
    if n < 2:
        return None
    downside = math.fsum(v * v for v in values if v < 0)
    if downside == 0:
        return None
    return math.fsum(values) / n / math.sqrt(downside / n)


def max_drawdown(samples: Sequence[Sample]) -> int:
    """The largest fall of P below its highest earlier value, in cash units."""
    worst = 0
    peak: int | None = None
    for sample in samples:
        pnl = sample.pnl
        if peak is None or pnl > peak:
            peak = pnl
        worst = max(worst, peak - pnl)
    return worst


def risk(samples: Sequence[Sample]) -> Risk:
    values = returns(samples)
    return Risk(sharpe(values), sortino(values), max_drawdown(samples), len(samples))
