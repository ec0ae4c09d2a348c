"""Background traders: system agents that make the market move between client orders.

A noise trader sends random orders: passive ones (post-only, up to three spreads from
the mid, at most `max_open` resting; the oldest is cancelled to make room) and marketable
ones (IOC limits a spread through the best opposite price). A momentum trader samples
the last trade price every cycle and, when it has moved more than a threshold over its
look-back, trades in that direction with an IOC limit. Neither can sell shares it does
not hold or buy beyond its cash: the exchange refuses, and the refusal is counted.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from tradepit.book import OrderType, Side, StpMode, TimeInForce
from tradepit.exchange.commands import CancelOrder, OrderRef, SubmitOrder
from tradepit.exchange.money import BPS
from tradepit.server.gateway import Gateway
from tradepit.simulation.agent import SystemAgent

BUY, SELL = int(Side.BUY), int(Side.SELL)
LIMIT, GTC, IOC = int(OrderType.LIMIT), int(TimeInForce.GTC), int(TimeInForce.IOC)
# A trader that crosses its own resting order withdraws the resting one and goes on.
STP = int(StpMode.CANCEL_OLDEST)


@dataclass(frozen=True, slots=True)
class NoiseParams:
    interval_ms: int      # time between two orders
    max_lots: int         # each order is 1..max_lots lots
    marketable_pct: int   # the share of orders that take liquidity, in percent
    max_open: int = 5     # passive orders resting at once


@dataclass(frozen=True, slots=True)
class MomentumParams:
    interval_ms: int      # time between two looks at the last price
    lookback: int         # samples the return is measured over
    threshold_bps: int    # the return, either way, that makes it trade
    lots: int             # lots per order
    max_lots: int = 50    # the position (in lots) beyond which it stops buying


class Trader(SystemAgent):
    """What both kinds need: the book's best prices and orders inside the band."""

    def __init__(self, gateway: Gateway, symbol: str, account_id: int, interval_ms: int,
                 rng: random.Random) -> None:
        super().__init__(gateway, symbol, account_id, interval_ms)
        self.rng = rng
        self.instrument = gateway.exchange.instruments[symbol]
        # About one maker spread: ten basis points of the listing price, in ticks.
        self.spread_ticks = max(2, self.instrument.reference_price // 1_000
                                // self.instrument.tick_size)

    def best(self, side: int) -> int | None:
        level = self.gateway.exchange.books[self.symbol].best_bid() if side == BUY else \
            self.gateway.exchange.books[self.symbol].best_ask()
        return None if level is None else int(level[0])

    def mid(self) -> int:
        """The middle of the best prices; one side's best, or the last price, if the
        book is one-sided or empty."""
        bid, ask = self.best(BUY), self.best(SELL)
        if bid is not None and ask is not None:
            return (bid + ask) // 2
        return bid if bid is not None else ask if ask is not None else \
            self.instrument.reference_price

    def in_band(self, price: int) -> int:
        low, high = self.instrument.band()
        return max(low, min(high, price))

    def submit(self, side: int, tif: int, price: int, lots: int, post_only: bool = False
               ) -> int | None:
        """Send a limit order; its order id while it rests, None if it does not."""
        quantity = lots * self.instrument.lot_size
        result = self.try_apply(lambda now: SubmitOrder(
            self.account_id, "", self.symbol, side, LIMIT, tif, self.in_band(price),
            quantity, post_only, STP, now))
        if result is None or not result.order.is_open:
            return None
        order_id: int = result.order.order_id
        return order_id

    def cancel(self, order_id: int) -> None:
        ref = OrderRef(order_id)
        self.try_apply(lambda now: CancelOrder(self.account_id, ref, now))

    def take(self, side: int, lots: int) -> None:
        """Cross the spread: an IOC limit one spread through the best opposite price."""
        opposite = self.best(SELL if side == BUY else BUY)
        if opposite is not None:
            through = self.spread_ticks * self.instrument.tick_size
            self.submit(side, IOC, opposite + through if side == BUY else opposite - through,
                        lots)


class NoiseTrader(Trader):
    kind = "noise"

    def __init__(self, gateway: Gateway, symbol: str, account_id: int, params: NoiseParams,
                 rng: random.Random) -> None:
        super().__init__(gateway, symbol, account_id, params.interval_ms, rng)
        self.params = params
        self.resting: deque[int] = deque()  # its passive orders, oldest first

    def act(self, now_ns: int) -> None:
        rng, p = self.rng, self.params
        side = rng.choice((BUY, SELL))
        lots = rng.randint(1, p.max_lots)
        if rng.randrange(100) < p.marketable_pct:
            self.take(side, lots)
            return
        self._forget_closed()
        while len(self.resting) >= p.max_open:
            self.cancel(self.resting.popleft())
        mid = self.mid()
        away = rng.randint(1, 3 * self.spread_ticks) * self.instrument.tick_size
        price = mid - away if side == BUY else mid + away
        price -= price % self.instrument.tick_size
        placed = self.submit(side, GTC, price, lots, post_only=True)
        if placed is not None:
            self.resting.append(placed)

    def _forget_closed(self) -> None:
        orders = self.gateway.exchange.orders
        self.resting = deque(i for i in self.resting if orders[i].is_open)


class MomentumTrader(Trader):
    kind = "momentum"

    def __init__(self, gateway: Gateway, symbol: str, account_id: int,
                 params: MomentumParams, rng: random.Random) -> None:
        super().__init__(gateway, symbol, account_id, params.interval_ms, rng)
        self.params = params
        self.prices: deque[int] = deque(maxlen=params.lookback + 1)

    def signal_bps(self) -> int:
        """The last price's move over the look-back, in basis points (0 until full)."""
        if len(self.prices) <= self.params.lookback:
            return 0
        first, last = self.prices[0], self.prices[-1]
        return (last - first) * BPS // first

    def act(self, now_ns: int) -> None:
        self.prices.append(self.instrument.reference_price)
        signal, p = self.signal_bps(), self.params
        position = self.gateway.exchange.accounts[self.account_id].position(self.symbol)
        lot = self.instrument.lot_size
        if signal >= p.threshold_bps and position.quantity < p.max_lots * lot:
            self.take(BUY, p.lots)
        elif signal <= -p.threshold_bps and position.available >= lot:
            self.take(SELL, min(p.lots, position.available // lot))
