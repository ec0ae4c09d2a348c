"""IOC never rests, FOK is all or nothing, DAY expires at the end of the session."""

from tradepit.book import OrderType, Side, TimeInForce

from .tables import assert_table, events

BUY, SELL = Side.BUY, Side.SELL
IOC, FOK, DAY = TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY


def test_ioc_fills_what_it_can_and_cancels_the_rest(book):
    book.submit(1, SELL, 100, 3)
    result = book.submit(2, BUY, 101, 5, tif=IOC)
    assert events(result) == [
        ("ACCEPTED", 2, 5, 101, 5),
        ("TRADE", 2, 3, 100, 2, 1, 0),
        ("CANCELLED", 2, 2, 0, "IOC_REMAINDER"),
    ]
    assert_table(book, "bid | price | ask")


def test_ioc_that_does_not_cross_never_rests(book):
    book.submit(1, SELL, 105, 3)
    result = book.submit(2, BUY, 100, 5, tif=IOC)
    assert events(result)[-1] == ("CANCELLED", 2, 5, 0, "IOC_REMAINDER")
    assert_table(book, """
        bid | price | ask
            | 105   | 3
    """)


def test_fok_that_cannot_fill_leaves_the_book_untouched(book):
    book.submit(1, SELL, 100, 3)
    book.submit(1, SELL, 101, 3)
    before = book.orders()
    result = book.submit(2, BUY, 101, 7, tif=FOK)
    assert events(result) == [("ACCEPTED", 3, 7, 101, 7), ("CANCELLED", 3, 7, 0, "FOK")]
    assert book.orders() == before
    assert_table(book, """
        bid | price | ask
            | 101   | 3
            | 100   | 3
    """)


def test_fok_that_can_fill_fills_completely(book):
    book.submit(1, SELL, 100, 3)
    book.submit(1, SELL, 101, 3)
    result = book.submit(2, BUY, 101, 6, tif=FOK)
    assert [e.quantity for e in result[1:]] == [3, 3]
    assert result[-1].remaining == 0
    assert_table(book, "bid | price | ask")


def test_fok_ignores_liquidity_beyond_its_limit(book):
    book.submit(1, SELL, 100, 3)
    book.submit(1, SELL, 102, 10)
    result = book.submit(2, BUY, 101, 5, tif=FOK)
    assert events(result)[-1] == ("CANCELLED", 3, 5, 0, "FOK")
    assert len(book) == 2


def test_market_fok_walks_any_price_but_still_needs_the_full_quantity(book):
    book.submit(1, SELL, 100, 3)
    book.submit(1, SELL, 500, 3)
    assert events(book.submit(2, BUY, 0, 7, order_type=OrderType.MARKET, tif=FOK))[-1] == (
        "CANCELLED", 3, 7, 0, "FOK")
    result = book.submit(2, BUY, 0, 6, order_type=OrderType.MARKET, tif=FOK)
    assert [(e.price, e.quantity) for e in result[1:]] == [(100, 3), (500, 3)]


def test_day_orders_expire_at_session_end_and_gtc_orders_stay(book):
    book.submit(1, BUY, 99, 4, tif=DAY)
    book.submit(2, BUY, 98, 5)
    book.submit(3, SELL, 101, 6, tif=DAY)
    assert_table(book, """
        bid | price | ask
            | 101   | 6
        4   | 99    |
        5   | 98    |
    """)
    result = book.end_session(timestamp=50)
    assert events(result) == [
        ("CANCELLED", 1, 4, 0, "SESSION_END"),
        ("CANCELLED", 3, 6, 0, "SESSION_END"),
    ]
    assert all(e.timestamp == 50 for e in result)
    assert_table(book, """
        bid | price | ask
        5   | 98    |
    """)
    assert book.end_session() == []


def test_partly_filled_day_order_expires_with_its_open_quantity(book):
    book.submit(1, SELL, 100, 10, tif=DAY)
    book.submit(2, BUY, 100, 4)
    assert events(book.end_session()) == [("CANCELLED", 1, 6, 0, "SESSION_END")]
