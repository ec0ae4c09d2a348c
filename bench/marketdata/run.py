"""Updates per second delivered to 1, 10 and 100 subscribers: Tradepit against the echo.

    python -m bench.marketdata.run [--orders N] [--repeat R] [--subscribers 1 10 100] [--record]

For each subscriber count and repetition, each server is started fresh as its own
process (uvloop, 127.0.0.1, a free port; Tradepit in memory, rate limits lifted) and a
second process opens the subscriber streams (one connection each, L2 depth 10 + trades
on one symbol; see subscribers.py). Tradepit's market is moved by four trading agents
on order streams from this process (agents.py); the echo's by its in-process producer
replaying the updates of the same script (workload.py). A run is timed from the first
order (or the producer's start) until the last subscriber has received the marker
trade, and counts what the subscribers received. Writes bench/results/marketdata.json and, with
--record, the `marketdata` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import uvloop

from bench.marketdata import agents, workload
from bench.marketdata.echo_server import PRODUCE
from bench.report import machine, write_section
from bench.server.run import server_process

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
ADMIN = "bench-admin"
SUBSCRIBERS = (1, 10, 100)
TARGET = 0.70   # Tradepit's updates/s as a share of the echo's, at 100 subscribers
TIMEOUT_S = 300
COMMAND = ".venv/bin/python -m bench.marketdata.run --orders {orders} --repeat {repeat} --record"


@dataclass(frozen=True)
class Result:
    server: str
    subscribers: int
    orders: int
    seconds: float
    updates: int          # received by all subscribers together, conflated snapshots included
    conflated: int
    trade_prints: int     # received by the first subscriber (each gets every print)
    batches: int
    encoded_bytes: int    # received by all subscribers (after the opening snapshots)
    server_cpu: float     # CPU seconds / wall seconds of the server process
    subscriber_cpu: float
    loader_cpu: float     # this process: Tradepit's trading agents (idle for the echo)
    runs_per_second: tuple[float, ...] = ()   # updates/s of every repetition

    @property
    def server_us_per_update(self) -> float:
        """Server CPU per delivered update: the cost whichever process is the bottleneck."""
        return self.server_cpu * self.seconds / self.updates * 1e6

    @property
    def updates_per_second(self) -> float:
        return self.updates / self.seconds


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _line(stream: asyncio.StreamReader, prefix: str) -> str:
    while True:
        line = (await stream.readline()).decode()
        if not line or line.startswith("FAILED"):
            raise RuntimeError(f"subscriber process: {line.strip() or 'exited'}")
        if line.startswith(prefix):
            return line[len(prefix):]


async def measure(server: str, port: int, pid: int, subscribers: int,
                  drive: Callable[[], Awaitable[int]]) -> Result:
    """Open the subscribers, start the market, and wait until every one has the marker."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.marketdata.subscribers", "--port", str(port),
        "--subscribers", str(subscribers), cwd=ROOT, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    try:
        await _line(process.stdout, "READY")
        server_cpu, loader_cpu = process_cpu(pid), time.process_time()
        began = time.monotonic()
        orders = await asyncio.wait_for(drive(), TIMEOUT_S)
        loader_cpu = time.process_time() - loader_cpu
        report = json.loads(await _line(process.stdout, "RESULT "))
        server_cpu = process_cpu(pid) - server_cpu
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
    counts = report["subscribers"]
    seconds = max(c["finished_at"] for c in counts) - began
    return Result(server, subscribers, orders, seconds,
                  sum(c["updates"] for c in counts), sum(c["conflated"] for c in counts),
                  counts[0]["trade_prints"], sum(c["batches"] for c in counts),
                  sum(c["encoded_bytes"] for c in counts),
                  server_cpu / seconds, report["cpu_seconds"] / seconds, loader_cpu / seconds)


async def echo_scenario(port: int, pid: int, subscribers: int, orders: int) -> Result:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        start = channel.unary_unary(PRODUCE)

        async def drive() -> int:
            await start(b"")
            return orders
        return await measure("echo", port, pid, subscribers, drive)


async def tradepit_scenario(port: int, pid: int, subscribers: int, orders: int) -> Result:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        market = await agents.open_market(channel, ADMIN, workload.rounds_for(orders))

        async def drive() -> int:
            await market.trade()
            return market.orders
        try:
            return await measure("tradepit", port, pid, subscribers, drive)
        finally:
            market.close()


def timed_orders(orders: int) -> int:
    """The orders a run with `orders` really sends: whole rounds, plus the marker."""
    return workload.rounds_for(orders) * 2 * workload.PAIRS * workload.PER_MESSAGE + 1


LOAD_AT_START: list[float] = []  # the 1-minute load average when `run` last began


def run(orders: int, subscriber_counts: tuple[int, ...] = SUBSCRIBERS,
        servers: tuple[str, ...] = ("echo", "tradepit"),
        repeat: int = 1) -> dict[str, list[Result]]:
    """Every scenario `repeat` times, each on a fresh server, echo and Tradepit taking
    turns so that a change in the machine's load falls on both; keeps the median run."""
    LOAD_AT_START[:] = [os.getloadavg()[0]]
    return uvloop.run(_run(orders, subscriber_counts, servers, repeat))


async def _run(orders: int, subscriber_counts: tuple[int, ...], servers: tuple[str, ...],
               repeat: int) -> dict[str, list[Result]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    tradepit_env = {
        **env, "TRADEPIT_ADDRESS": "127.0.0.1:0", "TRADEPIT_ADMIN_TOKEN": ADMIN,
        "TRADEPIT_DURABILITY": "off", "TRADEPIT_STREAM_QUEUE_SIZE": "10000000",
        "TRADEPIT_MAKERS_ENABLED": "false",  # only the benchmark's orders reach the feeds
        "TRADEPIT_RATE_LIMIT_PER_SECOND": "100000000", "TRADEPIT_RATE_LIMIT_BURST": "100000000",
    }
    results: dict[str, list[Result]] = {name: [] for name in servers}
    for count in subscriber_counts:
        runs: dict[str, list[Result]] = {name: [] for name in servers}
        for _ in range(repeat):
            if "echo" in servers:
                with server_process([sys.executable, "-m", "bench.marketdata.echo_server",
                                     "--orders", str(orders)], env,
                                    r"PORT (\d+)") as (port, pid):
                    runs["echo"].append(
                        await echo_scenario(port, pid, count, timed_orders(orders)))
            if "tradepit" in servers:
                with server_process([sys.executable, "-m", "tradepit.server"], tradepit_env,
                                    r"Tradepit is open on [\d.]+:(\d+)") as (port, pid):
                    runs["tradepit"].append(await tradepit_scenario(port, pid, count, orders))
        for name, rows in runs.items():
            ranked = sorted(rows, key=lambda r: r.updates_per_second)
            results[name].append(replace(ranked[len(ranked) // 2], runs_per_second=tuple(
                r.updates_per_second for r in rows)))
    return results


def markdown(results: dict[str, list[Result]], orders: int, repeat: int) -> str:
    """The RESULTS.md section: Tradepit's delivered updates/s beside the echo's."""
    host = machine()
    lines = [
        "## Market data: updates delivered per second, Tradepit against a bare fan-out echo\n",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {host['nproc']} CPUs "
        f"({host['cpu']}), Python {host['python']}"
        + (f"; load average {LOAD_AT_START[0]:.2f} when it began (the machine is shared: "
           "other work on it takes CPU from the three processes below)"
           if LOAD_AT_START else "")
        + f". Each figure is the median of {repeat} "
        "runs, each on a fresh server, echo and Tradepit taking turns. Command:\n",
        f"```sh\n{COMMAND.format(orders=orders, repeat=repeat)}\n```\n",
        "| subscribers | echo updates/s | Tradepit updates/s | ratio | target | met? |",
        "| ---: | ---: | ---: | ---: | --- | :---: |",
    ]
    for echo, tp in zip(results["echo"], results["tradepit"], strict=True):
        ratio = tp.updates_per_second / echo.updates_per_second
        target = f">= {TARGET:.0%} of echo" if tp.subscribers == 100 else ""
        met = ("yes" if ratio >= TARGET else "**no**") if target else ""
        lines.append(f"| {tp.subscribers} | {echo.updates_per_second:,.0f} | "
                     f"{tp.updates_per_second:,.0f} | {ratio:.0%} | {target} | {met} |")
    lines += [
        "",
        "Each run in detail (the median one; `all runs` lists every repetition's updates/s):\n",
        "| server | subscribers | seconds | updates received | updates per message | "
        "bytes per update | conflated | server CPU | server us per update | "
        "subscribers' CPU | agents' CPU | all runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in (*results["echo"], *results["tradepit"]):
        lines.append(
            f"| {row.server} | {row.subscribers} | {row.seconds:.2f} | {row.updates:,} | "
            f"{row.updates / max(row.batches, 1):.0f} | {row.encoded_bytes / row.updates:.1f} | "
            f"{row.conflated:,} | "
            f"{row.server_cpu:.0%} | {row.server_us_per_update:.2f} | "
            f"{row.subscriber_cpu:.0%} | {row.loader_cpu:.0%} | "
            + ", ".join(f"{r / 1000:,.0f}k" for r in row.runs_per_second) + " |")
    lines += ["", reading(results), "", NOTES.format(orders=timed_orders(orders)), ""]
    return "\n".join(lines) + "\n"


NOTES = """\
What is measured. Each run delivers the same script of {orders:,} orders: makers post \
lots of 10 on the ten levels of each side of one symbol, takers cross them with \
immediate-or-cancel lots, so every order moves L2 (depth 10) and every taker order also \
prints a trade. Tradepit receives the orders from four trading agents (two maker/taker \
pairs, one order stream each, 50 orders per message) and publishes what its book does. \
The echo is a bare MarketDataService with no exchange behind it: it replays the updates \
the same script causes (one DepthUpdate per order, one TradeUpdates per taker order, \
encoded before the clock starts), one round of the four agents' messages per \
MarketDataBatch, which is about how many Tradepit puts in one (`updates per message`), \
as fast as the streams take them. Updates per second are all the MarketDataUpdate \
messages the subscribers received, added over subscribers, divided by the time from the \
first order (or the echo's first group) until the last subscriber received the final \
marker trade. Every subscriber must receive the marker, the first one checks every \
sequence chain and counts every trade print, and a stream that ends early fails the run.

How the two cores are shared. The server is one process; the subscriber streams (one \
gRPC connection each, all in one asyncio loop) are a second; Tradepit's trading agents \
run in a third, the benchmark's own. The CPU columns are CPU seconds per wall second of \
each process over the run (100% is one core). A Python gRPC client spends more CPU \
receiving a message than the server spends sending it, so where the subscribers' column \
is near 100% the client, not the server, sets the pace, and that figure is a floor of \
what the server could deliver. `server us per update` (server CPU per delivered update) \
does not depend on who sets the pace.

What the figure does and does not say. It counts what a client receives. A subscriber \
that falls behind Tradepit gets L2 conflated to the latest state: one snapshot counts as \
one update though it replaces several, so conflation would lower Tradepit's count while \
saving it work (the `conflated` column says how often it happened; the echo never \
conflates). At 1 subscriber Tradepit's rate is how fast its market moves, which its \
order handling bounds (see the gRPC section), while the echo has no orders to handle, so \
that ratio says little about fan-out. The target applies at 100 subscribers, where \
fan-out weighs most; the paragraph under the tables says how much of Tradepit's server \
CPU went to fan-out and how much to the orders, which every subscriber count pays \
alike."""


def cpu_seconds(row: Result) -> float:
    return row.server_cpu * row.seconds


def reading(results: dict[str, list[Result]]) -> str:
    """Who set the pace at the largest subscriber count, the per-update server cost, and
    (with a 1-subscriber row) what fan-out adds per update against what the orders cost."""
    echo, tp = results["echo"][-1], results["tradepit"][-1]

    def pace(row: Result) -> str:
        return "the server" if row.server_cpu >= row.subscriber_cpu else "the subscribers"
    text = (
        f"At {tp.subscribers} subscribers in this run, {pace(echo)} set the echo's pace "
        f"(server {echo.server_cpu:.0%}, subscribers {echo.subscriber_cpu:.0%} of a core) "
        f"and {pace(tp)} Tradepit's (server {tp.server_cpu:.0%}, subscribers "
        f"{tp.subscriber_cpu:.0%}). Tradepit's server spent {tp.server_us_per_update:.2f} us "
        f"of CPU per delivered update, the echo's {echo.server_us_per_update:.2f} us: with "
        f"a client that cost nothing, Tradepit would reach about "
        f"{echo.server_us_per_update / tp.server_us_per_update:.0%} of the echo, "
        "against the ratio above measured with this client.")
    echo_one, tp_one = results["echo"][0], results["tradepit"][0]
    if tp_one.subscribers != 1 or tp.subscribers == 1:
        return text

    def marginal_us(one: Result, many: Result) -> float:
        return (cpu_seconds(many) - cpu_seconds(one)) / (many.updates - one.updates) * 1e6
    orders_cpu = cpu_seconds(tp_one)
    text += (
        f" What fan-out itself costs: from 1 to {tp.subscribers} subscribers Tradepit's "
        f"server CPU grew by {marginal_us(tp_one, tp):.2f} us per additional delivered "
        f"update, the echo's by {marginal_us(echo_one, echo):.2f} us. The rest is the "
        f"orders, which every subscriber count pays alike: at 1 subscriber Tradepit's "
        f"server already spent {orders_cpu:.2f} s of CPU on the run (reading and matching "
        f"the orders, sending their reports, computing the updates), "
        f"{orders_cpu / echo.seconds:.0%} of the {echo.seconds:.2f} s the echo's whole run "
        f"took at {tp.subscribers} subscribers.")
    if orders_cpu > echo.seconds:
        text += (
            f" Its event loop being one thread, that alone holds Tradepit to about "
            f"{echo.seconds / orders_cpu:.0%} of the echo at {tp.subscribers} subscribers, "
            "however little fan-out costs.")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=30_000,
                        help="orders per run (whole rounds of 200)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per scenario and server; the median is kept")
    parser.add_argument("--subscribers", type=int, nargs="+", default=list(SUBSCRIBERS))
    parser.add_argument("--servers", nargs="+", default=["echo", "tradepit"],
                        choices=["echo", "tradepit"], help="--record needs both")
    parser.add_argument("--out", default=str(RESULTS / "marketdata.json"))
    parser.add_argument("--record", action="store_true",
                        help="also rewrite the marketdata section of bench/RESULTS.md")
    args = parser.parse_args()
    results = run(args.orders, tuple(args.subscribers), tuple(args.servers), args.repeat)
    for rows in results.values():
        for row in rows:
            print(f"{row.server:9} {row.subscribers:4} subscribers "
                  f"{row.updates_per_second:12,.0f} updates/s  {row.seconds:6.2f} s  "
                  f"conflated {row.conflated:,}  server CPU {row.server_cpu:.0%} "
                  f"({row.server_us_per_update:.2f} us/update)  "
                  f"subscribers' CPU {row.subscriber_cpu:.0%}")
    document: dict[str, Any] = {
        "command": COMMAND.format(orders=args.orders, repeat=args.repeat),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **{name: [{**asdict(r), "updates_per_second": r.updates_per_second,
                   "server_us_per_update": r.server_us_per_update} for r in rows]
           for name, rows in results.items()},
    }
    Path(args.out).write_text(json.dumps(document, indent=2) + "\n")
    if args.record and len(results) == 2:
        write_section(ROOT / "bench" / "RESULTS.md", markdown(results, args.orders, args.repeat),
                      "marketdata")


if __name__ == "__main__":
    main()
