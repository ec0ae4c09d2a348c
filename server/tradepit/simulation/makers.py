"""Built-in market makers: system agents that quote both sides around the fair value.

A maker holds at most `levels` quotes per side: each cycle it keeps, amends or cancels
the quote in each slot before placing a new one, so the book never grows because of it.
It anchors to the fair value, never to the last trade, and leans its quotes against its
inventory. Its account, funding and refusals work as for every system agent (agent.py).
"""

from __future__ import annotations

from tradepit.book import OrderType, Side, TimeInForce
from tradepit.exchange.commands import AmendOrder, CancelOrder, OrderRef, SubmitOrder
from tradepit.exchange.model import OrderState
from tradepit.server.gateway import Gateway
from tradepit.simulation.agent import SystemAgent, open_system_account, system_key
from tradepit.simulation.fair_value import FairValue
from tradepit.simulation.params import MakerParams

BUY, SELL = int(Side.BUY), int(Side.SELL)
LIMIT, GTC = int(OrderType.LIMIT), int(TimeInForce.GTC)

Slot = tuple[int, int]  # (side, level)
Quote = tuple[int, int]  # (price, quantity)


def maker_key(symbol: str) -> str:
    return system_key(Maker.kind, symbol)


def open_account(gateway: Gateway, symbol: str, params: MakerParams) -> int:
    return open_system_account(gateway, Maker.kind, symbol, params.cash, params.inventory)


def round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero."""
    quotient = (2 * abs(numerator) + denominator) // (2 * denominator)
    return quotient if numerator >= 0 else -quotient


class Maker(SystemAgent):
    kind = "maker"

    def __init__(self, gateway: Gateway, symbol: str, account_id: int, params: MakerParams,
                 fair_value: FairValue) -> None:
        super().__init__(gateway, symbol, account_id, params.refresh_ms)
        self.params = params
        self.fair_value = fair_value
        self.slots: dict[Slot, int] = {}  # each slot's order id
        self.last_fair_value = 0
        self._mid = 0

    # ------------------------------------------------------------ what to quote

    def skew_ticks(self) -> int:
        """How far to move both sides: down when long, up when short, at most a spread
        plus the depth of the levels either way."""
        p = self.params
        position = self.gateway.exchange.accounts[self.account_id].position(self.symbol)
        shift = -round_div(p.skew * (position.quantity - p.inventory), p.size)
        limit = p.spread + p.step * p.levels
        return max(-limit, min(limit, shift))

    def targets(self, fair_value: int) -> dict[Slot, Quote]:
        """The quotes wanted now: two-sided around `fair_value`, skewed, inside the band,
        asks no larger than the shares the maker can sell."""
        p = self.params
        exchange = self.gateway.exchange
        instrument = exchange.instruments[self.symbol]
        tick, low, high = instrument.tick_size, *instrument.band()
        shift = self.skew_ticks()
        below, above = p.spread // 2, p.spread - p.spread // 2
        position = exchange.accounts[self.account_id].position(self.symbol)
        sellable = position.available + sum(
            order.leaves for order in self._open_orders().values() if order.side == SELL)
        wanted: dict[Slot, Quote] = {}
        for level in range(p.levels):
            bid = fair_value + (shift - below - level * p.step) * tick
            if low <= bid <= high:
                wanted[BUY, level] = bid, p.size
            ask = fair_value + (shift + above + level * p.step) * tick
            quantity = min(p.size, sellable // instrument.lot_size * instrument.lot_size)
            if low <= ask <= high and quantity > 0:
                wanted[SELL, level] = ask, quantity
                sellable -= quantity
        return wanted

    # ------------------------------------------------------------ the cycle

    def act(self, now_ns: int) -> None:
        """Requote once, as of `now_ns` (the fair value's clock)."""
        fair_value = self.fair_value.price_at(now_ns)
        self.last_fair_value = fair_value
        wanted = self.targets(fair_value)
        best = [wanted.get((side, 0), (0, 0))[0] for side in (BUY, SELL)]
        mid = sum(best) // 2 if all(best) else fair_value
        # Move the side that gets out of the way first, so the other never meets it.
        sides = (SELL, BUY) if mid >= self._mid else (BUY, SELL)
        self._mid = mid
        current = self._open_orders()
        for side in sides:
            for level in range(self.params.levels):
                slot = side, level
                self._requote(slot, current.get(slot), wanted.get(slot))

    def _requote(self, slot: Slot, order: OrderState | None, target: Quote | None) -> None:
        if order is not None:
            if target is not None and (order.price, order.leaves) == target:
                return
            ref = OrderRef(order.order_id)
            if target is not None and self.try_apply(
                    lambda now: AmendOrder(self.account_id, ref, *target, now)) is not None:
                return  # amended in place (a fill it met shows in the next cycle)
            if self.try_apply(lambda now: CancelOrder(self.account_id, ref, now)) is None \
                    and order.is_open:
                return  # still resting and it could not be cancelled: keep the slot
            self.slots.pop(slot, None)
        if target is None:
            return
        side = slot[0]
        result = self.try_apply(lambda now: SubmitOrder(
            self.account_id, "", self.symbol, side, LIMIT, GTC, *target, False, 0, now))
        if result is not None and result.order.is_open:
            self.slots[slot] = result.order.order_id

    def _open_orders(self) -> dict[Slot, OrderState]:
        orders = self.gateway.exchange.orders
        current = {}
        for slot, order_id in list(self.slots.items()):
            order = orders[order_id]
            if order.is_open:
                current[slot] = order
            else:
                del self.slots[slot]
        return current
