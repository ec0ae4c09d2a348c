"""The journal: every accepted command, committed before it is acknowledged.

`codec` turns commands into checksummed entries, `store` keeps them in SQL (SQLite or
PostgreSQL, schema by Alembic), `group_commit` batches commits and releases effects in
order, and `recovery` replays the journal into a fresh exchange at start.
"""
