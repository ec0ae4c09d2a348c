"""Recovery at start: the journal replays to the state the exchange had, on either book."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
from tradepit.book import load_backend
from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount, CreateInstrument, SubmitOrder
from tradepit.exchange.digest import state_digest
from tradepit.exchange.exchange import Exchange
from tradepit.journal.recovery import JournalCorrupted
from tradepit.journal.store import Journal
from tradepit.server.app import start

from .conftest import TAKER_FEE_BPS, durable_settings, fresh_digest, sqlite_url
from .load import Ledger, check_against_journal, check_against_server, run_load


def kinds(url: str) -> list[str]:
    journal = Journal(url)
    try:
        return [entry.kind for entry in journal.read()]
    finally:
        journal.close()


async def test_a_restart_recovers_the_state_a_fresh_replay_gives(database_url: str,
                                                                 book_backend: str):
    other = "python" if book_backend == "rust" else "rust"
    running = await start(durable_settings(database_url),
                          book_factory=load_backend(book_backend).Book)
    assert running.recovered is not None and running.recovered.entries == 0
    ledger = Ledger()
    try:
        await run_load(running.address, ledger, seed=3, tag="r", accounts=3, duration=0.5)
    finally:
        await running.stop(None)
    before = state_digest(running.gateway.exchange)
    assert running.gateway.exchange.audit() == []
    entries = len(kinds(database_url))
    assert kinds(database_url).count("CreateInstrument") == 2

    # both book backends replay the same journal to the same state
    assert fresh_digest(database_url, "rust") == before
    assert fresh_digest(database_url, "python") == before

    running = await start(durable_settings(database_url),
                          book_factory=load_backend(other).Book)
    try:
        assert running.recovered is not None
        assert (running.recovered.entries, running.recovered.problem) == (entries, None)
        assert state_digest(running.gateway.exchange) == before
        _, _, exchange = check_against_journal(database_url, load_backend(other), ledger)
        await check_against_server(running.address, ledger, exchange)
        await run_load(running.address, ledger, seed=4, tag="s", accounts=1, duration=0.2)
    finally:
        await running.stop(None)
    # the instruments were listed once, on the first start only
    assert kinds(database_url).count("CreateInstrument") == 2
    assert fresh_digest(database_url) == state_digest(running.gateway.exchange)


async def test_pending_commands_are_committed_by_stop(database: Path):
    running = await start(durable_settings(database, journal_flush_ms=1_000))
    gateway = running.gateway
    from tradepit.exchange.commands import AdjustBalance, CreateAccount

    gateway.apply(lambda now: CreateAccount("late", "key", now))
    for _ in range(50):
        gateway.apply(lambda now: AdjustBalance(1, 10, 1, now))
    assert gateway.journal is not None and gateway.journal.pending == 51
    await running.stop(None)
    assert fresh_digest(sqlite_url(database)) == state_digest(gateway.exchange)


async def test_a_corrupt_journal_stops_the_start(database: Path):
    # No snapshot at stop: it would cover entry 2, and recovery reads only what follows it.
    running = await start(durable_settings(database, snapshot_every=0))
    await running.stop(None)
    with contextlib.closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("UPDATE journal SET payload = X'00' WHERE sequence = 2")
    with pytest.raises(JournalCorrupted, match="journal entry 2: checksum"):
        await start(durable_settings(database))
    running = await start(durable_settings(database, journal_on_corruption="quarantine"))
    try:
        assert running.recovered is not None
        # LOTS was entry 2, the configured fees entry 3: both set aside, and the fees
        # journaled again at this start
        assert running.recovered.entries == 1 and running.recovered.quarantined == 2
        assert "journal entry 2" in (running.recovered.problem or "")
        assert list(running.gateway.exchange.instruments) == ["ACME"]
        assert running.gateway.exchange.limits.taker_fee_bps == TAKER_FEE_BPS
    finally:
        await running.stop(None)


async def test_durability_off_touches_no_database(tmp_path: Path):
    database = tmp_path / "never.db"
    running = await start(durable_settings(database, durability="off"))
    try:
        assert running.gateway.journal is None and running.recovered is None
        await run_load(running.address, Ledger(), seed=1, tag="o", accounts=1, duration=0.1)
    finally:
        await running.stop(None)
    assert list(tmp_path.iterdir()) == []


def test_the_state_digest_depends_on_values_not_on_object_identity():
    """A recovered state and a fresh replay hold equal strings that are not the same
    objects (decoded from JSON, unpickled, literals); the digest must not tell them apart,
    and must tell any changed value."""
    exchange = Exchange()
    for command in (CreateInstrument("ACME", 1, 1, 10_000, 1_000, 1),
                    CreateAccount("a", "key", 2),
                    AdjustBalance(1, 10**9, BalanceChange.DEPOSIT, 3),
                    SubmitOrder(1, "c1", "ACME", 1, 1, 1, 9_990, 5, False, 0, 4)):
        exchange.execute(command)
    before = state_digest(exchange)
    order = next(iter(exchange.orders.values()))
    order.symbol = "".join(list(order.symbol))  # equal, but another object
    order.client_order_id = "".join(list(order.client_order_id))
    assert state_digest(exchange) == before
    order.filled_quantity += 1
    assert state_digest(exchange) != before
