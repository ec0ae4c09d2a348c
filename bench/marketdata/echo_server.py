"""The ceiling: a bare MarketDataService that fans pre-encoded updates out to every stream.

At start it turns the workload's orders into the updates they cause (one L2 DepthUpdate
per order, plus a TradeUpdates print for each taker order), grouped per order-stream
message as Tradepit publishes them, and encodes each group once as a MarketDataBatch.
A producer then hands the groups to every subscriber's stream as fast as they are sent.
So this costs only gRPC and asyncio: no orders, no matching, no building or encoding
updates while the clock runs, no conflation.

    python -m bench.marketdata.echo_server --orders N [--address 127.0.0.1:0]
prints `PORT <n>` once it listens; `/bench.marketdata.EchoControl/Produce` starts the run.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import struct
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
import uvloop
from tradepit_client.v1 import common_pb2, marketdata_pb2, order_pb2

from bench.marketdata import workload

L2, TRADES = marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_TRADES
PRODUCE = "/bench.marketdata.EchoControl/Produce"
AHEAD = 8   # groups a stream may have waiting: ~2,400 updates, Tradepit's queue is 2,000
SERVICE = marketdata_pb2.DESCRIPTOR.services_by_name["MarketDataService"].full_name
Update = marketdata_pb2.MarketDataUpdate


class Levels:
    """Quantity and order count per price on one side: enough to say what an order changes."""

    def __init__(self, best_first: Iterable[int], descending: bool) -> None:
        self.levels = {price: [0, 0] for price in best_first}
        self.descending = descending

    def add(self, price: int, quantity: int) -> marketdata_pb2.PriceLevel:
        level = self.levels[price]
        level[0] += quantity
        level[1] += 1
        return marketdata_pb2.PriceLevel(price=price, quantity=level[0], order_count=level[1])

    def take_best(self, quantity: int) -> marketdata_pb2.PriceLevel | None:
        """Fill one whole resting order at the best price, as a taker of one lot does."""
        for price, level in sorted(self.levels.items(), reverse=self.descending):
            if level[0]:
                level[0] -= quantity
                if quantity == workload.LOT:   # the marker leaves the rest of its order
                    level[1] -= 1
                return marketdata_pb2.PriceLevel(price=price, quantity=level[0],
                                                 order_count=level[1])
        return None

    def top(self) -> list[marketdata_pb2.PriceLevel]:
        return [marketdata_pb2.PriceLevel(price=p, quantity=q, order_count=n)
                for p, (q, n) in sorted(self.levels.items(), reverse=self.descending) if q]


class Market:
    """The workload's book as aggregated levels, emitting the updates each order causes."""

    def __init__(self) -> None:
        self.bids = Levels(workload.BIDS, descending=True)
        self.asks = Levels(workload.ASKS, descending=False)
        self.sequence = 0
        self.last = {L2: 0, TRADES: 0}
        self.trade_id = 0

    def checksum(self) -> int:
        data = b"".join(struct.pack("<qq", lv.price, lv.quantity)
                        for lv in (*self.bids.top()[:workload.DEPTH],
                                   *self.asks.top()[:workload.DEPTH]))
        return zlib.crc32(data)

    def _update(self, channel: int, **payload: Any) -> Update:
        update = Update(symbol=workload.SYMBOL, channel=channel, sequence=self.sequence,
                        previous_sequence=self.last[channel], timestamp_ns=time.time_ns(),
                        **payload)
        self.last[channel] = self.sequence
        return update

    def _depth(self, side: int, level: marketdata_pb2.PriceLevel) -> Update:
        sides = {"bids": [level]} if side == common_pb2.SIDE_BUY else {"asks": [level]}
        return self._update(L2, depth=marketdata_pb2.DepthUpdate(
            **sides, checksum=self.checksum(), depth=workload.DEPTH))

    def apply(self, order: order_pb2.NewOrder) -> list[Update]:
        buy = order.side == common_pb2.SIDE_BUY
        if order.time_in_force != common_pb2.TIME_IN_FORCE_IOC:
            self.sequence += 1
            return [self._depth(order.side, (self.bids if buy else self.asks).add(
                order.price, order.quantity))]
        level = (self.asks if buy else self.bids).take_best(order.quantity)
        if level is None:
            return []
        self.sequence += 1
        self.trade_id += 1
        trade = marketdata_pb2.TradePrint(
            trade_id=self.trade_id, price=level.price, quantity=order.quantity,
            aggressor_side=order.side, timestamp_ns=time.time_ns(), sequence=self.sequence)
        resting = common_pb2.SIDE_SELL if buy else common_pb2.SIDE_BUY
        return [self._update(TRADES, trades=marketdata_pb2.TradeUpdates(trades=[trade])),
                self._depth(resting, level)]

    def snapshot(self) -> list[Update]:
        depth = marketdata_pb2.DepthUpdate(bids=self.bids.top()[:workload.DEPTH],
                                           asks=self.asks.top()[:workload.DEPTH],
                                           checksum=self.checksum(), depth=workload.DEPTH)
        return [Update(symbol=workload.SYMBOL, channel=L2, sequence=self.sequence,
                       snapshot=True, depth=depth),
                Update(symbol=workload.SYMBOL, channel=TRADES, sequence=self.sequence,
                       snapshot=True, trades=marketdata_pb2.TradeUpdates())]


def frame(update: Update) -> bytes:
    """`update` encoded as one element of MarketDataBatch.updates: batches are joins."""
    return marketdata_pb2.MarketDataBatch(updates=[update]).SerializeToString()


def build(rounds: int) -> tuple[list[Update], list[list[Update]]]:
    """The opening snapshots and, per round of the workload, the updates its orders cause.

    A round is one order message from every agent; Tradepit's event loop reads the four
    agents' messages in one turn and publishes what they did as one batch per stream,
    so a round is the group of updates one of its messages carries.
    """
    market = Market()
    for order in workload.seed_orders():
        market.apply(order)
    snapshot = market.snapshot()
    groups = [[u for pair in range(workload.PAIRS)
               for message in (workload.maker_message(r, pair), workload.taker_message(r, pair))
               for order in message for u in market.apply(order)]
              for r in range(rounds)]
    groups.append(market.apply(workload.marker_order()))
    return snapshot, groups


class Subscriber:
    """One stream's groups waiting to be sent, and the event that wakes its sender."""

    def __init__(self) -> None:
        self.pending: deque[bytes] = deque()
        self.ready = asyncio.Event()   # set by the producer: there is something to send
        self.room = asyncio.Event()    # set by the sender: one group fewer waiting


class EchoMarketData:
    """StreamMarketData that sends bytes it encoded before the clock started.

    Each group leaves as its own message, as Tradepit's do while its readers keep up.
    The producer runs at most AHEAD groups in front of the slowest stream: far enough not
    to wait on a round trip, and holding about what Tradepit's queue may hold.
    """

    def __init__(self, snapshot: list[Update], groups: list[list[Update]]) -> None:
        self.snapshot = b"".join(map(frame, snapshot))
        self.groups = [b"".join(map(frame, group)) for group in groups]
        self.subscribers: list[Subscriber] = []
        self.producer: asyncio.Task[None] | None = None

    async def stream(self, request: marketdata_pb2.StreamMarketDataRequest,
                     context: Any) -> AsyncIterator[bytes]:
        subscriber = Subscriber()
        self.subscribers.append(subscriber)   # before the snapshot: nothing can be missed
        try:
            yield self.snapshot
            while True:
                await subscriber.ready.wait()
                subscriber.ready.clear()
                while subscriber.pending:
                    group = subscriber.pending.popleft()
                    subscriber.room.set()
                    yield group
        finally:
            self.subscribers.remove(subscriber)
            subscriber.pending.clear()
            subscriber.room.set()

    async def produce(self) -> None:
        for group in self.groups:
            for subscriber in list(self.subscribers):
                while len(subscriber.pending) >= AHEAD:
                    subscriber.room.clear()
                    await subscriber.room.wait()
            for subscriber in self.subscribers:
                subscriber.pending.append(group)
                subscriber.ready.set()
            await asyncio.sleep(0)

    async def start(self, request: bytes, context: Any) -> bytes:
        self.producer = asyncio.ensure_future(self.produce())
        return b""


async def serve(address: str, orders: int) -> None:
    echo = EchoMarketData(*build(workload.rounds_for(orders)))
    server = grpc.aio.server(options=[("grpc.max_concurrent_streams", 1024)])
    service, method = PRODUCE.strip("/").split("/")
    server.add_generic_rpc_handlers([
        grpc.method_handlers_generic_handler(SERVICE, {"StreamMarketData": (
            grpc.unary_stream_rpc_method_handler(   # no response serializer: sends bytes
                echo.stream,
                request_deserializer=marketdata_pb2.StreamMarketDataRequest.FromString))}),
        grpc.method_handlers_generic_handler(
            service, {method: grpc.unary_unary_rpc_method_handler(echo.start)}),
    ])
    port = server.add_insecure_port(address)
    await server.start()
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1:0")
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    uvloop.run(serve(args.address, args.orders))
