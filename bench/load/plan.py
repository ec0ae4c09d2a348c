"""What one load run offers: how many users of each kind, how fast, for how long.

Shared by the driver, which passes it on the locust command line, and the locustfile,
which reads it back, so both sides agree on the rate limit the flooder must exceed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# The server's per-account order rate for these runs. Every well-behaved agent stays well
# under it; the flooder sends FLOOD_FACTOR times as fast.
RATE_LIMIT_PER_SECOND = 20
RATE_LIMIT_BURST = 20
FLOOD_FACTOR = 10
# Traders and readers follow these; the server lists them by default (TRADEPIT_INSTRUMENTS).
SYMBOLS = ("ACME", "GLOBEX")


@dataclass(frozen=True)
class Plan:
    traders: int = 10
    readers: int = 4
    flooders: int = 1
    seconds: int = 25
    trader_rate: float = 8.0  # tasks per second per trader; a task sends 1-3 orders or a cancel
    rate_limit: int = RATE_LIMIT_PER_SECOND
    seed: int = 7
    warmup: float = 3.0  # seconds at the start whose latencies are not counted

    def arguments(self) -> list[str]:
        """The locust command-line options that carry this plan (see locustfile)."""
        return [f"--{f.name.replace('_', '-')}={getattr(self, f.name)}" for f in fields(self)]
