"""Price-time priority: better prices first, then earlier orders; trades at the maker's price."""

from tradepit.book import OrderType, Side

from .tables import assert_table, events

BUY, SELL = Side.BUY, Side.SELL


def test_orders_rest_by_price_then_time(book):
    book.submit(1, SELL, 102, 5)
    book.submit(2, SELL, 101, 3)
    book.submit(3, SELL, 101, 4)
    book.submit(4, BUY, 99, 7)
    book.submit(5, BUY, 100, 2)
    assert_table(book, """
        bid | price | ask
            | 102   | 5
            | 101   | 3+4
        2   | 100   |
        7   | 99    |
    """)
    assert book.best_bid() == (100, 2)
    assert book.best_ask() == (101, 7)


def test_taker_fills_best_price_first_then_oldest_order(book):
    book.submit(1, SELL, 102, 5)   # id 1
    book.submit(2, SELL, 101, 3)   # id 2, first in time at 101
    book.submit(3, SELL, 101, 4)   # id 3
    result = book.submit(9, BUY, 102, 9)  # id 4
    assert events(result) == [
        ("ACCEPTED", 4, 9, 102, 9),
        ("TRADE", 4, 3, 101, 6, 2, 0),
        ("TRADE", 4, 4, 101, 2, 3, 0),
        ("TRADE", 4, 2, 102, 0, 1, 3),
    ]
    assert_table(book, """
        bid | price | ask
            | 102   | 3
    """)


def test_trade_prints_at_the_makers_price_not_the_takers(book):
    book.submit(1, BUY, 100, 5)
    result = book.submit(2, SELL, 90, 5)
    trade = result[1]
    assert (trade.price, trade.quantity, trade.maker_id, trade.maker_owner) == (100, 5, 1, 1)
    assert (trade.order_id, trade.owner, trade.side) == (2, 2, SELL)
    assert_table(book, "bid | price | ask")


def test_limit_taker_stops_at_its_price_and_rests_the_rest(book):
    book.submit(1, SELL, 100, 5)
    book.submit(1, SELL, 103, 5)
    book.submit(2, BUY, 101, 8)
    assert_table(book, """
        bid | price | ask
            | 103   | 5
        3   | 101   |
    """)


def test_market_order_walks_the_book_and_never_rests(book):
    book.submit(1, SELL, 100, 2)
    book.submit(1, SELL, 105, 2)
    book.submit(1, SELL, 150, 2)
    result = book.submit(2, BUY, 0, 10, order_type=OrderType.MARKET)
    assert events(result) == [
        ("ACCEPTED", 4, 10, 0, 10),
        ("TRADE", 4, 2, 100, 8, 1, 0),
        ("TRADE", 4, 2, 105, 6, 2, 0),
        ("TRADE", 4, 2, 150, 4, 3, 0),
        ("CANCELLED", 4, 4, 0, "NO_LIQUIDITY"),
    ]
    assert_table(book, "bid | price | ask")
    assert len(book) == 0


def test_market_order_on_an_empty_side_is_cancelled_for_no_liquidity(book):
    book.submit(1, BUY, 100, 5)
    result = book.submit(2, BUY, 0, 5, order_type=OrderType.MARKET)
    assert events(result) == [("ACCEPTED", 2, 5, 0, 5), ("CANCELLED", 2, 5, 0, "NO_LIQUIDITY")]
    assert_table(book, """
        bid | price | ask
        5   | 100   |
    """)


def test_sequence_numbers_are_gapless_across_commands(book):
    seqs = []
    seqs += [e.seq for e in book.submit(1, SELL, 100, 5)]
    seqs += [e.seq for e in book.submit(2, BUY, 100, 3)]
    seqs += [e.seq for e in book.cancel(1)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert book.sequence == len(seqs)


def test_order_ids_are_monotonic_and_time_is_taken_from_the_command(book):
    first = book.submit(1, BUY, 100, 1, timestamp=1_000)
    second = book.submit(1, BUY, 99, 1, timestamp=2_000)
    assert (first[0].order_id, second[0].order_id) == (1, 2)
    assert first[0].timestamp == 1_000
    assert book.get_order(2).timestamp == 2_000
    assert book.next_order_id == 3
