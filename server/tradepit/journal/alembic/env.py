"""Alembic's entry: migrate the connection the application hands over, or a URL.

The application runs `upgrade head` itself at start (`Journal.upgrade`), passing its
connection in `config.attributes["connection"]`. From the command line,
`alembic -c server/tradepit/journal/alembic.ini upgrade head` migrates
TRADEPIT_DATABASE_URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from tradepit.journal.schema import metadata


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    from tradepit.config import Settings
    from tradepit.journal.store import make_engine

    url = context.config.get_main_option("sqlalchemy.url") or Settings().database_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _migrate(connection)
            connection.commit()
    finally:
        engine.dispose()


run()
