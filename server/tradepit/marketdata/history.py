"""What each symbol's market remembers with or without subscribers: trades and candles."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
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
        """Add one command's trades; per interval, the candles that changed, closed first."""
        self.trades.extend(trades)
        changed: dict[int, list[Candle]] = {interval: [] for interval in self.candles}
        for timestamp, group in groupby(trades, key=attrgetter("timestamp_ns")):
            tally = Tally.of((t.price, t.quantity) for t in group)
            for interval, series in self.candles.items():
                closed = series.add_tally(tally, timestamp)
                if closed is not None:
                    changed[interval].append(closed)
        for interval, series in self.candles.items():
            if series.current is not None:
                changed[interval].append(series.current)
        return changed
