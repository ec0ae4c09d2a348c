"""A market-data reader: follows L2 depth and trades of every symbol on one stream and
checks each update's sequence as the market-data protocol defines it.

L2 goes through the SDK's LocalBook (sequence rule and checksum); on a gap or a bad
checksum the reader fetches GetBook and goes on from it. A gap in trades cannot be
mended from a book snapshot, so the reader resubscribes: the new stream starts with a
snapshot of each channel. It does the same when the server ends a stream that fell
behind (RESOURCE_EXHAUSTED), as the protocol asks. A gap still open when the run ends is
an unrecovered gap.
"""

from __future__ import annotations

import time

import grpc
from locust import task
from locust.env import Environment
from locust.runners import STATE_CLEANUP, STATE_STOPPED, STATE_STOPPING
from tradepit_client.local_book import BookOutOfSync, LocalBook
from tradepit_client.v1 import marketdata_pb2

from bench.load.grpc_user import DEADLINE, GrpcUser, describe
from bench.load.plan import SYMBOLS
from bench.load.recorder import RECORDER
from bench.load.sequences import SequenceChain, SequenceGap

L2, TRADES = marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_TRADES
DEPTH = 10
_ENDING = (STATE_STOPPING, STATE_STOPPED, STATE_CLEANUP)


class MarketDataReader(GrpcUser):
    abstract = False
    kind = "reader"

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.books = {symbol: LocalBook(symbol, L2, DEPTH) for symbol in SYMBOLS}
        self.tapes = {symbol: SequenceChain(f"{symbol} trades") for symbol in SYMBOLS}
        self.broken: set[str] = set()  # "<symbol> <channel>" with a gap not yet mended

    def stopping(self) -> bool:
        runner = self.environment.runner
        return runner is not None and runner.state in _ENDING

    @task
    def read(self) -> None:
        """Follow one stream until the run ends, a trades gap, or the server ends it."""
        request = marketdata_pb2.StreamMarketDataRequest(subscriptions=[
            marketdata_pb2.Subscription(symbol=symbol, channels=[L2, TRADES], depth=DEPTH)
            for symbol in SYMBOLS])
        call = self.market.StreamMarketData(request)
        try:
            for batch in call:
                if not self.on_batch(batch) or self.stopping():
                    return
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                RECORDER.count("reader.resubscribes")  # fell behind: the task resubscribes
            elif not (code == grpc.StatusCode.CANCELLED and self.stopping()):
                self.error(f"market-data stream ended: {describe(error)}")
        finally:
            call.cancel()

    def on_batch(self, batch: marketdata_pb2.MarketDataBatch) -> bool:
        """Apply a batch; False when the stream must be replaced (a trades gap)."""
        newest = 0
        for update in batch.updates:
            RECORDER.count("reader.updates")
            RECORDER.count("reader.conflated", update.conflated)
            newest = max(newest, update.timestamp_ns)
            if update.channel == L2:
                self.on_depth(update)
            elif update.channel == TRADES and not self.on_trades(update):
                return False
        # How old the newest news is on arrival: the server stamps it when it publishes.
        self.environment.events.request.fire(
            request_type=self.kind, name="StreamMarketData batch",
            response_time=max(0.0, (time.time_ns() - newest) / 1e6) if newest else 0.0,
            response_length=batch.ByteSize(), exception=None, context={})
        return True

    def on_trades(self, update: marketdata_pb2.MarketDataUpdate) -> bool:
        key = f"{update.symbol} trades"
        try:
            applied = self.tapes[update.symbol].offer(update)
        except SequenceGap as gap:
            self.gap(key, str(gap))
            return False
        if update.snapshot:
            self.mended(key)
        elif applied:
            RECORDER.count("reader.trades", len(update.trades.trades))
        return True

    def on_depth(self, update: marketdata_pb2.MarketDataUpdate) -> None:
        key = f"{update.symbol} L2"
        book = self.books[update.symbol]
        try:
            book.apply(update)
        except BookOutOfSync as error:
            self.gap(key, str(error))
            try:
                snapshot = self.market.GetBook(marketdata_pb2.GetBookRequest(
                    symbol=update.symbol, depth=book.depth), timeout=DEADLINE)
                book.load_snapshot(snapshot)
                RECORDER.count("reader.resyncs")
                book.apply(update)  # normally covered by the snapshot; else it chains on
            except BookOutOfSync:
                return  # still out: the next update tries again
            except grpc.RpcError as failed:
                self.error(f"GetBook {update.symbol}: {describe(failed)}")
                return
        if book.in_sync:
            self.mended(key)

    def gap(self, key: str, message: str) -> None:
        RECORDER.count("reader.gaps")
        self.broken.add(key)
        self.environment.events.request.fire(
            request_type=self.kind, name="sequence gap (recovering)", response_time=0.0,
            response_length=0, exception=None, context={"message": message})

    def mended(self, key: str) -> None:
        if key in self.broken:
            self.broken.discard(key)
            RECORDER.count("reader.recovered")

    def on_stop(self) -> None:
        for key in sorted(self.broken):
            RECORDER.count("reader.unrecovered")
            self.error(f"{key}: a sequence gap was never recovered")
        super().on_stop()
