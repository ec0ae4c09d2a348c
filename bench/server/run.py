"""Tradepit against the echo ceiling, in one run, on this machine.

    python -m bench.server.run [--orders N] [--smoke] [--profile bench/results/server.prof]

Starts each server as its own process (uvloop, 127.0.0.1, a free port), drives the same
scenarios at both from this process, and writes bench/results/server.json plus the
`server` section of bench/RESULTS.md. Tradepit runs with SQLite-free in-memory state,
rate limits lifted, and an account funded by the admin.
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

from bench.server.load import Result, stream_throughput, unary_latency, unary_throughput

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
ADMIN = "bench-admin"


@contextmanager
def server_process(command: list[str], env: dict[str, str], pattern: str) -> Iterator[int]:
    """Start a server, wait for the line that names its port, stop it afterwards."""
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
        yield port
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


def run(count: int, latency_count: int, profile: str | None) -> dict[str, list[Result]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    results: dict[str, list[Result]] = {}
    with server_process([sys.executable, "-m", "bench.server.echo_server"], env,
                        r"PORT (\d+)") as port:
        results["echo"] = uvloop.run(scenarios(port, (), count, latency_count))
    tradepit_env = {
        **env, "TRADEPIT_ADDRESS": "127.0.0.1:0", "TRADEPIT_ADMIN_TOKEN": ADMIN,
        "TRADEPIT_RATE_LIMIT_PER_SECOND": "100000000", "TRADEPIT_RATE_LIMIT_BURST": "100000000",
        "TRADEPIT_MAX_MESSAGE_BYTES": str(16 << 20), "TRADEPIT_STREAM_QUEUE_SIZE": "10000000",
    }
    command = [sys.executable, "-m", "tradepit.server"]
    if profile:
        command = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "tradepit.server"]
    with server_process(command, tradepit_env, r"Tradepit is open on [\d.]+:(\d+)") as port:
        key = uvloop.run(funded_key(port))
        metadata = (("authorization", f"Bearer {key}"),)
        results["tradepit"] = uvloop.run(scenarios(port, metadata, count, latency_count))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--latency-orders", type=int, default=3_000)
    parser.add_argument("--profile", help="write Tradepit's cProfile stats here")
    parser.add_argument("--out", default=str(RESULTS / "server.json"))
    args = parser.parse_args()
    results = run(args.orders, args.latency_orders, args.profile)
    for name, rows in results.items():
        for row in rows:
            assert row.rejected == 0, f"{name} {row.scenario}: {row.rejected} orders rejected"
            print(f"{name:9} {row.scenario:15} {row.orders_per_second:12,.0f} orders/s"
                  + (f"  p50 {row.p50_us:7.1f} us  p99 {row.p99_us:7.1f} us" if row.p50_us
                     else ""))
    Path(args.out).write_text(json.dumps(
        {name: [{**asdict(r), "orders_per_second": r.orders_per_second} for r in rows]
         for name, rows in results.items()}, indent=2))


if __name__ == "__main__":
    main()
