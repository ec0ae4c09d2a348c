"""Hypothesis drives both backends with the same commands and compares them at every step."""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from tradepit.book import load_backend
from tradepit.book.codec import Command
from tradepit.book.pure import Event

from .ledger import Ledger
from .streams import apply

TICK, LOT = 2, 5
owners = st.integers(1, 3)
sides = st.sampled_from([1, 2])
prices = st.integers(45, 55).map(lambda p: p * TICK) | st.sampled_from([0, -2, 101, 10**13])
quantities = st.integers(1, 6).map(lambda q: q * LOT) | st.sampled_from([0, -5, 7])
ids = st.integers(0, 60)
times = st.integers(0, 10**12)


class BothBackends(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        try:
            rust = load_backend("rust")
        except ImportError as error:  # fail, never skip
            raise AssertionError(str(error)) from error
        self.books = (rust.Book(TICK, LOT), load_backend("python").Book(TICK, LOT))
        self.ledger = Ledger()

    def _apply(self, command):
        results = [apply(book, command) for book in self.books]
        assert results[0] == results[1], command
        if results[1][0] == "events":
            self.ledger.apply([Event(*fields) for fields in results[1][1:]])

    @rule(owner=owners, side=sides, price=prices, quantity=quantities,
          order_type=st.sampled_from([1, 1, 1, 2, 0]), tif=st.integers(1, 4) | st.just(7),
          post_only=st.booleans(), stp=st.integers(1, 4), timestamp=times)
    def submit(self, owner, side, price, quantity, order_type, tif, post_only, stp, timestamp):
        if order_type == 2 and price > 0:
            price = 0
        self._apply(Command.submit(owner, side, price, quantity, order_type, tif, post_only, stp,
                                   timestamp))

    @rule(order_id=ids, timestamp=times)
    def cancel(self, order_id, timestamp):
        self._apply(Command.cancel(order_id, timestamp))

    @rule(order_id=ids, price=prices, quantity=quantities, timestamp=times)
    def amend(self, order_id, price, quantity, timestamp):
        self._apply(Command.amend(order_id, price, quantity, timestamp))

    @rule(timestamp=times)
    def end_session(self, timestamp):
        self._apply(Command.end_session(timestamp))

    @invariant()
    def backends_agree_and_invariants_hold(self):
        rust, python = self.books
        rust.validate()
        python.validate()
        assert rust.state_hash() == python.state_hash()
        assert rust.orders() == python.orders() or [
            [o.astuple() for o in side] for side in rust.orders()
        ] == [[o.astuple() for o in side] for side in python.orders()]
        assert rust.depth(10) == python.depth(10)
        assert (rust.best_bid(), rust.best_ask()) == (python.best_bid(), python.best_ask())
        self.ledger.check_against(python)


BothBackends.TestCase.settings = settings(max_examples=150, stateful_step_count=60,
                                          deadline=None)
test_both_backends = BothBackends.TestCase
