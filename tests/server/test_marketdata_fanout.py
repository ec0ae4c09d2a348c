"""100 subscribers while trading runs, one of them reading one message a second.

The issue's slow-consumer promise, end to end against a real server process: the slow
reader is conflated (told so by the flag) instead of buffering without end, the
server's resident memory stays bounded, and the 99 fast readers' books stay exact.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
from durability.load import Ledger, run_load
from durability.process import ServerProcess
from tradepit_client import Client, LocalBook
from tradepit_client.v1 import common_pb2, marketdata_pb2, marketdata_pb2_grpc

FAST_READERS = 99
DEPTH = 10
MEMORY_BOUND_MB = 64


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def read_slowly(stub: marketdata_pb2_grpc.MarketDataServiceStub,
                      seen: list[marketdata_pb2.MarketDataUpdate], slow: asyncio.Event) -> None:
    """One message a second while `slow` is set, then as fast as it can."""
    request = marketdata_pb2.StreamMarketDataRequest(subscriptions=[marketdata_pb2.Subscription(
        symbol="ACME", channels=[marketdata_pb2.CHANNEL_L2], depth=DEPTH)])
    call = stub.StreamMarketData(request)
    try:
        while True:
            batch = await call.read()
            if batch is grpc.aio.EOF:
                return
            seen.extend(batch.updates)
            if slow.is_set():
                await asyncio.sleep(1.0)
    finally:
        call.cancel()


async def test_a_slow_reader_among_100_is_conflated_memory_stays_bounded_books_stay_right(
        tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "fanout.db", TRADEPIT_MARKET_DATA_QUEUE_SIZE="64")
    try:
        # The slow reader gets its own connection with a small HTTP/2 window that does not
        # grow, so a test-sized backlog reaches the server's queue instead of hiding in
        # transport buffers (at production volume a 64 KiB window fills in moments).
        slow_channel = grpc.aio.insecure_channel(server.address,
                                                 options=[("grpc.http2.bdp_probe", 0),
                                                          ("grpc.http2.lookahead_bytes", 1024)])
        async with grpc.aio.insecure_channel(server.address) as channel, slow_channel:
            stub = marketdata_pb2_grpc.MarketDataServiceStub(channel)
            books = [LocalBook("ACME", marketdata_pb2.CHANNEL_L2, depth=DEPTH)
                     for _ in range(FAST_READERS)]

            async def follow(book: LocalBook) -> None:
                async for _ in book.follow(stub):
                    pass

            readers = [asyncio.ensure_future(follow(book)) for book in books]
            slow_updates: list[marketdata_pb2.MarketDataUpdate] = []
            slow_mode = asyncio.Event()
            slow_mode.set()
            slow = asyncio.ensure_future(read_slowly(
                marketdata_pb2_grpc.MarketDataServiceStub(slow_channel), slow_updates, slow_mode))
            await asyncio.sleep(1.0)
            baseline = rss_mb(server.pid)
            samples = []

            async def sample() -> None:
                while True:
                    samples.append(rss_mb(server.pid))
                    await asyncio.sleep(0.25)

            sampler = asyncio.ensure_future(sample())
            await run_load(server.address, Ledger(), seed=7, tag="fanout", accounts=6,
                           duration=8.0)
            sampler.cancel()

            # An L2 book moves only when its top levels do: end on a change at the top, so
            # every reader's last update carries the book's final sequence.
            async with Client(server.address) as marker:
                await marker.create_account("marker")
                top = await stub.GetBook(marketdata_pb2.GetBookRequest(symbol="ACME", depth=1))
                price = top.bids[0].price if top.bids else top.asks[0].price - 1
                await marker.submit("ACME", common_pb2.SIDE_BUY, 1, price,
                                    type=common_pb2.ORDER_TYPE_LIMIT)
            final = await stub.GetBook(marketdata_pb2.GetBookRequest(symbol="ACME", depth=DEPTH))
            for book in books:
                await asyncio.wait_for(book.wait_for_sequence(final.sequence), 30)
            slow_mode.clear()  # catch up now: it must land on the latest state
            for _ in range(300):
                if slow_updates and slow_updates[-1].sequence >= final.sequence:
                    break
                await asyncio.sleep(0.1)
            slow.cancel()
            for task in readers:
                task.cancel()

        assert max(samples) - baseline < MEMORY_BOUND_MB, (baseline, max(samples))
        conflated = [u for u in slow_updates if u.conflated]
        assert conflated, "the slow reader was never conflated"
        assert all(u.snapshot for u in conflated)  # the latest state, not a backlog
        assert slow_updates[-1].sequence == final.sequence
        assert len(slow_updates) < final.sequence  # it skipped states instead of queueing them
        expected = ([(lvl.price, lvl.quantity, lvl.order_count) for lvl in final.bids],
                    [(lvl.price, lvl.quantity, lvl.order_count) for lvl in final.asks])
        assert final.bids or final.asks, "the market should not be empty"
        for book in books:
            assert book.in_sync
            assert ([tuple(level) for level in book.bids],
                    [tuple(level) for level in book.asks]) == expected
    finally:
        server.terminate()
