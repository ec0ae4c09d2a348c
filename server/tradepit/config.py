"""Configuration from TRADEPIT_* environment variables or a `.env` file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    symbol: str
    tick_size: int
    lot_size: int
    reference_price: int
    band_bps: int = 1_000


def parse_instruments(text: str) -> list[InstrumentSpec]:
    """`SYMBOL:tick:lot:reference[:band_bps]`, comma-separated, e.g. `ACME:1:1:10000`."""
    specs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        symbol, *numbers = item.split(":")
        if len(numbers) not in (3, 4):
            raise ValueError(
                f"instrument {item!r} must look like SYMBOL:tick:lot:reference[:band_bps]")
        specs.append(InstrumentSpec(symbol, *(int(n) for n in numbers)))
    return specs


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADEPIT_", env_file=".env", extra="ignore")

    address: str = "127.0.0.1:50051"
    database_url: str = "sqlite:///tradepit.db"
    # The journal: "on" commits every accepted command before acknowledging it; "off"
    # keeps state in memory only (benchmarks, tests that need no database).
    durability: Literal["on", "off"] = "on"
    # The exchange state machine: "rust" (exchange/native.py: the same results as the
    # reference, three to four times faster per command) or "python" (exchange/exchange.py,
    # the reference, on the book backend TRADEPIT_BOOK chooses). Unset: Rust when the
    # extension is built, otherwise Python with a warning.
    exchange: Literal["python", "rust"] | None = None
    journal_flush_ms: float = 2.0  # start a commit at most this often (at once when idle),
    journal_batch_size: int = 1_000  # or as soon as this many commands are pending
    journal_max_pending: int = 100_000  # beyond this, new commands get UNAVAILABLE
    journal_busy_timeout_ms: int = 1_000  # how long a commit waits on a locked SQLite file
    # A journal entry that fails its check at recovery: "refuse" to start, or "quarantine"
    # it and everything after it (kept in journal_quarantine) and start from before it.
    journal_on_corruption: Literal["refuse", "quarantine"] = "refuse"
    # Snapshot the whole state every this many journal entries, and at a clean stop, so
    # recovery replays only the entries after it (0: never).
    snapshot_every: int = Field(default=100_000, ge=0)
    admin_token: str = Field(default="", description="empty: a random token, shown at start")
    instruments: str = "ACME:1:1:10000,GLOBEX:5:10:25000,INITECH:1:100:1500"
    starting_cash: int = 10_000_000  # given to every new account, in cash units
    maker_fee_bps: int = 0
    taker_fee_bps: int = 0
    max_order_quantity: int = 1_000_000
    max_order_notional: int = 10**13
    rate_limit_per_second: int = 200  # orders (new and amend) per account
    rate_limit_burst: int = 400
    max_message_bytes: int = 1 << 20
    max_metadata_bytes: int = 8 << 10
    max_concurrent_streams: int = 256
    keepalive_time_ms: int = 30_000
    keepalive_timeout_ms: int = 10_000
    min_ping_interval_ms: int = 10_000
    stream_queue_size: int = 10_000  # execution reports buffered per order stream
    # Updates buffered per market-data stream: beyond it L1/L2 conflate, and a stream
    # whose trades or L3 still do not fit is closed (RESOURCE_EXHAUSTED).
    market_data_queue_size: int = 2_000
    # Built-in market makers (tradepit.simulation), on unless TRADEPIT_MAKERS_ENABLED=false.
    makers_enabled: bool = True
    # Per-instrument overrides, `SYMBOL:key=value,...` joined by `;`, e.g.
    # `ACME:spread=4,size=10,levels=3,refresh_ms=500`; the keys are in simulation/params.py.
    makers: str = ""
    seed: int | None = None  # the fair values' random seed; none: a random one, logged
    fair_value_csv: str = ""  # replay `symbol,time,price` rows instead of the random walk
    # Background traders, one of each kind per instrument, trading in the makers' market:
    # they run while the makers run, each kind unless switched off here.
    noise_traders_enabled: bool = True
    noise_interval_ms: int = 1_000  # one random order per instrument this often
    noise_max_lots: int = 5
    noise_marketable_pct: int = 30  # the share of noise orders that cross the spread
    momentum_traders_enabled: bool = True
    momentum_interval_ms: int = 2_000  # how often each looks at the last price
    momentum_lookback: int = 5  # samples the return is measured over
    momentum_threshold_bps: int = 10  # the move, either way, that makes it trade
    momentum_lots: int = 5
    # Command time: "wall" (nanoseconds of the real clock) or "engine" (deterministic:
    # each command `engine_step_ns` after the one before; the simulation acts between
    # client commands, so a seed and the same client commands give the same tape).
    clock: Literal["wall", "engine"] = "wall"
    engine_step_ns: int = 1_000_000
    # The leaderboard's equity samples: one every this many ms (0: none on a timer), and
    # how many are kept per account (the ratios cover that window).
    leaderboard_sample_ms: int = 1_000
    leaderboard_samples: int = 1_000

    def instrument_specs(self) -> list[InstrumentSpec]:
        return parse_instruments(self.instruments)
