"""Bad input raises a typed error with an actionable message and changes nothing."""

import pytest
from tradepit.book import (
    BookError,
    ErrorCode,
    InvalidOrder,
    OrderType,
    Side,
    TimeInForce,
    UnknownOrder,
)

BUY, SELL, MARKET = Side.BUY, Side.SELL, OrderType.MARKET

# (call on a book with tick 5 and lot 10 holding order 1, code, message)
CASES = [
    (lambda b: b.submit(1, 3, 100, 10), ErrorCode.INVALID_SIDE,
     "side must be BUY (1) or SELL (2), got 3"),
    (lambda b: b.submit(1, BUY, 100, 10, order_type=0), ErrorCode.INVALID_ORDER_TYPE,
     "order type must be LIMIT (1) or MARKET (2), got 0"),
    (lambda b: b.submit(1, BUY, 100, 10, tif=5), ErrorCode.INVALID_TIME_IN_FORCE,
     "time in force must be GTC (1), IOC (2), FOK (3) or DAY (4), got 5"),
    (lambda b: b.submit(1, BUY, 100, 10, stp=0), ErrorCode.INVALID_STP_MODE,
     "self-trade prevention must be CANCEL_NEWEST (1), CANCEL_OLDEST (2), CANCEL_BOTH (3) "
     "or DECREMENT_AND_CANCEL (4), got 0"),
    (lambda b: b.submit(1, BUY, 100, 0), ErrorCode.NON_POSITIVE_QUANTITY,
     "quantity must be positive, got 0"),
    (lambda b: b.submit(1, BUY, 100, -10), ErrorCode.NON_POSITIVE_QUANTITY,
     "quantity must be positive, got -10"),
    (lambda b: b.submit(1, BUY, 100, 10**13), ErrorCode.QUANTITY_TOO_LARGE,
     "quantity 10000000000000 exceeds the maximum of 1000000000000"),
    (lambda b: b.submit(1, BUY, 100, 15), ErrorCode.QUANTITY_OFF_LOT,
     "quantity 15 is not a multiple of the lot size 10"),
    (lambda b: b.submit(1, BUY, 100, 10, order_type=MARKET), ErrorCode.MARKET_ORDER_WITH_PRICE,
     "a market order takes no price, got 100"),
    (lambda b: b.submit(1, BUY, 0, 10, order_type=MARKET, post_only=True),
     ErrorCode.POST_ONLY_MARKET_ORDER, "a market order cannot be post-only"),
    (lambda b: b.submit(1, BUY, 0, 10), ErrorCode.NON_POSITIVE_PRICE,
     "price must be positive, got 0"),
    (lambda b: b.submit(1, BUY, -5, 10), ErrorCode.NON_POSITIVE_PRICE,
     "price must be positive, got -5"),
    (lambda b: b.submit(1, BUY, 10**13, 10), ErrorCode.PRICE_TOO_LARGE,
     "price 10000000000000 exceeds the maximum of 1000000000000"),
    (lambda b: b.submit(1, BUY, 101, 10), ErrorCode.PRICE_OFF_TICK,
     "price 101 is not a multiple of the tick size 5"),
    (lambda b: b.cancel(99), ErrorCode.UNKNOWN_ORDER, "order 99 is not resting in the book"),
    (lambda b: b.amend(99, 100, 10), ErrorCode.UNKNOWN_ORDER,
     "order 99 is not resting in the book"),
    (lambda b: b.amend(1, 100, 0), ErrorCode.AMEND_TO_ZERO,
     "cannot amend order 1 to quantity 0; cancel it instead"),
    (lambda b: b.amend(1, 100, -10), ErrorCode.NON_POSITIVE_QUANTITY,
     "quantity must be positive, got -10"),
    (lambda b: b.amend(1, 100, 5), ErrorCode.QUANTITY_OFF_LOT,
     "quantity 5 is not a multiple of the lot size 10"),
    (lambda b: b.amend(1, 103, 10), ErrorCode.PRICE_OFF_TICK,
     "price 103 is not a multiple of the tick size 5"),
    (lambda b: b.amend(1, 0, 10), ErrorCode.NON_POSITIVE_PRICE, "price must be positive, got 0"),
]


@pytest.mark.parametrize(("call", "code", "message"), CASES,
                         ids=[f"{c[1].name}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_raises_a_typed_error_and_changes_nothing(make_book, call, code, message):
    book = make_book(tick_size=5, lot_size=10)
    book.submit(1, SELL, 100, 10, tif=TimeInForce.DAY)
    book.submit(2, BUY, 95, 20)
    before = (book.state_hash(), book.sequence, book.next_order_id, book.orders())
    with pytest.raises(BookError) as raised:
        call(book)
    error = raised.value
    assert error.code == code
    assert str(error) == message
    expected_class = UnknownOrder if code == ErrorCode.UNKNOWN_ORDER else InvalidOrder
    assert type(error) is expected_class
    assert (book.state_hash(), book.sequence, book.next_order_id, book.orders()) == before
    book.validate()


def test_error_classes_subclass_the_standard_library(book):
    with pytest.raises(ValueError):
        book.submit(1, BUY, 100, 0)
    with pytest.raises(LookupError):
        book.cancel(5)


@pytest.mark.parametrize("tick_size, lot_size", [(0, 1), (1, 0), (-1, 1)])
def test_an_instrument_needs_a_positive_tick_and_lot(backend, tick_size, lot_size):
    with pytest.raises(InvalidOrder) as raised:
        backend.Book(tick_size, lot_size)
    assert raised.value.code == ErrorCode.INVALID_INSTRUMENT


@pytest.mark.parametrize(
    ("kwargs", "exception"),
    [
        ({"price": 100.0}, TypeError),
        ({"quantity": 1.5}, TypeError),
        ({"owner": "7"}, TypeError),
        ({"post_only": 1}, TypeError),
        ({"quantity": 2**64}, OverflowError),
        ({"timestamp": -(2**63) - 1}, OverflowError),
    ],
)
def test_non_integers_and_out_of_range_integers_are_refused(book, kwargs, exception):
    arguments = {"owner": 1, "side": BUY, "price": 100, "quantity": 1, **kwargs}
    with pytest.raises(exception):
        book.submit(**arguments)
    assert book.sequence == 0 and book.next_order_id == 1 and len(book) == 0


def test_enum_members_and_bools_count_as_integers(book):
    result = book.submit(True, Side.SELL, 100, 1, tif=TimeInForce.IOC)
    assert (result[0].owner, result[0].side) == (1, 2)
    assert type(result[0].side) is int


@pytest.mark.parametrize("kwargs", [{"price": 100.0}, {"quantity": 2**64}, {"post_only": 1},
                                    {"owner": None}, {"stp": 2**63},
                                    {"side": 3, "quantity": 2**64},   # conversion comes first
                                    {"tif": 9, "timestamp": 1.5}])
def test_both_backends_refuse_bad_arguments_with_the_same_words(kwargs):
    """Like rapidfuzz: compare the exceptions themselves, not just that one was raised."""
    from tradepit.book import load_backend

    seen = []
    for name in ("rust", "python"):
        book = load_backend(name).Book(1, 1)
        with pytest.raises((TypeError, OverflowError)) as raised:
            book.submit(**{"owner": 1, "side": BUY, "price": 100, "quantity": 1, **kwargs})
        error = raised.value
        seen.append((type(error), str(error), getattr(error, "__notes__", None)))
    assert seen[0] == seen[1]
