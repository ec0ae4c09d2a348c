"""A post-only order that would cross is rejected, never repriced."""

from tradepit.book import Side

from .tables import assert_table, events

BUY, SELL = Side.BUY, Side.SELL


def test_post_only_that_would_cross_is_rejected_and_changes_no_order(book):
    book.submit(1, SELL, 101, 5)
    result = book.submit(2, BUY, 101, 5, post_only=True)
    assert events(result) == [("REJECTED", 2, "POST_ONLY_WOULD_CROSS")]
    assert (result[0].quantity, result[0].remaining) == (5, 0)
    assert_table(book, """
        bid | price | ask
            | 101   | 5
    """)


def test_post_only_that_does_not_cross_rests(book):
    book.submit(1, SELL, 101, 5)
    result = book.submit(2, BUY, 100, 5, post_only=True)
    assert events(result) == [("ACCEPTED", 2, 5, 100, 5)]
    assert_table(book, """
        bid | price | ask
            | 101   | 5
        5   | 100   |
    """)
    assert book.get_order(2).post_only is True


def test_post_only_is_rejected_even_against_its_own_owner(book):
    book.submit(7, BUY, 100, 5)
    assert events(book.submit(7, SELL, 99, 5, post_only=True)) == [
        ("REJECTED", 2, "POST_ONLY_WOULD_CROSS")]


def test_amending_a_post_only_order_across_the_spread_is_rejected_and_keeps_it(book):
    book.submit(1, SELL, 102, 5)
    book.submit(2, BUY, 100, 5, post_only=True)
    result = book.amend(2, 102, 5)
    assert events(result) == [("REJECTED", 2, "POST_ONLY_WOULD_CROSS")]
    assert result[0].remaining == 5
    assert book.get_order(2).price == 100
    assert_table(book, """
        bid | price | ask
            | 102   | 5
        5   | 100   |
    """)
