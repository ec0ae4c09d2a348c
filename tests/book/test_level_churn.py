"""Price levels opened and emptied many times over, away from the top and at it.

The pure-Python book keeps each side's levels in a dict beside an ordered index of their
prices (a `SortedList`, bids negated), and caches the best price of each side; a level
that empties leaves the index at once, through `pop(0)` when it was the best and a search
otherwise. These scenarios empty and reopen levels below the top and at it, and every
backend must keep its best prices, depth and matching order exactly as a plain model of
the levels says.
"""

import random

from tradepit.book import OrderType, Side, TimeInForce

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
    # The side is empty now; no emptied level may come back as a best price.
    book.submit(1, SELL, 250, 3)
    book.submit(1, BUY, 100, 4)
    assert (book.best_bid(), book.best_ask()) == ((100, 4), (250, 3))
    book.validate()


def test_bid_levels_emptied_at_the_top_hand_the_best_to_the_next_live_one(book):
    ids = {}
    for price in (100, 105, 103, 101, 104, 102):
        book.submit(1, BUY, price, 1)
        ids[price] = book.next_order_id - 1
    for price in (105, 104, 102):  # 102 sits below the top: removed by a search
        book.cancel(ids[price])
    assert book.best_bid() == (103, 1)
    book.submit(1, BUY, 102, 6)  # reopened after it was emptied
    book.cancel(ids[103])
    book.cancel(ids[101])
    assert book.best_bid() == (102, 6)
    assert book.depth(5)[0] == [(102, 6, 1), (100, 1, 1)]
    book.validate()


def test_a_sell_fok_counts_bid_levels_from_the_best_down_to_its_limit(book):
    # Bid levels opened, emptied and reopened, then a sell FOK sized around what sits at or
    # above its limit: the check must walk the bids best first and stop at the limit.
    for price in (100, 97, 99, 95, 98):
        book.submit(1, BUY, price, 2)
    for price in range(101, 120):
        book.submit(1, BUY, price, 1)
        book.cancel(book.next_order_id - 1)
    book.submit(1, BUY, 110, 1)
    # at or above 98: 1 @ 110, 2 @ 100, 2 @ 99, 2 @ 98 = 7; 97 and 95 are beyond the limit
    refused = book.submit(2, SELL, 98, 8, tif=TimeInForce.FOK)
    assert [e.kind for e in refused] == [1, 3] and refused[-1].quantity == 8
    filled = book.submit(2, SELL, 98, 7, tif=TimeInForce.FOK)
    trades = [(e.price, e.quantity) for e in filled if e.kind == 2]
    assert trades == [(110, 1), (100, 2), (99, 2), (98, 2)]
    assert book.best_bid() == (97, 2)
    assert book.depth(5)[0] == [(97, 2, 1), (95, 2, 1)]
    market = book.submit(2, SELL, 0, 4, order_type=OrderType.MARKET, tif=TimeInForce.FOK)
    assert [(e.price, e.quantity) for e in market if e.kind == 2] == [(97, 2), (95, 2)]
    assert book.best_bid() is None
    book.validate()
