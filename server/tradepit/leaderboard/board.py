"""One leaderboard entry's figures, from an account's standing and equity samples.

The ranking itself (every account's equity now, highest first) is one query of the
history (tradepit/server/history.py): a single SQL statement over the store, or a sort
of the accounts in memory. The sample-based figures are computed only for the entries a
page returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tradepit.exchange.model import Account
from tradepit.leaderboard.metrics import Risk, risk
from tradepit.leaderboard.sampler import Sample


class Standing(Protocol):
    @property
    def account(self) -> Account: ...

    @property
    def equity(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Entry:
    rank: int
    account: Account
    equity: int
    net_deposits: int
    pnl: int
    total_return: float | None  # pnl / net_deposits; None when nothing was paid in
    risk: Risk


def entry(rank: int, standing: Standing, samples: Sequence[Sample]) -> Entry:
    account = standing.account
    baseline = account.deposited_value
    pnl = standing.equity - baseline
    return Entry(rank, account, standing.equity, baseline, pnl,
                 pnl / baseline if baseline > 0 else None, risk(samples))
