"""Candles: integer OHLCV aligned to the interval, sparse, bounded, closed exactly once."""

from tradepit.exchange.model import TradePrint
from tradepit.marketdata.candles import INTERVAL_NS, CandleSeries
from tradepit.marketdata.history import SymbolHistory

S = 1_000_000_000
ONE_SECOND, ONE_MINUTE, ONE_DAY = 1, 2, 6


def ohlcv(c):
    return (c.start_ns, c.open, c.high, c.low, c.close, c.volume, c.notional, c.trade_count,
            c.closed)


def test_intervals_are_the_proto_ones():
    assert INTERVAL_NS == {1: S, 2: 60 * S, 3: 300 * S, 4: 900 * S, 5: 3600 * S,
                           6: 86_400 * S}


def test_trades_in_one_interval_make_one_candle():
    series = CandleSeries(ONE_MINUTE)
    for price, quantity, at in ((100, 2, 125 * S), (105, 1, 130 * S), (98, 5, 170 * S),
                                (101, 1, 179 * S + 999_999_999)):
        assert series.add(price, quantity, at) is None
    assert series.current is not None
    assert ohlcv(series.current) == (120 * S, 100, 105, 98, 101, 9,
                                     200 + 105 + 490 + 101, 4, False)


def test_a_trade_in_a_later_interval_closes_the_open_candle_and_gaps_stay_empty():
    series = CandleSeries(ONE_MINUTE)
    series.add(100, 1, 61 * S)
    closed = series.add(110, 3, 305 * S)  # minutes 2 to 4 had no trades: no candles
    assert closed is not None and ohlcv(closed) == (60 * S, 100, 100, 100, 100, 1, 100, 1, True)
    assert [ohlcv(c) for c in series.query(0, 0, 100, 306 * S)] == [
        (60 * S, 100, 100, 100, 100, 1, 100, 1, True),
        (300 * S, 110, 110, 110, 110, 3, 330, 1, False)]


def test_roll_closes_at_the_end_of_the_interval_once():
    series = CandleSeries(ONE_SECOND)
    series.add(100, 1, 10 * S + 5)
    assert series.roll(11 * S - 1) is None
    closed = series.roll(11 * S)
    assert closed is not None and closed.closed and series.current is None
    assert series.roll(20 * S) is None
    assert series.add(101, 1, 11 * S) is None  # a new candle, nothing left to close


def test_query_range_limit_and_the_open_candle():
    series = CandleSeries(ONE_SECOND)
    for second in range(0, 20, 2):
        series.add(100 + second, 1, second * S)
    everything = series.query(0, 0, 1_000, 18 * S)
    assert [c.start_ns // S for c in everything] == list(range(0, 20, 2))
    assert not everything[-1].closed  # still open at 18 s
    assert series.query(0, 0, 1_000, 19 * S)[-1].closed  # reported closed once it ended
    assert series.current is not None and not series.current.closed  # reading changed nothing
    assert [c.start_ns // S for c in series.query(4 * S, 10 * S, 1_000, 30 * S)] == [4, 6, 8]
    assert [c.start_ns // S for c in series.query(0, 0, 3, 30 * S)] == [14, 16, 18]
    assert [c.start_ns // S for c in series.query(0, 15 * S, 2, 30 * S)] == [12, 14]
    assert series.query(19 * S, 0, 10, 30 * S) == []


def test_days_align_to_the_epoch_and_history_is_bounded():
    series = CandleSeries(ONE_DAY, history=3)
    for day in range(10):
        series.add(100, 1, day * 86_400 * S + 3_600 * S)
    kept = series.query(0, 0, 100, 10 * 86_400 * S)
    assert [c.start_ns // (86_400 * S) for c in kept] == [6, 7, 8, 9]  # 3 closed + the open


def trade(trade_id, price, quantity, at):
    return TradePrint("ACME", trade_id, price, quantity, 1, at, trade_id)


def test_symbol_history_keeps_the_last_50_trades_and_reports_closed_candles():
    history = SymbolHistory()
    for i in range(120):
        history.record([trade(i, 100 + i, 1, i * S)])
    assert [t.trade_id for t in history.trades] == list(range(70, 120))
    closed = history.record([trade(200, 500, 2, 120 * S), trade(201, 501, 1, 120 * S)])
    assert set(closed) == {ONE_SECOND, ONE_MINUTE}  # the others are still open
    assert [(c.start_ns // S, c.closed) for c in closed[ONE_SECOND]] == [(119, True)]
    one_second = history.candles[ONE_SECOND].current
    assert one_second is not None
    assert ohlcv(one_second)[1:] == (500, 501, 500, 501, 3, 1_501, 2, False)
    assert [(c.start_ns // S, c.trade_count, c.closed) for c in closed[ONE_MINUTE]] == [
        (60, 60, True)]
    five = history.candles[3].current  # the same five minutes as every trade before: open
    assert five is not None
    assert (five.start_ns, five.trade_count, five.volume, five.closed) == (0, 122, 123, False)


def test_trades_of_one_change_at_two_times_close_each_candle_they_leave():
    history = SymbolHistory()
    history.record([trade(1, 100, 1, 10 * S)])
    closed = history.record([trade(2, 101, 1, 11 * S), trade(3, 102, 1, 12 * S)])
    assert [(c.start_ns // S, c.closed) for c in closed[ONE_SECOND]] == [(10, True), (11, True)]
