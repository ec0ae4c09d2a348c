"""Is a change faster over gRPC? Server configurations side by side, round after round.

    python -m bench.durability.paired [--scenario stream|unary] [--orders N] [--rounds N]
        NAME=MODE[@TREE][,SETTING=VALUE...] NAME=MODE[@TREE][,SETTING=VALUE...] ...

Each configuration is a journal mode (`off` or `on`, a fresh SQLite file per server);
with `@TREE`, another source tree: a git worktree of another commit, with the native
extension built or copied into its `server/tradepit/`; and with `,SETTING=VALUE`, server
settings by their environment names (`on1=on,TRADEPIT_JOURNAL_FLUSH_MS=1`). Every round
starts each configuration's server in turn, the order rotating by one each round, and
drives one scenario of bench/server/load.py at it (the stream at 100 orders per message,
or unary calls 16 at a time), after a warm-up. On this shared host the same code moves by 20% and
more from minute to minute, so each configuration is compared with the first within
each round, and the median of those ratios is the figure to quote, with a bootstrap 95%
interval for it: two configurations whose intervals overlap are not told apart by the
run (here it takes about 80 rounds to tell 5%). The interval covers the spread of the
rounds within one run, not the host's slower and faster hours: two 80-round runs of the
same code half an hour apart gave 0.73 and 0.67.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import uvloop

from bench.durability.run import server
from bench.server.breakdown import PER_MESSAGE
from bench.server.load import Result, stream_throughput, unary_throughput
from bench.server.run import funded_key

WARM_UP = 5_000  # orders, before the measured ones


@dataclass(frozen=True)
class Config:
    name: str
    mode: str  # TRADEPIT_DURABILITY
    tree: Path | None  # another source tree, or None for this one
    settings: tuple[tuple[str, str], ...] = ()  # more of the server's environment

    @classmethod
    def parse(cls, text: str) -> Config:
        name, sep, rest = text.partition("=")
        server, *assignments = rest.split(",")
        mode, _, tree = server.partition("@")
        split = [assignment.partition("=") for assignment in assignments]
        settings = tuple((key, value) for key, _, value in split)
        if (not sep or not name or mode not in ("off", "on")
                or not all(key.startswith("TRADEPIT_") and eq for key, eq, _ in split)):
            raise argparse.ArgumentTypeError(
                f"expected NAME=off|on[@TREE][,TRADEPIT_SETTING=VALUE...], got {text!r}")
        return cls(name, mode, Path(tree).resolve() if tree else None, settings)

    def env(self, database: Path) -> dict[str, str]:
        env = {"TRADEPIT_DURABILITY": self.mode, "TRADEPIT_MAKERS_ENABLED": "false",
               "TRADEPIT_DATABASE_URL": f"sqlite:///{database}", **dict(self.settings)}
        if self.tree is not None:  # ahead of this tree's, which the venv may name
            env["PYTHONPATH"] = f"{self.tree / 'server'}:{self.tree}"
        return env


Scenario = Callable[[grpc.aio.Channel, tuple[tuple[str, str], ...], int, int],
                    Awaitable[Result]]
SCENARIOS: dict[str, Scenario] = {
    "stream": lambda channel, metadata, count, start: stream_throughput(
        channel, metadata, count, PER_MESSAGE, start=start),
    "unary": lambda channel, metadata, count, start: unary_throughput(  # 16 at a time
        channel, metadata, count, start=start),
}


async def _drive(port: int, scenario: Scenario, orders: int) -> float:
    key = await funded_key(port)
    metadata = (("authorization", f"Bearer {key}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await scenario(channel, metadata, min(orders, WARM_UP), 0)
        result = await scenario(channel, metadata, orders, WARM_UP)
    if result.rejected:
        raise RuntimeError(f"{result.rejected} of {result.orders} orders refused")
    return result.orders_per_second


def compare(configs: list[Config], scenario: str, orders: int, rounds: int,
            report: Callable[[str], None] = print) -> dict[str, list[float]]:
    """Orders/s of every configuration in every round, by name."""
    rates: dict[str, list[float]] = {config.name: [] for config in configs}
    with tempfile.TemporaryDirectory(prefix="tradepit-paired-") as directory:
        workdir = Path(directory)
        for round_number in range(rounds):
            shift = round_number % len(configs)
            for config in configs[shift:] + configs[:shift]:
                database = workdir / f"{config.name}-{round_number}.db"
                with server(workdir, **config.env(database)) as running:
                    rates[config.name].append(
                        uvloop.run(_drive(running.port, SCENARIOS[scenario], orders)))
            first = rates[configs[0].name][-1]
            report(f"round {round_number + 1}: " + "  ".join(
                f"{name} {rate[-1]:,.0f} ({rate[-1] / first:.2f})"
                for name, rate in rates.items()))
    return rates


def ratios(rates: dict[str, list[float]]) -> dict[str, list[float]]:
    """Each configuration's ratio to the first's, round by round."""
    first = next(iter(rates.values()))
    return {name: [mine / theirs for mine, theirs in zip(rate, first, strict=True)]
            for name, rate in rates.items()}


def median_interval(values: list[float], confidence: float = 0.95,
                    resamples: int = 2_000) -> tuple[float, float]:
    """A percentile bootstrap interval for the median of `values`: the rounds resampled
    with replacement, seeded, so the same rounds always give the same interval."""
    draw = random.Random(0).choices
    medians = sorted(statistics.median(draw(values, k=len(values)))
                     for _ in range(resamples))
    cut = int(resamples * (1 - confidence) / 2)
    return medians[cut], medians[resamples - 1 - cut]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Config.parse,
                        metavar="NAME=MODE[@TREE][,SETTING=VALUE...]")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="stream")
    parser.add_argument("--orders", type=int, default=20_000, help="per server, measured")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    names = [config.name for config in args.configs]
    if len(set(names)) != len(names):
        parser.error("give each configuration its own name")
    rates = compare(args.configs, args.scenario, args.orders, args.rounds)
    print(f"{names[0]:>12}: median {statistics.median(rates[names[0]]):>9,.0f} orders/s")
    for name, mine in list(ratios(rates).items())[1:]:
        low, high = median_interval(mine)
        print(f"{name:>12}: median {statistics.median(rates[name]):>9,.0f} orders/s, "
              f"median ratio to {names[0]} {statistics.median(mine):.3f} "
              f"(95% interval {low:.3f}-{high:.3f}, {len(mine)} rounds)")


if __name__ == "__main__":
    main()
