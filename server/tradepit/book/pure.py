"""The pure-Python book: the reference implementation of core_rs/README.md.

Price levels live in `SortedDict`s keyed by price; each level keeps its orders in an
`OrderedDict` (time priority) so removing any order is O(1), never a queue scan.
The best bid and ask prices are cached, so the common case (a limit order that does
not cross) rests without touching the opposite side's SortedDict. Events are built as
plain tuples (`tuple.__new__`) because this path is benchmarked.
"""

from __future__ import annotations

import operator
import struct
from collections import OrderedDict
from hashlib import blake2b
from itertools import islice
from typing import Any, NamedTuple, NoReturn

from sortedcontainers import SortedDict

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


class _Resting:
    """The book's own mutable record of an order; callers only ever see `Order` copies."""

    __slots__ = (
        "order_id",
        "order_type",
        "owner",
        "post_only",
        "price",
        "quantity",
        "remaining",
        "side",
        "stp",
        "tif",
        "timestamp",
    )

    def __init__(
        self, order_id: int, owner: int, side: int, price: int, quantity: int,
        order_type: int, tif: int, post_only: bool, stp: int, timestamp: int,
    ) -> None:
        self.order_id = order_id
        self.owner = owner
        self.side = side
        self.price = price
        self.quantity = quantity
        self.remaining = quantity
        self.order_type = order_type
        self.tif = tif
        self.post_only = post_only
        self.stp = stp
        self.timestamp = timestamp

    def snapshot(self) -> Order:
        return Order(
            self.order_id, self.owner, self.side, self.price, self.quantity, self.remaining,
            self.order_type, self.tif, self.post_only, self.stp, self.timestamp,
        )


class _Level:
    """All resting orders at one price, in time priority, with their open total."""

    __slots__ = ("orders", "total")

    def __init__(self) -> None:
        self.orders: OrderedDict[int, _Resting] = OrderedDict()
        self.total = 0


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
        self._bids: SortedDict = SortedDict()  # price -> _Level, best is the last
        self._asks: SortedDict = SortedDict()  # price -> _Level, best is the first
        self._orders: dict[int, _Resting] = {}
        self._day_orders: dict[int, _Resting] = {}
        self._best_bid: int | None = None  # kept equal to the highest bid level
        self._best_ask: int | None = None  # kept equal to the lowest ask level
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
        arguments = (owner, side, price, quantity, order_type, tif, stp, timestamp)
        try:
            owner, side, price, quantity, order_type, tif, stp, timestamp = map(_index, arguments)
        except TypeError:
            _refuse_submit(arguments, post_only, self._tick_size, self._lot_size)
        # One cheap filter for the common, valid order. Anything it catches is refused in
        # the exact order the binding would: conversion errors first, then the spec's
        # checks. Valid enum codes, prices and quantities are far inside i64, so only
        # owner and timestamp need a range check here.
        if (
            post_only.__class__ is not bool
            or not (_I64_MIN <= owner <= _I64_MAX and _I64_MIN <= timestamp <= _I64_MAX)
            or side not in _SIDES or order_type not in _ORDER_TYPES
            or tif not in _TIFS or stp not in _STP_MODES
            or quantity <= 0 or quantity > MAX_QUANTITY or quantity % self._lot_size
            or (price != 0 or post_only if order_type == MARKET
                else price <= 0 or price > MAX_PRICE or price % self._tick_size)
        ):
            _refuse_submit(arguments, post_only, self._tick_size, self._lot_size)

        order_id = self._next_id
        self._next_id = order_id + 1
        events: list[Event] = []
        if post_only and self._would_cross(side, price):
            self._emit(events, REJECTED, timestamp, order_id, owner, side, price, quantity, 0,
                       R_POST_ONLY)
            return events
        self._seq = seq = self._seq + 1
        events.append(_tuple_new(Event, (ACCEPTED, seq, timestamp, order_id, owner, side, price,
                                         quantity, quantity, 0, 0, 0, 0)))
        order = _Resting(order_id, owner, side, price, quantity, order_type, tif, post_only, stp,
                         timestamp)
        if tif == FOK and not self._fillable(order):
            self._emit(events, CANCELLED, timestamp, order_id, owner, side, price, quantity, 0,
                       R_FOK)
        elif order_type == MARKET or self._would_cross(side, price):
            self._take(order, timestamp, events)
        elif tif == IOC:
            self._emit(events, CANCELLED, timestamp, order_id, owner, side, price, quantity, 0,
                       R_IOC)
        else:  # the common case, inlined: a limit order that rests without trading
            levels = self._bids if side == BUY else self._asks
            level = levels.get(price)
            if level is None:
                level = self._new_level(levels, price)
            level.orders[order_id] = order
            level.total += quantity
            self._orders[order_id] = order
            if tif == DAY:
                self._day_orders[order_id] = order
        return events

    def cancel(self, order_id: int, timestamp: int = 0) -> list[Event]:
        if not (order_id.__class__ is int and timestamp.__class__ is int
                and _I64_MIN <= order_id <= _I64_MAX and _I64_MIN <= timestamp <= _I64_MAX):
            order_id = _i64("order_id", order_id)
            timestamp = _i64("timestamp", timestamp)
        order = self._orders.get(order_id)
        if order is None:
            raise _unknown_order(order_id)
        quantity = order.remaining
        self._unlink(order)
        order.remaining = 0
        self._seq = seq = self._seq + 1
        return [_tuple_new(Event, (CANCELLED, seq, timestamp, order_id, order.owner, order.side,
                                   order.price, quantity, 0, R_USER, 0, 0, 0))]

    def amend(self, order_id: int, price: int, quantity: int, timestamp: int = 0) -> list[Event]:
        if not (order_id.__class__ is int and price.__class__ is int
                and quantity.__class__ is int and timestamp.__class__ is int
                and min(order_id, price, quantity, timestamp) >= _I64_MIN
                and max(order_id, price, quantity, timestamp) <= _I64_MAX):
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
        order = self._orders.get(order_id)
        if order is None:
            raise _unknown_order(order_id)

        events: list[Event] = []
        if price == order.price and quantity <= order.remaining:
            reduction = order.remaining - quantity
            order.remaining = quantity
            order.quantity -= reduction
            self._levels(order.side)[price].total -= reduction
            self._emit(events, AMENDED, timestamp, order_id, order.owner, order.side, price,
                       order.quantity, quantity, KEPT)
            return events
        if order.post_only and self._would_cross(order.side, price):
            self._emit(events, REJECTED, timestamp, order_id, order.owner, order.side, price,
                       quantity, order.remaining, R_POST_ONLY)
            return events
        self._unlink(order)
        order.quantity += quantity - order.remaining
        order.remaining = quantity
        order.price = price
        order.timestamp = timestamp
        self._emit(events, AMENDED, timestamp, order_id, order.owner, order.side, price,
                   order.quantity, quantity, LOST)
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
        bids, asks = self.orders()
        words = [SNAPSHOT_VERSION, self._tick_size, self._lot_size, self._seq, self._next_id]
        for side in (bids, asks):
            words.append(len(side))
            for order in side:
                words.extend(int(field) for field in order)
        return struct.pack(f"<{len(words)}q", *words)

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
                order = _Resting(order_id, owner, side, price, quantity, order_type, tif,
                                 post_only == 1, stp, timestamp)
                order.remaining = remaining
                book._rest(order)
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
        return None if price is None else (price, self._bids[price].total)

    def best_ask(self) -> tuple[int, int] | None:
        price = self._best_ask
        return None if price is None else (price, self._asks[price].total)

    def depth(
        self, levels: int
    ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        levels = _i64("levels", levels)
        if levels <= 0:
            return ([], [])
        bids = islice(self._bids_best_first(), levels)
        asks = islice(self._asks.items(), levels)
        return ([(p, lvl.total, len(lvl.orders)) for p, lvl in bids],
                [(p, lvl.total, len(lvl.orders)) for p, lvl in asks])

    def get_order(self, order_id: int) -> Order | None:
        order = self._orders.get(_i64("order_id", order_id))
        return None if order is None else order.snapshot()

    def orders(self) -> tuple[list[Order], list[Order]]:
        bids = [o.snapshot() for _, lvl in self._bids_best_first() for o in lvl.orders.values()]
        asks = [o.snapshot() for lvl in self._asks.values() for o in lvl.orders.values()]
        return (bids, asks)

    def state_hash(self) -> str:
        bids, asks = self.orders()
        words = [self._tick_size, self._lot_size, self._seq, self._next_id]
        for side in (bids, asks):
            words.append(len(side))
            for order in side:
                words.extend(int(field) for field in order)
        return blake2b(struct.pack(f"<{len(words)}q", *words), digest_size=16).hexdigest()

    def validate(self) -> None:
        """Raise `InvariantViolation` unless every internal invariant holds."""
        if (self._best_bid, self._best_ask) != (
            self._bids.peekitem(-1)[0] if self._bids else None,
            self._asks.peekitem(0)[0] if self._asks else None,
        ):
            _violation("cached best prices do not match the levels")
        best_bid, best_ask = self.best_bid(), self.best_ask()
        if best_bid and best_ask and best_bid[0] >= best_ask[0]:
            _violation(f"book is crossed: bid {best_bid[0]} >= ask {best_ask[0]}")
        seen: set[int] = set()
        for side, levels in ((BUY, self._bids), (SELL, self._asks)):
            for price, level in levels.items():
                if not level.orders:
                    _violation(f"empty level at {price}")
                total = 0
                for order_id, order in level.orders.items():
                    if order_id != order.order_id or order.side != side or order.price != price:
                        _violation(f"order {order_id} sits at the wrong key, side or price")
                    if order.remaining <= 0:
                        _violation(f"order {order_id} rests with open quantity {order.remaining}")
                    if self._orders.get(order_id) is not order:
                        _violation(f"order {order_id} is missing from the id index")
                    total += order.remaining
                    seen.add(order_id)
                if total != level.total:
                    _violation(f"level {price} total {level.total} != sum of orders {total}")
        if len(seen) != len(self._orders):
            _violation(f"id index holds {len(self._orders)} orders, levels hold {len(seen)}")
        day = {i for i, o in self._orders.items() if o.tif == DAY}
        if day != set(self._day_orders):
            _violation("DAY index does not match the resting DAY orders")

    # ---------------------------------------------------------------- internals

    def _emit(
        self, events: list[Event], kind: int, timestamp: int, order_id: int, owner: int,
        side: int, price: int, quantity: int, remaining: int, reason: int,
        maker_id: int = 0, maker_owner: int = 0, maker_remaining: int = 0,
    ) -> None:
        self._seq = seq = self._seq + 1
        events.append(_tuple_new(Event, (
            kind, seq, timestamp, order_id, owner, side, price, quantity, remaining, reason,
            maker_id, maker_owner, maker_remaining,
        )))

    def _levels(self, side: int) -> SortedDict:
        return self._bids if side == BUY else self._asks

    def _bids_best_first(self) -> Any:
        bids = self._bids
        return ((price, bids[price]) for price in reversed(bids))

    def _would_cross(self, side: int, price: int) -> bool:
        if side == BUY:
            best = self._best_ask
            return best is not None and best <= price
        best = self._best_bid
        return best is not None and best >= price

    def _fillable(self, taker: _Resting) -> bool:
        """Whether the match loop would fill `taker` completely (the FOK pre-check)."""
        need = taker.remaining
        buy = taker.side == BUY
        market = taker.order_type == MARKET
        levels = self._asks if buy else self._bids
        for price in (levels if buy else reversed(levels)):
            if not market and (price > taker.price if buy else price < taker.price):
                break
            for maker in levels[price].orders.values():
                if maker.owner == taker.owner:
                    if taker.stp == CANCEL_OLDEST:
                        continue
                    return False
                need -= maker.remaining
                if need <= 0:
                    return True
        return False

    def _take(self, taker: _Resting, timestamp: int, events: list[Event]) -> None:
        """Match `taker`, then rest or cancel what is left of it (spec step 6)."""
        stopped_by_stp = self._match(taker, timestamp, events)
        if not taker.remaining:
            return
        if stopped_by_stp:
            reason = R_STP
        elif taker.order_type == MARKET:
            reason = R_NO_LIQUIDITY
        elif taker.tif == IOC:
            reason = R_IOC
        else:
            assert taker.tif != FOK, "a fillable FOK order was left with open quantity"
            self._rest(taker)
            return
        quantity = taker.remaining
        taker.remaining = 0
        self._emit(events, CANCELLED, timestamp, taker.order_id, taker.owner, taker.side,
                   taker.price, quantity, 0, reason)

    def _match(self, taker: _Resting, timestamp: int, events: list[Event]) -> bool:
        """Trade `taker` against the opposite side; True when STP stopped the matching."""
        buy = taker.side == BUY
        levels = self._asks if buy else self._bids
        market = taker.order_type == MARKET
        limit = taker.price
        owner = taker.owner
        emit = self._emit
        stopped = False
        while taker.remaining and not stopped:
            price = self._best_ask if buy else self._best_bid
            if price is None or (not market and (price > limit if buy else price < limit)):
                break
            level = levels[price]
            queue = level.orders
            while taker.remaining and queue:
                maker = queue[next(iter(queue))]
                if maker.owner != owner:
                    quantity = min(taker.remaining, maker.remaining)
                    taker.remaining -= quantity
                    maker.remaining -= quantity
                    level.total -= quantity
                    self._seq = seq = self._seq + 1
                    events.append(_tuple_new(Event, (
                        TRADE, seq, timestamp, taker.order_id, owner, taker.side, price,
                        quantity, taker.remaining, 0, maker.order_id, maker.owner,
                        maker.remaining)))
                elif taker.stp == CANCEL_NEWEST:
                    stopped = True
                    break
                elif taker.stp == DECREMENT_AND_CANCEL:
                    quantity = min(taker.remaining, maker.remaining)
                    maker.remaining -= quantity
                    level.total -= quantity
                    emit(events, CANCELLED, timestamp, maker.order_id, owner, maker.side, price,
                         quantity, maker.remaining, R_STP)
                    taker.remaining -= quantity
                    emit(events, CANCELLED, timestamp, taker.order_id, owner, taker.side,
                         taker.price, quantity, taker.remaining, R_STP)
                else:  # CANCEL_OLDEST or CANCEL_BOTH: the resting order goes
                    quantity = maker.remaining
                    maker.remaining = 0
                    level.total -= quantity
                    emit(events, CANCELLED, timestamp, maker.order_id, owner, maker.side, price,
                         quantity, 0, R_STP)
                    stopped = taker.stp == CANCEL_BOTH
                if not maker.remaining:
                    del queue[maker.order_id]
                    del self._orders[maker.order_id]
                    if maker.tif == DAY:
                        del self._day_orders[maker.order_id]
                if stopped:
                    break
            if not queue:
                self._drop_level(levels, price)
        return stopped

    def _new_level(self, levels: SortedDict, price: int) -> _Level:
        """Open a price level and keep the cached best price of its side right."""
        level = levels[price] = _Level()
        if levels is self._bids:
            if self._best_bid is None or price > self._best_bid:
                self._best_bid = price
        elif self._best_ask is None or price < self._best_ask:
            self._best_ask = price
        return level

    def _rest(self, order: _Resting) -> None:
        levels = self._bids if order.side == BUY else self._asks
        level = levels.get(order.price)
        if level is None:
            level = self._new_level(levels, order.price)
        level.orders[order.order_id] = order
        level.total += order.remaining
        self._orders[order.order_id] = order
        if order.tif == DAY:
            self._day_orders[order.order_id] = order

    def _unlink(self, order: _Resting) -> None:
        """Take a resting order out of its level and the indexes, in O(1) per order."""
        levels = self._bids if order.side == BUY else self._asks
        level = levels[order.price]
        del level.orders[order.order_id]
        level.total -= order.remaining
        if not level.orders:
            self._drop_level(levels, order.price)
        del self._orders[order.order_id]
        if order.tif == DAY:
            del self._day_orders[order.order_id]

    def _drop_level(self, levels: SortedDict, price: int) -> None:
        """Remove an empty level and keep the cached best price of its side right."""
        del levels[price]
        if levels is self._bids:
            if price == self._best_bid:
                self._best_bid = levels.peekitem(-1)[0] if levels else None
        elif price == self._best_ask:
            self._best_ask = levels.peekitem(0)[0] if levels else None

    def _close(self, order: _Resting, reason: int, timestamp: int, events: list[Event]) -> None:
        quantity = order.remaining
        self._unlink(order)
        order.remaining = 0
        self._emit(events, CANCELLED, timestamp, order.order_id, order.owner, order.side,
                   order.price, quantity, 0, reason)


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
