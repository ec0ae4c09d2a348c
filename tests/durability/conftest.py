"""Helpers for the durability suite: servers with a journal in a temporary directory, and
fresh replays of a journal to compare a recovery with."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tradepit.book import load_backend
from tradepit.config import Settings
from tradepit.exchange.digest import state_digest
from tradepit.exchange.exchange import Exchange, Limits
from tradepit.journal.recovery import replay
from tradepit.journal.store import Journal
from tradepit.server.app import Running, start

from .postgres import PostgresCluster, find_binaries

ADMIN_TOKEN = "admin-secret"
INSTRUMENTS = "ACME:1:1:10000,LOTS:5:10:2000"
MAKER_FEE_BPS = 5
TAKER_FEE_BPS = 10


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def durable_settings(database: Path | str, **overrides: Any) -> Settings:
    """Settings with a journal at `database`: a SQLite file's path, or a URL."""
    values: dict[str, Any] = {
        "address": "127.0.0.1:0",
        "admin_token": ADMIN_TOKEN,
        "instruments": INSTRUMENTS,
        "starting_cash": 10**10,
        "maker_fee_bps": MAKER_FEE_BPS,
        "taker_fee_bps": TAKER_FEE_BPS,
        "rate_limit_per_second": 100_000,
        "rate_limit_burst": 100_000,
        "durability": "on",
        "makers_enabled": False,  # only the test's own commands reach the journal
        "database_url": database if isinstance(database, str) else sqlite_url(database),
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.contextmanager
def write_locked(database: Path) -> Iterator[None]:
    """Another writer holds the SQLite file's write lock until the block ends: the
    journal's commits wait for it, then fail once their busy timeout passes."""
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as locker:
        locker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            locker.execute("ROLLBACK")


def fresh_replay(url: str, backend: str = "rust") -> Exchange:
    """A new exchange with every entry of the journal at `url` applied, checked."""
    exchange = Exchange(Limits(maker_fee_bps=MAKER_FEE_BPS, taker_fee_bps=TAKER_FEE_BPS),
                        book_factory=load_backend(backend).Book)

    def apply(command: Any) -> None:
        exchange.execute(command)
        exchange.take_reports()
        exchange.take_market_events()

    journal = Journal(url)
    try:
        replayed = replay(journal.read(), apply)
    finally:
        journal.close()
    assert replayed.problem is None, replayed.problem
    return exchange


def fresh_digest(url: str, backend: str = "rust") -> str:
    return state_digest(fresh_replay(url, backend))


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "journal.db"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One private cluster for the session; each test takes a new database in it."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed; `make install` installs Debian's package")
    cluster = PostgresCluster(binaries)
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, database: Path) -> str:
    """The same test on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return sqlite_url(database)
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture(params=["rust", "python"])
def book_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def durable_server(database: Path, book_backend: str) -> AsyncIterator[Running]:
    running = await start(durable_settings(database),
                          book_factory=load_backend(book_backend).Book)
    try:
        yield running
    finally:
        problems = running.gateway.exchange.audit()
        await running.stop(None)
    assert problems == [], problems
