"""Where the time per order goes inside Tradepit, stage by stage, without the network.

    python -m bench.server.breakdown [--orders N] [--exchange rust|python]

Runs the order stream's own code in one process, on the default exchange (Rust) or the
Python one, on messages of 100 resting buy orders,
with the server's garbage-collector settings, and times per order: decoding the request
message; the exchange applying the order (pre-trade checks, escrow, the book,
settlement, the report); what the server does around it (the stream's request loop,
the rate limiter, stamping and applying the command, publishing the report to the
account's stream and the book change to market data); and encoding the response.
What remains of the end-to-end time per order is gRPC transport and asyncio.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from functools import partial
from typing import cast

from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount, CreateInstrument
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange
from tradepit.marketdata.hub import MarketDataHub
from tradepit.server import convert, wire
from tradepit.server.__main__ import GC_THRESHOLDS
from tradepit.server.gateway import Gateway
from tradepit.server.order_service import OrderService
from tradepit.server.ratelimit import RateLimiter
from tradepit_client.v1 import order_pb2

from bench.server.load import stream_messages

PER_MESSAGE = 100
UNLIMITED = 10**12


def _gateway(exchange: str) -> Gateway:
    gateway = Gateway(cast(Exchange, NativeExchange()) if exchange == "rust" else Exchange())
    gateway.apply(partial(CreateInstrument, "ACME", 1, 1, 10_000, 1_000))
    gateway.apply(partial(CreateAccount, "bench", "key"))
    gateway.apply(partial(AdjustBalance, 1, 10**15, BalanceChange.DEPOSIT))
    return gateway


async def _stages(orders_count: int, exchange_kind: str) -> dict[str, float]:
    wire_requests = [message.SerializeToString()
                     for message in stream_messages(orders_count, PER_MESSAGE)]
    seconds: dict[str, float] = {}

    began = time.process_time()
    messages = [order_pb2.OrderStreamRequest.FromString(data) for data in wire_requests]
    seconds["decode request"] = time.process_time() - began

    # The exchange alone, on the commands the server would build.
    exchange = _gateway(exchange_kind).exchange
    commands = [convert.submit_order(1, r.new, i)
                for i, r in enumerate(r for message in messages for r in message.requests)]
    began = time.process_time()
    for command in commands:
        exchange.execute(command)
    exchange_seconds = time.process_time() - began
    seconds["exchange (checks, escrow, book, settlement, report)"] = exchange_seconds
    exchange.take_reports()

    # The same orders through the server's own path, one stream subscribed.
    gateway = _gateway(exchange_kind)
    hub = MarketDataHub(gateway.exchange, gateway.now, defer=gateway.after_pending)
    gateway.on_market_events(hub.on_market_events)
    service = OrderService(gateway, RateLimiter(UNLIMITED, UNLIMITED), UNLIMITED)
    queue = gateway.subscribe(1, UNLIMITED)
    drained = []
    began = time.process_time()
    for message in messages:
        service._apply_message(1, message.requests, queue)
        drained.append(queue.drain())
    seconds["around it (stream loop, rate limit, gateway, publish, market data)"] = (
        time.process_time() - began - exchange_seconds)

    began = time.process_time()
    for reports in drained:
        wire.stream_response(reports)
    seconds["encode response (Rust)"] = time.process_time() - began
    return {name: value / orders_count * 1e6 for name, value in seconds.items()}


def per_order_us(orders_count: int, rounds: int = 5, exchange: str = "rust") -> dict[str, float]:
    """Microseconds of CPU per order in each stage on `exchange` ("rust", the server's
    default, or "python"), with the server's GC thresholds: the median of `rounds`
    rounds, each on fresh state (the host is shared and noisy)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        runs = [asyncio.run(_stages(orders_count, exchange)) for _ in range(rounds)]
    finally:
        gc.set_threshold(*thresholds)
    return {name: statistics.median(run[name] for run in runs) for name in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000, help="per round")
    parser.add_argument("--exchange", choices=("rust", "python"), default="rust")
    parser.add_argument("--out")
    args = parser.parse_args()
    result = per_order_us(args.orders, exchange=args.exchange)
    for name, micros in result.items():
        print(f"{name:70} {micros:6.2f} us/order")
    if args.out:
        with open(args.out, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
