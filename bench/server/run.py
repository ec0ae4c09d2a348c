"""Tradepit against the echo ceiling, in one run, on this machine.

    python -m bench.server.run [--orders N] [--smoke] [--profile bench/results/server.prof]

Starts each server as its own process (uvloop, 127.0.0.1, a free port), drives the same
scenarios at both from this process, and writes bench/results/server.json plus the
`server` section of bench/RESULTS.md. Tradepit runs with in-memory state only,
rate limits lifted, the journal off (`TRADEPIT_DURABILITY=off`), and an account funded
by the admin.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
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
EXCHANGES = {"tradepit": "python", "tradepit-rust": "rust"}
LABELS = {"tradepit": "Python exchange", "tradepit-rust": "Rust exchange"}


def run(count: int, latency_count: int, profile: str | None) -> dict[str, list[Result]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    results: dict[str, list[Result]] = {}
    with server_process([sys.executable, "-m", "bench.server.echo_server"], env,
                        r"PORT (\d+)") as (port, _):
        results["echo"] = uvloop.run(scenarios(port, (), count, latency_count))
    tradepit_env = {
        **env, "TRADEPIT_ADDRESS": "127.0.0.1:0", "TRADEPIT_ADMIN_TOKEN": ADMIN,
        "TRADEPIT_DURABILITY": "off",
        "TRADEPIT_MAKERS_ENABLED": "false",  # measure the clients' orders alone
        "TRADEPIT_RATE_LIMIT_PER_SECOND": "100000000", "TRADEPIT_RATE_LIMIT_BURST": "100000000",
        "TRADEPIT_MAX_MESSAGE_BYTES": str(16 << 20), "TRADEPIT_STREAM_QUEUE_SIZE": "10000000",
    }
    command = [sys.executable, "-m", "tradepit.server"]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "tradepit.server"]
    for name, exchange in EXCHANGES.items():
        with server_process(command, {**tradepit_env, "TRADEPIT_EXCHANGE": exchange},
                            r"Tradepit is open on [\d.]+:(\d+)") as (port, _):
            key = uvloop.run(funded_key(port))
            metadata = (("authorization", f"Bearer {key}"),)
            results[name] = uvloop.run(scenarios(port, metadata, count, latency_count))
    return results


TARGETS = {"stream 1/msg": (0.70, "orders/s >= 70% of echo"),
           "stream 100/msg": (0.50, "orders/s >= 50% of echo")}
COMMAND = ".venv/bin/python -m bench.server.run --orders {orders} --latency-orders {latency}"


def markdown(results: dict[str, list[Result]], stages: dict[str, float], orders: int,
             latency: int) -> str:
    """The RESULTS.md section: each Tradepit figure, on either exchange, beside the echo's
    as a ratio."""
    host = machine()
    echo = {r.scenario: r for r in results["echo"]}
    ours = {name: {r.scenario: r for r in results[name]} for name in EXCHANGES}
    lines = [
        "## gRPC server: Tradepit against a bare echo server\n",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {host['nproc']} CPUs "
        f"({host['cpu']}), Python {host['python']}. The servers are separate processes on "
        "127.0.0.1 with uvloop (Tradepit with its journal off: this measures the order path), "
        "Tradepit once on each exchange (`TRADEPIT_EXCHANGE`: the Python one, the default, "
        "and the Rust one); one client process drives the same pre-built requests at each, "
        "in one run. Every order is acknowledged before it counts. Command:\n",
        f"```sh\n{COMMAND.format(orders=orders, latency=latency)}\n```\n",
        "| scenario | echo orders/s | " + " | ".join(
            f"{LABELS[name]} orders/s | ratio" for name in EXCHANGES) + " | target | met? |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in EXCHANGES) + " | --- | :---: |",
    ]
    for base in results["echo"]:
        target, text = TARGETS.get(base.scenario, (None, ""))
        cells, verdicts = [], []
        for name in EXCHANGES:
            rate = ours[name][base.scenario].orders_per_second
            ratio = rate / base.orders_per_second
            cells.append(f"{rate:,.0f} | {ratio:.0%}")
            if target is not None:
                verdicts.append("yes" if ratio >= target else "**no**")
        lines.append(f"| {base.scenario} | {base.orders_per_second:,.0f} | "
                     + " | ".join(cells) + f" | {text} | {' / '.join(verdicts)} |")
    lines += [
        "",
        "| latency at concurrency 1 (unary) | echo | " + " | ".join(
            f"{LABELS[name]} | ratio" for name in EXCHANGES) + " | target | met? |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in EXCHANGES) + " | --- | :---: |",
    ]
    unary = echo["unary x1"]
    for label, field, target_text in (("p50", "p50_us", ""), ("p99", "p99_us", "<= 2x echo")):
        cells, verdicts = [], []
        for name in EXCHANGES:
            value = getattr(ours[name]["unary x1"], field)
            ratio = value / getattr(unary, field)
            cells.append(f"{value:,.0f} us | {ratio:.2f}x")
            verdicts.append("yes" if ratio <= 2 else "**no**")
        lines.append(f"| {label} | {getattr(unary, field):,.0f} us | " + " | ".join(cells)
                     + f" | {target_text} | {' / '.join(verdicts) if target_text else ''} |")
    lines += [
        "",
        "The \"met?\" column reads Python exchange / Rust exchange.",
        "",
        "Where the time per order goes inside Tradepit on the Python exchange "
        "(`python -m bench.server.breakdown`, the same stages without the network):\n",
        "| stage | us per order |",
        "| --- | ---: |",
        *(f"| {name} | {micros:.2f} |" for name, micros in stages.items()),
        "",
    ]
    echo_us = 1e6 / echo["stream 100/msg"].orders_per_second
    python_us, rust_us = (1e6 / ours[name]["stream 100/msg"].orders_per_second
                          for name in EXCHANGES)
    staged = sum(stages.values())
    rest = python_us - staged
    transport = (f"the other {rest:.1f} us are gRPC and asyncio, as in the echo"
                 if rest > 1 else
                 "gRPC and asyncio add little beside them (the stages are CPU time measured "
                 "apart, in one process, so the sum is only indicative)")
    lines += [
        f"At 100 orders per message the echo spends {echo_us:.1f} us per order end to end, "
        f"Tradepit {python_us:.1f} us on the Python exchange and {rust_us:.1f} us on the "
        f"Rust one. On the Python exchange the stages above account for {staged:.1f} us; "
        f"{transport}. The exchange stage is Python (pre-trade checks, escrow, settlement "
        "and the order record) around a book that takes well under 1 us; the Rust exchange "
        "does the same in one call per order (`python -m bench.server.exchange_cost`: "
        "see the notes below), which is the difference between the two columns.",
        "",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--latency-orders", type=int, default=3_000)
    parser.add_argument("--profile", help="write Tradepit's cProfile stats here")
    parser.add_argument("--out", default=str(RESULTS / "server.json"))
    parser.add_argument("--record", action="store_true",
                        help="also rewrite the server section of bench/RESULTS.md")
    args = parser.parse_args()
    results = run(args.orders, args.latency_orders, args.profile)
    for name, rows in results.items():
        for row in rows:
            assert row.rejected == 0, f"{name} {row.scenario}: {row.rejected} orders rejected"
            print(f"{name:9} {row.scenario:15} {row.orders_per_second:12,.0f} orders/s"
                  + (f"  p50 {row.p50_us:7.1f} us  p99 {row.p99_us:7.1f} us" if row.p50_us
                     else ""))
    stages = per_order_us(20_000)
    Path(args.out).write_text(json.dumps(
        {"breakdown_us_per_order": stages}
        | {name: [{**asdict(r), "orders_per_second": r.orders_per_second} for r in rows]
           for name, rows in results.items()}, indent=2))
    if args.record:
        write_section(RESULTS / ".." / "RESULTS.md",
                      markdown(results, stages, args.orders, args.latency_orders), "server")


if __name__ == "__main__":
    main()
