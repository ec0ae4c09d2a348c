"""SQLite: the journal's and the orders' keys become the table's rowid; the journal
loses its index on arrival time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

In SQLite only a column declared INTEGER PRIMARY KEY is the rowid. A BIGINT key is a
second B-tree beside the table, written on every insert: the journal's writer spent
about 13% of its CPU per entry on it and on the arrival-time index (bench/RESULTS.md).
Nothing reads the journal by time: entries are in time order by sequence (the gateway's
clock never goes backwards), and the store's orders and fills keep their time indexes.
PostgreSQL keeps BIGINT keys, which it stores the same either way.

On SQLite the two tables are rebuilt with their rows (Alembic's batch mode), which takes
a few seconds for a journal of a million entries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

KEYS = (("journal", "sequence"), ("orders", "order_id"))


def _retype_keys(old: sa.types.TypeEngine[int], new: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, key in KEYS:
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.alter_column(key, type_=new, existing_type=old, existing_nullable=False)


def upgrade() -> None:
    op.drop_index("ix_journal_arrived_ns", table_name="journal")
    _retype_keys(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _retype_keys(sa.Integer(), sa.BigInteger())
    op.create_index("ix_journal_arrived_ns", "journal", ["arrived_ns"])
