"""What each symbol's market remembers with or without subscribers: trades and candles."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from itertools import groupby
from operator import attrgetter

from tradepit.exchange.model import TradePrint
from tradepit.marketdata.candles import DEFAULT_HISTORY, INTERVAL_NS, Candle, CandleSeries, Tally

RECENT_TRADES = 50  # what a trades snapshot carries
_NONE_CLOSED: dict[int, list[Candle]] = {}  # shared, never written


class SymbolHistory:
    """The most recent trades (for snapshots) and candles at every interval (for GetCandles
    and the candles channel). Both are bounded, so memory does not grow with time."""

    def __init__(self, recent_trades: int = RECENT_TRADES,
                 candle_history: int = DEFAULT_HISTORY) -> None:
        self.trades: deque[TradePrint] = deque(maxlen=recent_trades)
        self.candles = {interval: CandleSeries(interval, candle_history, self._candle_changed)
                        for interval in INTERVAL_NS}
        # While every interval has an open candle, a trade before `_until` falls in all of
        # them: it only adds to the candles in `_open` (the usual case, kept cheap).
        self._open: list[Candle] = []
        self._until = 0

    def _candle_changed(self) -> None:
        self._until = 0  # an open candle came or went: the next trade takes the long way

    def record(self, trades: Sequence[TradePrint]) -> dict[int, list[Candle]]:
        """Add one command's trades; per interval, the candles they closed, if any (the
        open candle they changed is each series' `current`). The result is not to be
        written to: it is often one shared empty dict."""
        self.trades.extend(trades)
        t = trades[0]
        if len(trades) == 1 and t.timestamp_ns < self._until:
            price, quantity = t.price, t.quantity
            notional = price * quantity
            for c in self._open:
                if price > c.high:
                    c.high = price
                elif price < c.low:
                    c.low = price
                c.close = price
                c.volume += quantity
                c.notional += notional
                c.trade_count += 1
            return _NONE_CLOSED
        closed: dict[int, list[Candle]] = {}
        first, last = t.timestamp_ns, trades[-1].timestamp_ns
        if first == last:  # one command's trades share its time: the usual case
            groups: Iterable[tuple[int, Iterable[TradePrint]]] = ((first, trades),)
        else:
            groups = groupby(trades, key=attrgetter("timestamp_ns"))
        for timestamp, group in groups:
            if len(trades) == 1:
                tally = Tally(t.price, t.price, t.price, t.price, t.quantity,
                              t.price * t.quantity, 1)
            else:
                tally = Tally.of((t.price, t.quantity) for t in group)
            for interval, series in self.candles.items():
                candle = series.add_tally(tally, timestamp)
                if candle is not None:
                    closed.setdefault(interval, []).append(candle)
        self._open = [o for s in self.candles.values() if (o := s.current) is not None]
        if len(self._open) == len(self.candles):
            self._until = min(c.start_ns + s.length
                              for c, s in zip(self._open, self.candles.values(), strict=True))
        return closed
