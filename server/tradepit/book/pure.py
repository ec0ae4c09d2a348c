"""The pure-Python book: the reference implementation of core_rs/README.md.

Workload A of bench/ makes one Python call per command, so on the common paths every
attribute lookup, call and allocation shows in the throughput. The layout follows:

- A resting order is a plain list laid out like `Order` (`_ID`, `_OWNER`, ... name the
  positions). Building a list costs about a quarter of building a class instance
  through `__init__`, and an `Order` snapshot of it is one `tuple.__new__`.
- A price level is an `OrderedDict` (order id -> record, in time priority) that also
  carries its open total, so removing any order is O(1), never a queue scan.
- Each side keeps its levels in a plain dict (price -> level), for the lookup every
  command makes, and an ordered index of its live levels in a `sortedcontainers`
  `SortedList` of keys: the price for asks, minus the price for bids, so on both sides
  the best level is `keys[0]`. Opening a level adds its key and emptying it removes it
  (`pop(0)` when it was the best, the usual case, which skips the search), each
  O(log n). Walks in price order (depth, the FOK check, snapshots) iterate the keys.
- The best bid and ask prices are cached, with sentinels for an empty side (`_NO_BID`,
  `_NO_ASK`), so "does this order cross?" is one integer comparison; the index is read
  only when the best level empties.
- Events are built as plain tuples (`tuple.__new__`). `submit`, `cancel` and `amend`
  first try a fast path for valid arguments of type `int`; anything else falls back to
  the exact conversions, checks and errors of the binding.
"""

from __future__ import annotations

import operator
import struct
from collections import OrderedDict
from hashlib import blake2b
from itertools import islice
from typing import Any, NamedTuple, NoReturn

from sortedcontainers import SortedList

from tradepit.book.codec import COMMAND_RECORD, EVENT_RECORD
from tradepit.book.constants import (
    MAX_PRICE,
    MAX_QUANTITY,
    AmendKind,
    CancelReason,
    CommandKind,
    ErrorCode,
    EventKind,
    OrderType,
    RejectReason,
    Side,
    StpMode,
    TimeInForce,
)
from tradepit.book.errors import BookError, InvalidOrder, InvariantViolation, UnknownOrder

__all__ = ["Book", "Event", "Order"]

_index = operator.index
_tuple_new = tuple.__new__
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1

# Plain ints on the hot path: comparing IntEnum members is several times slower.
BUY, SELL = int(Side.BUY), int(Side.SELL)
LIMIT, MARKET = int(OrderType.LIMIT), int(OrderType.MARKET)
GTC, IOC, FOK, DAY = (int(t) for t in TimeInForce)
CANCEL_NEWEST, CANCEL_OLDEST, CANCEL_BOTH, DECREMENT_AND_CANCEL = (int(m) for m in StpMode)
ACCEPTED, TRADE, CANCELLED, REJECTED, AMENDED = (
    int(k) for k in (EventKind.ACCEPTED, EventKind.TRADE, EventKind.CANCELLED,
                     EventKind.REJECTED, EventKind.AMENDED)
)
R_USER, R_IOC, R_FOK, R_STP, R_SESSION, R_NO_LIQUIDITY = (int(r) for r in CancelReason)
R_POST_ONLY = int(RejectReason.POST_ONLY_WOULD_CROSS)
KEPT, LOST = int(AmendKind.PRIORITY_KEPT), int(AmendKind.PRIORITY_LOST)
SUBMIT, CANCEL, AMEND, END_SESSION = (int(c) for c in CommandKind)

_SIDES = frozenset((BUY, SELL))
_ORDER_TYPES = frozenset((LIMIT, MARKET))
_TIFS = frozenset((GTC, IOC, FOK, DAY))
_STP_MODES = frozenset((CANCEL_NEWEST, CANCEL_OLDEST, CANCEL_BOTH, DECREMENT_AND_CANCEL))
_RESTING_TIFS = frozenset((GTC, DAY))  # a limit order with these may rest

# An order's record inside the book: a list of the `Order` fields, in `Order`'s order.
(_ID, _OWNER, _SIDE, _PRICE, _QUANTITY, _REMAINING, _TYPE, _TIF, _POST_ONLY, _STP,
 _TIME) = range(11)
_Record = list[Any]

# The cached best price of an empty side: no valid price crosses it.
_NO_BID = 0
_NO_ASK = MAX_PRICE + 1

_REASONS: dict[int, Any] = {
    CANCELLED: CancelReason,
    REJECTED: RejectReason,
    AMENDED: AmendKind,
}


class Event(NamedTuple):
    """One thing that happened in the book; fields are documented in core_rs/README.md."""

    kind: int
    seq: int
    timestamp: int
    order_id: int
    owner: int
    side: int
    price: int
    quantity: int
    remaining: int
    reason: int
    maker_id: int
    maker_owner: int
    maker_remaining: int

    def astuple(self) -> tuple[int, ...]:
        return tuple(self)

    def __repr__(self) -> str:
        return _describe_event(self)


class Order(NamedTuple):
    """A snapshot of a resting order."""

    order_id: int
    owner: int
    side: int
    price: int
    quantity: int
    remaining: int
    order_type: int
    tif: int
    post_only: bool
    stp: int
    timestamp: int

    def astuple(self) -> tuple[Any, ...]:
        return tuple(self)


def _describe_event(event: Any) -> str:
    """A readable one-line form, shared by tests of either backend."""
    kind = EventKind(event.kind)
    text = (
        f"{kind.name} #{event.seq} order={event.order_id} owner={event.owner} "
        f"{Side(event.side).name if event.side else '-'} {event.quantity}@{event.price} "
        f"remaining={event.remaining}"
    )
    if kind in _REASONS:
        text += f" reason={_REASONS[kind](event.reason).name}"
    if kind == TRADE:
        text += (
            f" maker={event.maker_id} maker_owner={event.maker_owner}"
            f" maker_remaining={event.maker_remaining}"
        )
    return f"Event({text})"


class _Level(OrderedDict[int, _Record]):
    """All resting orders at one price (order id -> record, in time priority), with their
    open total. Being the queue itself saves a lookup of it on every access."""

    __slots__ = ("total",)
    total: int  # set by `Book._open_level`: no Python `__init__` to call per level


def _crossing_limit(side: int, order_type: int, price: int) -> int:
    """The worst price an incoming order may trade at: its limit, or any for a market order."""
    if order_type == LIMIT:
        return price
    return MAX_PRICE if side == BUY else 1


def _check_arguments(*arguments: tuple[str, Any]) -> None:
    """Raise what the Rust binding (PyO3) raises for the first argument it cannot convert."""
    for name, value in arguments:
        error: Exception | None = None
        if name == "post_only":
            if value.__class__ is not bool:
                error = TypeError(f"'{type(value).__name__}' object is not an instance of 'bool'")
        else:
            try:
                number = _index(value)
            except TypeError as bad_type:
                error = bad_type
            else:
                if not _I64_MIN <= number <= _I64_MAX:
                    error = OverflowError("Python int too large to convert to C long")
        if error is not None:
            error.add_note(f"while processing '{name}'")
            raise error


def _i64(name: str, value: Any) -> int:
    """Convert one integer argument exactly as the binding does (slow path, for queries)."""
    _check_arguments((name, value))
    return _index(value)


def _check_quantity(quantity: int, lot_size: int) -> None:
    if quantity <= 0:
        raise InvalidOrder(
            f"quantity must be positive, got {quantity}", ErrorCode.NON_POSITIVE_QUANTITY
        )
    if quantity > MAX_QUANTITY:
        raise InvalidOrder(
            f"quantity {quantity} exceeds the maximum of {MAX_QUANTITY}",
            ErrorCode.QUANTITY_TOO_LARGE,
        )
    if quantity % lot_size:
        raise InvalidOrder(
            f"quantity {quantity} is not a multiple of the lot size {lot_size}",
            ErrorCode.QUANTITY_OFF_LOT,
        )


def _check_limit_price(price: int, tick_size: int) -> None:
    if price <= 0:
        raise InvalidOrder(f"price must be positive, got {price}", ErrorCode.NON_POSITIVE_PRICE)
    if price > MAX_PRICE:
        raise InvalidOrder(
            f"price {price} exceeds the maximum of {MAX_PRICE}", ErrorCode.PRICE_TOO_LARGE
        )
    if price % tick_size:
        raise InvalidOrder(
            f"price {price} is not a multiple of the tick size {tick_size}",
            ErrorCode.PRICE_OFF_TICK,
        )


def _unknown_order(order_id: int) -> UnknownOrder:
    return UnknownOrder(f"order {order_id} is not resting in the book", ErrorCode.UNKNOWN_ORDER)


def _refuse_submit(arguments: tuple[Any, ...], post_only: Any, tick_size: int,
                   lot_size: int) -> NoReturn:
    """Raise what a refused submit raises: the first bad argument, else the first broken rule."""
    owner, side, price, quantity, order_type, tif, stp, timestamp = arguments
    _check_arguments(
        ("owner", owner), ("side", side), ("price", price), ("quantity", quantity),
        ("order_type", order_type), ("tif", tif), ("post_only", post_only), ("stp", stp),
        ("timestamp", timestamp),
    )
    side, price, quantity, order_type, tif, stp = map(
        _index, (side, price, quantity, order_type, tif, stp))
    if side not in _SIDES:
        raise InvalidOrder(f"side must be BUY (1) or SELL (2), got {side}", ErrorCode.INVALID_SIDE)
    if order_type not in _ORDER_TYPES:
        raise InvalidOrder(f"order type must be LIMIT (1) or MARKET (2), got {order_type}",
                           ErrorCode.INVALID_ORDER_TYPE)
    if tif not in _TIFS:
        raise InvalidOrder(
            f"time in force must be GTC (1), IOC (2), FOK (3) or DAY (4), got {tif}",
            ErrorCode.INVALID_TIME_IN_FORCE,
        )
    if stp not in _STP_MODES:
        raise InvalidOrder(
            "self-trade prevention must be CANCEL_NEWEST (1), CANCEL_OLDEST (2), "
            f"CANCEL_BOTH (3) or DECREMENT_AND_CANCEL (4), got {stp}",
            ErrorCode.INVALID_STP_MODE,
        )
    _check_quantity(quantity, lot_size)
    if order_type == MARKET:
        if price != 0:
            raise InvalidOrder(f"a market order takes no price, got {price}",
                               ErrorCode.MARKET_ORDER_WITH_PRICE)
        if post_only:
            raise InvalidOrder("a market order cannot be post-only",
                               ErrorCode.POST_ONLY_MARKET_ORDER)
    _check_limit_price(price, tick_size)
    raise AssertionError("a submit was refused without a reason")  # pragma: no cover


class Book:
    """A price-time priority limit order book for one instrument."""

    def __init__(self, tick_size: int, lot_size: int) -> None:
        tick_size = _i64("tick_size", tick_size)
        lot_size = _i64("lot_size", lot_size)
        if tick_size <= 0 or lot_size <= 0:
            raise InvalidOrder(
                f"tick size and lot size must be positive, got {tick_size} and {lot_size}",
                ErrorCode.INVALID_INSTRUMENT,
            )
        self._tick_size = tick_size
        self._lot_size = lot_size
        self._bids: dict[int, _Level] = {}  # price -> level
        self._asks: dict[int, _Level] = {}
        self._bid_keys = SortedList()  # -price of each bid level: the best bid first
        self._ask_keys = SortedList()  # price of each ask level: the best ask first
        self._orders: dict[int, _Record] = {}
        self._day_orders: dict[int, _Record] = {}
        self._best_bid = _NO_BID  # kept equal to the highest bid level
        self._best_ask = _NO_ASK  # kept equal to the lowest ask level
        self._seq = 0
        self._next_id = 1

    # ----------------------------------------------------------------- commands

    def submit(
        self,
        owner: int,
        side: int,
        price: int,
        quantity: int,
        order_type: int = LIMIT,
        tif: int = GTC,
        post_only: bool = False,
        stp: int = CANCEL_NEWEST,
        timestamp: int = 0,
    ) -> list[Event]:
        """Check and take a new order (core_rs/README.md, "submit").

        Most orders are valid, take plain ints and rest without crossing; they are
        checked by one filter and rested inline, which is what keeps the one-call-per-
        command benchmark fast. Everything else goes the general way (`_refuse_submit`
        for errors, `_submit_and_match` for the rest), with the same events and errors.
        """
        if not (owner.__class__ is int and side.__class__ is int and price.__class__ is int
                and quantity.__class__ is int and order_type.__class__ is int
                and tif.__class__ is int and stp.__class__ is int
                and timestamp.__class__ is int):
            # bools, enum members and other integer-likes: convert them as the binding does
            arguments = (owner, side, price, quantity, order_type, tif, stp, timestamp)
            try:
                (owner, side, price, quantity, order_type, tif, stp,
                 timestamp) = map(_index, arguments)
            except TypeError:
                _refuse_submit(arguments, post_only, self._tick_size, self._lot_size)
        # One cheap filter for the common, valid order. Anything it catches is refused in
        # the exact order the binding would: conversion errors first, then the spec's
        # checks. Valid enum codes, prices and quantities are far inside i64, so only
        # owner and timestamp need a range check here.
        if (
            (post_only is not False and post_only is not True)
            or not (_I64_MIN <= owner <= _I64_MAX and _I64_MIN <= timestamp <= _I64_MAX)
            or not (BUY <= side <= SELL and LIMIT <= order_type <= MARKET
                    and GTC <= tif <= DAY and CANCEL_NEWEST <= stp <= DECREMENT_AND_CANCEL)
            or not 0 < quantity <= MAX_QUANTITY or quantity % self._lot_size
            or (price != 0 or post_only if order_type == MARKET
                else not 0 < price <= MAX_PRICE or price % self._tick_size)
        ):
            _refuse_submit((owner, side, price, quantity, order_type, tif, stp, timestamp),
                           post_only, self._tick_size, self._lot_size)

        order_id = self._next_id
        self._next_id = order_id + 1
        # The common case, inlined: a GTC or DAY limit that does not cross rests at once.
        # It needs no match loop, no post-only check (it cannot cross) and one event.
        if order_type == LIMIT and tif in _RESTING_TIFS:
            if side == BUY:
                rests = price < self._best_ask
                levels = self._bids
            else:
                rests = price > self._best_bid
                levels = self._asks
            if rests:
                self._seq = seq = self._seq + 1
                order = [order_id, owner, side, price, quantity, quantity, LIMIT, tif,
                         post_only, stp, timestamp]
                level = levels.get(price)
                if level is None:
                    level = self._open_level(levels, price)
                level[order_id] = order
                level.total += quantity
                self._orders[order_id] = order
                if tif == DAY:
                    self._day_orders[order_id] = order
                return [_tuple_new(Event, (ACCEPTED, seq, timestamp, order_id, owner, side,
                                           price, quantity, quantity, 0, 0, 0, 0))]
        return self._submit_and_match(
            [order_id, owner, side, price, quantity, quantity, order_type, tif, post_only,
             stp, timestamp])

    def cancel(self, order_id: int, timestamp: int = 0) -> list[Event]:
        """Cancel a resting order: one dict lookup, O(1) removal from its level.

        The fast path takes an int id that is resting (so it is inside i64, no range
        check needed) and an int timestamp; anything else is converted, or refused, as
        the binding does before the id is looked up again.
        """
        order = self._orders.get(order_id) if order_id.__class__ is int else None
        if order is None or timestamp.__class__ is not int or not (
                _I64_MIN <= timestamp <= _I64_MAX):
            order_id = _i64("order_id", order_id)
            timestamp = _i64("timestamp", timestamp)
            order = self._orders.get(order_id)
            if order is None:
                raise _unknown_order(order_id)
        quantity = order[_REMAINING]
        side = order[_SIDE]
        price = order[_PRICE]
        levels = self._bids if side == BUY else self._asks
        level = levels[price]
        del level[order_id]
        if level:
            level.total -= quantity
        else:
            self._drop_level(levels, price)
        del self._orders[order_id]
        if order[_TIF] == DAY:
            del self._day_orders[order_id]
        self._seq = seq = self._seq + 1
        return [_tuple_new(Event, (CANCELLED, seq, timestamp, order_id, order[_OWNER], side,
                                   price, quantity, 0, R_USER, 0, 0, 0))]

    def amend(self, order_id: int, price: int, quantity: int, timestamp: int = 0) -> list[Event]:
        """Change a resting order's price or open quantity (core_rs/README.md, "amend").

        The fast path takes int arguments that pass every check and an id that is
        resting; when any check fails, `_check_amend` raises in the specification's order
        (which puts the unknown id last).
        """
        order = self._orders.get(order_id) if order_id.__class__ is int else None
        if (order is None or price.__class__ is not int or quantity.__class__ is not int
                or timestamp.__class__ is not int or not _I64_MIN <= timestamp <= _I64_MAX
                or not 0 < quantity <= MAX_QUANTITY or quantity % self._lot_size
                or not 0 < price <= MAX_PRICE or price % self._tick_size):
            order_id, price, quantity, timestamp = self._check_amend(
                order_id, price, quantity, timestamp)
            order = self._orders[order_id]

        remaining = order[_REMAINING]
        side = order[_SIDE]
        if price == order[_PRICE] and quantity <= remaining:
            reduction = remaining - quantity
            order[_REMAINING] = quantity
            order[_QUANTITY] = total = order[_QUANTITY] - reduction
            (self._bids if side == BUY else self._asks)[price].total -= reduction
            self._seq = seq = self._seq + 1
            return [_tuple_new(Event, (AMENDED, seq, timestamp, order_id, order[_OWNER], side,
                                       price, total, quantity, KEPT, 0, 0, 0))]
        events: list[Event] = []
        if order[_POST_ONLY] and self._would_cross(side, price):
            self._emit(events, REJECTED, timestamp, order_id, order[_OWNER], side, price,
                       quantity, remaining, R_POST_ONLY)
            return events
        self._unlink(order)
        order[_QUANTITY] += quantity - remaining
        order[_REMAINING] = quantity
        order[_PRICE] = price
        order[_TIME] = timestamp
        self._emit(events, AMENDED, timestamp, order_id, order[_OWNER], side, price,
                   order[_QUANTITY], quantity, LOST)
        self._take(order, timestamp, events)
        return events

    def end_session(self, timestamp: int = 0) -> list[Event]:
        timestamp = _i64("timestamp", timestamp)
        events: list[Event] = []
        for order_id in sorted(self._day_orders):
            self._close(self._day_orders[order_id], R_SESSION, timestamp, events)
        return events

    def apply_batch(self, commands: bytes) -> bytes:
        """Apply packed command records; return packed event records (core_rs/README.md)."""
        view = memoryview(commands)  # TypeError for anything that is not a byte buffer
        if view.nbytes % COMMAND_RECORD.size:
            raise InvalidOrder(
                f"batch length {view.nbytes} is not a multiple of {COMMAND_RECORD.size} bytes",
                ErrorCode.INVALID_BATCH,
            )
        out = bytearray()
        pack = EVENT_RECORD.pack
        for index, record in enumerate(COMMAND_RECORD.iter_unpack(view)):
            (kind, timestamp, order_id, owner, side, price, quantity,
             order_type, tif, post_only, stp) = record
            try:
                if kind == SUBMIT:
                    events = self.submit(owner, side, price, quantity, order_type, tif,
                                         post_only != 0, stp, timestamp)
                elif kind == CANCEL:
                    events = self.cancel(order_id, timestamp)
                elif kind == AMEND:
                    events = self.amend(order_id, price, quantity, timestamp)
                elif kind == END_SESSION:
                    events = self.end_session(timestamp)
                else:
                    raise InvalidOrder(f"unknown command kind {kind}", ErrorCode.INVALID_COMMAND)
            except BookError as error:
                out += pack(index, 0, 0, 0, order_id, 0, 0, 0, 0, 0, error.code, 0, 0, 0)
                continue
            for event in events:
                out += pack(index, *event)
        return bytes(out)

    # ---------------------------------------------------------------- snapshots

    def snapshot(self) -> bytes:
        """The whole book as little-endian i64 words (core_rs/README.md, "Snapshots")."""
        return struct.pack(*self._state_words(SNAPSHOT_VERSION))

    @staticmethod
    def restore(data: bytes) -> Book:
        """A book rebuilt from `snapshot()` bytes of either backend, checked first."""
        if not isinstance(data, bytes):
            error = TypeError(f"'{type(data).__name__}' object is not an instance of 'bytes'")
            error.add_note("while processing 'data'")
            raise error
        tick_size, lot_size, sequence, next_id, bids, asks = _read_snapshot(data)
        book = Book(tick_size, lot_size)
        book._seq, book._next_id = sequence, next_id
        for records in (bids, asks):
            for (order_id, owner, side, price, quantity, remaining, order_type, tif, post_only,
                 stp, timestamp) in records:
                book._rest([order_id, owner, side, price, quantity, remaining, order_type, tif,
                            post_only == 1, stp, timestamp])
        return book

    # ------------------------------------------------------------------ queries

    @property
    def sequence(self) -> int:
        return self._seq

    @property
    def next_order_id(self) -> int:
        return self._next_id

    @property
    def tick_size(self) -> int:
        return self._tick_size

    @property
    def lot_size(self) -> int:
        return self._lot_size

    def __len__(self) -> int:
        return len(self._orders)

    def best_bid(self) -> tuple[int, int] | None:
        price = self._best_bid
        return None if price == _NO_BID else (price, self._bids[price].total)

    def best_ask(self) -> tuple[int, int] | None:
        price = self._best_ask
        return None if price == _NO_ASK else (price, self._asks[price].total)

    def depth(
        self, levels: int
    ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        levels = _i64("levels", levels)
        if levels <= 0:
            return ([], [])
        bids, asks = self._bids, self._asks
        return ([(-key, bids[-key].total, len(bids[-key]))
                 for key in islice(self._bid_keys, levels)],
                [(p, asks[p].total, len(asks[p])) for p in islice(self._ask_keys, levels)])

    def get_order(self, order_id: int) -> Order | None:
        order = self._orders.get(_i64("order_id", order_id))
        return None if order is None else _tuple_new(Order, order)

    def orders(self) -> tuple[list[Order], list[Order]]:
        bids, asks = self._records()
        return ([_tuple_new(Order, o) for o in bids], [_tuple_new(Order, o) for o in asks])

    def state_hash(self) -> str:
        words = self._state_words(None)
        return blake2b(struct.pack(*words), digest_size=16).hexdigest()

    def validate(self) -> None:
        """Raise `InvariantViolation` unless every internal invariant holds."""
        if (self._best_bid, self._best_ask) != (max(self._bids, default=_NO_BID),
                                                min(self._asks, default=_NO_ASK)):
            _violation("cached best prices do not match the levels")
        if (list(self._bid_keys) != sorted(-price for price in self._bids)
                or list(self._ask_keys) != sorted(self._asks)):
            _violation("a side's index does not hold exactly the keys of its levels")
        best_bid, best_ask = self.best_bid(), self.best_ask()
        if best_bid and best_ask and best_bid[0] >= best_ask[0]:
            _violation(f"book is crossed: bid {best_bid[0]} >= ask {best_ask[0]}")
        seen: set[int] = set()
        for side, levels in ((BUY, self._bids), (SELL, self._asks)):
            for price, level in levels.items():
                if not level:
                    _violation(f"empty level at {price}")
                total = 0
                for order_id, order in level.items():
                    if order_id != order[_ID] or order[_SIDE] != side or order[_PRICE] != price:
                        _violation(f"order {order_id} sits at the wrong key, side or price")
                    if order[_REMAINING] <= 0:
                        _violation(f"order {order_id} rests with open quantity "
                                   f"{order[_REMAINING]}")
                    if self._orders.get(order_id) is not order:
                        _violation(f"order {order_id} is missing from the id index")
                    total += order[_REMAINING]
                    seen.add(order_id)
                if total != level.total:
                    _violation(f"level {price} total {level.total} != sum of orders {total}")
        if len(seen) != len(self._orders):
            _violation(f"id index holds {len(self._orders)} orders, levels hold {len(seen)}")
        day = {i for i, o in self._orders.items() if o[_TIF] == DAY}
        if day != set(self._day_orders):
            _violation("DAY index does not match the resting DAY orders")

    # ---------------------------------------------------------------- internals

    def _emit(
        self, events: list[Event], kind: int, timestamp: int, order_id: int, owner: int,
        side: int, price: int, quantity: int, remaining: int, reason: int,
    ) -> None:
        self._seq = seq = self._seq + 1
        events.append(_tuple_new(Event, (
            kind, seq, timestamp, order_id, owner, side, price, quantity, remaining, reason,
            0, 0, 0,
        )))

    def _check_amend(self, order_id: Any, price: Any, quantity: Any,
                     timestamp: Any) -> tuple[int, int, int, int]:
        """The amend arguments as ints, or the binding's error for the first check that fails."""
        order_id = _i64("order_id", order_id)
        price = _i64("price", price)
        quantity = _i64("quantity", quantity)
        timestamp = _i64("timestamp", timestamp)
        if quantity == 0:
            raise InvalidOrder(
                f"cannot amend order {order_id} to quantity 0; cancel it instead",
                ErrorCode.AMEND_TO_ZERO,
            )
        _check_quantity(quantity, self._lot_size)
        _check_limit_price(price, self._tick_size)
        if order_id not in self._orders:
            raise _unknown_order(order_id)
        return order_id, price, quantity, timestamp

    def _submit_and_match(self, order: _Record) -> list[Event]:
        """Spec steps 2-6 for every new order that does not simply rest: post-only checks,
        FOK, IOC, market orders and limits that cross. The order id is already taken."""
        (order_id, owner, side, price, quantity, _remaining, _order_type, tif, post_only, _stp,
         timestamp) = order
        events: list[Event] = []
        if post_only and self._would_cross(side, price):
            self._emit(events, REJECTED, timestamp, order_id, owner, side, price, quantity, 0,
                       R_POST_ONLY)
            return events
        self._emit(events, ACCEPTED, timestamp, order_id, owner, side, price, quantity,
                   quantity, 0)
        if tif == FOK and not self._fillable(order):
            self._emit(events, CANCELLED, timestamp, order_id, owner, side, price, quantity, 0,
                       R_FOK)
            return events
        self._take(order, timestamp, events)
        return events

    def _would_cross(self, side: int, price: int) -> bool:
        return price >= self._best_ask if side == BUY else price <= self._best_bid

    def _fillable(self, taker: _Record) -> bool:
        """Whether the match loop would fill `taker` completely (the FOK pre-check)."""
        need = taker[_REMAINING]
        owner = taker[_OWNER]
        skip_own = taker[_STP] == CANCEL_OLDEST
        limit = _crossing_limit(taker[_SIDE], taker[_TYPE], taker[_PRICE])
        if taker[_SIDE] == BUY:
            levels = self._asks
            prices = self._ask_keys.irange(maximum=limit)
        else:
            levels = self._bids
            prices = (-key for key in self._bid_keys.irange(maximum=-limit))
        for price in prices:
            for maker in levels[price].values():
                if maker[_OWNER] == owner:
                    if skip_own:
                        continue
                    return False
                need -= maker[_REMAINING]
                if need <= 0:
                    return True
        return False

    def _take(self, taker: _Record, timestamp: int, events: list[Event]) -> None:
        """Match `taker`, then rest or cancel what is left of it (spec step 6)."""
        stopped_by_stp = self._match(taker, timestamp, events)
        quantity = taker[_REMAINING]
        if not quantity:
            return
        if stopped_by_stp:
            reason = R_STP
        elif taker[_TYPE] == MARKET:
            reason = R_NO_LIQUIDITY
        elif taker[_TIF] == IOC:
            reason = R_IOC
        else:
            assert taker[_TIF] != FOK, "a fillable FOK order was left with open quantity"
            self._rest(taker)
            return
        taker[_REMAINING] = 0
        self._emit(events, CANCELLED, timestamp, taker[_ID], taker[_OWNER], taker[_SIDE],
                   taker[_PRICE], quantity, 0, reason)

    def _match(self, taker: _Record, timestamp: int, events: list[Event]) -> bool:
        """Trade `taker` against the opposite side; True when STP stopped the matching.

        The taker's open quantity and the sequence live in locals for the whole loop and
        are written back at the end; nothing in between can raise.
        """
        order_id, owner, side, price = taker[_ID], taker[_OWNER], taker[_SIDE], taker[_PRICE]
        remaining = taker[_REMAINING]
        stp = taker[_STP]
        buy = side == BUY
        limit = _crossing_limit(side, taker[_TYPE], price)
        levels = self._asks if buy else self._bids
        orders = self._orders
        seq = self._seq
        stopped = False
        while remaining and not stopped:
            best = self._best_ask if buy else self._best_bid  # a sentinel never crosses
            if best > limit if buy else best < limit:
                break
            level = levels[best]
            while remaining:
                maker_id = next(iter(level))
                maker = level[maker_id]
                maker_owner = maker[_OWNER]
                maker_open = maker[_REMAINING]
                if maker_owner != owner:
                    quantity = remaining if remaining < maker_open else maker_open
                    remaining -= quantity
                    maker_open -= quantity
                    seq += 1
                    events.append(_tuple_new(Event, (
                        TRADE, seq, timestamp, order_id, owner, side, best, quantity, remaining,
                        0, maker_id, maker_owner, maker_open)))
                elif stp == CANCEL_NEWEST:
                    stopped = True
                    break
                elif stp == DECREMENT_AND_CANCEL:
                    quantity = remaining if remaining < maker_open else maker_open
                    maker_open -= quantity
                    remaining -= quantity
                    events.append(_tuple_new(Event, (
                        CANCELLED, seq + 1, timestamp, maker_id, owner, maker[_SIDE], best,
                        quantity, maker_open, R_STP, 0, 0, 0)))
                    events.append(_tuple_new(Event, (
                        CANCELLED, seq + 2, timestamp, order_id, owner, side, price, quantity,
                        remaining, R_STP, 0, 0, 0)))
                    seq += 2
                else:  # CANCEL_OLDEST or CANCEL_BOTH: the resting order goes
                    quantity = maker_open
                    maker_open = 0
                    seq += 1
                    events.append(_tuple_new(Event, (
                        CANCELLED, seq, timestamp, maker_id, owner, maker[_SIDE], best, quantity,
                        0, R_STP, 0, 0, 0)))
                    stopped = stp == CANCEL_BOTH
                maker[_REMAINING] = maker_open
                if maker_open:
                    level.total -= quantity
                else:
                    del level[maker_id]
                    del orders[maker_id]
                    if maker[_TIF] == DAY:
                        del self._day_orders[maker_id]
                    if not level:
                        self._drop_level(levels, best)
                        break
                    level.total -= quantity
                if stopped:
                    break
        taker[_REMAINING] = remaining
        self._seq = seq
        return stopped

    def _open_level(self, levels: dict[int, _Level], price: int) -> _Level:
        """Open a price level: add its key to the side's index, update the cached best."""
        level = levels[price] = _Level()
        level.total = 0
        if levels is self._bids:
            self._bid_keys.add(-price)
            if price > self._best_bid:
                self._best_bid = price
        else:
            self._ask_keys.add(price)
            if price < self._best_ask:
                self._best_ask = price
        return level

    def _rest(self, order: _Record) -> None:
        price = order[_PRICE]
        levels = self._bids if order[_SIDE] == BUY else self._asks
        level = levels.get(price)
        if level is None:
            level = self._open_level(levels, price)
        level[order[_ID]] = order
        level.total += order[_REMAINING]
        self._orders[order[_ID]] = order
        if order[_TIF] == DAY:
            self._day_orders[order[_ID]] = order

    def _unlink(self, order: _Record) -> None:
        """Take a resting order out of its level and the indexes, in O(1) per order."""
        order_id, price = order[_ID], order[_PRICE]
        levels = self._bids if order[_SIDE] == BUY else self._asks
        level = levels[price]
        del level[order_id]
        if level:
            level.total -= order[_REMAINING]
        else:
            self._drop_level(levels, price)
        del self._orders[order_id]
        if order[_TIF] == DAY:
            del self._day_orders[order_id]

    def _drop_level(self, levels: dict[int, _Level], price: int) -> None:
        """Remove an empty level and its key; if it was the best, the next key is the best."""
        del levels[price]
        if levels is self._bids:
            keys = self._bid_keys
            if price == self._best_bid:
                keys.pop(0)
                try:
                    self._best_bid = -keys[0]
                except IndexError:  # cheaper than asking for the length every time
                    self._best_bid = _NO_BID
            else:
                keys.remove(-price)
        else:
            keys = self._ask_keys
            if price == self._best_ask:
                keys.pop(0)
                try:
                    self._best_ask = keys[0]
                except IndexError:
                    self._best_ask = _NO_ASK
            else:
                keys.remove(price)

    def _close(self, order: _Record, reason: int, timestamp: int, events: list[Event]) -> None:
        quantity = order[_REMAINING]
        self._unlink(order)
        order[_REMAINING] = 0
        self._emit(events, CANCELLED, timestamp, order[_ID], order[_OWNER], order[_SIDE],
                   order[_PRICE], quantity, 0, reason)

    def _records(self) -> tuple[list[_Record], list[_Record]]:
        """Every resting order's record in priority order (best price first, then time)."""
        bids, asks = self._bids, self._asks
        return ([o for key in self._bid_keys for o in bids[-key].values()],
                [o for p in self._ask_keys for o in asks[p].values()])

    def _state_words(self, version: int | None) -> list[Any]:
        """`struct.pack` arguments for the state hash's input, or a snapshot's with a version
        word: tick, lot, sequence, next id, then each side's count and records."""
        words: list[Any] = [] if version is None else [version]
        words += [self._tick_size, self._lot_size, self._seq, self._next_id]
        for side in self._records():
            words.append(len(side))
            for record in side:
                words.extend(record)
        words.insert(0, f"<{len(words)}q")
        return words


SNAPSHOT_VERSION = 1
_ORDER_WORDS = 11
_MIN_WORDS = 7  # version, tick, lot, sequence, next id, bid count, ask count


def _invalid_snapshot(detail: str) -> InvalidOrder:
    return InvalidOrder(f"invalid snapshot: {detail}", ErrorCode.INVALID_SNAPSHOT)


def _read_snapshot(data: bytes) -> tuple[int, int, int, int, list[tuple[int, ...]],
                                          list[tuple[int, ...]]]:
    """Parse and check snapshot bytes in the specification's order; raise the first failure."""
    whole = _invalid_snapshot(f"{len(data)} bytes is not a whole snapshot")
    if len(data) % 8 or len(data) < 8 * _MIN_WORDS:
        raise whole
    words = struct.unpack(f"<{len(data) // 8}q", data)
    version, tick_size, lot_size, sequence, next_id = words[:5]
    if version != SNAPSHOT_VERSION:
        raise _invalid_snapshot(f"version {version} is not supported")
    if tick_size <= 0 or lot_size <= 0:
        raise _invalid_snapshot(
            f"tick size and lot size must be positive, got {tick_size} and {lot_size}")
    if sequence < 0:
        raise _invalid_snapshot(f"sequence {sequence} is negative")
    if next_id < 1:
        raise _invalid_snapshot(f"next order id {next_id} is not positive")
    bid_count = words[5]
    asks_at = 6 + bid_count * _ORDER_WORDS
    if bid_count < 0 or asks_at >= len(words):
        raise whole
    ask_count = words[asks_at]
    if ask_count < 0 or asks_at + 1 + ask_count * _ORDER_WORDS != len(words):
        raise whole
    seen: set[int] = set()
    sides = []
    for side, start, count in ((BUY, 6, bid_count), (SELL, asks_at + 1, ask_count)):
        records = [words[start + i * _ORDER_WORDS:start + (i + 1) * _ORDER_WORDS]
                   for i in range(count)]
        previous = None
        for record in records:
            _check_snapshot_order(record, side, tick_size, lot_size, next_id, seen)
            price = record[3]
            if previous is not None and (price > previous if side == BUY else price < previous):
                raise _invalid_snapshot(f"order {record[0]} is out of price priority")
            previous = price
        sides.append(records)
    bids, asks = sides
    if bids and asks and bids[0][3] >= asks[0][3]:
        raise _invalid_snapshot(f"book is crossed: best bid {bids[0][3]} >= best ask {asks[0][3]}")
    return tick_size, lot_size, sequence, next_id, bids, asks


def _check_snapshot_order(record: tuple[int, ...], side: int, tick_size: int, lot_size: int,
                          next_id: int, seen: set[int]) -> None:
    (order_id, _owner, order_side, price, quantity, remaining, order_type, tif, post_only, stp,
     _timestamp) = record
    if order_side != side:
        raise _invalid_snapshot(f"order {order_id} is on the wrong side")
    if order_type != LIMIT or tif not in (GTC, DAY):
        raise _invalid_snapshot(f"order {order_id} is not a GTC or DAY limit order")
    if post_only not in (0, 1) or stp not in _STP_MODES:
        raise _invalid_snapshot(
            f"order {order_id} has an invalid post-only flag or self-trade prevention mode")
    if not 1 <= order_id < next_id:
        raise _invalid_snapshot(f"order {order_id} was never handed out")
    if order_id in seen:
        raise _invalid_snapshot(f"order {order_id} appears twice")
    seen.add(order_id)
    if price <= 0 or price > MAX_PRICE or price % tick_size:
        raise _invalid_snapshot(f"order {order_id} has an invalid price {price}")
    if remaining <= 0 or remaining > MAX_QUANTITY or remaining % lot_size or remaining > quantity:
        raise _invalid_snapshot(
            f"order {order_id} has an invalid open quantity {remaining} of {quantity}")


def _violation(message: str) -> None:
    raise InvariantViolation(message, ErrorCode.INVARIANT_VIOLATION)
