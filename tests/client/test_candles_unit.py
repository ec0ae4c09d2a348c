"""Candle helpers against hand-built messages: candles from trades, merging a CANDLES
subscription's open updates and closes, and filling in after a gap."""

from typing import NamedTuple

import pytest
from tradepit_client import Candle, CandleSeries, candles_from_trades, follow_candles
from tradepit_client.candles import INTERVAL_NS
from tradepit_client.v1 import marketdata_pb2

MINUTE = marketdata_pb2.CANDLE_INTERVAL_1M
SECOND = marketdata_pb2.CANDLE_INTERVAL_1S
CANDLES = marketdata_pb2.CHANNEL_CANDLES
T0 = 1_700_000_040 * 1_000_000_000  # a whole minute


class Trade(NamedTuple):
    price: int
    quantity: int
    timestamp_ns: int


def candle(start, o, h, low, c, volume, notional, count, closed=False, interval=MINUTE):
    return Candle(interval, start, o, h, low, c, volume, notional, count, closed)


def test_candles_from_trades():
    minute = INTERVAL_NS[MINUTE]
    trades = [Trade(100, 2, T0 + 1), Trade(104, 1, T0 + 5), Trade(99, 3, T0 + minute - 1),
              Trade(101, 5, T0 + 3 * minute)]
    assert candles_from_trades(trades) == [
        candle(T0, 100, 104, 99, 99, 6, 200 + 104 + 297, 3),
        candle(T0 + 3 * minute, 101, 101, 101, 101, 5, 505, 1),
    ]
    closed = candles_from_trades(trades, now_ns=T0 + 3 * minute + 1)
    assert [c.closed for c in closed] == [True, False]
    assert closed[0].end_ns == T0 + minute
    seconds = candles_from_trades(trades, SECOND)
    assert [c.start_ns for c in seconds] == [T0, T0 + 59 * 1_000_000_000, T0 + 3 * minute]
    assert candles_from_trades([]) == []


def test_candle_from_proto_keeps_every_field():
    message = marketdata_pb2.Candle(interval=MINUTE, start_ns=T0, open=1, high=3, low=1,
                                    close=2, volume=9, notional=17, trade_count=4, closed=True)
    assert Candle.from_proto(message) == candle(T0, 1, 3, 1, 2, 9, 17, 4, closed=True)


def candle_update(sequence, previous, *candles, snapshot=False, symbol="ACME"):
    update = marketdata_pb2.MarketDataUpdate(symbol=symbol, channel=CANDLES, sequence=sequence,
                                             previous_sequence=previous, snapshot=snapshot)
    update.candles.CopyFrom(marketdata_pb2.CandleUpdates(candles=[
        marketdata_pb2.Candle(interval=c.interval, start_ns=c.start_ns, open=c.open,
                              high=c.high, low=c.low, close=c.close, volume=c.volume,
                              notional=c.notional, trade_count=c.trade_count, closed=c.closed)
        for c in candles]))
    return update


def test_series_merges_open_updates_and_closes():
    series = CandleSeries("ACME")
    first = candle(T0, 100, 100, 100, 100, 1, 100, 1)
    assert series.apply(candle_update(3, 0, first, snapshot=True)) == [first]
    grown = candle(T0, 100, 102, 100, 102, 2, 202, 2)
    assert series.apply(candle_update(5, 3, grown)) == [grown]
    assert series.open_candle == grown
    final = candle(T0, 100, 102, 100, 102, 2, 202, 2, closed=True)
    following = candle(T0 + INTERVAL_NS[MINUTE], 101, 101, 101, 101, 1, 101, 1)
    assert series.apply(candle_update(6, 5, final, following)) == [final, following]
    assert series.candles == [final, following]
    assert series.open_candle == following
    assert (series.gaps, series.needs_backfill, series.sequence) == (0, False, 6)


def test_an_older_copy_never_replaces_a_newer_one():
    series = CandleSeries("ACME")
    final = candle(T0, 100, 102, 100, 102, 2, 202, 2, closed=True)
    series.merge([final])
    assert series.merge([candle(T0, 100, 100, 100, 100, 1, 100, 1)]) == []
    assert series.merge([final]) == []  # the same again changes nothing
    assert series.candles == [final] and series.open_candle is None
    other_interval = candle(T0, 1, 1, 1, 1, 1, 1, 1, interval=SECOND)
    assert series.merge([other_interval]) == []


def test_a_gap_is_counted_and_flagged_for_backfill():
    series = CandleSeries("ACME")
    series.apply(candle_update(3, 0, snapshot=True))
    update = candle_update(9, 7, candle(T0, 1, 1, 1, 1, 1, 1, 1))
    assert series.apply(update)
    assert (series.gaps, series.needs_backfill) == (1, True)
    with pytest.raises(ValueError):
        series.apply(candle_update(10, 9, symbol="LOTS"))
    with pytest.raises(ValueError):
        CandleSeries("ACME", marketdata_pb2.CANDLE_INTERVAL_UNSPECIFIED)


class CandleStub:
    def __init__(self, candles):
        self.candles = candles
        self.requests = []

    async def GetCandles(self, request, metadata=()):
        self.requests.append(request)
        return marketdata_pb2.GetCandlesResponse(candles=[
            candle_update(0, 0, c).candles.candles[0] for c in self.candles
            if c.start_ns >= request.start_ns])


async def test_follow_candles_fills_in_a_missed_close_from_get_candles():
    minute = INTERVAL_NS[MINUTE]
    opened = candle(T0, 100, 100, 100, 100, 1, 100, 1)
    final = candle(T0, 100, 103, 100, 103, 2, 203, 2, closed=True)
    following = candle(T0 + minute, 104, 104, 104, 104, 1, 104, 1)
    stub = CandleStub([final, following])

    async def batches():
        yield marketdata_pb2.MarketDataBatch(updates=[candle_update(1, 0, opened, snapshot=True)])
        # the update closing the first candle (2 -> 3) is lost
        yield marketdata_pb2.MarketDataBatch(updates=[candle_update(4, 3, following)])

    series = CandleSeries("ACME")
    seen = [c async for c in follow_candles(stub, series, batches())]
    assert seen == [opened, following, final]
    assert series.candles == [final, following]
    assert stub.requests[0].start_ns == T0 and not series.needs_backfill


def test_the_first_update_after_a_snapshot_may_start_before_it():
    series = CandleSeries("ACME")
    series.apply(candle_update(10, 0, snapshot=True))
    close = candle(T0, 1, 1, 1, 1, 1, 1, 1, closed=True)
    assert series.apply(candle_update(10, 7, close)) == [close]  # covered, still merged
    series.apply(candle_update(12, 7, candle(T0 + INTERVAL_NS[MINUTE], 2, 2, 2, 2, 1, 2, 1)))
    assert (series.gaps, series.sequence) == (0, 12)
    series.apply(candle_update(13, 11))
    assert series.gaps == 1
