"""Load scenarios for an OrderService, shared by the echo server and Tradepit.

Requests are built before the clock starts, so both servers face the same client.
Every scenario waits for an acknowledgement per order (a NEW or REJECTED report) and
fails loudly if any is missing: throughput only counts answered orders.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
from tradepit_client.v1 import common_pb2, order_pb2, order_pb2_grpc

ACKS = (common_pb2.EXEC_TYPE_NEW, common_pb2.EXEC_TYPE_REJECTED)


@dataclass(frozen=True)
class Result:
    scenario: str
    orders: int
    seconds: float
    rejected: int = 0
    p50_us: float = 0.0
    p99_us: float = 0.0

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.seconds


def orders(count: int, symbol: str = "ACME", start: int = 0) -> list[order_pb2.NewOrder]:
    """Passive buy orders spread over 50 price levels: they rest and never trade."""
    return [
        order_pb2.NewOrder(client_order_id=f"o{start + i}", symbol=symbol,
                           side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_LIMIT,
                           price=9_500 + (i % 50), quantity=1)
        for i in range(count)
    ]


async def unary_throughput(channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]],
                           count: int, concurrency: int = 16, start: int = 0) -> Result:
    stub = order_pb2_grpc.OrderServiceStub(channel)
    requests = iter(orders(count, start=start))
    rejected = 0

    async def worker() -> None:
        nonlocal rejected
        for request in requests:
            try:
                await stub.SubmitOrder(request, metadata=metadata)
            except grpc.aio.AioRpcError:
                rejected += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(f"unary x{concurrency}", count, time.perf_counter() - began, rejected)


async def unary_latency(channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]],
                        count: int, start: int = 0) -> Result:
    """One order at a time: the latency an agent sees at concurrency 1."""
    stub = order_pb2_grpc.OrderServiceStub(channel)
    samples = []
    began = time.perf_counter()
    for request in orders(count, start=start):
        sent = time.perf_counter_ns()
        await stub.SubmitOrder(request, metadata=metadata)
        samples.append((time.perf_counter_ns() - sent) / 1_000)
    seconds = time.perf_counter() - began
    cuts = statistics.quantiles(samples, n=100)
    return Result("unary x1", count, seconds, 0, cuts[49], cuts[98])


def stream_messages(count: int, per_message: int,
                    start: int = 0) -> list[order_pb2.OrderStreamRequest]:
    """`count` resting orders in OrderStream messages of `per_message` each."""
    batch = orders(count, start=start)
    return [order_pb2.OrderStreamRequest(requests=[order_pb2.OrderRequest(new=o)
                                                   for o in batch[i:i + per_message]])
            for i in range(0, count, per_message)]


async def stream_throughput(channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]],
                            count: int, per_message: int, start: int = 0) -> Result:
    """One OrderStream; `per_message` orders in each request message."""
    return await stream_sent(channel, metadata, stream_messages(count, per_message, start),
                             per_message)


async def stream_sent(channel: grpc.aio.Channel, metadata: Sequence[tuple[str, str]],
                      messages: list[order_pb2.OrderStreamRequest], per_message: int) -> Result:
    """Send messages built beforehand on one OrderStream, until every order is answered."""
    stub = order_pb2_grpc.OrderServiceStub(channel)
    count = sum(len(message.requests) for message in messages)
    call = stub.OrderStream(metadata=metadata)
    acked = rejected = 0

    async def read() -> None:
        nonlocal acked, rejected
        while acked < count:
            response = await call.read()
            if response is grpc.aio.EOF:
                raise RuntimeError(f"stream ended after {acked} of {count} acknowledgements")
            for report in response.reports:
                if report.exec_type in ACKS:
                    acked += 1
                    rejected += report.exec_type == common_pb2.EXEC_TYPE_REJECTED

    began = time.perf_counter()
    reader = asyncio.ensure_future(read())
    for message in messages:
        await call.write(message)
    await reader
    seconds = time.perf_counter() - began
    call.cancel()
    return Result(f"stream {per_message}/msg", count, seconds, rejected)
