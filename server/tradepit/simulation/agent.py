"""What every simulated trader shares: a funded system account and a cycle on a timer.

A system agent is an ordinary account marked system. It is funded by deposits (cash and
shares of its symbol) when first opened, and it trades through `Gateway.apply` with the
same commands, checks and escrow as any client. A refused command (no shares, no cash,
outside the band, halted, journal full) is counted and skipped; the next cycle tries
again. After a restart the journal already holds the account, funded, and its old
orders are cancelled.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from tradepit.exchange.codes import BalanceChange, RejectCode
from tradepit.exchange.commands import AdjustBalance, CancelAll, Command, CreateAccount
from tradepit.exchange.errors import Reject
from tradepit.server.gateway import Gateway

log = logging.getLogger(__name__)


def system_key(kind: str, symbol: str) -> str:
    """The account's key hash: not a SHA-256 digest, so no API key logs in as it."""
    return f"system:{kind}:{symbol}"


def open_system_account(gateway: Gateway, kind: str, symbol: str, cash: int,
                        shares: int) -> int:
    """The agent's account: created and funded the first time; reused (its orders in
    `symbol` cancelled) when the journal already holds it."""
    existing = gateway.exchange.account_for_key(system_key(kind, symbol))
    if existing is not None:
        gateway.apply(lambda now: CancelAll(existing.account_id, symbol, now))
        return existing.account_id
    account = gateway.apply(lambda now: CreateAccount(
        f"{kind}-{symbol}", system_key(kind, symbol), now, system=True))
    account_id: int = account.account_id
    if cash > 0:
        gateway.apply(lambda now: AdjustBalance(account_id, cash, BalanceChange.DEPOSIT, now))
    if shares > 0:
        gateway.apply(lambda now: AdjustBalance(account_id, shares, BalanceChange.DEPOSIT,
                                                now, symbol))
    return account_id


class SystemAgent:
    """One simulated account trading one symbol, cycled every `interval_ns`."""

    kind = "agent"

    def __init__(self, gateway: Gateway, symbol: str, account_id: int,
                 interval_ms: int) -> None:
        if interval_ms <= 0:
            raise ValueError(f"{self.kind} {symbol}: the interval must be positive")
        self.gateway = gateway
        self.symbol = symbol
        self.account_id = account_id
        self.interval_ns = interval_ms * 1_000_000
        self.due_ns = 0  # when the next cycle is due
        self.refusals: Counter[RejectCode] = Counter()

    @property
    def name(self) -> str:
        return f"{self.kind} {self.symbol}"

    def cycle(self, now_ns: int) -> None:
        """Act once, as of `now_ns`; the next cycle is due an interval later."""
        self.due_ns = now_ns + self.interval_ns
        self.act(now_ns)

    def act(self, now_ns: int) -> None:
        raise NotImplementedError

    def try_apply(self, make: Callable[[int], Command]) -> Any:
        """Apply a command like any client's; a refusal is counted, never raised."""
        try:
            return self.gateway.apply(make)
        except Reject as reject:
            self.refusals[reject.code] += 1
            log.debug("%s: refused: %r", self.name, reject)
            return None
