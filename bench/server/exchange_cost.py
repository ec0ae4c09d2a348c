"""The exchange alone, Python against native, per command: what a Rust exchange would
save the order path (issue 3).

    python -m bench.server.exchange_cost [--orders N] [--rounds N]

Two workloads, each applied in one process to a fresh exchange of each kind in turn,
round after round: the server benchmark's resting buy orders (bench/server/load.py, the
order stream's 100-per-message scenario), and trading: each buy rests and the next sell
fills it (escrow, settlement and two fills per trade). Per command: `execute`, then
taking its reports and market events, as the gateway does.

Then the order stream's whole path in process, as bench/server/breakdown.py runs it
(journal off: request loop, rate limiter, gateway, market data, response encoding), on
the resting buys with each exchange behind the gateway as the server runs it (the Rust
one through `NativeExchange`, tradepit/exchange/native.py).

The figures to quote are the ratios of the medians, measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from tradepit.exchange import model
from tradepit.exchange.codes import ExecType, RejectCode
from tradepit.exchange.commands import (
    AdjustBalance,
    Command,
    CreateAccount,
    CreateInstrument,
    SubmitOrder,
)
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange
from tradepit.marketdata.hub import MarketDataHub
from tradepit.server import wire
from tradepit.server.__main__ import GC_THRESHOLDS
from tradepit.server.gateway import Gateway
from tradepit.server.order_service import OrderService
from tradepit.server.ratelimit import RateLimiter
from tradepit_client.v1 import order_pb2

from bench.server.breakdown import PER_MESSAGE, UNLIMITED
from bench.server.load import orders, stream_messages

SHAPES = {"ExecutionReport": model.ExecutionReport, "TradePrint": model.TradePrint,
          "BookChange": model.BookChange, "StatusChange": model.StatusChange,
          "Reject": Reject, "RejectCode": RejectCode, "Fill": model.Fill}


def native_exchange() -> Any:
    from tradepit._native import Exchange as NativeExchange

    return NativeExchange(SHAPES)


def resting_buys(count: int) -> list[Command]:
    setup: list[Command] = [CreateInstrument("ACME", 1, 1, 10_000, 1_000, 1),
                            CreateAccount("bench", "key", 1),
                            AdjustBalance(1, 10**15, 1, 1)]
    return setup + [SubmitOrder(1, o.client_order_id, o.symbol, o.side, o.type,
                                o.time_in_force, o.price, o.quantity, o.post_only,
                                o.self_trade_prevention, 2 + i)
                    for i, o in enumerate(orders(count))]


def trading(count: int) -> list[Command]:
    """A buy that rests, then a sell from another account that fills it, over and over."""
    commands: list[Command] = [CreateInstrument("ACME", 1, 1, 10_000, 1_000, 1)]
    for account in (1, 2):
        commands += [CreateAccount(f"trader {account}", f"key {account}", 1),
                     AdjustBalance(account, 10**15, 1, 1),
                     AdjustBalance(account, 10**9, 1, 1, "ACME")]
    for i in range(count):
        side = 1 + i % 2
        commands.append(SubmitOrder(side, "", "ACME", side, 1, 1, 9_990 + i // 2 % 20, 5, False,
                                    1, 2 + i))
    return commands


def _stream_path(exchange: Any, messages: list[order_pb2.OrderStreamRequest]) -> float:
    """Seconds of CPU for the order stream's path to apply `messages` with `exchange`."""
    gateway = Gateway(exchange)
    for make in (partial(CreateInstrument, "ACME", 1, 1, 10_000, 1_000),
                 partial(CreateAccount, "bench", "key"),
                 partial(AdjustBalance, 1, 10**15, 1)):
        gateway.apply(make)
    hub = MarketDataHub(exchange, gateway.now, defer=gateway.after_pending)
    gateway.on_market_events(hub.on_market_events)
    service = OrderService(gateway, RateLimiter(UNLIMITED, UNLIMITED), UNLIMITED)
    queue = gateway.subscribe(1, UNLIMITED)
    acknowledged = 0
    began = time.process_time()
    for message in messages:
        service._apply_message(1, message.requests, queue)
        reports = queue.drain()
        acknowledged += sum(1 for r in reports if r.exec_type == ExecType.NEW)
        wire.stream_response(reports)
    seconds = time.process_time() - began
    count = sum(len(message.requests) for message in messages)
    if acknowledged != count:
        raise RuntimeError(f"{count - acknowledged} of {count} orders were not accepted")
    return seconds


def stream_path_us(count: int, rounds: int) -> dict[str, float]:
    """Median microseconds per order of the stream's path with each exchange, alternating,
    with the server's collector settings."""
    messages = stream_messages(count, PER_MESSAGE)
    spent: dict[str, list[float]] = {"python": [], "native": []}
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        for _ in range(rounds):
            spent["python"].append(_stream_path(Exchange(), messages) / count * 1e6)
            spent["native"].append(_stream_path(NativeExchange(), messages) / count * 1e6)
    finally:
        gc.set_threshold(*thresholds)
    return {name: statistics.median(values) for name, values in spent.items()}


def _apply(exchange: Any, commands: list[Command]) -> float:
    """Seconds of CPU to apply `commands`, as the gateway does per command."""
    execute, reports, events = (exchange.execute, exchange.take_reports,
                                exchange.take_market_events)
    began = time.process_time()
    for command in commands:
        with contextlib.suppress(Reject):
            execute(command)
        reports()
        events()
    return time.process_time() - began


def per_command_us(commands: list[Command], rounds: int,
                   makers: dict[str, Callable[[], Any]]) -> dict[str, float]:
    """Median microseconds per command of each kind of exchange, alternating."""
    spent: dict[str, list[float]] = {name: [] for name in makers}
    enabled = gc.isenabled()
    gc.disable()  # both pay the same collections in the server; here they blur the ratio
    try:
        for _ in range(rounds):
            for name, make in makers.items():
                spent[name].append(_apply(make(), commands) / len(commands) * 1e6)
    finally:
        if enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000, help="commands per workload")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    makers = {"python": Exchange, "native": native_exchange}
    for workload, commands in (("resting buys", resting_buys(args.orders)),
                               ("trading", trading(args.orders))):
        result = per_command_us(commands, args.rounds, makers)
        _print(workload, "command", result)
    _print("stream path", "order", stream_path_us(args.orders, args.rounds))


def _print(label: str, unit: str, figures: dict[str, float]) -> None:
    print(f"{label:14} python {figures['python']:6.2f} us/{unit}  native "
          f"{figures['native']:6.2f} us/{unit}  ratio "
          f"{figures['python'] / figures['native']:5.2f}x")


if __name__ == "__main__":
    main()
