"""The database's tables, as the application reads and writes them: the journal, its
snapshots, and the queryable store derived from it.

Migrations in `alembic/versions` create them; this module only describes them, and
`tests/durability` checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

# A key that is SQLite's rowid (INTEGER PRIMARY KEY): one B-tree per table rather than
# two (migration 0004). PostgreSQL keeps BIGINT.
ROWID_KEY = BigInteger().with_variant(Integer(), "sqlite")

journal = Table(
    "journal", metadata,
    Column("sequence", ROWID_KEY, primary_key=True, autoincrement=False),
    Column("arrived_ns", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("checksum", BigInteger, nullable=False),
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

# ---------------------------------------------------------------- the queryable store
#
# The state and history the journal's commands produced, as tables to query (see
# tradepit/store). Each commit writes the rows its entries changed in the same
# transaction as the entries, so the tables always show the state after one journal
# entry: `store_state.sequence`. `sequence` on a row is the last entry that changed it.
# Integers throughout, as in the exchange: ticks, lots and the smallest currency unit.

accounts = Table(
    "accounts", metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("system", Boolean, nullable=False),
    Column("cash", BigInteger, nullable=False),
    Column("reserved_cash", BigInteger, nullable=False),
    Column("fees_paid", BigInteger, nullable=False),
    Column("deposits", BigInteger, nullable=False),
    Column("deposited_value", BigInteger, nullable=False),
    Column("traded_quantity", BigInteger, nullable=False),
    Column("traded_notional", BigInteger, nullable=False),
    Column("sequence", BigInteger, nullable=False),
)

positions = Table(
    "positions", metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("symbol", Text, primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("cost_basis", BigInteger, nullable=False),
    Column("realised_pnl", BigInteger, nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Index("ix_positions_symbol", "symbol"),
)

instruments = Table(
    "instruments", metadata,
    Column("symbol", Text, primary_key=True),
    Column("tick_size", BigInteger, nullable=False),
    Column("lot_size", BigInteger, nullable=False),
    Column("reference_price", BigInteger, nullable=False),  # the mark: the last trade price
    Column("band_bps", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),  # TradingStatus: DELISTED once removed
    Column("sequence", BigInteger, nullable=False),
)

orders = Table(
    "orders", metadata,
    Column("order_id", ROWID_KEY, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, nullable=False),
    Column("client_order_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Integer, nullable=False),
    Column("order_type", Integer, nullable=False),
    Column("tif", Integer, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("post_only", Boolean, nullable=False),
    Column("stp", Integer, nullable=False),
    Column("status", Integer, nullable=False),  # OrderStatus, kept current
    Column("filled_quantity", BigInteger, nullable=False),
    Column("leaves_quantity", BigInteger, nullable=False),
    Column("filled_notional", BigInteger, nullable=False),
    Column("fees", BigInteger, nullable=False),
    Column("reject_reason", Integer, nullable=True),  # RejectCode
    Column("created_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Index("ix_orders_account", "account_id", "order_id"),
    Index("ix_orders_symbol_created", "symbol", "created_ns"),
    Index("ix_orders_created", "created_ns"),
)

fills = Table(
    "fills", metadata,
    Column("account_id", BigInteger, primary_key=True, autoincrement=False),
    Column("trade_id", BigInteger, primary_key=True, autoincrement=False),
    Column("order_id", BigInteger, nullable=False),
    Column("client_order_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Integer, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("liquidity", Integer, nullable=False),  # Liquidity: maker or taker
    Column("timestamp_ns", BigInteger, nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Index("ix_fills_order", "order_id"),
    Index("ix_fills_symbol_time", "symbol", "timestamp_ns"),
    Index("ix_fills_time", "timestamp_ns"),
)

candles = Table(
    "candles", metadata,
    Column("symbol", Text, primary_key=True),
    Column("candle_interval", Integer, primary_key=True, autoincrement=False),  # CandleInterval
    Column("start_ns", BigInteger, primary_key=True, autoincrement=False),
    Column("open", BigInteger, nullable=False),
    Column("high", BigInteger, nullable=False),
    Column("low", BigInteger, nullable=False),
    Column("close", BigInteger, nullable=False),
    Column("volume", BigInteger, nullable=False),
    Column("notional", BigInteger, nullable=False),
    Column("trade_count", BigInteger, nullable=False),
    Column("sequence", BigInteger, nullable=False),
)

# Money and shares paid in or taken out from outside trading (deposits, adjustments):
# one row per journaled AdjustBalance. What trading moves is in `fills`.
balance_changes = Table(
    "balance_changes", metadata,
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, nullable=False),
    Column("kind", Integer, nullable=False),  # BalanceChange
    Column("symbol", Text, nullable=False),  # empty: cash
    Column("amount", BigInteger, nullable=False),
    Column("timestamp_ns", BigInteger, nullable=False),
    Index("ix_balance_changes_account", "account_id", "sequence"),
    Index("ix_balance_changes_time", "timestamp_ns"),
)

# One row: the journal entry the store's tables are current to.
store_state = Table(
    "store_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("sequence", BigInteger, nullable=False),
)
