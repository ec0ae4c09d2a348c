"""The Rust BookView (tradepit._native.BookView) against the Python reference.

Differential: seeded random command streams (every command kind, STP, FOK, post-only,
amendments, sessions, refused commands) run through a book of either backend, and each
command's events go into both views. After every command the touched prices and the L3
events must be equal; every few commands, so must every query. A view started from a
live book in mid-stream (`of`) must be the same too, and carry on the same.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from book.streams import apply, random_commands
from tradepit.book import load_backend
from tradepit.marketdata.view import OrderEvent, PythonBookView, RestingOrder

EVENT_FIELDS = ("kind", "seq", "timestamp", "order_id", "owner", "side", "price", "quantity",
                "remaining", "reason", "maker_id", "maker_owner", "maker_remaining")


@pytest.fixture(scope="module")
def native() -> Any:
    """The Rust view class. A missing extension fails the run; it is never skipped."""
    try:
        return load_backend("rust").BookView
    except (ImportError, AttributeError) as error:
        pytest.fail(str(error), pytrace=False)


class Recording:
    """A book whose command methods remember the events of the last call, so the streams'
    `apply` helper runs the commands (refusals included) and the views get the events."""

    def __init__(self, book: Any) -> None:
        self.book = book
        self.events: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.book, name)

        def call(*args: Any) -> list[Any]:
            self.events = list(method(*args))
            return self.events

        return call

    def run(self, command: Any) -> list[Any]:
        self.events = []
        apply(self, command)
        return self.events


def queries(view: Any) -> dict[str, Any]:
    """Every query of a view, at prices around its best ones and some far away."""
    best_bid, best_ask = view.best_bid(), view.best_ask()
    prices = {0, 1, 995, 1_000, 1_005, 10**9}
    for best in (best_bid, best_ask):
        if best is not None:
            prices |= {best[0] - 5, best[0], best[0] + 5}
    bids, asks = view.orders()
    assert all(type(o) is RestingOrder for o in (*bids, *asks))
    return {
        "sequence": view.sequence,
        "len": len(view),
        "best": (best_bid, best_ask),
        "orders": (bids, asks),
        "depth": view.depth(10),
        "depth all": view.depth(10_000),
        "depth none": (view.depth(0), view.depth(-1)),
        "levels": (view.bid_levels(3), view.ask_levels(3), view.bid_levels(-2)),
        "past": [(p, n, view.bid_levels_below(p, n), view.ask_levels_above(p, n))
                 for p in sorted(prices) for n in (-1, 0, 1, 3, 100)],
        "at": [(p, view.bid_level(p), view.ask_level(p)) for p in sorted(prices)],
    }


def assert_same_views(native_view: Any, python_view: Any) -> None:
    assert queries(native_view) == queries(python_view)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_the_rust_view_replays_every_command_as_the_reference(make_book, native, seed):
    book = Recording(make_book(5, 10))
    reference, view = PythonBookView(), native()
    for i, command in enumerate(random_commands(seed, 3_000)):
        events = book.run(command)
        if i % 7 == 3:  # no L3 wanted: the common path
            assert view.replay(events) == reference.replay(events)
        elif i % 7 == 5:
            got, want = view.apply(events), reference.apply(events)
            assert got == want and all(type(e) is OrderEvent for e in got)
        else:
            got_orders: list[Any] = []
            want_orders: list[Any] = []
            touched = view.replay(events, got_orders)
            assert type(touched) is tuple and touched == reference.replay(events, want_orders)
            assert got_orders == want_orders
            assert all(type(e) is OrderEvent for e in got_orders)
        assert view.sequence == reference.sequence == book.book.sequence
        assert len(view) == len(reference) == len(book.book)
        if i % 50 == 0:
            assert_same_views(view, reference)
            assert view.depth(10_000) == book.book.depth(10_000)
        if i % 700 == 350:
            # Start both again from the live book, and carry on with the new ones.
            started, started_reference = native.of(book.book), PythonBookView.of(book.book)
            assert queries(started) == queries(view) == queries(started_reference)
            view, reference = started, started_reference
    assert_same_views(view, reference)


def test_objects_with_the_event_attributes_read_as_native_events(native):
    """The fast path (the binding's own Event) and the attribute path agree."""
    book = Recording(load_backend("rust").Book(5, 10))
    fast, slow, reference = native(), native(), PythonBookView()
    for command in random_commands(21, 1_500):
        events = book.run(command)
        plain = [SimpleNamespace(**dict(zip(EVENT_FIELDS, e.astuple(), strict=True)))
                 for e in events]
        got: list[Any] = []
        want: list[Any] = []
        assert fast.replay(events, got) == slow.replay(plain, want) \
            == reference.replay(plain)
        assert got == want
        # Any sequence (and `orders` of any kind with `append`) does.
        assert slow.replay(()) == ([], [])
    assert_same_views(fast, reference)
    assert_same_views(slow, reference)


def test_the_views_fail_alike_on_events_about_orders_they_do_not_hold(native):
    book = load_backend("rust").Book(1, 1)
    book.submit(1, 2, 100, 5)  # never shown to the views
    taker = book.submit(2, 1, 100, 8)
    for view in (native(), PythonBookView()):
        with pytest.raises(KeyError):
            view.replay(taker)
        assert (view.sequence, len(view)) == (0, 0)
    amend = book.amend(2, 100, 1)
    for view in (native(), PythonBookView()):
        with pytest.raises(KeyError):
            view.replay(amend)


def test_sequence_is_writable_and_a_view_starts_where_it_is_told(native):
    view = native(sequence=7)
    assert (view.sequence, len(view), view.orders(), view.depth(5)) == (7, 0, ([], []), ([], []))
    assert (view.best_bid(), view.best_ask(), view.bid_level(1), view.ask_level(1)) \
        == (None, None, None, None)
    view.sequence = 12
    assert view.sequence == 12
    assert native().sequence == 0
    book = load_backend("rust").Book(1, 1)
    events = book.submit(1, 1, 100, 5)
    orders: list[Any] = []
    assert view.replay(events, orders) == ([100], [])
    assert view.sequence == book.sequence and orders[0].sequence == book.sequence


def test_of_reads_any_book_with_orders_and_a_sequence(native, make_book):
    book = make_book(1, 1)
    for owner, side, price in [(1, 1, 99), (2, 1, 99), (3, 1, 98), (4, 2, 101), (5, 2, 103)]:
        book.submit(owner, side, price, 10)
    book.amend(1, 99, 4)
    assert_same_views(native.of(book), PythonBookView.of(book))
    order = SimpleNamespace(order_id=9, side=2, price=120, remaining=3)
    plain = SimpleNamespace(sequence=4, orders=lambda: ([], [order]))
    assert_same_views(native.of(plain), PythonBookView.of(plain))
