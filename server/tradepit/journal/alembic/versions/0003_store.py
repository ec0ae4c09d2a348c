"""The queryable store: accounts, positions, instruments, orders, fills, candles and
balance changes, written in the journal's transactions (see tradepit/store).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

A database migrated from 0002 has a journal and no store rows: the server fills the
tables from the recovered state at its next start (`store_state` is absent, so the
store is behind the journal).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _int(name: str, **kwargs: object) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=False, **kwargs)  # type: ignore[arg-type]


def _key(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), primary_key=True, autoincrement=False)


def _small(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "accounts", _key("account_id"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("system", sa.Boolean(), nullable=False),
        _int("cash"), _int("reserved_cash"), _int("fees_paid"), _int("deposits"),
        _int("deposited_value"), _int("traded_quantity"), _int("traded_notional"),
        _int("sequence"),
    )
    op.create_table(
        "positions", _key("account_id"),
        sa.Column("symbol", sa.Text(), primary_key=True),
        _int("quantity"), _int("reserved"), _int("cost_basis"), _int("realised_pnl"),
        _int("sequence"),
    )
    op.create_index("ix_positions_symbol", "positions", ["symbol"])
    op.create_table(
        "instruments",
        sa.Column("symbol", sa.Text(), primary_key=True),
        _int("tick_size"), _int("lot_size"), _int("reference_price"), _int("band_bps"),
        _small("status"),
        _int("sequence"),
    )
    op.create_table(
        "orders", _key("order_id"), _int("account_id"),
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        _small("side"), _small("order_type"), _small("tif"), _int("price"), _int("quantity"),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        _small("stp"), _small("status"), _int("filled_quantity"), _int("leaves_quantity"),
        _int("filled_notional"), _int("fees"),
        sa.Column("reject_reason", sa.Integer(), nullable=True),
        _int("created_ns"), _int("updated_ns"), _int("sequence"),
    )
    op.create_index("ix_orders_account", "orders", ["account_id", "order_id"])
    op.create_index("ix_orders_symbol_created", "orders", ["symbol", "created_ns"])
    op.create_index("ix_orders_created", "orders", ["created_ns"])
    op.create_table(
        "fills", _key("account_id"), _key("trade_id"), _int("order_id"),
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        _small("side"), _int("price"), _int("quantity"), _int("fee"), _small("liquidity"),
        _int("timestamp_ns"), _int("sequence"),
    )
    op.create_index("ix_fills_order", "fills", ["order_id"])
    op.create_index("ix_fills_symbol_time", "fills", ["symbol", "timestamp_ns"])
    op.create_index("ix_fills_time", "fills", ["timestamp_ns"])
    op.create_table(
        "candles",
        sa.Column("symbol", sa.Text(), primary_key=True),
        sa.Column("candle_interval", sa.Integer(), primary_key=True, autoincrement=False),
        _key("start_ns"),
        _int("open"), _int("high"), _int("low"), _int("close"), _int("volume"),
        _int("notional"), _int("trade_count"), _int("sequence"),
    )
    op.create_table(
        "balance_changes", _key("sequence"), _int("account_id"), _small("kind"),
        sa.Column("symbol", sa.Text(), nullable=False),
        _int("amount"), _int("timestamp_ns"),
    )
    op.create_index("ix_balance_changes_account", "balance_changes",
                    ["account_id", "sequence"])
    op.create_index("ix_balance_changes_time", "balance_changes", ["timestamp_ns"])
    op.create_table(
        "store_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        _int("sequence"),
    )


def downgrade() -> None:
    for table in ("store_state", "balance_changes", "candles", "fills", "orders",
                  "instruments", "positions", "accounts"):
        op.drop_table(table)
