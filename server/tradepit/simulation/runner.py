"""Build the makers from the settings and run their cycles on an asyncio task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from tradepit.config import InstrumentSpec, Settings
from tradepit.server.gateway import Gateway
from tradepit.simulation.fair_value import (
    FairValue,
    RandomWalk,
    Replay,
    read_replay_csv,
    seeded_rng,
)
from tradepit.simulation.makers import Maker, open_account
from tradepit.simulation.params import maker_params, parse_overrides

log = logging.getLogger(__name__)

MAX_SLEEP_S = 0.25  # wake at least this often, so a stop is never kept waiting


def build_makers(gateway: Gateway, settings: Settings, seed: int,
                 start_ns: int | None = None) -> list[Maker]:
    """One funded maker per listed instrument, each with its own fair value, seeded from
    `seed` and the symbol. Applies the account commands; the caller awaits `settled`."""
    start_ns = gateway.now() if start_ns is None else start_ns
    overrides = parse_overrides(settings.makers)
    unknown = set(overrides) - set(gateway.exchange.instruments)
    if unknown:
        raise ValueError(f"TRADEPIT_MAKERS names unlisted instruments: {sorted(unknown)}")
    replays = read_replay_csv(settings.fair_value_csv) if settings.fair_value_csv else {}
    makers = []
    for symbol, instrument in sorted(gateway.exchange.instruments.items()):
        spec = InstrumentSpec(symbol, instrument.tick_size, instrument.lot_size,
                              instrument.reference_price, instrument.band_bps)
        params = maker_params(spec, overrides.get(symbol, {}))
        fair_value: FairValue
        if symbol in replays:
            fair_value = Replay(replays[symbol], instrument.tick_size, start_ns)
        else:
            fair_value = RandomWalk(instrument.reference_price, instrument.tick_size,
                                    params.walk, seeded_rng(seed, symbol), start_ns)
        account_id = open_account(gateway, symbol, params)
        makers.append(Maker(gateway, symbol, account_id, params, fair_value))
    return makers


class MakerRunner:
    """Cycles each maker when its refresh interval is up, on the gateway's clock."""

    def __init__(self, gateway: Gateway, makers: list[Maker], seed: int) -> None:
        self.gateway = gateway
        self.makers = makers
        self.seed = seed
        self._task: asyncio.Task[None] | None = None

    def cycle_due(self, now_ns: int) -> None:
        """Cycle every maker that is due at `now_ns`; one maker's failure stops no other."""
        for maker in self.makers:
            if now_ns >= maker.due_ns:
                try:
                    maker.cycle(now_ns)
                except Exception:
                    log.exception("maker %s: cycle failed; it tries again next time",
                                  maker.symbol)
                    maker.due_ns = now_ns + maker.params.refresh_ms * 1_000_000

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tradepit-makers")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self.cycle_due(self.gateway.now())
            try:
                await self.gateway.settled()
            except Exception:
                log.exception("makers: waiting for the journal failed")
            now = self.gateway.now()
            next_due = min((m.due_ns for m in self.makers), default=now + 10**9)
            await asyncio.sleep(min(MAX_SLEEP_S, max(0, next_due - now) / 1e9))


async def start_makers(gateway: Gateway, settings: Settings) -> MakerRunner:
    """Open and fund the makers, wait for that to be durable, and start cycling them."""
    seed = settings.seed if settings.seed is not None else secrets.randbits(32)
    makers = build_makers(gateway, settings, seed)
    await gateway.settled()
    runner = MakerRunner(gateway, makers, seed)
    runner.start()
    log.info("market makers on for %s (seed %d)", ", ".join(m.symbol for m in makers), seed)
    return runner
