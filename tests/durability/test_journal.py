"""The journal's database: SQLite pragmas, migrations, batches, and what recovery does with
an entry that does not check out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import chain

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from tradepit.exchange.commands import AdjustBalance, CreateAccount, CreateInstrument
from tradepit.journal import schema
from tradepit.journal.codec import Entry, encode
from tradepit.journal.recovery import JournalCorrupted, recover
from tradepit.journal.schema import metadata
from tradepit.journal.store import HEAD, MIGRATIONS, ROWS_PER_STATEMENT, Grouped, Journal

from .conftest import sqlite_url


def commands(count: int) -> list[object]:
    made: list[object] = [CreateInstrument("ACME", 1, 1, 10_000, 1_000, 1),
                          CreateAccount("a", "key", 2)]
    made += [AdjustBalance(1, 10 + i, 1, 3 + i) for i in range(count - 2)]
    return made


@pytest.fixture
def journal(database_url: str) -> Iterator[Journal]:
    made = Journal(database_url)
    made.upgrade()
    yield made
    made.close()


def write(journal: Journal, count: int, batch: int = 10) -> list[object]:
    made = commands(count)
    entries = [encode(i + 1, c) for i, c in enumerate(made)]  # type: ignore[arg-type]
    for start in range(0, len(entries), batch):
        journal.append(entries[start:start + batch])
    return made


def test_sqlite_runs_in_wal_mode_with_full_synchronous_commits(database):
    journal = Journal(sqlite_url(database))
    with journal.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    journal.close()


def test_a_postgresql_url_uses_psycopg_3(database_url):
    journal = Journal(database_url)
    assert journal.engine.dialect.name == database_url.split(":")[0]
    if journal.engine.dialect.name == "postgresql":
        assert journal.engine.dialect.driver == "psycopg"
    journal.close()


def test_the_migrations_build_exactly_the_schema_the_code_uses(journal):
    with journal.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == HEAD
        assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == HEAD
        assert compare_metadata(context, metadata) == []
        if connection.dialect.name == "sqlite":
            # INTEGER PRIMARY KEY: the key is the rowid, with no index of its own.
            automatic = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND "
                "tbl_name IN ('journal', 'orders') AND name LIKE 'sqlite_autoindex%'").all()
            assert automatic == []


def test_entries_are_stored_column_for_field():
    assert Entry._fields == tuple(c.name for c in schema.journal.columns)


def test_a_batch_larger_than_one_insert_statement_is_written_whole(journal):
    """Journal rows go ROWS_PER_STATEMENT to a statement, the rest one by one."""
    count = 24 * ROWS_PER_STATEMENT + 34
    made = write(journal, count, batch=count)
    stored = list(journal.read())
    assert [e.sequence for e in stored] == list(range(1, count + 1))
    assert stored == [encode(i + 1, c) for i, c in enumerate(made)]  # type: ignore[arg-type]


def _grouped(entries: list[Entry]) -> Grouped:
    """The entries' values ROWS_PER_STATEMENT entries to a tuple, as a tape's are read."""
    return Grouped(tuple(chain.from_iterable(entries[i:i + ROWS_PER_STATEMENT]))
                   for i in range(0, len(entries), ROWS_PER_STATEMENT))


@pytest.mark.parametrize("count", [2, ROWS_PER_STATEMENT, 3 * ROWS_PER_STATEMENT + 7])
def test_entries_grouped_for_the_statements_are_stored_as_entries(journal, count):
    entries = [encode(i + 1, c) for i, c in enumerate(commands(count))]  # type: ignore[arg-type]
    journal.append(_grouped(entries), {"accounts": []})
    assert list(journal.read()) == entries
    assert journal.store_sequence() == len(entries)  # the store is current to the last one


def test_a_retried_grouped_batch_skips_what_already_committed(journal):
    write(journal, 60)
    again = [encode(i + 1, c) for i, c in enumerate(commands(130))]  # type: ignore[arg-type]
    journal.append(_grouped(again[10:]), retrying=True)
    assert list(journal.read()) == again


def test_upgrading_twice_changes_nothing(journal):
    write(journal, 5)
    journal.upgrade()
    assert journal.last_sequence() == 5


def test_a_database_from_before_rowid_keys_migrates_with_every_row(database_url):
    """0004 rebuilds SQLite's journal and orders with INTEGER keys: nothing is lost, and
    the journal goes on from where it was."""
    from alembic import command
    from alembic.config import Config

    journal = Journal(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    with journal.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    made = write(journal, 30)
    order = (7, 1, "c-7", "ACME", 1, 1, 1, 9_950, 3, False, 1, 1, 0, 3, 0, 0, None, 5, 6, 30)
    journal.rebuild_store({"orders": [order]}, 30)
    before = list(journal.read())

    journal.upgrade()
    assert journal.revision() == HEAD
    assert list(journal.read()) == before
    with journal.engine.connect() as connection:
        assert [tuple(r) for r in connection.execute(select(schema.orders))] == [order]
    journal.append([encode(31, made[-1])])  # type: ignore[arg-type]
    assert journal.last_sequence() == 31
    journal.close()


def test_entries_read_back_in_order_across_chunks(journal, monkeypatch):
    monkeypatch.setattr("tradepit.journal.store.READ_CHUNK", 7)
    made = write(journal, 50)
    applied: list[object] = []
    recovered = recover(journal, applied.append)
    assert applied == made
    assert (recovered.entries, recovered.last_sequence, recovered.problem) == (50, 50, None)
    assert recovered.last_arrived_ns == made[-1].timestamp  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [2, 3 * ROWS_PER_STATEMENT])
def test_a_batch_is_all_or_nothing(journal, size):
    write(journal, 4)
    clash = [encode(5 + i, CreateAccount("b", f"k{i}", 9)) for i in range(size - 1)]
    clash.insert(size // 2, encode(4, CreateAccount("c", "k3", 9)))  # already stored
    with pytest.raises(IntegrityError):
        journal.append(clash)
    assert journal.last_sequence() == 4


def test_a_retried_batch_skips_what_already_committed(journal):
    write(journal, 6)
    again = [encode(i + 1, c) for i, c in enumerate(commands(8))]  # type: ignore[arg-type]
    journal.append(again[4:], retrying=True)
    assert [e.sequence for e in journal.read()] == list(range(1, 9))


def tamper(journal: Journal, sequence: int, change: str) -> None:
    """Damage one stored entry the way a bad disk or a bad hand might."""
    with journal.engine.begin() as connection:
        row = connection.execute(select(schema.journal).where(
            schema.journal.c.sequence == sequence)).one()
        where = schema.journal.c.sequence == sequence
        if change == "delete":
            connection.execute(delete(schema.journal).where(where))
        elif change == "cut":
            connection.execute(update(schema.journal).where(where)
                               .values(payload=row.payload[:-3]))
        elif change == "digit":
            connection.execute(update(schema.journal).where(where)
                               .values(payload=row.payload.replace(b"11", b"12")))
        elif change == "checksum":
            connection.execute(update(schema.journal).where(where)
                               .values(checksum=row.checksum + 1))


@pytest.mark.parametrize(("change", "bad", "reason"), [
    ("cut", 18, "checksum"),        # an entry cut short
    ("checksum", 20, "checksum"),   # the last one
    ("digit", 11, "checksum"),      # one digit changed
    ("delete", 15, "missing"),      # a hole
])
def test_a_bad_entry_is_reported_and_neither_it_nor_anything_after_is_applied(
        journal, caplog, change, bad, reason):
    write(journal, 20)
    tamper(journal, bad, change)
    applied: list[object] = []
    with caplog.at_level(logging.ERROR), pytest.raises(JournalCorrupted) as raised:
        recover(journal, applied.append)
    assert raised.value.problem.sequence == bad
    assert reason in str(raised.value)
    assert len(applied) == bad - 1
    assert "TRADEPIT_JOURNAL_ON_CORRUPTION=quarantine" in str(raised.value)
    assert f"journal entry {bad}" in caplog.text
    assert journal.last_sequence() >= bad - 1  # refusing to start changed nothing


def test_quarantine_sets_the_bad_tail_aside_and_keeps_the_good_prefix(journal):
    write(journal, 20)
    tamper(journal, 17, "checksum")
    applied: list[object] = []
    recovered = recover(journal, applied.append, on_corruption="quarantine")
    assert (recovered.entries, recovered.quarantined) == (16, 4)
    assert "journal entry 17" in (recovered.problem or "")
    assert journal.last_sequence() == 16
    with journal.engine.connect() as connection:
        quarantine = schema.journal_quarantine
        rows = connection.execute(select(quarantine.c.sequence, quarantine.c.reason)
                                  .order_by(quarantine.c.sequence)).all()
    assert [r[0] for r in rows] == [17, 18, 19, 20]
    assert "checksum" in rows[0][1]
    # the journal is whole again: the next start replays it without complaint
    assert recover(journal, [].append).entries == 16


def test_a_damaged_database_file_is_reported_not_replayed(tmp_path):
    path = tmp_path / "broken.db"
    journal = Journal(sqlite_url(path))
    journal.upgrade()
    write(journal, 300, batch=300)
    journal.close()
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])  # the file cut in half
    (tmp_path / "broken.db-wal").unlink(missing_ok=True)
    journal = Journal(sqlite_url(path))
    applied: list[object] = []
    with pytest.raises(Exception, match=r"malformed|corrupt|not a database"):
        recover(journal, applied.append)
    journal.close()
    assert len(applied) < 300
