"""Book pictures for scenario tests: `bid | price | ask`, one row per price level.

A cell lists the open quantity of each resting order in time priority, joined by
`+`, so a table shows both price and time priority at a glance.
"""

from __future__ import annotations

from typing import Any


def _rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.strip().splitlines():
        if line.strip():
            rows.append([cell.strip() for cell in line.split("|")])
    return rows


def render(book: Any) -> str:
    bids, asks = book.orders()
    cells: dict[int, list[list[str]]] = {}
    for column, orders in ((0, bids), (1, asks)):
        for order in orders:
            cells.setdefault(order.price, [[], []])[column].append(str(order.remaining))
    lines = ["bid | price | ask"]
    for price in sorted(cells, reverse=True):
        bid, ask = ("+".join(side) for side in cells[price])
        lines.append(f"{bid} | {price} | {ask}")
    return "\n".join(lines)


def assert_table(book: Any, expected: str) -> None:
    """Compare the book with a picture, ignoring alignment whitespace."""
    actual = render(book)
    assert _rows(actual) == _rows(expected), f"book is\n{actual}\nexpected\n{expected}"


def events(result: list[Any]) -> list[tuple[str, ...]]:
    """Events in a compact readable form: (KIND, order_id, quantity, price, remaining[, extra])."""
    from tradepit.book import CancelReason, EventKind, RejectReason

    out: list[tuple[Any, ...]] = []
    for e in result:
        kind = EventKind(e.kind).name
        if e.kind == EventKind.TRADE:
            out.append((kind, e.order_id, e.quantity, e.price, e.remaining, e.maker_id,
                        e.maker_remaining))
        elif e.kind == EventKind.CANCELLED:
            out.append((kind, e.order_id, e.quantity, e.remaining, CancelReason(e.reason).name))
        elif e.kind == EventKind.REJECTED:
            out.append((kind, e.order_id, RejectReason(e.reason).name))
        else:
            out.append((kind, e.order_id, e.quantity, e.price, e.remaining))
    return out
