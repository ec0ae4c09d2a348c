"""The Rust exchange with the journal on: it journals, snapshots and recovers like the
Python one, and the two read each other's journals to the same state (each loads only
its own snapshots, and replays the journal past the other's)."""

from __future__ import annotations

from pathlib import Path

from tradepit.book import load_backend
from tradepit.exchange.digest import state_digest
from tradepit.exchange.native import NativeExchange
from tradepit.server.app import start

from .conftest import durable_settings, fresh_digest, sqlite_url
from .load import Ledger, check_against_journal, check_against_server, run_load


def native(database: Path | str, **overrides: object) -> object:
    return durable_settings(database, exchange="rust", **overrides)


async def test_the_rust_exchange_recovers_from_its_own_snapshot(database_url: str) -> None:
    running = await start(native(database_url, snapshot_every=40))  # type: ignore[arg-type]
    assert isinstance(running.gateway.exchange, NativeExchange)
    ledger = Ledger()
    try:
        await run_load(running.address, ledger, seed=5, tag="n", accounts=3, duration=0.5)
    finally:
        await running.stop(None)
    before = state_digest(running.gateway.exchange)
    assert running.gateway.exchange.audit() == []
    # The journal it wrote replays on the Python exchange to the same state.
    assert fresh_digest(database_url, "rust") == before

    running = await start(native(database_url))  # type: ignore[arg-type]
    try:
        recovered = running.recovered
        assert recovered is not None and recovered.problem is None
        assert recovered.snapshot_sequence == recovered.entries > 0  # the stop's snapshot
        assert recovered.replayed == 0
        assert state_digest(running.gateway.exchange) == before
        _, _, exchange = check_against_journal(database_url, load_backend("rust"), ledger)
        await check_against_server(running.address, ledger, exchange)
    finally:
        await running.stop(None)


async def test_each_exchange_replays_past_the_other_ones_snapshots(database: Path) -> None:
    url = sqlite_url(database)
    ledger = Ledger()
    running = await start(durable_settings(database, exchange="python"))
    try:
        await run_load(running.address, ledger, seed=6, tag="p", accounts=2, duration=0.3)
    finally:
        await running.stop(None)
    python_digest = state_digest(running.gateway.exchange)
    python_snapshot = running.gateway.journal and running.gateway.journal.committed_sequence

    running = await start(native(database))  # type: ignore[arg-type]
    try:
        recovered = running.recovered
        assert recovered is not None and recovered.problem is None
        assert recovered.snapshot_sequence == 0  # the Python exchange's does not load
        assert recovered.replayed == recovered.entries > 0
        assert state_digest(running.gateway.exchange) == python_digest
        await run_load(running.address, ledger, seed=7, tag="q", accounts=1, duration=0.3)
    finally:
        await running.stop(None)
    native_digest = state_digest(running.gateway.exchange)

    running = await start(durable_settings(database, exchange="python"))
    try:
        recovered = running.recovered
        assert recovered is not None  # past the Rust exchange's, to its own older one
        assert (recovered.snapshot_sequence, recovered.problem) == (python_snapshot, None)
        assert recovered.replayed == recovered.entries - python_snapshot > 0
        assert state_digest(running.gateway.exchange) == native_digest == fresh_digest(url)
        _, _, exchange = check_against_journal(url, load_backend("rust"), ledger)
        await check_against_server(running.address, ledger, exchange)
    finally:
        await running.stop(None)
