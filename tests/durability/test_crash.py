"""kill -9 at random moments under a mixed load; after each restart every acknowledged
order is there as acknowledged, nothing is half-applied, money is conserved, and the
recovered state equals a fresh replay of the whole journal.

`make test` kills 10 times with SQLite and 3 with PostgreSQL; `make soak` 50 with SQLite
(TRADEPIT_SOAK_KILLS)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from functools import partial
from pathlib import Path

import pytest
from tradepit.book import load_backend

from .conftest import sqlite_url
from .load import Ledger, check_against_journal, check_against_server, run_load
from .postgres import PostgresCluster
from .process import ServerProcess
from .store_check import wait_for_orphaned_commits

KILLS = int(os.environ.get("TRADEPIT_SOAK_KILLS", "10"))
PG_KILLS = 3


async def test_acknowledged_work_survives_kill_9_at_random_moments(tmp_path: Path):
    await kill_9_cycles(tmp_path / "journal.db", "", KILLS)


async def test_kill_9_with_a_postgresql_journal(tmp_path: Path, postgres: PostgresCluster):
    await kill_9_cycles(tmp_path / "unused.db", postgres.new_database(), PG_KILLS)


@pytest.mark.parametrize("backends", [("native",), ("rust", "python")])
async def test_kill_9_with_snapshots_taken_all_the_time(tmp_path: Path,
                                                      backends: tuple[str, ...]):
    """A snapshot every 25 entries: kills land before, during and after snapshot writes,
    and recovery (snapshot + tail) must still equal a fresh replay of the whole journal.
    Each exchange loads only its own snapshots, so the restarts stay on one."""
    await kill_9_cycles(tmp_path / "journal.db", "", 4, backends, TRADEPIT_SNAPSHOT_EVERY="25")


async def kill_9_cycles(database: Path, url: str, kills: int,
                        backends: tuple[str, ...] = ("native", "rust", "python"),
                        **env: str) -> None:
    """Load, kill -9 at a random moment, check the journal, restart on the next of
    `backends` (process.py) and check the recovered server; `kills` times on one
    journal."""
    rng = random.Random(int(os.environ.get("TRADEPIT_SOAK_SEED", "5")))
    ledger = Ledger()
    server = ServerProcess(database, backends[0], url, **env)
    url = url or sqlite_url(database)
    entries_before = 0
    from_snapshot = 0
    try:
        for kill in range(1, kills + 1):
            await run_load(server.address, ledger, seed=rng.randrange(1 << 30), tag=f"k{kill}",
                           accounts=2, kill=partial(server.send, signal.SIGKILL),
                           duration=rng.uniform(0.2, 0.8))
            server.kill()
            assert server.process.returncode == -signal.SIGKILL
            wait_for_orphaned_commits(url)

            digest, entries, exchange = check_against_journal(url, load_backend("rust"), ledger)
            assert entries > entries_before, "the load made no progress"
            entries_before = entries

            # restart on the next backend: it must recover the very same state
            server = ServerProcess(database, backends[kill % len(backends)], url, **env)
            recovered, audit, server_digest = server.recovered()
            assert (recovered, audit, server_digest) == (entries, "clean", digest), server.output
            from_snapshot += "from the snapshot at entry" in server.output
            await check_against_server(server.address, ledger, exchange, f"k{kill}-")
        assert ledger.acks > 100 * kills, ledger.acks
        if env.get("TRADEPIT_SNAPSHOT_EVERY", "0") != "0":
            assert from_snapshot == kills, "every restart should start from a snapshot"
    finally:
        server.kill()


def test_sigterm_drains_and_commits_before_exit(tmp_path: Path):
    database = tmp_path / "journal.db"
    ledger = Ledger()
    server = ServerProcess(database)
    try:
        asyncio.run(run_load(server.address, ledger, seed=1, tag="t", accounts=3,
                             kill=lambda: server.send(signal.SIGTERM), duration=0.5))
        assert server.terminate() == 0, server.output
        assert "never made durable" not in server.output
        digest, entries, exchange = check_against_journal(sqlite_url(database),
                                                          load_backend("python"), ledger)
    finally:
        server.kill()
    server = ServerProcess(database)
    try:
        assert server.recovered() == (entries, "clean", digest)
        asyncio.run(check_against_server(server.address, ledger, exchange))
    finally:
        server.terminate()
