"""Where the time per order goes inside Tradepit, stage by stage, without the network.

    python -m bench.server.breakdown [--orders N]

Times, per order: decoding the request message, the exchange applying the order
(pre-trade checks, escrow, the book, settlement, the report), converting the report to
protobuf, and encoding the response. What remains of the end-to-end time per order is
gRPC transport, asyncio scheduling and the order-stream plumbing.
"""

from __future__ import annotations

import argparse
import json
import time

from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount, CreateInstrument, SubmitOrder
from tradepit.exchange.exchange import Exchange
from tradepit.server import convert
from tradepit_client.v1 import order_pb2

from bench.server.load import orders


def per_order_us(orders_count: int) -> dict[str, float]:
    exchange = Exchange()
    exchange.execute(CreateInstrument("ACME", 1, 1, 10_000, 1_000, 0))
    exchange.execute(CreateAccount("bench", "key", 0))
    exchange.execute(AdjustBalance(1, 10**15, BalanceChange.DEPOSIT, 0))
    requests = orders(orders_count)
    wire = [order_pb2.OrderStreamRequest(requests=[order_pb2.OrderRequest(new=o)
                                                   for o in requests[i:i + 100]])
            .SerializeToString() for i in range(0, orders_count, 100)]
    stages: dict[str, float] = {}

    began = time.perf_counter()
    decoded = [order_pb2.OrderStreamRequest.FromString(data) for data in wire]
    stages["decode request"] = time.perf_counter() - began

    commands = [SubmitOrder(1, r.new.client_order_id, r.new.symbol, r.new.side, r.new.type,
                            r.new.time_in_force, r.new.price, r.new.quantity, r.new.post_only,
                            r.new.self_trade_prevention, i)
                for i, r in enumerate(r for message in decoded for r in message.requests)]
    began = time.perf_counter()
    for command in commands:
        exchange.execute(command)
    stages["exchange (checks, escrow, book, report)"] = time.perf_counter() - began
    reports = exchange.take_reports()

    began = time.perf_counter()
    converted = [convert.report(r) for r in reports]
    stages["report to protobuf"] = time.perf_counter() - began

    began = time.perf_counter()
    for i in range(0, len(converted), 100):
        order_pb2.OrderStreamResponse(reports=converted[i:i + 100]).SerializeToString()
    stages["encode response"] = time.perf_counter() - began
    return {name: seconds / orders_count * 1e6 for name, seconds in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--out")
    args = parser.parse_args()
    result = per_order_us(args.orders)
    for name, micros in result.items():
        print(f"{name:42} {micros:6.2f} us/order")
    if args.out:
        with open(args.out, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
