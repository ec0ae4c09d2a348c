"""The public view of a book, rebuilt from events alone, and its L3 events.

Differential: after every command of a long seeded stream (every command kind, STP,
FOK, post-only, amendments, sessions), the view must equal the live book, and a
reader applying only the L3 events must hold exactly the book's resting orders.
Every test runs on both views: the Python reference and the Rust port.
"""

from __future__ import annotations

from typing import Any

import pytest
from book.streams import random_commands
from tradepit.book import BookError, CommandKind, StpMode, TimeInForce, load_backend
from tradepit.marketdata.view import (
    ADD,
    DELETE,
    EXECUTE,
    REDUCE,
    BookView,
    OrderEvent,
    PythonBookView,
)

BUY, SELL = 1, 2
KIND = {ADD: "ADD", REDUCE: "REDUCE", DELETE: "DELETE", EXECUTE: "EXECUTE"}


@pytest.fixture(params=["python", "rust"])
def view_class(request: pytest.FixtureRequest) -> Any:
    """The view class: the Python reference or the Rust port (never skipped)."""
    if request.param == "python":
        return PythonBookView
    try:
        return load_backend("rust").BookView
    except (ImportError, AttributeError) as error:
        pytest.fail(str(error), pytrace=False)


def run(book: Any, command: Any) -> list[Any]:
    c = command
    try:
        if c.kind == CommandKind.SUBMIT:
            return list(book.submit(c.owner, c.side, c.price, c.quantity, c.order_type, c.tif,
                                    bool(c.post_only), c.stp, c.timestamp))
        if c.kind == CommandKind.CANCEL:
            return list(book.cancel(c.order_id, c.timestamp))
        if c.kind == CommandKind.AMEND:
            return list(book.amend(c.order_id, c.price, c.quantity, c.timestamp))
        if c.kind == CommandKind.END_SESSION:
            return list(book.end_session(c.timestamp))
    except BookError:
        pass
    return []


class L3Reader:
    """What a client holds from L3 events: open quantity per order id, checked as it goes."""

    def __init__(self) -> None:
        self.orders: dict[int, tuple[int, int, int]] = {}  # id -> (side, price, remaining)

    def apply(self, e: OrderEvent) -> None:
        if e.kind == ADD:
            assert e.order_id not in self.orders and e.quantity == e.remaining > 0
            self.orders[e.order_id] = (e.side, e.price, e.remaining)
            return
        side, price, remaining = self.orders[e.order_id]
        assert (e.side, e.price) == (side, price)
        assert remaining - e.quantity == e.remaining >= 0 and e.quantity > 0
        assert (e.kind == DELETE) == (e.remaining == 0) or e.kind == EXECUTE
        if e.remaining:
            self.orders[e.order_id] = (side, price, e.remaining)
        else:
            del self.orders[e.order_id]


def resting(book: Any) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    bids, asks = book.orders()
    return ([(o.order_id, o.side, o.price, o.remaining) for o in bids],
            [(o.order_id, o.side, o.price, o.remaining) for o in asks])


def assert_same(view: BookView, book: Any) -> None:
    assert view.sequence == book.sequence
    assert view.depth(10_000) == book.depth(10_000)
    assert view.depth(3) == book.depth(3)
    assert view.best_bid() == book.best_bid() and view.best_ask() == book.best_ask()
    bids, asks = view.orders()
    assert ([tuple(o) for o in bids], [tuple(o) for o in asks]) == resting(book)
    assert len(view) == len(book)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_view_follows_the_book_through_a_long_random_stream(make_book, view_class, seed):
    book = make_book(5, 10)
    view = view_class()
    reader = L3Reader()
    kinds: set[int] = set()
    for command in random_commands(seed, 4_000):
        events = run(book, command)
        l3 = view.apply(events)
        for e in l3:
            reader.apply(e)
            kinds.add(e.kind)
            assert e.sequence in {ev.seq for ev in events}
        assert [e.sequence for e in l3] == sorted(e.sequence for e in l3)
        assert_same(view, book)
        assert {i: (s, p, r) for i, s, p, r in [*resting(book)[0], *resting(book)[1]]} \
            == reader.orders
    assert kinds == {ADD, REDUCE, DELETE, EXECUTE}


def test_a_view_of_a_live_book_continues_from_its_events(make_book, view_class):
    book = make_book(5, 10)
    commands = list(random_commands(7, 600))
    for command in commands[:300]:
        run(book, command)
    view = view_class.of(book)
    assert_same(view, book)
    for command in commands[300:]:
        view.apply(run(book, command))
        assert_same(view, book)


def l3(view: BookView, events: list[Any]) -> list[tuple[Any, ...]]:
    return [(KIND[e.kind], e.order_id, e.quantity, e.remaining) for e in view.apply(events)]


def test_a_taker_that_partly_fills_executes_the_makers_then_rests(book, view_class):
    view = view_class()
    assert l3(view, book.submit(1, SELL, 100, 5)) == [("ADD", 1, 5, 5)]
    assert l3(view, book.submit(1, SELL, 101, 5)) == [("ADD", 2, 5, 5)]
    # The taker trades 5 at 100 and 5 at 101, then rests 2 at 101: executions for the
    # makers only, then one ADD for what is left of the taker.
    assert l3(view, book.submit(2, BUY, 101, 12)) == [
        ("EXECUTE", 1, 5, 0), ("EXECUTE", 2, 5, 0), ("ADD", 3, 2, 2)]
    [add] = [e for e in view.apply(book.submit(2, BUY, 99, 1))]
    assert (add.side, add.price, add.sequence) == (BUY, 99, book.sequence)


def test_remainders_that_never_rest_are_invisible(book, view_class):
    view = view_class()
    view.apply(book.submit(1, SELL, 100, 5))
    assert l3(view, book.submit(2, BUY, 100, 8, tif=TimeInForce.IOC)) == [("EXECUTE", 1, 5, 0)]
    assert l3(view, book.submit(2, BUY, 100, 8, tif=TimeInForce.FOK)) == []
    view.apply(book.submit(1, SELL, 100, 5))
    assert l3(view, book.submit(2, BUY, 99, 3, post_only=True)) == [("ADD", 5, 3, 3)]
    assert l3(view, book.submit(2, BUY, 100, 3, post_only=True)) == []  # rejected
    assert l3(view, book.submit(2, BUY, 0, 50, order_type=2)) == [("EXECUTE", 4, 5, 0)]


def test_amendments_reduce_in_place_or_move_to_the_back(book, view_class):
    view = view_class()
    view.apply(book.submit(1, BUY, 100, 10))
    view.apply(book.submit(2, BUY, 100, 10))
    assert l3(view, book.amend(1, 100, 6)) == [("REDUCE", 1, 4, 6)]
    assert l3(view, book.amend(1, 100, 6)) == []  # the same again changes nothing
    assert l3(view, book.amend(1, 100, 8)) == [("DELETE", 1, 6, 0), ("ADD", 1, 8, 8)]
    assert view.orders()[0][0].order_id == 2  # 1 lost its priority
    view.apply(book.submit(3, SELL, 102, 5))
    # Moved to a crossing price: it leaves, trades as a taker, and rests the rest.
    assert l3(view, book.amend(1, 102, 8)) == [
        ("DELETE", 1, 8, 0), ("EXECUTE", 3, 5, 0), ("ADD", 1, 3, 3)]
    assert view.best_bid() == (102, 3)


def test_cancels_stp_and_session_end(book, view_class):
    view = view_class()
    view.apply(book.submit(1, SELL, 100, 10))
    view.apply(book.submit(1, SELL, 100, 4, tif=TimeInForce.DAY))
    # Decrement-and-cancel against the owner's own ask: the maker shrinks in place, the
    # taker's decrement is its own business.
    assert l3(view, book.submit(1, BUY, 100, 3, stp=StpMode.DECREMENT_AND_CANCEL)) == [
        ("REDUCE", 1, 3, 7)]
    assert l3(view, book.submit(1, BUY, 100, 1, stp=StpMode.CANCEL_OLDEST)) == [
        ("DELETE", 1, 7, 0), ("DELETE", 2, 4, 0), ("ADD", 4, 1, 1)]
    view.apply(book.submit(2, SELL, 105, 4, tif=TimeInForce.DAY))
    assert l3(view, book.end_session()) == [("DELETE", 5, 4, 0)]
    assert l3(view, book.cancel(4)) == [("DELETE", 4, 1, 0)]
    assert view.orders() == ([], []) and view.depth(5) == ([], [])
