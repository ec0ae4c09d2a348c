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
    and the candles channel). Both are bounded, so memory does not grow with time.

    A trade usually falls in every interval's open candle, and then it changes all six
    alike: such trades are summed once, and the sum is added to the six candles only
    when one of them is read or changed (see `CandleSeries.current`).
    """

    def __init__(self, recent_trades: int = RECENT_TRADES,
                 candle_history: int = DEFAULT_HISTORY) -> None:
        self.trades: deque[TradePrint] = deque(maxlen=recent_trades)
        self.candles = {interval: CandleSeries(interval, candle_history, self._candle_changed,
                                               self._settle)
                        for interval in INTERVAL_NS}
        # While every interval has an open candle, a trade before `_until` falls in all of
        # them (`_open`), and is only summed here until they are settled.
        self._open: list[Candle] = []
        self._until = 0
        self._high = self._low = self._close = self._volume = self._notional = 0
        self._count = 0  # trades summed and not added to the open candles yet

    def _candle_changed(self) -> None:
        self._until = 0  # an open candle came or went: the next trade takes the long way

    def _settle(self) -> None:
        """Add the trades summed so far to every open candle."""
        if not self._count:
            return
        high, low, close = self._high, self._low, self._close
        volume, notional, count = self._volume, self._notional, self._count
        self._count = 0
        for c in self._open:
            if high > c.high:
                c.high = high
            if low < c.low:
                c.low = low
            c.close = close
            c.volume += volume
            c.notional += notional
            c.trade_count += count

    def record(self, trades: Sequence[TradePrint]) -> dict[int, list[Candle]]:
        """Add one command's trades; per interval, the candles they closed, if any (the
        open candle they changed is each series' `current`). The result is not to be
        written to: it is often one shared empty dict."""
        self.trades.extend(trades)
        t = trades[0]
        if len(trades) == 1 and t.timestamp_ns < self._until:
            price, quantity = t.price, t.quantity
            if self._count:
                if price > self._high:
                    self._high = price
                elif price < self._low:
                    self._low = price
                self._volume += quantity
                self._notional += price * quantity
                self._count += 1
            else:
                self._high = self._low = price
                self._volume, self._notional, self._count = quantity, price * quantity, 1
            self._close = price
            return _NONE_CLOSED
        self._settle()
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
