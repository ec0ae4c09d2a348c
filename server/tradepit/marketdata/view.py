"""One book as the public sees it, rebuilt from the book's events alone.

Market data never reads the live book after it starts: effects leave the gateway once
they are durable, possibly after later commands were applied, so the live book can be
ahead of the events being published. Replaying the events (core_rs/README.md) gives
exactly the state they describe: resting orders in priority order (L3), price levels
(L2) and best prices (L1), with the order-by-order changes of each command.

A command's taker is never resting while it matches; it rests (an ADD) only if it has
open quantity left when the command's events end.

`PythonBookView` is the reference. `BookView` is the Rust port (`tradepit._native.BookView`,
core_rs/engine/src/mirror.rs) when the Rust book backend is chosen, else `PythonBookView`:
the same API, compared event for event in tests/marketdata/test_view_native.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from sortedcontainers import SortedDict

from tradepit.book import BACKEND, AmendKind, EventKind, Side, load_backend

# OrderEvent.Kind values (marketdata.proto).
ADD, REDUCE, DELETE, EXECUTE = 1, 2, 3, 4

BUY, SELL = int(Side.BUY), int(Side.SELL)
_ACCEPTED, _TRADE, _CANCELLED, _AMENDED = (
    int(EventKind.ACCEPTED), int(EventKind.TRADE), int(EventKind.CANCELLED),
    int(EventKind.AMENDED))
_PRIORITY_KEPT = int(AmendKind.PRIORITY_KEPT)

Level = tuple[int, int, int]  # price, open quantity, order count


class OrderEvent(NamedTuple):
    kind: int
    order_id: int
    side: int
    price: int
    quantity: int   # ADD: its open quantity; otherwise the quantity removed
    remaining: int  # open quantity after the event
    sequence: int   # the book sequence of the event that caused it


class RestingOrder(NamedTuple):
    order_id: int
    side: int
    price: int
    remaining: int


class _Level:
    """Orders at one price in time priority (a dict keeps insertion order), and their total."""

    __slots__ = ("orders", "total")

    def __init__(self) -> None:
        self.orders: dict[int, int] = {}  # order id -> open quantity
        self.total = 0


class PythonBookView:
    def __init__(self, sequence: int = 0) -> None:
        self.sequence = sequence
        self._bids = SortedDict()  # -price -> _Level: iteration is best first
        self._asks = SortedDict()  # price -> _Level
        self._where: dict[int, tuple[int, int]] = {}  # resting order id -> (side, price)

    @classmethod
    def of(cls, book: Any) -> PythonBookView:
        """The view of a live book, for a start when none of its events is in flight."""
        view = cls(book.sequence)
        bids, asks = book.orders()
        for order in (*bids, *asks):
            view._rest(order.order_id, order.side, order.price, order.remaining)
        return view

    # ------------------------------------------------------------ queries

    def best_bid(self) -> tuple[int, int] | None:
        if not self._bids:
            return None
        key, level = self._bids.peekitem(0)
        return -key, level.total

    def best_ask(self) -> tuple[int, int] | None:
        if not self._asks:
            return None
        price, level = self._asks.peekitem(0)
        return price, level.total

    def depth(self, levels: int) -> tuple[list[Level], list[Level]]:
        """Up to `levels` levels per side, best first, as the book's own `depth`."""
        return self.bid_levels(levels), self.ask_levels(levels)

    def bid_levels(self, levels: int) -> list[Level]:
        """Up to `levels` bid levels, best first (one side of `depth`)."""
        bids = self._bids
        return [(-key, (level := bids[key]).total, len(level.orders))
                for key in islice(bids, max(levels, 0))]

    def ask_levels(self, levels: int) -> list[Level]:
        asks = self._asks
        return [(price, (level := asks[price]).total, len(level.orders))
                for price in islice(asks, max(levels, 0))]

    def bid_levels_below(self, price: int, levels: int) -> list[Level]:
        """Up to `levels` bid levels at prices below `price`, best first."""
        bids = self._bids
        start = bids.bisect_right(-price)
        return [(-key, (level := bids[key]).total, len(level.orders))
                for key in bids.islice(start, start + max(levels, 0))]

    def ask_levels_above(self, price: int, levels: int) -> list[Level]:
        """Up to `levels` ask levels at prices above `price`, best first."""
        asks = self._asks
        start = asks.bisect_right(price)
        return [(key, (level := asks[key]).total, len(level.orders))
                for key in asks.islice(start, start + max(levels, 0))]

    def bid_level(self, price: int) -> Level | None:
        """The bid level at `price`, if any order rests there."""
        level = self._bids.get(-price)
        return None if level is None else (price, level.total, len(level.orders))

    def ask_level(self, price: int) -> Level | None:
        level = self._asks.get(price)
        return None if level is None else (price, level.total, len(level.orders))

    def orders(self) -> tuple[list[RestingOrder], list[RestingOrder]]:
        """Every resting order, per side in priority order: best price, then time."""
        return (list(self._side_orders(self._bids, BUY)),
                list(self._side_orders(self._asks, SELL)))

    def __len__(self) -> int:
        return len(self._where)

    @staticmethod
    def _side_orders(levels: Any, side: int) -> Iterator[RestingOrder]:
        for key, level in levels.items():
            price = -key if side == BUY else key
            for order_id, remaining in level.orders.items():
                yield RestingOrder(order_id, side, price, remaining)

    # ------------------------------------------------------------ changes

    def apply(self, events: Sequence[Any]) -> list[OrderEvent]:
        """Replay one command's events; return what an L3 reader sees of them."""
        orders: list[OrderEvent] = []
        self.replay(events, orders)
        return orders

    def replay(self, events: Sequence[Any], orders: list[OrderEvent] | None = None
               ) -> tuple[list[int], list[int]]:
        """Replay one command's events; return the prices of the bid levels and of the ask
        levels they changed, one per L3 event (so a price may repeat). `orders` receives
        the L3 events themselves, when some reader wants them: most changes have none.

        This runs for every command of every symbol, followed or not, so the common
        events (a resting order added, a maker executed) are handled inline.
        """
        bids, asks, where = self._bids, self._asks, self._where
        touched_bids: list[int] = []
        touched_asks: list[int] = []
        taker = taker_side = taker_price = taker_open = 0
        for e in events:
            kind = e.kind
            if kind == _TRADE:
                maker = e.maker_id
                side, price = where[maker]
                quantity, left = e.quantity, e.maker_remaining
                if side == BUY:
                    levels, key = bids, -price
                    touched_bids.append(price)
                else:
                    levels, key = asks, price
                    touched_asks.append(price)
                level = levels[key]
                level.total -= quantity
                if left:
                    level.orders[maker] = left
                else:
                    del level.orders[maker]
                    del where[maker]
                    if not level.orders:
                        del levels[key]
                if orders is not None:
                    orders.append(OrderEvent(EXECUTE, maker, side, price, quantity, left, e.seq))
                taker_open = e.remaining
            elif kind == _ACCEPTED:
                taker, taker_side, taker_price, taker_open = (e.order_id, e.side, e.price,
                                                              e.remaining)
            elif kind == _CANCELLED:
                resting = where.get(e.order_id)
                if resting is not None:
                    side, price = resting
                    (touched_bids if side == BUY else touched_asks).append(price)
                    self._reduce(e.order_id, side, price, e.quantity, e.remaining)
                    if orders is not None:
                        orders.append(OrderEvent(REDUCE if e.remaining else DELETE, e.order_id,
                                                 side, price, e.quantity, e.remaining, e.seq))
                elif e.order_id == taker:
                    taker_open = e.remaining  # the taker's remainder: it never rested
            elif kind == _AMENDED:
                side, price = where[e.order_id]
                before = self._open(e.order_id, side, price)
                if e.reason == _PRIORITY_KEPT:
                    if before != e.remaining:  # the same quantity again changes nothing
                        removed = before - e.remaining
                        (touched_bids if side == BUY else touched_asks).append(price)
                        self._reduce(e.order_id, side, price, removed, e.remaining)
                        if orders is not None:
                            orders.append(OrderEvent(REDUCE, e.order_id, side, price, removed,
                                                     e.remaining, e.seq))
                else:  # it leaves its level, then matches as a taker at its new price
                    (touched_bids if side == BUY else touched_asks).append(price)
                    self._reduce(e.order_id, side, price, before, 0)
                    if orders is not None:
                        orders.append(OrderEvent(DELETE, e.order_id, side, price, before, 0,
                                                 e.seq))
                    taker, taker_side, taker_price, taker_open = (e.order_id, side, e.price,
                                                                  e.remaining)
            # REJECTED changes no resting order.
        if events:
            self.sequence = events[-1].seq
        if taker_open:
            if taker_side == BUY:
                level = bids.get(-taker_price)
                if level is None:
                    level = bids[-taker_price] = _Level()
                touched_bids.append(taker_price)
            else:
                level = asks.get(taker_price)
                if level is None:
                    level = asks[taker_price] = _Level()
                touched_asks.append(taker_price)
            level.orders[taker] = taker_open
            level.total += taker_open
            where[taker] = (taker_side, taker_price)
            if orders is not None:
                orders.append(OrderEvent(ADD, taker, taker_side, taker_price, taker_open,
                                         taker_open, self.sequence))
        return touched_bids, touched_asks

    def _levels(self, side: int) -> tuple[Any, int]:
        return (self._bids, -1) if side == BUY else (self._asks, 1)

    def _open(self, order_id: int, side: int, price: int) -> int:
        levels, sign = self._levels(side)
        level: _Level = levels[sign * price]
        return level.orders[order_id]

    def _rest(self, order_id: int, side: int, price: int, quantity: int) -> None:
        levels, sign = self._levels(side)
        level = levels.get(sign * price)
        if level is None:
            level = levels[sign * price] = _Level()
        level.orders[order_id] = quantity
        level.total += quantity
        self._where[order_id] = (side, price)

    def _reduce(self, order_id: int, side: int, price: int, removed: int, left: int) -> None:
        levels, sign = self._levels(side)
        level: _Level = levels[sign * price]
        level.total -= removed
        if left:
            level.orders[order_id] = left
            return
        del level.orders[order_id]
        del self._where[order_id]
        if not level.orders:
            del levels[sign * price]


def _native_book_view() -> Any:
    native = load_backend("rust")
    try:
        return native.BookView
    except AttributeError as error:
        raise ImportError(
            "tradepit._native has no BookView: the Rust extension is older than the server; "
            "rebuild it (`make install` or `maturin develop --release`), or set "
            "TRADEPIT_BOOK=python") from error


if TYPE_CHECKING:
    BookView = PythonBookView
else:
    BookView = _native_book_view() if BACKEND == "rust" else PythonBookView
