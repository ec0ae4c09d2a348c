"""Checks of the queryable store against the state the journal replays to.

The server writes the store incrementally, batch by batch, from what each command
touched; `rebuild` computes every row from a whole state at once. The two must agree
after any crash: the store is exactly as current as the journal.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from tradepit.exchange.exchange import Exchange
from tradepit.journal.codec import decode
from tradepit.journal.schema import metadata
from tradepit.journal.store import STORE_TABLES, Journal
from tradepit.store.projection import balance_change_row, rebuild

# Columns compared per table: all but `sequence` (the entry that last changed a row,
# which a rebuild cannot know), except in balance_changes, where it is the key.
_POSITION_AMOUNTS = slice(2, 6)


def _comparable(table: str, rows: Sequence[Any]) -> list[tuple[Any, ...]]:
    columns = [c.name for c in metadata.tables[table].columns]
    keep = [i for i, name in enumerate(columns)
            if name != "sequence" or table == "balance_changes"]
    found = [tuple(row[i] for i in keep) for row in rows]
    if table == "positions":  # a position that never held anything may be absent
        found = [row for row in found if any(row[_POSITION_AMOUNTS])]
    return sorted(found, key=lambda row: tuple(map(str, row[:3])))


def stored_rows(journal: Journal) -> dict[str, list[tuple[Any, ...]]]:
    with journal.engine.connect() as connection:
        return {table: _comparable(table, list(connection.execute(
                    select(metadata.tables[table]))))
                for table in STORE_TABLES}


def expected_rows(journal: Journal, exchange: Exchange,
                  entries: int) -> dict[str, list[tuple[Any, ...]]]:
    balance = [balance_change_row(entry.sequence, decode(entry))  # type: ignore[arg-type]
               for entry in journal.balance_change_entries(entries)]
    rows = rebuild(exchange, entries, balance)
    return {table: _comparable(table, rows[table]) for table in STORE_TABLES}


def assert_store_matches(url: str, exchange: Exchange, entries: int) -> None:
    """The store holds exactly the rows of the state after journal entry `entries`."""
    journal = Journal(url)
    try:
        assert journal.store_sequence() == entries
        stored, expected = stored_rows(journal), expected_rows(journal, exchange, entries)
        for table in STORE_TABLES:
            assert stored[table] == expected[table], table
    finally:
        journal.close()


def wait_for_orphaned_commits(url: str, timeout: float = 30.0) -> None:
    """After kill -9, a PostgreSQL backend may still finish a COMMIT its client sent just
    before dying (its WAL flush waits for the disk, which on this shared host has stalled
    for seconds while the whole suite runs). Wait until no other client is connected, so
    the journal read next is the final one (SQLite has no server: a killed writer's
    transaction is over)."""
    if not url.startswith("postgresql"):
        return
    journal = Journal(url)
    deadline = time.monotonic() + timeout
    try:
        with journal.engine.connect() as connection:
            while True:
                others = connection.execute(text(
                    "SELECT state, wait_event_type, wait_event, left(query, 60), "
                    "now() - state_change FROM pg_stat_activity "
                    "WHERE datname = current_database() AND backend_type = 'client backend' "
                    "AND pid <> pg_backend_pid()")).all()
                if not others:
                    return
                assert time.monotonic() < deadline, (
                    f"{len(others)} connections outlived the server: "
                    + "; ".join(map(str, (tuple(row) for row in others))))
                time.sleep(0.02)
    finally:
        journal.close()
