"""Price levels opened and emptied many times over, away from the top and at it.

The pure-Python book keeps each side's prices in a heap with lazy deletion (entries of
emptied levels stay until they reach the top, and the heap is rebuilt when they pile
up); these scenarios drive it through both, and every backend must keep its best
prices, depth and matching order exactly as a plain model of the levels says.
"""

import random

from tradepit.book import OrderType, Side

BUY, SELL = Side.BUY, Side.SELL


def _check(book, bids, asks):
    """The book's best prices and full depth against the model (price -> open total)."""
    book.validate()
    expected_bids = sorted(bids.items(), reverse=True)
    expected_asks = sorted(asks.items())
    assert book.best_bid() == (expected_bids[0] if expected_bids else None)
    assert book.best_ask() == (expected_asks[0] if expected_asks else None)
    depth_bids, depth_asks = book.depth(10_000)
    assert [(p, q) for p, q, _ in depth_bids] == expected_bids
    assert [(p, q) for p, q, _ in depth_asks] == expected_asks


def test_levels_emptied_below_the_top_and_reopened_keep_the_best_prices(book):
    rng = random.Random(7)
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    resting: dict[int, tuple[int, int, int]] = {}  # order id -> side, price, quantity
    for step in range(3_000):
        if resting and rng.random() < 0.5:
            order_id = rng.choice(sorted(resting))
            side, price, quantity = resting.pop(order_id)
            book.cancel(order_id)
            levels = bids if side == BUY else asks
            levels[price] -= quantity
            if not levels[price]:
                del levels[price]
        else:
            side = rng.choice((BUY, SELL))
            # a few hundred prices on each side, so levels empty and reopen all the time
            price = rng.randint(500, 999) if side == BUY else rng.randint(1_000, 1_499)
            quantity = rng.randint(1, 5)
            book.submit(1, side, price, quantity, timestamp=step)
            resting[book.next_order_id - 1] = (side, price, quantity)
            levels = bids if side == BUY else asks
            levels[price] = levels.get(price, 0) + quantity
        if step % 50 == 0:
            _check(book, bids, asks)
    _check(book, bids, asks)


def test_a_sweep_after_churn_trades_level_by_level_in_price_order(book):
    # Open and empty many ask levels behind the ones that stay, then reopen some of them.
    for price in (150, 120, 130, 110):
        book.submit(1, SELL, price, 2)
    for price in range(200, 400):
        book.submit(1, SELL, price, 1)
        book.cancel(book.next_order_id - 1)
    for price in (390, 210, 300):
        book.submit(1, SELL, price, 1)
    assert book.best_ask() == (110, 2)
    events = book.submit(2, BUY, 0, 12, order_type=OrderType.MARKET)
    trades = [(e.price, e.quantity) for e in events if e.kind == 2]
    assert trades == [(110, 2), (120, 2), (130, 2), (150, 2), (210, 1), (300, 1), (390, 1)]
    assert book.best_ask() is None
    assert events[-1].kind == 3 and events[-1].quantity == 1  # no liquidity for the last lot
    book.validate()
    # The side is empty now; stale entries must not resurrect a price.
    book.submit(1, SELL, 250, 3)
    book.submit(1, BUY, 100, 4)
    assert (book.best_bid(), book.best_ask()) == ((100, 4), (250, 3))
    book.validate()


def test_bid_levels_emptied_at_the_top_hand_the_best_to_the_next_live_one(book):
    ids = {}
    for price in (100, 105, 103, 101, 104, 102):
        book.submit(1, BUY, price, 1)
        ids[price] = book.next_order_id - 1
    for price in (105, 104, 102):  # 102 sits below the top: emptied lazily
        book.cancel(ids[price])
    assert book.best_bid() == (103, 1)
    book.submit(1, BUY, 102, 6)  # reopened while its old entry may still be stored
    book.cancel(ids[103])
    book.cancel(ids[101])
    assert book.best_bid() == (102, 6)
    assert book.depth(5)[0] == [(102, 6, 1), (100, 1, 1)]
    book.validate()
