"""Build the system agents from the settings and cycle each when it is due.

On the wall clock an asyncio task wakes the agents. On the engine clock there is no
task: the agents act right after each client command, at that command's time, so what
they do depends only on the seed and the client commands before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from tradepit.config import InstrumentSpec, Settings
from tradepit.server.gateway import Gateway
from tradepit.simulation.agent import SystemAgent, open_system_account
from tradepit.simulation.fair_value import (
    FairValue,
    RandomWalk,
    Replay,
    read_replay_csv,
    seeded_rng,
)
from tradepit.simulation.makers import Maker, open_account
from tradepit.simulation.params import maker_params, parse_overrides
from tradepit.simulation.traders import (
    MomentumParams,
    MomentumTrader,
    NoiseParams,
    NoiseTrader,
    Trader,
)

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


def build_traders(gateway: Gateway, settings: Settings, seed: int) -> list[Trader]:
    """A noise and a momentum trader per listed instrument (each kind unless switched
    off), funded with shares and the same value in cash, each with its own seeded
    random stream. Applies the account commands; the caller awaits `settled`."""
    noise = NoiseParams(settings.noise_interval_ms, settings.noise_max_lots,
                        settings.noise_marketable_pct)
    momentum = MomentumParams(settings.momentum_interval_ms, settings.momentum_lookback,
                              settings.momentum_threshold_bps, settings.momentum_lots)
    traders: list[Trader] = []
    for symbol, instrument in sorted(gateway.exchange.instruments.items()):
        lot, price = instrument.lot_size, instrument.reference_price
        if settings.noise_traders_enabled:
            shares = 100 * noise.max_lots * lot
            account_id = open_system_account(gateway, NoiseTrader.kind, symbol,
                                             shares * price, shares)
            traders.append(NoiseTrader(gateway, symbol, account_id, noise,
                                       seeded_rng(seed, f"{NoiseTrader.kind}:{symbol}")))
        if settings.momentum_traders_enabled:
            shares = momentum.max_lots * lot
            account_id = open_system_account(gateway, MomentumTrader.kind, symbol,
                                             2 * shares * price, shares // 2)
            traders.append(MomentumTrader(
                gateway, symbol, account_id, momentum,
                seeded_rng(seed, f"{MomentumTrader.kind}:{symbol}")))
    return traders


class SimulationRunner:
    """Cycles each system agent when its interval is up, on the gateway's clock."""

    def __init__(self, gateway: Gateway, makers: list[Maker], traders: list[Trader],
                 seed: int) -> None:
        self.gateway = gateway
        self.agents: list[SystemAgent] = [*makers, *traders]
        self.seed = seed
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self._cycling = False

    def cycle_due(self, now_ns: int) -> None:
        """Cycle every agent that is due at `now_ns`; one agent's failure stops no other.
        The agents of a removed (delisted) symbol stop for good."""
        listed = self.gateway.exchange.instruments
        if any(agent.symbol not in listed for agent in self.agents):
            self._retire({agent for agent in self.agents if agent.symbol not in listed})
        for agent in self.agents:
            if now_ns >= agent.due_ns:
                try:
                    agent.cycle(now_ns)
                except Exception:
                    log.exception("%s: cycle failed; it tries again next time", agent.name)
                    agent.due_ns = now_ns + agent.interval_ns

    def _retire(self, gone: set[SystemAgent]) -> None:
        log.info("simulation: %s stopped, their symbols are no longer listed",
                 ", ".join(sorted(agent.name for agent in gone)))
        self.agents = [a for a in self.agents if a not in gone]

    @property
    def makers(self) -> list[Maker]:
        return [agent for agent in self.agents if isinstance(agent, Maker)]

    @property
    def traders(self) -> list[Trader]:
        return [agent for agent in self.agents if isinstance(agent, Trader)]

    def start(self) -> None:
        """Cycle once now, then on every due time: on a task (wall clock) or after each
        client command (engine clock)."""
        self._running = True
        self._after_command(self.gateway.now())
        if self.gateway.clock.deterministic:
            self.gateway.on_command_applied(self._after_command)
        else:
            self._task = asyncio.create_task(self._run(), name="tradepit-simulation")

    async def stop(self) -> None:
        self._running = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _after_command(self, now_ns: int) -> None:
        """Cycle the due agents, unless this is one of their own commands."""
        if self._running and not self._cycling:
            self._cycling = True
            try:
                self.cycle_due(now_ns)
            finally:
                self._cycling = False

    async def _run(self) -> None:
        while True:
            self._after_command(self.gateway.now())
            try:
                await self.gateway.settled()
            except Exception:
                log.exception("simulation: waiting for the journal failed")
            now = self.gateway.now()
            next_due = min((a.due_ns for a in self.agents), default=now + 10**9)
            await asyncio.sleep(min(MAX_SLEEP_S, max(0, next_due - now) / 1e9))


async def start_simulation(gateway: Gateway, settings: Settings) -> SimulationRunner:
    """Open and fund the system agents, wait for that to be durable, and start them."""
    seed = settings.seed if settings.seed is not None else secrets.randbits(32)
    makers = build_makers(gateway, settings, seed)
    traders = build_traders(gateway, settings, seed)
    await gateway.settled()
    runner = SimulationRunner(gateway, makers, traders, seed)
    runner.start()
    await gateway.settled()
    log.info("simulation on (seed %d, %s clock): %s", seed,
             "engine" if gateway.clock.deterministic else "wall",
             ", ".join(agent.name for agent in runner.agents))
    return runner
