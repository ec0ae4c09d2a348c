"""OHLCV candles computed from trades, aligned to their interval since the Unix epoch.

All values are integers: prices in the smallest price unit, `notional` the sum of
price * quantity. History is sparse (no candle for an interval without trades) and
bounded per symbol and interval.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

SECOND_NS = 1_000_000_000
# CandleInterval values (marketdata.proto) and their lengths.
INTERVAL_NS: dict[int, int] = {
    1: SECOND_NS,
    2: 60 * SECOND_NS,
    3: 5 * 60 * SECOND_NS,
    4: 15 * 60 * SECOND_NS,
    5: 60 * 60 * SECOND_NS,
    6: 24 * 60 * 60 * SECOND_NS,
}
INTERVAL_NAMES: dict[int, str] = {1: "1s", 2: "1m", 3: "5m", 4: "15m", 5: "1h", 6: "1d"}
DEFAULT_HISTORY = 10_000


def _nothing() -> None:
    pass


class Tally(NamedTuple):
    """Trades summed for a candle: one command's trades share a timestamp, so they are
    summed once and then counted into every interval's candle."""

    open: int
    high: int
    low: int
    close: int
    volume: int
    notional: int
    trade_count: int

    @classmethod
    def of(cls, trades: Iterable[tuple[int, int]]) -> Tally:
        """From (price, quantity) pairs, in trade order; at least one."""
        prices, volume, notional = [], 0, 0
        for price, quantity in trades:
            prices.append(price)
            volume += quantity
            notional += price * quantity
        return cls(prices[0], max(prices), min(prices), prices[-1], volume, notional,
                   len(prices))


@dataclass(slots=True)
class Candle:
    interval: int
    start_ns: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    notional: int
    trade_count: int
    closed: bool = False

    def add(self, t: Tally) -> None:
        if t.high > self.high:
            self.high = t.high
        if t.low < self.low:
            self.low = t.low
        self.close = t.close
        self.volume += t.volume
        self.notional += t.notional
        self.trade_count += t.trade_count


class CandleSeries:
    """One symbol's candles at one interval: the last `history` closed ones and the open one.

    A candle closes when a trade lands in a later interval or when `roll` sees its
    interval end; trade times never go backwards (the gateway's clock is monotonic).
    """

    def __init__(self, interval: int, history: int = DEFAULT_HISTORY,
                 on_new_current: Callable[[], None] = _nothing,
                 settle: Callable[[], None] = _nothing) -> None:
        self.interval = interval
        self.length = INTERVAL_NS[interval]
        self._closed: deque[Candle] = deque(maxlen=history)
        self._current: Candle | None = None
        self._on_new_current = on_new_current  # runs when the open candle opens or closes
        # Runs before the open candle is read or changed: an owner may have counted trades
        # into it lazily (SymbolHistory does).
        self._settle = settle

    @property
    def current(self) -> Candle | None:
        """The open candle, if any."""
        self._settle()
        return self._current

    def add(self, price: int, quantity: int, timestamp_ns: int) -> Candle | None:
        """Count one trade; return the candle it closed by starting a new interval, if any."""
        return self.add_tally(Tally(price, price, price, price, quantity, price * quantity, 1),
                              timestamp_ns)

    def add_tally(self, t: Tally, timestamp_ns: int) -> Candle | None:
        """Count trades made at `timestamp_ns`; return the candle they closed, if any."""
        start = timestamp_ns - timestamp_ns % self.length
        current = self.current
        closed = None
        if current is not None and start > current.start_ns:
            closed = self._close(current)
            current = None
        if current is None:
            self._current = Candle(self.interval, start, *t)
            self._on_new_current()
        else:
            current.add(t)
        return closed

    def roll(self, now_ns: int) -> Candle | None:
        """Close the open candle if its interval has ended by `now_ns`; return it."""
        current = self.current
        if current is not None and now_ns >= current.start_ns + self.length:
            return self._close(current)
        return None

    def _close(self, candle: Candle) -> Candle:
        candle.closed = True
        self._closed.append(candle)
        self._current = None
        self._on_new_current()
        return candle

    def query(self, start_ns: int, end_ns: int, limit: int, now_ns: int) -> list[Candle]:
        """The most recent `limit` candles starting in [start_ns, end_ns), oldest first.

        `end_ns` 0 means no upper bound. The open candle is included (as a copy, closed
        if its interval has passed by `now_ns`) without changing the series, so a read
        never races the stream's own close update.
        """
        found: list[Candle] = []
        current = self.current
        if current is not None and current.start_ns >= start_ns and (
                not end_ns or current.start_ns < end_ns):
            closed = now_ns >= current.start_ns + self.length
            found.append(dataclasses.replace(current, closed=closed))
        for candle in reversed(self._closed):
            if len(found) >= limit or candle.start_ns < start_ns:
                break
            if not end_ns or candle.start_ns < end_ns:
                found.append(candle)
        found = found[:limit]
        found.reverse()
        return found
