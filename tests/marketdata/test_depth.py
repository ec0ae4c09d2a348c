"""An L2 feed's side, patched from the touched prices alone, against the plain rule.

Differential: after every command of a long seeded stream, each side's top (at several
depths) must equal the view's, its checksum bytes must be the view's levels packed, and
what it reports must be `level_changes` of the old and the new top, in the same order.
"""

from __future__ import annotations

from typing import Any

import pytest
from book.streams import random_commands
from tradepit.marketdata.checksum import pack_levels
from tradepit.marketdata.feeds import _Top
from tradepit.marketdata.view import BookView, Level

from .test_view import run


def level_changes(old: list[Level], new: list[Level]) -> list[Level]:
    """The levels of `new` that are not in `old` as they are, then the prices of `old`
    that are gone (quantity and count 0), so that applying them to `old` gives `new`."""
    before = {price: (quantity, count) for price, quantity, count in old}
    changed = [level for level in new if before.pop(level[0], None) != (level[1], level[2])]
    changed.extend((price, 0, 0) for price in before)
    return changed


@pytest.mark.parametrize("seed", [3, 4])
def test_a_patched_top_is_the_views_top_and_reports_its_changes(make_book: Any,
                                                                seed: int) -> None:
    book = make_book(5, 10)
    view = BookView()
    depths = (1, 2, 3, 10)
    tops = {(depth, is_bid): _Top([], depth, is_bid, view.bid_level if is_bid else view.ask_level,
                                  view.bid_levels_below if is_bid else view.ask_levels_above)
            for depth in depths for is_bid in (True, False)}
    paths = {"moved": 0, "came or went": 0}
    for step, command in enumerate(random_commands(seed, 4_000)):
        touched_bids, touched_asks = view.replay(run(book, command))
        for (depth, is_bid), top in tops.items():
            touched = touched_bids if is_bid else touched_asks
            if not touched:
                continue
            old = list(top.levels)
            new = view.bid_levels(depth) if is_bid else view.ask_levels(depth)
            changed = top.update(touched)
            assert changed == level_changes(old, new), (step, depth, is_bid)
            assert top.levels == new, (step, depth, is_bid)
            assert bytes(top.packed) == pack_levels(new)
            assert top.index == {level[0]: i for i, level in enumerate(new)}
            if changed:
                paths["moved" if [p for p, _, _ in old] == [p for p, _, _ in new]
                      else "came or went"] += 1
    assert min(paths.values()) > 500
