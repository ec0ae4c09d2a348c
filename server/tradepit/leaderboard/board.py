"""The ranking: every account's equity now, highest first, and one entry's figures.

Equity is cheap (a few positions per account), so every account is ranked on each call;
the sample-based figures are computed only for the entries a page returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tradepit.exchange.exchange import Exchange
from tradepit.exchange.model import Account
from tradepit.exchange.portfolio import equity
from tradepit.leaderboard.metrics import Risk, risk
from tradepit.leaderboard.sampler import Sample


@dataclass(frozen=True, slots=True)
class Standing:
    account: Account
    equity: int


@dataclass(frozen=True, slots=True)
class Entry:
    rank: int
    account: Account
    equity: int
    net_deposits: int
    pnl: int
    total_return: float | None  # pnl / net_deposits; None when nothing was paid in
    risk: Risk


def standings(exchange: Exchange, include_system: bool) -> list[Standing]:
    """Accounts by equity, highest first; equal equity by account id (oldest first)."""
    ranked = [Standing(account, equity(exchange, account))
              for account in exchange.accounts.values() if include_system or not account.system]
    ranked.sort(key=lambda s: (-s.equity, s.account.account_id))
    return ranked


def entry(rank: int, standing: Standing, samples: Sequence[Sample]) -> Entry:
    account = standing.account
    baseline = account.deposited_value
    pnl = standing.equity - baseline
    return Entry(rank, account, standing.equity, baseline, pnl,
                 pnl / baseline if baseline > 0 else None, risk(samples))
