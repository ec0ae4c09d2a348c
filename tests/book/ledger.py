"""An independent account of every order, rebuilt from events alone.

It checks that fills add up: for every order, total quantity equals what traded plus
what was cancelled plus what is still open, and the book agrees on what is open.
"""

from __future__ import annotations

from typing import Any

from tradepit.book import AmendKind, EventKind


class Ledger:
    def __init__(self) -> None:
        self.total: dict[int, int] = {}
        self.filled: dict[int, int] = {}
        self.cancelled: dict[int, int] = {}
        self.open: dict[int, int] = {}
        self.volume = 0

    def apply(self, events: list[Any]) -> None:
        for e in events:
            if e.kind == EventKind.ACCEPTED:
                self.total[e.order_id] = e.quantity
                self.filled[e.order_id] = self.cancelled[e.order_id] = 0
                self.open[e.order_id] = e.quantity
            elif e.kind == EventKind.TRADE:
                for order_id, remaining in ((e.order_id, e.remaining),
                                            (e.maker_id, e.maker_remaining)):
                    self.filled[order_id] += e.quantity
                    self.open[order_id] -= e.quantity
                    assert self.open[order_id] == remaining, (e, self.open[order_id])
                self.volume += e.quantity
            elif e.kind == EventKind.CANCELLED:
                self.cancelled[e.order_id] += e.quantity
                self.open[e.order_id] -= e.quantity
                assert self.open[e.order_id] == e.remaining, e
            elif e.kind == EventKind.AMENDED:
                assert e.reason in (AmendKind.PRIORITY_KEPT, AmendKind.PRIORITY_LOST)
                self.total[e.order_id] = e.quantity
                self.open[e.order_id] = e.remaining
            for order_id in (e.order_id, e.maker_id):
                if order_id in self.total:
                    assert self.total[order_id] == (
                        self.filled[order_id] + self.cancelled[order_id] + self.open[order_id]
                    ), f"fills do not add up for order {order_id} after {e}"

    def check_against(self, book: Any) -> None:
        bids, asks = book.orders()
        resting = {o.order_id: o for o in (*bids, *asks)}
        still_open = {i for i, q in self.open.items() if q}
        assert set(resting) == still_open
        for order_id, order in resting.items():
            assert order.remaining == self.open[order_id]
            assert order.quantity == self.total[order_id]
