"""Subscriber streams in one process: count what each receives until it sees the marker.

    python -m bench.marketdata.subscribers --port P --subscribers N

Each subscriber has its own channel (its own connection), subscribes to L2 (depth 10)
and trades on the workload's symbol, and waits for the opening snapshots; then the
process prints `READY`. From then on every MarketDataUpdate received counts, including
a snapshot flagged `conflated` (one message standing for the states it skipped), until
the marker trade. The process prints `RESULT {json}` and exits; any stream that ends
early fails the run. It runs apart from the server so that decoding and counting take
their own CPU, and apart from the Tradepit load generator for the same reason.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import grpc
import uvloop
from tradepit_client.v1 import marketdata_pb2

from bench.marketdata import workload

TRADES = marketdata_pb2.CHANNEL_TRADES
STREAM = "/tradepit.v1.MarketDataService/StreamMarketData"
Batch = marketdata_pb2.MarketDataBatch
# `snapshot: true, conflated: true` as encoded inside an update (fields 5 and 6, varints,
# written in field order). No other field of an L2 or trades update can produce these
# four bytes, so counting them counts conflated snapshots without decoding in Python.
CONFLATED_SNAPSHOT = b"\x28\x01\x30\x01"
TIMEOUT_S = 300.0


@dataclass
class Count:
    updates: int = 0        # after the opening snapshots, conflated snapshots included
    conflated: int = 0
    trade_prints: int = 0      # counted by the first subscriber only
    batches: int = 0
    encoded_bytes: int = 0
    finished_at: float = 0.0   # time.monotonic() when the marker arrived


def request_serializer(message: marketdata_pb2.StreamMarketDataRequest) -> bytes:
    return message.SerializeToString()


def request() -> marketdata_pb2.StreamMarketDataRequest:
    return marketdata_pb2.StreamMarketDataRequest(subscriptions=[marketdata_pb2.Subscription(
        symbol=workload.SYMBOL, depth=workload.DEPTH,
        channels=[marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_TRADES])])


def is_marker(update: marketdata_pb2.MarketDataUpdate) -> bool:
    return update.channel == TRADES and any(
        t.quantity == workload.MARKER for t in update.trades.trades)


async def follow(channel: grpc.aio.Channel, count: Count, opened: asyncio.Event,
                 detail: bool) -> None:
    """One subscriber: snapshots first, then count until the marker trade.

    Messages arrive as bytes and are decoded in C; only a `detail` subscriber walks every
    update in Python (the sequence chain of each channel, trade prints): doing that for
    all of them would cost the client more than the server spends sending.
    """
    call = channel.unary_stream(STREAM, request_serializer=request_serializer)(request())
    waiting = 2   # the L2 and the trades snapshot
    chains = Chains()
    async for data in call:
        batch = Batch.FromString(data)
        updates = batch.updates
        if waiting:
            openers = [u for u in updates if u.snapshot and not u.conflated]
            waiting -= len(openers)
            chains.walk(openers)
            if waiting <= 0:
                opened.set()
            updates = updates[len(openers):]
            if not updates:
                continue
        count.batches += 1
        count.encoded_bytes += len(data)
        count.updates += len(updates)
        count.conflated += data.count(CONFLATED_SNAPSHOT)
        if detail:
            count.trade_prints += chains.walk(updates)
        if any(is_marker(u) for u in updates[-4:]):
            count.finished_at = time.monotonic()
            call.cancel()
            return
    raise RuntimeError(f"stream ended before the marker, after {count.updates} updates")


class Chains:
    """Each channel's sequence chain, checked as marketdata.proto tells a client to."""

    def __init__(self) -> None:
        self.last: dict[int, int] = {}
        self.fresh: set[int] = set()   # channels whose last update was a snapshot

    def walk(self, updates: Iterable[marketdata_pb2.MarketDataUpdate]) -> int:
        """Fail on a gap; return the trade prints among `updates`."""
        prints = 0
        for u in updates:
            channel, last = u.channel, self.last.get(u.channel, 0)
            if u.snapshot:
                self.fresh.add(channel)
            elif channel in self.fresh:
                if u.sequence <= last:
                    continue
                if u.previous_sequence > last:
                    raise RuntimeError(f"gap after a snapshot on channel {channel}")
                self.fresh.discard(channel)
            elif u.previous_sequence != last:
                raise RuntimeError(f"gap on channel {channel}: previous_sequence "
                                   f"{u.previous_sequence}, last applied {last}")
            self.last[channel] = u.sequence
            if channel == TRADES and not u.snapshot:
                prints += len(u.trades.trades)
        return prints


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(port: int, subscribers: int) -> None:
    options = [("grpc.use_local_subchannel_pool", 1),
               ("grpc.max_receive_message_length", 256 << 20)]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options)
                for _ in range(subscribers)]
    counts = [Count() for _ in range(subscribers)]
    opened = [asyncio.Event() for _ in counts]
    tasks = [asyncio.ensure_future(follow(channel, c, o, detail=i == 0))
             for i, (channel, c, o) in enumerate(zip(channels, counts, opened, strict=True))]
    waiting = asyncio.gather(*(o.wait() for o in opened))
    done, _ = await asyncio.wait([waiting, *tasks], timeout=60,
                                 return_when=asyncio.FIRST_COMPLETED)
    if waiting not in done:
        raise RuntimeError("subscribers did not all receive their snapshots")
    cpu_at_ready = cpu_seconds()
    print("READY", flush=True)
    await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT_S)
    for channel in channels:
        await channel.close()
    print("RESULT " + json.dumps({"cpu_seconds": cpu_seconds() - cpu_at_ready,
                                  "subscribers": [asdict(c) for c in counts]}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--subscribers", type=int, default=1)
    args = parser.parse_args()
    try:
        uvloop.run(main(args.port, args.subscribers))
    except Exception as error:
        print(f"FAILED {error!r}", flush=True)
        sys.exit(1)
