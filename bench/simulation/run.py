"""Agent order throughput with the system agents running, against the same run without.

    python -m bench.simulation.run [--orders N] [--rounds R] [--record]

Each round starts Tradepit twice as its own process (uvloop, 127.0.0.1, a free port,
journal off, rate limits lifted): once with TRADEPIT_MAKERS_ENABLED=false, a quiet
exchange, and once with the simulation as `make run` has it (makers, noise and momentum
traders on every instrument, default intervals). The same client drives the same
resting orders at both (bench/server/load.py), unary at concurrency 16 and on an order
stream one order per message. Rounds alternate off and on, so drift on the shared host
hits both; the figure is the median of the per-round ratios. Writes
bench/results/simulation.json and, with --record, the `simulation` section of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import grpc
import uvloop

from bench.report import machine, paired_ratios, write_section
from bench.server.load import Result, stream_throughput, unary_throughput
from bench.server.run import ADMIN, funded_key, server_process

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
TARGET = 0.80
COMMAND = ".venv/bin/python -m bench.simulation.run --orders {orders} --rounds {rounds}"


async def scenarios(port: int, metadata: tuple[tuple[str, str], ...], count: int
                    ) -> list[Result]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await unary_throughput(channel, metadata, min(count, 500), start=10_000_000)  # warm-up
        return [
            await unary_throughput(channel, metadata, count, start=0),
            await stream_throughput(channel, metadata, count, 1, start=count),
        ]


def measure(simulation: bool, count: int) -> list[Result]:
    """A fresh server, with or without the simulation, and one client run against it."""
    env = {
        **os.environ, "PYTHONUNBUFFERED": "1",
        "TRADEPIT_ADDRESS": "127.0.0.1:0", "TRADEPIT_ADMIN_TOKEN": ADMIN,
        "TRADEPIT_DURABILITY": "off", "TRADEPIT_SEED": "1",
        "TRADEPIT_MAKERS_ENABLED": "true" if simulation else "false",
        "TRADEPIT_RATE_LIMIT_PER_SECOND": "100000000", "TRADEPIT_RATE_LIMIT_BURST": "100000000",
        "TRADEPIT_STREAM_QUEUE_SIZE": "10000000",
    }
    with server_process([sys.executable, "-m", "tradepit.server"], env,
                        r"Tradepit is open on [\d.]+:(\d+)") as (port, _):
        key = uvloop.run(funded_key(port))
        metadata = (("authorization", f"Bearer {key}"),)
        return uvloop.run(scenarios(port, metadata, count))


def run(count: int, rounds: int) -> dict[str, list[list[Result]]]:
    """`rounds` alternating pairs: {"off": [round results...], "on": [...]}."""
    runs: dict[str, list[list[Result]]] = {"off": [], "on": []}
    for _ in range(rounds):
        for name in ("off", "on"):
            results = measure(name == "on", count)
            for row in results:
                assert row.rejected == 0, f"{name} {row.scenario}: {row.rejected} rejected"
            runs[name].append(results)
    return runs


def ratios(runs: dict[str, list[list[Result]]]) -> dict[str, list[float]]:
    """Per scenario, each round's on/off throughput ratio."""
    rates = {mode: [[(r.scenario, r.orders_per_second) for r in rows] for rows in rounds]
             for mode, rounds in runs.items()}
    return paired_ratios(rates["off"], rates["on"])


def markdown(runs: dict[str, list[list[Result]]], count: int, rounds: int) -> str:
    host = machine()
    lines = [
        "## Living market: agent throughput with the system agents running\n",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {host['nproc']} CPUs "
        f"({host['cpu']}), Python {host['python']}. Tradepit as its own process (journal "
        "off, rate limits lifted), once quiet (`TRADEPIT_MAKERS_ENABLED=false`) and once "
        "with the simulation at its `make run` defaults (a maker, a noise trader and a "
        "momentum trader per instrument); the same client sends the same resting orders "
        f"to both. {rounds} alternating rounds; medians. Command:\n",
        f"```sh\n{COMMAND.format(orders=count, rounds=rounds)}\n```\n",
        "| scenario | quiet orders/s | with system agents orders/s | ratio (median) "
        "| per-round ratios | target | met? |",
        "| --- | ---: | ---: | ---: | --- | --- | :---: |",
    ]
    table = ratios(runs)
    for index, (scenario, values) in enumerate(table.items()):
        quiet = statistics.median(r[index].orders_per_second for r in runs["off"])
        busy = statistics.median(r[index].orders_per_second for r in runs["on"])
        ratio = statistics.median(values)
        lines.append(
            f"| {scenario} | {quiet:,.0f} | {busy:,.0f} | {ratio:.0%} | "
            f"{', '.join(f'{v:.0%}' for v in values)} | >= {TARGET:.0%} | "
            f"{'yes' if ratio >= TARGET else '**no**'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS / "simulation.json"))
    parser.add_argument("--record", action="store_true",
                        help="also rewrite the simulation section of bench/RESULTS.md")
    args = parser.parse_args()
    runs = run(args.orders, args.rounds)
    for scenario, values in ratios(runs).items():
        print(f"{scenario:15} on/off {statistics.median(values):.0%}  "
              f"({', '.join(f'{v:.0%}' for v in values)})")
    Path(args.out).write_text(json.dumps(
        {name: [[{"scenario": r.scenario, "orders": r.orders, "seconds": r.seconds,
                  "orders_per_second": r.orders_per_second} for r in results]
                for results in rounds] for name, rounds in runs.items()}, indent=2))
    if args.record:
        write_section(RESULTS / ".." / "RESULTS.md", markdown(runs, args.orders, args.rounds),
                      "simulation")


if __name__ == "__main__":
    main()
