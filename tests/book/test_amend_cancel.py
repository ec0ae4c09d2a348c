"""Cancel removes an order; amend keeps priority only when it shrinks the order in place."""

import pytest
from tradepit.book import AmendKind, Side, TimeInForce, UnknownOrder

from .tables import assert_table, events

BUY, SELL = Side.BUY, Side.SELL


def test_cancel_removes_the_order_and_reports_its_open_quantity(book):
    book.submit(1, BUY, 100, 5)
    book.submit(2, SELL, 100, 2)
    assert events(book.cancel(1)) == [("CANCELLED", 1, 3, 0, "USER")]
    assert_table(book, "bid | price | ask")
    assert book.get_order(1) is None


def test_cancel_in_the_middle_of_a_queue_keeps_the_others_in_order(book):
    for owner in (1, 2, 3):
        book.submit(owner, BUY, 100, owner)
    book.cancel(2)
    assert_table(book, """
        bid | price | ask
        1+3 | 100   |
    """)


def test_lowering_the_quantity_keeps_time_priority(book):
    book.submit(1, SELL, 100, 5)
    book.submit(2, SELL, 100, 5)
    result = book.amend(1, 100, 2)
    assert events(result) == [("AMENDED", 1, 2, 100, 2)]
    assert result[0].reason == AmendKind.PRIORITY_KEPT
    assert_table(book, """
        bid | price | ask
            | 100   | 2+5
    """)


def test_raising_the_quantity_loses_time_priority(book):
    book.submit(1, SELL, 100, 5)
    book.submit(2, SELL, 100, 5)
    result = book.amend(1, 100, 8, timestamp=9)
    assert result[0].reason == AmendKind.PRIORITY_LOST
    assert book.get_order(1).timestamp == 9
    assert_table(book, """
        bid | price | ask
            | 100   | 5+8
    """)


def test_changing_the_price_loses_priority_and_moves_the_order(book):
    book.submit(1, SELL, 101, 5)
    book.submit(2, SELL, 100, 5)
    book.submit(3, SELL, 100, 5)
    book.amend(1, 100, 5)
    assert_table(book, """
        bid | price | ask
            | 100   | 5+5+5
    """)
    assert [o.order_id for o in book.orders()[1]] == [2, 3, 1]


def test_amending_across_the_spread_re_matches_and_rests_the_rest(book):
    book.submit(1, SELL, 102, 3)
    book.submit(2, BUY, 100, 5)
    result = book.amend(2, 102, 5)
    assert events(result) == [
        ("AMENDED", 2, 5, 102, 5),
        ("TRADE", 2, 3, 102, 2, 1, 0),
    ]
    assert_table(book, """
        bid | price | ask
        2   | 102   |
    """)


def test_amend_after_a_partial_fill_tracks_the_total_quantity(book):
    book.submit(1, SELL, 100, 10)
    book.submit(2, BUY, 100, 4)
    result = book.amend(1, 100, 2)
    assert (result[0].quantity, result[0].remaining) == (6, 2)  # 4 filled + 2 open
    result = book.amend(1, 101, 5)
    assert (result[0].quantity, result[0].remaining) == (9, 5)


def test_amended_day_order_still_expires(book):
    book.submit(1, BUY, 100, 5, tif=TimeInForce.DAY)
    book.amend(1, 99, 7)
    assert events(book.end_session()) == [("CANCELLED", 1, 7, 0, "SESSION_END")]


@pytest.mark.parametrize("how", ["filled", "cancelled", "never"])
def test_closed_or_unknown_orders_cannot_be_cancelled_or_amended(book, how):
    book.submit(1, SELL, 100, 5)
    if how == "filled":
        book.submit(2, BUY, 100, 5)
    elif how == "cancelled":
        book.cancel(1)
    order_id = 1 if how != "never" else 42
    with pytest.raises(UnknownOrder, match=f"order {order_id} is not resting"):
        book.cancel(order_id)
    with pytest.raises(UnknownOrder):
        book.amend(order_id, 100, 1)
