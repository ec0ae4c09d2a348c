"""The journal's database: SQLite pragmas, migrations, batches, and what recovery does with
an entry that does not check out."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from tradepit.exchange.commands import AdjustBalance, CreateAccount, CreateInstrument
from tradepit.journal.codec import encode
from tradepit.journal.recovery import JournalCorrupted, recover
from tradepit.journal.schema import metadata
from tradepit.journal.store import HEAD, MIGRATIONS, Journal

from .conftest import sqlite_url


def commands(count: int) -> list[object]:
    made: list[object] = [CreateInstrument("ACME", 1, 1, 10_000, 1_000, 1),
                          CreateAccount("a", "key", 2)]
    made += [AdjustBalance(1, 10 + i, 1, 3 + i) for i in range(count - 2)]
    return made


@pytest.fixture
def journal(database: Path) -> Journal:
    made = Journal(sqlite_url(database))
    made.upgrade()
    yield made
    made.close()


def write(journal: Journal, count: int, batch: int = 10) -> list[object]:
    made = commands(count)
    entries = [encode(i + 1, c) for i, c in enumerate(made)]  # type: ignore[arg-type]
    for start in range(0, len(entries), batch):
        journal.append(entries[start:start + batch])
    return made


def test_sqlite_runs_in_wal_mode_with_full_synchronous_commits(journal):
    with journal.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_the_migrations_build_exactly_the_schema_the_code_uses(journal):
    with journal.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() == HEAD
        assert ScriptDirectory(str(MIGRATIONS)).get_current_head() == HEAD
        assert compare_metadata(context, metadata) == []
        indexes = {i["name"] for i in
                   journal.engine.dialect.get_indexes(connection, "journal")}
    assert "ix_journal_arrived_ns" in indexes


def test_upgrading_twice_changes_nothing(journal):
    write(journal, 5)
    journal.upgrade()
    assert journal.last_sequence() == 5


def test_entries_read_back_in_order_across_chunks(journal, monkeypatch):
    monkeypatch.setattr("tradepit.journal.store.READ_CHUNK", 7)
    made = write(journal, 50)
    applied: list[object] = []
    recovered = recover(journal, applied.append)
    assert applied == made
    assert (recovered.entries, recovered.last_sequence, recovered.problem) == (50, 50, None)
    assert recovered.last_arrived_ns == made[-1].timestamp  # type: ignore[attr-defined]


def test_a_batch_is_all_or_nothing(journal):
    write(journal, 4)
    clash = [encode(5, CreateAccount("b", "k2", 9)), encode(4, CreateAccount("c", "k3", 9))]
    with pytest.raises(Exception, match="UNIQUE"):
        journal.append(clash)
    assert journal.last_sequence() == 4


def test_a_retried_batch_skips_what_already_committed(journal):
    write(journal, 6)
    again = [encode(i + 1, c) for i, c in enumerate(commands(8))]  # type: ignore[arg-type]
    journal.append(again[4:], retrying=True)
    assert [e.sequence for e in journal.read()] == list(range(1, 9))


def tamper(database: Path, sql: str) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute(sql)


@pytest.mark.parametrize(("sql", "bad", "reason"), [
    ("UPDATE journal SET payload = substr(payload, 1, length(payload) - 3) "
     "WHERE sequence = 18", 18, "checksum"),                        # a cut-short entry
    ("UPDATE journal SET checksum = checksum + 1 WHERE sequence = 20", 20, "checksum"),
    ("UPDATE journal SET payload = CAST(replace(CAST(payload AS TEXT), '11', '12') AS BLOB) "
     "WHERE sequence = 11", 11, "checksum"),                        # a changed amount
    ("DELETE FROM journal WHERE sequence = 15", 15, "missing"),     # a hole
])
def test_a_bad_entry_is_reported_and_neither_it_nor_anything_after_is_applied(
        journal, database, caplog, sql, bad, reason):
    write(journal, 20)
    tamper(database, sql)
    applied: list[object] = []
    with caplog.at_level(logging.ERROR), pytest.raises(JournalCorrupted) as raised:
        recover(journal, applied.append)
    assert raised.value.problem.sequence == bad
    assert reason in str(raised.value)
    assert len(applied) == bad - 1
    assert "TRADEPIT_JOURNAL_ON_CORRUPTION=quarantine" in str(raised.value)
    assert f"journal entry {bad}" in caplog.text
    assert journal.last_sequence() >= bad - 1  # refusing to start changed nothing


def test_quarantine_sets_the_bad_tail_aside_and_keeps_the_good_prefix(journal, database):
    write(journal, 20)
    tamper(database, "UPDATE journal SET checksum = 0 WHERE sequence = 17")
    applied: list[object] = []
    recovered = recover(journal, applied.append, on_corruption="quarantine")
    assert (recovered.entries, recovered.quarantined) == (16, 4)
    assert "journal entry 17" in (recovered.problem or "")
    assert journal.last_sequence() == 16
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT sequence, reason FROM journal_quarantine ORDER BY sequence").fetchall()
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
