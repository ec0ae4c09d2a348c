"""The journal's database: SQLite (WAL, synchronous=FULL) by default, or PostgreSQL.

Blocking calls: the server makes them in the journal's writer process (writer.py), and
reads the journal back at recovery before that starts. `append` writes a batch in one
transaction, `read` streams the entries back in sequence order; `write_snapshot` stores
a snapshot of the state in one transaction, so a crash leaves it whole or absent.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import pickle
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    make_url,
    select,
    text,
)

from tradepit.journal.codec import Entry
from tradepit.journal.schema import (
    candles,
    journal,
    journal_quarantine,
    metadata,
    snapshot,
    store_state,
)
from tradepit.marketdata.candles import Candle

if TYPE_CHECKING:
    from tradepit.store.projection import Rows

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "alembic"
HEAD = "0004"  # the newest migration; a test checks it against alembic/versions
READ_CHUNK = 10_000
# The store's tables in the order a transaction writes them; the first ones are kept
# current (INSERT, or UPDATE of the row with the same key), the last two only grow.
STORE_TABLES = ("accounts", "positions", "instruments", "orders", "candles", "fills",
                "balance_changes")
APPEND_ONLY = ("fills", "balance_changes")
# The tables a batch writes a row or more per command to, and how many of their rows go to
# one INSERT statement while there are that many: one step of SQLite's for 50 rows rather
# than for each took the writer's CPU per entry from 6.6 to 4.6 us (in process, on a
# journal-on stream's real batches, 2026-11-22). For the orders, kept current, a batch
# holds each order's row once (store/projection.py): PostgreSQL refuses an upsert that
# meets the same key twice in one statement.
MANY_ROWS = frozenset({"journal", "orders", "fills"})
ROWS_PER_STATEMENT = 50
JOURNAL_WIDTH = len(journal.columns)  # an entry's values: sequence, arrival, kind, ...
KEEP_SNAPSHOTS = 2  # the newest, and one to fall back on if it does not check out


class SnapshotRow(NamedTuple):
    """A stored snapshot: the state after journal entry `sequence`."""

    sequence: int
    taken_ns: int
    last_time_ns: int  # the newest command time it covers, for the gateway's clock
    state_digest: str  # what `state_digest` gives for the state it loads to
    checksum: str  # BLAKE2b of the payload
    payload: bytes


class Grouped(list[tuple[Any, ...]]):
    """A table's rows laid out as its INSERT statements take them: each tuple holds the
    values of ROWS_PER_STATEMENT rows of a MANY_ROWS table one after the other (of one
    row for the other tables), the last tuple of what is left. The Rust exchange pickles
    the store's rows so (store/projection.py), and a tape's journal rows are read so
    (journal/pending.py): the writer binds them as they come instead of making an
    entry of each and flattening the rows in Python (bench/RESULTS.md, durability
    notes)."""


def ungroup(table: str, tuples: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows of `table` whose values `tuples` hold one after the other (`Grouped`)."""
    width = len(metadata.tables[table].columns)
    return [values[i:i + width] for values in tuples for i in range(0, len(values), width)]


def make_engine(url: str, busy_timeout_ms: int = 1_000) -> Engine:
    """An engine for `url`; `postgresql://` uses psycopg 3, SQLite gets its pragmas."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    _register_sqlite_adapters()
    engine = create_engine(parsed, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        finally:
            cursor.close()

    return engine


def _identity(value: Any) -> Any:
    return value


def _register_sqlite_adapters() -> None:
    """Adapters for the values the driver binds as they are, but only after it looks for
    an adapter and for `__adapt__` and `__conform__` methods, formatting an
    AttributeError for each: every value not exactly an int, float, str or bytearray. A
    journal batch binds a bytes payload per entry and an order row's bool and None: found
    that way each took about 0.45 us more than an int to bind, and 0.23 us more with an
    adapter. Stored as before: bytes as a BLOB, None as NULL, a bool as 0 or 1.
    Process-wide, as the driver's registry is."""
    sqlite3.register_adapter(bool, int)
    sqlite3.register_adapter(bytes, _identity)
    sqlite3.register_adapter(type(None), _identity)


class Journal:
    def __init__(self, url: str, busy_timeout_ms: int = 1_000) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms)
        self._marker = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        self._inserts: dict[tuple[str, int], str] = {}
        # The connection `append` writes on, kept from one batch to the next: checking
        # one out of the pool and returning it (a rollback) took 17-37 us of the writer's
        # CPU per commit, about a tenth of a one-entry commit's, and for PostgreSQL a
        # ping, a round trip. Dropped on any error: the next batch connects anew.
        self._appending: Connection | None = None

    def revision(self) -> str | None:
        """The schema's migration, or None for an empty database."""
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            version = connection.scalar(text("SELECT version_num FROM alembic_version"))
            return None if version is None else str(version)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (`alembic upgrade head`). Alembic is
        loaded only when there is something to do: it is a third of the start time."""
        if self.revision() == HEAD:
            return
        from alembic import command as alembic_command
        from alembic.config import Config

        log.info("migrating the journal database to revision %s", HEAD)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            alembic_command.upgrade(config, "head")

    def append(self, entries: Sequence[Entry] | Grouped, rows: Rows | None = None,
               retrying: bool = False) -> None:
        """Write `entries` (or their rows, `Grouped`), and the store's `rows` they
        produced, in one transaction. After a failure, `retrying` skips a batch that an
        unclear outcome (a lost connection at COMMIT) wrote already."""
        if not entries:
            return
        try:
            connection = self._appending
            if connection is None:
                connection = self._appending = self.engine.connect()
            with connection.begin():
                written: Sequence[Sequence[Any]] = entries
                if retrying:
                    last = connection.scalar(select(func.max(journal.c.sequence))) or 0
                    written = [row for row in (ungroup("journal", entries)
                                               if type(entries) is Grouped else entries)
                               if row[0] > last]  # row[0]: the entry's sequence
                    if not written:
                        return  # the whole batch, rows and all, committed after all
                self._write(connection, "journal", written)
                if rows is not None:
                    newest = written[-1]  # an entry, or the values of the last ones
                    self._write_store(connection, rows, newest[len(newest) - JOURNAL_WIDTH])
        except Exception:
            self._drop_appending()  # a failed connection is not reused
            self.engine.dispose()
            raise

    def _write_store(self, connection: Connection, rows: Rows, sequence: int) -> None:
        for table in STORE_TABLES:
            found = rows.get(table)
            if found:
                # pickled by the Rust exchange, grouped (store/projection.py)
                self._write(connection, table,
                            Grouped(pickle.loads(found)) if isinstance(found, bytes) else found)
        self._write(connection, "store_state", [(1, sequence)])

    def _write(self, connection: Connection, table: str,
               rows: Sequence[Sequence[Any]] | Grouped) -> None:
        """Statements prepared once and stepped for each row, or for each
        ROWS_PER_STATEMENT rows of the MANY_ROWS tables (executemany). Statements of one
        size each: SQLite parses a statement anew for every size it meets, and a
        multi-row statement of a batch's own size cost a third more CPU per row than one
        row per step."""
        if not rows:
            return
        many = ROWS_PER_STATEMENT if table in MANY_ROWS else 1
        if many == 1:
            connection.exec_driver_sql(self._insert(table), list(rows))
            return
        if type(rows) is not Grouped:
            flat = itertools.chain.from_iterable
            rows = Grouped(tuple(flat(rows[i:i + many])) for i in range(0, len(rows), many))
        last = rows[-1]
        if len(last) == many * len(metadata.tables[table].columns):
            connection.exec_driver_sql(self._insert(table, many), rows)
            return
        if len(rows) > 1:
            connection.exec_driver_sql(self._insert(table, many), rows[:-1])
        connection.exec_driver_sql(self._insert(table), ungroup(table, [last]))

    def _insert(self, table: str, count: int = 1) -> str:
        """INSERT of `count` rows into `table`; for a table kept current, one that replaces
        the row with the same primary key (SQLite and PostgreSQL alike)."""
        statement = self._inserts.get((table, count))
        if statement is None:
            quote = self.engine.dialect.identifier_preparer.quote
            described = metadata.tables[table]
            columns = [quote(c.name) for c in described.columns]
            row = f"({', '.join([self._marker] * len(columns))})"
            statement = (f"INSERT INTO {table} ({', '.join(columns)}) "
                         f"VALUES {', '.join([row] * count)}")
            if table not in APPEND_ONLY and table != "journal":
                keys = [quote(c.name) for c in described.primary_key.columns]
                updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
                statement += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
            self._inserts[table, count] = statement
        return statement

    def store_sequence(self) -> int:
        """The journal entry the store's tables are current to (0: never written)."""
        with self.engine.connect() as connection:
            return int(connection.scalar(select(store_state.c.sequence)) or 0)

    def rebuild_store(self, rows: Rows, sequence: int) -> None:
        """Replace every row of the store with `rows`, the state after entry `sequence`."""
        try:
            with self.engine.begin() as connection:
                for table in (*STORE_TABLES, "store_state"):
                    connection.execute(delete(metadata.tables[table]))
                self._write_store(connection, rows, sequence)
        except Exception:
            self.engine.dispose()
            raise

    def newest_candles(self) -> list[tuple[str, Candle]]:
        """The newest stored candle of each symbol at each interval: where the store's
        candles go on from after a restart."""
        newest = select(candles.c.symbol, candles.c.candle_interval,
                        func.max(candles.c.start_ns).label("start_ns")).group_by(
            candles.c.symbol, candles.c.candle_interval).subquery()
        query = select(candles).join(newest, (candles.c.symbol == newest.c.symbol) & (
            candles.c.candle_interval == newest.c.candle_interval) & (
            candles.c.start_ns == newest.c.start_ns))
        with self.engine.connect() as connection:
            return [(row.symbol, Candle(row.candle_interval, row.start_ns, row.open, row.high,
                                        row.low, row.close, row.volume, row.notional,
                                        row.trade_count))
                    for row in connection.execute(query)]

    def balance_change_entries(self, through: int) -> Iterator[Entry]:
        """The AdjustBalance entries up to sequence `through`, in order: the store's
        balance changes, when it is rebuilt."""
        for entry in self.read(kind="AdjustBalance"):
            if entry.sequence > through:
                return
            yield entry

    def last_sequence(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.max(journal.c.sequence))) or 0)

    def read(self, after: int = 0, kind: str | None = None) -> Iterator[Entry]:
        """Every entry with a sequence above `after` (of one `kind`, if given), in order,
        as stored (not checked)."""
        columns = (journal.c.sequence, journal.c.arrived_ns, journal.c.kind,
                   journal.c.payload, journal.c.checksum)
        while True:
            query = select(*columns).where(journal.c.sequence > after)
            if kind is not None:
                query = query.where(journal.c.kind == kind)
            with self.engine.connect() as connection:
                rows = connection.execute(
                    query.order_by(journal.c.sequence).limit(READ_CHUNK)).all()
            for row in rows:
                yield Entry(int(row[0]), int(row[1]), str(row[2]), bytes(row[3]), int(row[4]))
            if len(rows) < READ_CHUNK:
                return
            after = int(rows[-1][0])

    def write_snapshot(self, row: SnapshotRow, keep: int = KEEP_SNAPSHOTS) -> None:
        """Store a snapshot and drop all but the newest `keep`, in one transaction. One
        already stored at the same entry is replaced: this server could not load it (it
        was damaged, or another exchange's), or it would not be taking another there."""
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(snapshot).where(snapshot.c.sequence == row.sequence))
                connection.execute(insert(snapshot), [row._asdict()])
                kept = select(snapshot.c.sequence).order_by(
                    snapshot.c.sequence.desc()).limit(keep).scalar_subquery()
                connection.execute(delete(snapshot).where(snapshot.c.sequence.not_in(kept)))
        except Exception:
            self.engine.dispose()
            raise

    def snapshot_sequences(self) -> list[int]:
        """The sequences of the stored snapshots, newest first."""
        with self.engine.connect() as connection:
            return [int(s) for s in connection.scalars(
                select(snapshot.c.sequence).order_by(snapshot.c.sequence.desc()))]

    def read_snapshot(self, sequence: int) -> SnapshotRow:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(snapshot).where(snapshot.c.sequence == sequence)).one()
        return SnapshotRow(int(row.sequence), int(row.taken_ns), int(row.last_time_ns),
                           str(row.state_digest), str(row.checksum), bytes(row.payload))

    def quarantine(self, first: int, reason: str) -> int:
        """Move entries from sequence `first` on to journal_quarantine; return how many."""
        now = time.time_ns()
        with self.engine.begin() as connection:
            rows = connection.execute(select(journal).where(journal.c.sequence >= first)).all()
            if rows:
                connection.execute(insert(journal_quarantine), [
                    {**row._asdict(), "reason": reason, "quarantined_ns": now} for row in rows])
                connection.execute(delete(journal).where(journal.c.sequence >= first))
            # A snapshot from there on holds the state of entries no longer in the journal.
            connection.execute(delete(snapshot).where(snapshot.c.sequence >= first))
        return len(rows)

    def _drop_appending(self) -> None:
        connection, self._appending = self._appending, None
        if connection is not None:
            with contextlib.suppress(Exception):  # it may be broken: it is dropped anyway
                connection.invalidate()

    def close(self) -> None:
        if self._appending is not None:
            self._appending.close()
            self._appending = None
        self.engine.dispose()
