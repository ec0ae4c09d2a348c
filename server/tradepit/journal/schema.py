"""The journal's tables, as the application reads and writes them.

Migrations in `alembic/versions` create them; this module only describes them, and
`tests/durability` checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, LargeBinary, MetaData, Table, Text

metadata = MetaData()

journal = Table(
    "journal", metadata,
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("arrived_ns", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("checksum", BigInteger, nullable=False),
    Index("ix_journal_arrived_ns", "arrived_ns"),
)

# Entries set aside at recovery because they, or an entry before them, did not check out.
journal_quarantine = Table(
    "journal_quarantine", metadata,
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("quarantined_ns", BigInteger, primary_key=True, autoincrement=False),
    Column("arrived_ns", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("checksum", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
)

# The whole exchange state after the journal entry `sequence` (exchange/snapshot.py),
# the state digest it loads to, and a BLAKE2b checksum of the payload.
snapshot = Table(
    "snapshot", metadata,
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("taken_ns", BigInteger, nullable=False),
    Column("last_time_ns", BigInteger, nullable=False),
    Column("state_digest", Text, nullable=False),
    Column("checksum", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)
