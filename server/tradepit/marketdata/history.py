"""What each symbol's market remembers with or without subscribers: trades and candles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from itertools import groupby
from operator import attrgetter

from tradepit.exchange.model import TradePrint
from tradepit.marketdata.candles import DEFAULT_HISTORY, INTERVAL_NS, Candle, CandleSeries, Tally

RECENT_TRADES = 50  # what a trades snapshot carries


class SymbolHistory:
    """The most recent trades (for snapshots) and candles at every interval (for GetCandles
    and the candles channel). Both are bounded, so memory does not grow with time."""

    def __init__(self, recent_trades: int = RECENT_TRADES,
                 candle_history: int = DEFAULT_HISTORY) -> None:
        self.trades: deque[TradePrint] = deque(maxlen=recent_trades)
        self.candles = {interval: CandleSeries(interval, candle_history)
                        for interval in INTERVAL_NS}

    def record(self, trades: Sequence[TradePrint]) -> dict[int, list[Candle]]:
        """Add one command's trades; per interval, the candles they closed, if any (the
        open candle they changed is each series' `current`)."""
        self.trades.extend(trades)
        closed: dict[int, list[Candle]] = {}
        first, last = trades[0].timestamp_ns, trades[-1].timestamp_ns
        if first == last:  # one command's trades share its time: the usual case
            groups: Iterable[tuple[int, Iterable[TradePrint]]] = ((first, trades),)
        else:
            groups = groupby(trades, key=attrgetter("timestamp_ns"))
        for timestamp, group in groups:
            if len(trades) == 1:
                t = trades[0]
                tally = Tally(t.price, t.price, t.price, t.price, t.quantity,
                              t.price * t.quantity, 1)
            else:
                tally = Tally.of((t.price, t.quantity) for t in group)
            for interval, series in self.candles.items():
                candle = series.add_tally(tally, timestamp)
                if candle is not None:
                    closed.setdefault(interval, []).append(candle)
        return closed
