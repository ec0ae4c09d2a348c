"""Tradepit against the echo ceiling, in one run, on this machine, round after round.

    python -m bench.server.run [--orders N] [--latency-orders N] [--rounds N]
        [--profile bench/results/server.prof] [--out PATH] [--record]

Starts each server as its own process (uvloop, 127.0.0.1, a free port) and drives the
same scenarios at each from this process: the echo, then Tradepit on the Rust exchange
(the default) and on the Python one (the reference), `TRADEPIT_EXCHANGE` set for each.
This host is shared and its speed moves from minute to minute, so the servers are
measured in rounds: every round starts and measures each configuration in turn, the
order rotating by one each round (as bench/durability/paired.py does), and each
Tradepit figure is divided by the echo's figure of the same round. The figure quoted is
the median of those per-round ratios, with their range. Writes bench/results/server.json
(every round's results, and the summary) and, with --record, the `server` section of
bench/RESULTS.md. Tradepit runs with in-memory state only, rate limits lifted, the
journal off (`TRADEPIT_DURABILITY=off`), and an account funded by the admin.

With --profile PATH, before the rounds, each Tradepit configuration runs the scenarios
once more under cProfile, writing PATH with the configuration's name before the suffix
(server.prof -> server.tradepit-rust.prof); those runs are not counted in the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc
import uvloop
from tradepit_client.v1 import account_pb2, account_pb2_grpc, admin_pb2, admin_pb2_grpc

from bench.report import machine, write_section
from bench.server.breakdown import per_order_us
from bench.server.load import Result, stream_throughput, unary_latency, unary_throughput

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
ADMIN = "bench-admin"


@contextmanager
def server_process(command: list[str], env: dict[str, str],
                   pattern: str) -> Iterator[tuple[int, int]]:
    """Start a server, wait for the line naming its port; yield (port, pid); stop it.

    Shared by the gRPC benchmarks (server, market data)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        for line in process.stdout:
            match = re.search(pattern, line)
            if match:
                port = int(match.group(1))
                break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
        else:
            raise RuntimeError(f"server exited: {process.wait()}")
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


async def scenarios(port: int, metadata: tuple[tuple[str, str], ...], count: int,
                    latency_count: int) -> list[Result]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await unary_throughput(channel, metadata, min(count, 500), start=10_000_000)  # warm-up
        return [
            await unary_throughput(channel, metadata, count, start=0),
            await stream_throughput(channel, metadata, count, 1, start=count),
            await stream_throughput(channel, metadata, count * 10, 100, start=2 * count),
            await unary_latency(channel, metadata, latency_count, start=20 * count),
        ]


async def funded_key(port: int) -> str:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        created = await account_pb2_grpc.AccountServiceStub(channel).CreateAccount(
            account_pb2.CreateAccountRequest(name="bench"))
        await admin_pb2_grpc.AdminServiceStub(channel).AdjustBalance(
            admin_pb2.AdjustBalanceRequest(account_id=created.account.account_id,
                                           amount=10**15, kind=admin_pb2.BALANCE_CHANGE_DEPOSIT),
            metadata=(("authorization", f"Bearer {ADMIN}"),))
        return created.api_key


# Tradepit's configurations, by result name: the exchange each runs (TRADEPIT_EXCHANGE).
# The first is the server's default, the one the targets judge; the other is the reference.
EXCHANGES = {"tradepit-rust": "rust", "tradepit-python": "python"}
LABELS = {"tradepit-rust": "Rust exchange (default)",
          "tradepit-python": "Python exchange (reference)"}
DEFAULT = "tradepit-rust"
CONFIGS = ("echo", *EXCHANGES)  # the first round's order; each later round rotates it by one
TRADEPIT_ENV = {
    "TRADEPIT_ADDRESS": "127.0.0.1:0", "TRADEPIT_ADMIN_TOKEN": ADMIN,
    "TRADEPIT_DURABILITY": "off",
    "TRADEPIT_MAKERS_ENABLED": "false",  # measure the clients' orders alone
    "TRADEPIT_RATE_LIMIT_PER_SECOND": "100000000", "TRADEPIT_RATE_LIMIT_BURST": "100000000",
    "TRADEPIT_MAX_MESSAGE_BYTES": str(16 << 20), "TRADEPIT_STREAM_QUEUE_SIZE": "10000000",
}

Round = dict[str, list[Result]]  # one round's results by configuration, in the order measured


def measure(name: str, count: int, latency_count: int, profile: str | None = None) -> list[Result]:
    """Start one configuration's server (the echo, or Tradepit on an exchange), run the
    scenarios at it, stop it. With `profile`, Tradepit runs under cProfile writing there."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if name == "echo":
        with server_process([sys.executable, "-m", "bench.server.echo_server"], env,
                            r"PORT (\d+)") as (port, _):
            return uvloop.run(scenarios(port, (), count, latency_count))
    command = [sys.executable, "-m", "tradepit.server"]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "tradepit.server"]
    with server_process(command, {**env, **TRADEPIT_ENV, "TRADEPIT_EXCHANGE": EXCHANGES[name]},
                        r"Tradepit is open on [\d.]+:(\d+)") as (port, _):
        key = uvloop.run(funded_key(port))
        metadata = (("authorization", f"Bearer {key}"),)
        return uvloop.run(scenarios(port, metadata, count, latency_count))


def profile_path(profile: str, name: str) -> str:
    """server.prof -> server.tradepit-rust.prof: one profile per configuration."""
    path = Path(profile)
    return str(path.with_name(f"{path.stem}.{name}{path.suffix}"))


def rotation(number: int) -> list[str]:
    """The configurations in the order round `number` (from 0) measures them."""
    shift = number % len(CONFIGS)
    return [*CONFIGS[shift:], *CONFIGS[:shift]]


def run(count: int, latency_count: int, profile: str | None, rounds: int = 3,
        report: Callable[[str], None] = print) -> list[Round]:
    """Every configuration's results in every round; with `profile`, a profiled pass at
    each Tradepit first, not counted."""
    if profile:
        Path(profile).parent.mkdir(parents=True, exist_ok=True)
        for name in EXCHANGES:
            measure(name, count, latency_count, profile_path(profile, name))
            report(f"profiled {name}: {profile_path(profile, name)}")
    measured: list[Round] = []
    for number in range(rounds):
        this: Round = {}
        for name in rotation(number):
            this[name] = measure(name, count, latency_count)
        measured.append(this)
        report(round_text(number, this))
    return measured


def round_text(number: int, results: Round) -> str:
    echo = {r.scenario: r for r in results["echo"]}
    lines = [f"round {number + 1} ({', '.join(results)}):"]
    for name, rows in results.items():
        for row in rows:
            line = f"  {name:16} {row.scenario:15} {row.orders_per_second:12,.0f} orders/s"
            if name != "echo":
                line += f" {row.orders_per_second / echo[row.scenario].orders_per_second:5.0%}"
            if row.p50_us:
                line += f"  p50 {row.p50_us:7.1f} us  p99 {row.p99_us:7.1f} us"
            lines.append(line)
    return "\n".join(lines)


def per_round_ratios(mine: list[float], echo: list[float]) -> list[float]:
    """Each round's figure over the echo's figure of the same round."""
    return [value / base for value, base in zip(mine, echo, strict=True)]


def median_ratio(mine: list[float], echo: list[float]) -> tuple[float, float, float]:
    """The median of the per-round ratios, and their lowest and highest: not the ratio of
    the medians, which pairs figures measured minutes apart."""
    ratios = per_round_ratios(mine, echo)
    return statistics.median(ratios), min(ratios), max(ratios)


@dataclass(frozen=True)
class Figure:
    """One figure (a scenario's orders/s, or a latency percentile) of every configuration,
    round by round."""
    values: dict[str, list[float]]

    def median(self, name: str) -> float:
        return statistics.median(self.values[name])

    def ratio(self, name: str) -> tuple[float, float, float]:
        return median_ratio(self.values[name], self.values["echo"])


LATENCIES = (("p50", "p50_us"), ("p99", "p99_us"))  # of the "unary x1" scenario


def figures(rounds: list[Round]) -> dict[str, Figure]:
    """By row: each scenario's orders/s, then "p50" and "p99" of unary x1, in us."""
    def values(scenario: str, field: str) -> dict[str, list[float]]:
        return {name: [float(getattr(next(r for r in results[name] if r.scenario == scenario),
                                     field)) for results in rounds]
                for name in CONFIGS}

    rows = {r.scenario: Figure(values(r.scenario, "orders_per_second"))
            for r in rounds[0]["echo"]}
    return rows | {label: Figure(values("unary x1", field)) for label, field in LATENCIES}


TARGETS = {"stream 1/msg": (0.70, "orders/s >= 70% of echo"),
           "stream 100/msg": (0.50, "orders/s >= 50% of echo")}
COMMAND = (".venv/bin/python -m bench.server.run --orders {orders} --latency-orders {latency}"
           " --rounds {rounds}")


def markdown(rounds: list[Round], stages: dict[str, float], orders: int,
             latency: int) -> str:
    """The RESULTS.md section: each Tradepit figure, on either exchange, beside the echo's,
    with the median of the per-round ratios to the echo and their range."""
    host = machine()
    rows = figures(rounds)
    scenarios = [r.scenario for r in rounds[0]["echo"]]
    lines = [
        "## gRPC server: Tradepit against a bare echo server\n",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {host['nproc']} CPUs "
        f"({host['cpu']}), Python {host['python']}. The servers are separate processes on "
        "127.0.0.1 with uvloop (Tradepit with its journal off: this measures the order path), "
        "Tradepit on each exchange (`TRADEPIT_EXCHANGE`: `rust`, the default, and `python`, "
        "the reference); one client process drives the same pre-built requests at each. "
        "Every order is acknowledged before it counts. Command:\n",
        f"```sh\n{COMMAND.format(orders=orders, latency=latency, rounds=len(rounds))}\n```\n",
        f"This shared host's speed moves from minute to minute, so the run has {len(rounds)} "
        "rounds: each round starts and measures the echo and both Tradepit configurations "
        "in turn, the order rotating by one each round, and divides each Tradepit figure by "
        "the echo's figure of the same round. Each \"ratio\" below is the median of those "
        "per-round ratios, with their range (lowest-highest) in brackets; the orders/s and "
        "latency columns are each server's median across the rounds (so their quotient can "
        "differ from the ratio). The \"met?\" column judges the default configuration "
        "alone, the Rust exchange (`TRADEPIT_EXCHANGE=rust`), on its median ratio; the "
        "Python exchange (`TRADEPIT_EXCHANGE=python`) is shown with its ratio for "
        "reference, without a verdict.\n",
        "| scenario | echo orders/s | " + " | ".join(
            f"{LABELS[name]} orders/s | ratio (range)" for name in EXCHANGES)
        + " | target | met? (default) |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in EXCHANGES) + " | --- | :---: |",
    ]
    for scenario in scenarios:
        figure = rows[scenario]
        target, text = TARGETS.get(scenario, (None, ""))
        cells = []
        for name in EXCHANGES:
            ratio, low, high = figure.ratio(name)
            cells.append(f"{figure.median(name):,.0f} | {ratio:.0%} ({low:.0%}-{high:.0%})")
        verdict = "" if target is None else (
            "yes" if figure.ratio(DEFAULT)[0] >= target else "**no**")
        lines.append(f"| {scenario} | {figure.median('echo'):,.0f} | " + " | ".join(cells)
                     + f" | {text} | {verdict} |")
    lines += [
        "",
        "| latency at concurrency 1 (unary) | echo | " + " | ".join(
            f"{LABELS[name]} | ratio (range)" for name in EXCHANGES)
        + " | target | met? (default) |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in EXCHANGES) + " | --- | :---: |",
    ]
    for label, target_text in (("p50", ""), ("p99", "<= 2x echo")):
        figure = rows[label]
        cells = []
        for name in EXCHANGES:
            ratio, low, high = figure.ratio(name)
            cells.append(f"{figure.median(name):,.0f} us | {ratio:.2f}x ({low:.2f}-{high:.2f}x)")
        verdict = ("yes" if figure.ratio(DEFAULT)[0] <= 2 else "**no**") if target_text else ""
        lines.append(f"| {label} | {figure.median('echo'):,.0f} us | " + " | ".join(cells)
                     + f" | {target_text} | {verdict} |")
    lines += [
        "",
        "Round by round, the default (Rust exchange) over the echo of the same round:\n",
        "| round | order measured | " + " | ".join(scenarios) + " | p99 |",
        "| ---: | --- | " + " | ".join("---:" for _ in scenarios) + " | ---: |",
    ]
    for number, results in enumerate(rounds):
        ratios = [per_round_ratios(rows[scenario].values[DEFAULT],
                                   rows[scenario].values["echo"])[number]
                  for scenario in scenarios]
        p99 = per_round_ratios(rows["p99"].values[DEFAULT], rows["p99"].values["echo"])[number]
        lines.append(f"| {number + 1} | {', '.join(results)} | "
                     + " | ".join(f"{ratio:.0%}" for ratio in ratios) + f" | {p99:.2f}x |")
    lines += [
        "",
        "Where the time per order goes inside Tradepit on the Rust exchange, the default "
        "(`python -m bench.server.breakdown`, the same stages without the network):\n",
        "| stage | us per order |",
        "| --- | ---: |",
        *(f"| {name} | {micros:.2f} |" for name, micros in stages.items()),
        "",
    ]
    stream = rows["stream 100/msg"]
    echo_us = 1e6 / stream.median("echo")
    python_us = 1e6 / stream.median("tradepit-python")
    rust_us = 1e6 / stream.median("tradepit-rust")
    staged = sum(stages.values())
    rest = rust_us - staged
    transport = (f"the other {rest:.1f} us are gRPC and asyncio, as in the echo"
                 if rest > 1 else
                 "gRPC and asyncio add little beside them (the stages are CPU time measured "
                 "apart, in one process, so the sum is only indicative)")
    lines += [
        f"At 100 orders per message (medians of the rounds) the echo spends {echo_us:.1f} us "
        f"per order end to end, Tradepit {rust_us:.1f} us on the Rust exchange and "
        f"{python_us:.1f} us on the Python one. On the Rust exchange the stages above "
        f"account for {staged:.1f} us; {transport}. The exchange stage is one call per "
        "order into Rust (pre-trade checks, escrow, the book, settlement and the report); "
        "the Python exchange does the same work in Python around the book, 3-4 times "
        "slower per command (`python -m bench.server.exchange_cost`: see the notes "
        "below), which is the difference between the two columns.",
        "",
    ]
    return "\n".join(lines) + "\n"


def summary(rounds: list[Round]) -> dict[str, dict[str, object]]:
    """By row: the echo's median, and each Tradepit's median, median ratio, range and
    per-round ratios."""
    out: dict[str, dict[str, object]] = {}
    for row, figure in figures(rounds).items():
        out[row] = {"echo": figure.median("echo")}
        for name in EXCHANGES:
            ratio, low, high = figure.ratio(name)
            out[row][name] = {
                "median": figure.median(name), "median_ratio": ratio, "ratio_min": low,
                "ratio_max": high,
                "ratios": per_round_ratios(figure.values[name], figure.values["echo"])}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--latency-orders", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of echo and each Tradepit, the order rotating")
    parser.add_argument("--profile", help="before the rounds, profile each Tradepit with "
                        "cProfile into this path, the configuration's name before its suffix")
    parser.add_argument("--out", default=str(RESULTS / "server.json"))
    parser.add_argument("--record", action="store_true",
                        help="also rewrite the server section of bench/RESULTS.md")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    rounds = run(args.orders, args.latency_orders, args.profile, args.rounds)
    for number, results in enumerate(rounds):
        for name, rows in results.items():
            for row in rows:
                assert row.rejected == 0, \
                    f"round {number + 1} {name} {row.scenario}: {row.rejected} orders rejected"
    print(f"medians of {len(rounds)} rounds; ratio = median of the per-round ratios to the "
          "echo (lowest-highest):")
    for label, figure in figures(rounds).items():
        unit, spec, times = (" us", ".2f", "x") if label in dict(LATENCIES) else ("", ".0%", "")
        cells = []
        for name in EXCHANGES:
            ratio, low, high = figure.ratio(name)
            cells.append(f"{name} {figure.median(name):,.0f}{unit} {ratio:{spec}}{times} "
                         f"({low:{spec}}-{high:{spec}}{times})")
        print(f"  {label:15} echo {figure.median('echo'):,.0f}{unit}  " + "  ".join(cells))
    stages = per_order_us(20_000)
    Path(args.out).write_text(json.dumps({
        "breakdown_us_per_order": stages,
        "default": DEFAULT,
        "summary": summary(rounds),
        "rounds": [{"order": list(results),
                    "results": {name: [{**asdict(r), "orders_per_second": r.orders_per_second}
                                       for r in rows] for name, rows in results.items()}}
                   for results in rounds],
    }, indent=2))
    if args.record:
        write_section(RESULTS / ".." / "RESULTS.md",
                      markdown(rounds, stages, args.orders, args.latency_orders), "server")


if __name__ == "__main__":
    main()
