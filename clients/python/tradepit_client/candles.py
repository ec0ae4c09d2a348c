"""Candles as plain values: fetched with GetCandles, followed on the CANDLES channel, or
computed from trades, so an agent can chart without protobuf and a test can check the
server's candles against the trades themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

import grpc

from tradepit_client.client import TradepitError, _call
from tradepit_client.v1 import marketdata_pb2

if TYPE_CHECKING:
    from tradepit_client.v1.marketdata_pb2_grpc import MarketDataServiceAsyncStub

__all__ = ["INTERVAL_NS", "Candle", "CandleSeries", "candles_from_trades", "follow_candles",
           "get_candles"]

Interval: TypeAlias = "marketdata_pb2.CandleInterval.ValueType"
ONE_MINUTE = marketdata_pb2.CANDLE_INTERVAL_1M
_SECOND = 1_000_000_000
INTERVAL_NS: dict[Interval, int] = {
    marketdata_pb2.CANDLE_INTERVAL_1S: _SECOND,
    marketdata_pb2.CANDLE_INTERVAL_1M: 60 * _SECOND,
    marketdata_pb2.CANDLE_INTERVAL_5M: 300 * _SECOND,
    marketdata_pb2.CANDLE_INTERVAL_15M: 900 * _SECOND,
    marketdata_pb2.CANDLE_INTERVAL_1H: 3600 * _SECOND,
    marketdata_pb2.CANDLE_INTERVAL_1D: 86400 * _SECOND,
}


@dataclass(frozen=True)
class Candle:
    """One interval of trades. Integers as on the wire; `closed` means final."""

    interval: Interval
    start_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    notional: int
    trade_count: int
    closed: bool = False

    @classmethod
    def from_proto(cls, candle: marketdata_pb2.Candle) -> Candle:
        return cls(candle.interval, candle.start_ns, candle.open, candle.high, candle.low,
                   candle.close, candle.volume, candle.notional, candle.trade_count,
                   candle.closed)

    @property
    def end_ns(self) -> int:
        """Exclusive end of the interval."""
        return self.start_ns + INTERVAL_NS[self.interval]


async def get_candles(stub: MarketDataServiceAsyncStub, symbol: str,
                      interval: Interval = ONE_MINUTE, start_ns: int = 0, end_ns: int = 0,
                      limit: int = 0) -> list[Candle]:
    """GetCandles as a list, oldest first; intervals without trades are absent."""
    request = marketdata_pb2.GetCandlesRequest(symbol=symbol, interval=interval,
                                               start_ns=start_ns, end_ns=end_ns, limit=limit)
    response = await _call(stub.GetCandles, request, ())
    return [Candle.from_proto(candle) for candle in response.candles]


class _Trade(Protocol):
    """What a candle needs of a trade: a marketdata TradePrint or a ListTrades Fill."""

    @property
    def price(self) -> int: ...

    @property
    def quantity(self) -> int: ...

    @property
    def timestamp_ns(self) -> int: ...


def candles_from_trades(trades: Iterable[_Trade], interval: Interval = ONE_MINUTE,
                        now_ns: int | None = None) -> list[Candle]:
    """The candles these trades make, oldest first. Give each trade once (a Fill appears
    for both sides), in the order they happened. With `now_ns`, candles whose interval
    has ended are marked closed; without it none are."""
    length = INTERVAL_NS[interval]
    candles: dict[int, Candle] = {}
    for trade in trades:
        start = trade.timestamp_ns - trade.timestamp_ns % length
        price, quantity = trade.price, trade.quantity
        old = candles.get(start)
        if old is None:
            candles[start] = Candle(interval, start, price, price, price, price, quantity,
                                    price * quantity, 1)
        else:
            candles[start] = Candle(interval, start, old.open, max(old.high, price),
                                    min(old.low, price), price, old.volume + quantity,
                                    old.notional + price * quantity, old.trade_count + 1)
    return [Candle(c.interval, c.start_ns, c.open, c.high, c.low, c.close, c.volume,
                   c.notional, c.trade_count, now_ns is not None and c.end_ns <= now_ns)
            for _, c in sorted(candles.items())]


def _newer(old: Candle | None, new: Candle) -> bool:
    """Candles only grow, then close: whichever is further along is the current one."""
    if old is None or new.closed:
        return True
    return not old.closed and new.trade_count >= old.trade_count


class CandleSeries:
    """The candles of one symbol and interval, kept from a CANDLES subscription (and from
    GetCandles to fill in): each update replaces the candle with the same start."""

    def __init__(self, symbol: str, interval: Interval = ONE_MINUTE) -> None:
        if interval not in INTERVAL_NS:
            raise ValueError(f"unknown candle interval {interval}")
        self.symbol = symbol
        self.interval = interval
        self.sequence = 0           # of the last update applied
        self.gaps = 0               # updates that did not chain on from the one before
        self.needs_backfill = False  # a gap may have hidden a close; fetch GetCandles
        self._candles: dict[int, Candle] = {}
        self._after_snapshot = False

    @property
    def candles(self) -> list[Candle]:
        """Oldest first."""
        return [self._candles[start] for start in sorted(self._candles)]

    @property
    def open_candle(self) -> Candle | None:
        """The newest candle if it has not closed yet."""
        if not self._candles:
            return None
        newest = self._candles[max(self._candles)]
        return None if newest.closed else newest

    def subscription(self) -> marketdata_pb2.Subscription:
        return marketdata_pb2.Subscription(symbol=self.symbol,
                                           channels=[marketdata_pb2.CHANNEL_CANDLES],
                                           candle_interval=self.interval)

    def merge(self, candles: Iterable[Candle]) -> list[Candle]:
        """Take in candles of this interval (from a stream or GetCandles); returns those
        that changed what the series holds."""
        changed = []
        for candle in candles:
            if candle.interval and candle.interval != self.interval:
                continue
            if _newer(self._candles.get(candle.start_ns), candle) \
                    and self._candles.get(candle.start_ns) != candle:
                self._candles[candle.start_ns] = candle
                changed.append(candle)
        return changed

    def apply(self, update: marketdata_pb2.MarketDataUpdate) -> list[Candle]:
        """Apply one CANDLES update; a gap is counted and flagged, not fatal, because each
        update carries whole candles."""
        if update.symbol != self.symbol or update.channel != marketdata_pb2.CHANNEL_CANDLES:
            raise ValueError(f"update for {update.symbol} channel {update.channel} given to "
                             f"the {self.symbol} candles")
        if update.snapshot:
            self._after_snapshot = True
            self.sequence = update.sequence
        elif self._after_snapshot and update.sequence <= self.sequence:
            pass  # older than the snapshot: merging it is harmless (a close still counts)
        else:
            # The sequence rule of LocalBook: the first update after a snapshot at S may
            # start at or before S, every later one where the previous one ended.
            chained = update.previous_sequence <= self.sequence if self._after_snapshot \
                else update.previous_sequence == self.sequence
            if not chained:
                self.gaps += 1
                self.needs_backfill = True
            self._after_snapshot = False
            self.sequence = update.sequence
        return self.merge(Candle.from_proto(c) for c in update.candles.candles)

    async def backfill(self, stub: MarketDataServiceAsyncStub) -> list[Candle]:
        """Fetch GetCandles from the oldest candle not yet closed (or everything kept)."""
        start = min((c.start_ns for c in self._candles.values() if not c.closed), default=0)
        self.needs_backfill = False
        return self.merge(await get_candles(stub, self.symbol, self.interval, start_ns=start))


async def follow_candles(stub: MarketDataServiceAsyncStub, series: CandleSeries,
                         batches: AsyncIterable[marketdata_pb2.MarketDataBatch] | None = None,
                         ) -> AsyncIterator[Candle]:
    """Yield each candle as it changes (open updates, then its close), filling in from
    GetCandles after a gap. Opens its own stream unless given `batches`."""
    call = None
    source = batches
    if source is None:
        call = stub.StreamMarketData(
            marketdata_pb2.StreamMarketDataRequest(subscriptions=[series.subscription()]))
        source = call
    try:
        async for batch in source:
            for update in batch.updates:
                if update.symbol != series.symbol \
                        or update.channel != marketdata_pb2.CHANNEL_CANDLES:
                    continue
                changed = series.apply(update)
                if series.needs_backfill:
                    changed += await series.backfill(stub)
                for candle in changed:
                    yield candle
    except grpc.aio.AioRpcError as error:
        raise TradepitError(error) from None
    finally:
        if call is not None:
            call.cancel()
