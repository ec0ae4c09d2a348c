"""Bring the queryable store to the recovered state before serving.

Normally the store is exactly as current as the journal: each commit wrote both. It is
behind after a migration that added it to a database with history, and ahead after
recovery set a corrupted journal tail aside (those entries' rows were written with
them). Either way the recovered state is the truth, so the store is rebuilt from it,
with the balance changes read back from the journal's AdjustBalance entries.
"""

from __future__ import annotations

import logging
import time

from tradepit.exchange.commands import AdjustBalance
from tradepit.exchange.exchange import Exchange
from tradepit.journal.codec import decode
from tradepit.journal.store import Journal
from tradepit.store.projection import Projection, Row, balance_change_row, rebuild

log = logging.getLogger(__name__)


def attach(journal: Journal, exchange: Exchange, last_sequence: int) -> Projection:
    """The projection that keeps the store current from journal entry `last_sequence`
    on (the exchange is the state after it), rebuilding the store first if it is not
    current to that entry."""
    stored = journal.store_sequence()
    if stored != last_sequence:
        started = time.perf_counter()
        balance_changes: list[Row] = []
        for entry in journal.balance_change_entries(last_sequence):
            c = decode(entry)
            assert isinstance(c, AdjustBalance)
            balance_changes.append(balance_change_row(entry.sequence, c))
        rows = rebuild(exchange, last_sequence, balance_changes)
        journal.rebuild_store(rows, last_sequence)
        log.warning("the queryable store was current to journal entry %d, the journal to %d: "
                    "rebuilt it from the recovered state (%d orders, %d fills) in %.3f s",
                    stored, last_sequence, len(rows["orders"]), len(rows["fills"]),
                    time.perf_counter() - started)
    projection = Projection(exchange)
    projection.resume(journal.newest_candles())
    return projection
