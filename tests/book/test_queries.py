"""Depth, L3 listing, order lookup, the state hash and validate()."""

from tradepit.book import OrderType, Side, StpMode, TimeInForce

BUY, SELL = Side.BUY, Side.SELL


def _populate(book):
    book.submit(1, BUY, 100, 5)
    book.submit(2, BUY, 100, 7)
    book.submit(3, BUY, 98, 1)
    book.submit(4, SELL, 103, 2)
    book.submit(5, SELL, 104, 4, tif=TimeInForce.DAY, post_only=True, stp=StpMode.CANCEL_BOTH)


def test_depth_aggregates_levels_best_first_with_order_counts(book):
    _populate(book)
    assert book.depth(5) == ([(100, 12, 2), (98, 1, 1)], [(103, 2, 1), (104, 4, 1)])
    assert book.depth(1) == ([(100, 12, 2)], [(103, 2, 1)])
    assert book.depth(0) == ([], [])


def test_empty_book_has_no_best_prices(book):
    assert book.best_bid() is None and book.best_ask() is None
    assert book.depth(3) == ([], [])
    assert book.orders() == ([], [])


def test_l3_lists_every_order_in_priority_order(book):
    _populate(book)
    bids, asks = book.orders()
    assert [o.order_id for o in bids] == [1, 2, 3]
    assert [o.order_id for o in asks] == [4, 5]
    assert asks[1].astuple() == (5, 5, SELL, 104, 4, 4, OrderType.LIMIT, TimeInForce.DAY, True,
                                 StpMode.CANCEL_BOTH, 0)


def test_get_order_returns_a_snapshot_or_none(book):
    _populate(book)
    book.submit(9, SELL, 100, 2)
    order = book.get_order(1)
    assert (order.quantity, order.remaining) == (5, 3)
    assert book.get_order(6) is None      # fully filled taker never rested
    assert book.get_order(12345) is None


def test_state_hash_is_deterministic_and_sensitive(make_book):
    a, b = make_book(), make_book()
    for book in (a, b):
        _populate(book)
    assert a.state_hash() == b.state_hash()
    assert len(a.state_hash()) == 32
    b.amend(1, 100, 4)
    assert a.state_hash() != b.state_hash()


def test_state_hash_matches_the_documented_encoding(book):
    """BLAKE2b-128 over the little-endian words listed in core_rs/README.md."""
    import hashlib
    import struct

    _populate(book)
    bids, asks = book.orders()
    words = [1, 1, book.sequence, book.next_order_id]
    for side in (bids, asks):
        words.append(len(side))
        for order in side:
            words.extend(int(field) for field in order.astuple())
    expected = hashlib.blake2b(struct.pack(f"<{len(words)}q", *words), digest_size=16)
    assert book.state_hash() == expected.hexdigest()


def test_validate_passes_on_a_busy_book(book):
    _populate(book)
    book.submit(6, SELL, 99, 13)
    book.amend(3, 101, 3)
    book.validate()
    assert len(book) == 3
