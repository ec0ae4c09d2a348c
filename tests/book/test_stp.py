"""Self-trade prevention: the taker's mode decides when it meets its own resting order."""

from tradepit.book import Side, StpMode

from .tables import assert_table, events

BUY, SELL = Side.BUY, Side.SELL


def _setup(book):
    book.submit(7, SELL, 100, 4)   # id 1: own order, first in time
    book.submit(8, SELL, 100, 3)   # id 2: another owner's, behind it
    assert_table(book, """
        bid | price | ask
            | 100   | 4+3
    """)


def test_cancel_newest_cancels_the_taker_and_keeps_the_resting_order(book):
    _setup(book)
    result = book.submit(7, BUY, 100, 5, stp=StpMode.CANCEL_NEWEST)
    assert events(result) == [("ACCEPTED", 3, 5, 100, 5), ("CANCELLED", 3, 5, 0, "STP")]
    assert_table(book, """
        bid | price | ask
            | 100   | 4+3
    """)


def test_cancel_oldest_cancels_the_resting_order_and_keeps_matching(book):
    _setup(book)
    result = book.submit(7, BUY, 100, 5, stp=StpMode.CANCEL_OLDEST)
    assert events(result) == [
        ("ACCEPTED", 3, 5, 100, 5),
        ("CANCELLED", 1, 4, 0, "STP"),
        ("TRADE", 3, 3, 100, 2, 2, 0),
    ]
    assert_table(book, """
        bid | price | ask
        2   | 100   |
    """)


def test_cancel_both_cancels_both_orders(book):
    _setup(book)
    result = book.submit(7, BUY, 100, 5, stp=StpMode.CANCEL_BOTH)
    assert events(result) == [
        ("ACCEPTED", 3, 5, 100, 5),
        ("CANCELLED", 1, 4, 0, "STP"),
        ("CANCELLED", 3, 5, 0, "STP"),
    ]
    assert_table(book, """
        bid | price | ask
            | 100   | 3
    """)


def test_decrement_and_cancel_shrinks_both_without_a_trade(book):
    _setup(book)
    result = book.submit(7, BUY, 100, 5, stp=StpMode.DECREMENT_AND_CANCEL)
    assert events(result) == [
        ("ACCEPTED", 3, 5, 100, 5),
        ("CANCELLED", 1, 4, 0, "STP"),     # the smaller (resting) order is gone
        ("CANCELLED", 3, 4, 1, "STP"),     # the taker is decremented by as much
        ("TRADE", 3, 1, 100, 0, 2, 2),     # and trades on with the next owner
    ]
    assert_table(book, """
        bid | price | ask
            | 100   | 2
    """)


def test_decrement_and_cancel_when_the_taker_is_smaller(book):
    book.submit(7, SELL, 100, 10)
    result = book.submit(7, BUY, 100, 4, stp=StpMode.DECREMENT_AND_CANCEL)
    assert events(result) == [
        ("ACCEPTED", 2, 4, 100, 4),
        ("CANCELLED", 1, 4, 6, "STP"),
        ("CANCELLED", 2, 4, 0, "STP"),
    ]
    assert_table(book, """
        bid | price | ask
            | 100   | 6
    """)


def test_stp_only_applies_between_orders_of_the_same_owner(book):
    book.submit(7, SELL, 100, 4)
    result = book.submit(8, BUY, 100, 4, stp=StpMode.CANCEL_BOTH)
    assert [e.kind for e in result] == [1, 2]
    assert_table(book, "bid | price | ask")


def test_fok_is_not_fillable_when_its_own_order_is_in_the_way(book):
    _setup(book)
    result = book.submit(7, BUY, 100, 3, tif=3, stp=StpMode.CANCEL_NEWEST)
    assert events(result)[-1] == ("CANCELLED", 3, 3, 0, "FOK")
    assert_table(book, """
        bid | price | ask
            | 100   | 4+3
    """)


def test_fok_with_cancel_oldest_skips_its_own_orders_when_checking(book):
    _setup(book)
    result = book.submit(7, BUY, 100, 3, tif=3, stp=StpMode.CANCEL_OLDEST)
    assert events(result) == [
        ("ACCEPTED", 3, 3, 100, 3),
        ("CANCELLED", 1, 4, 0, "STP"),
        ("TRADE", 3, 3, 100, 0, 2, 0),
    ]
    assert_table(book, "bid | price | ask")
