"""The journal writer process: it lives and dies with its server, and a dead one is replaced."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import sqlite3
import time
from pathlib import Path

from tradepit.exchange.commands import CreateAccount
from tradepit.exchange.digest import state_digest
from tradepit.journal.codec import decode
from tradepit.journal.store import Journal
from tradepit.journal.writer import SEND_BUFFER, JournalWriter
from tradepit.server.app import Running
from tradepit_client import Client
from tradepit_client.v1 import common_pb2

from .conftest import fresh_digest, sqlite_url
from .process import ServerProcess, children

BUY, LIMIT = common_pb2.SIDE_BUY, common_pb2.ORDER_TYPE_LIMIT


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def journal_rows(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM journal").fetchone()[0])


async def test_the_writer_dies_with_a_killed_server(database: Path):
    """After kill -9 of the server nothing may commit behind the next server's back."""
    server = ServerProcess(database)
    try:
        writer = server.writer_pid
        assert alive(writer)
        async with Client(server.address) as client:
            await client.create_account("doomed")
        server.kill()
        deadline = time.monotonic() + 10
        while alive(writer) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert not alive(writer)
    finally:
        server.kill()


async def test_a_sigterm_closes_the_writer_after_the_last_commit(database: Path):
    server = ServerProcess(database)
    writer = server.writer_pid
    async with Client(server.address) as client:
        await client.create_account("orderly")
        await client.submit("ACME", BUY, 1, 9_000, type=LIMIT, client_order_id="last")
    assert server.terminate() == 0
    assert not alive(writer)
    assert journal_rows(database) >= 3  # the instruments' listings, the account, the order


async def test_a_dead_writer_is_replaced_and_nothing_is_lost(
        durable_server: Running, database: Path):
    """kill -9 of the writer alone: the commit in flight fails like a database error, is
    retried through a new writer, and every acknowledged order is in the journal once."""
    journal = durable_server.gateway.journal
    assert journal is not None
    first = journal.journal.pid
    assert first is not None and first in children(os.getpid())
    async with Client(durable_server.address) as client:
        await client.create_account("survivor")
        before = await client.submit("ACME", BUY, 1, 9_000, type=LIMIT, client_order_id="a")
        os.kill(first, signal.SIGKILL)
        while alive(first):
            await asyncio.sleep(0.01)
        after = await asyncio.wait_for(
            client.submit("ACME", BUY, 1, 9_001, type=LIMIT, client_order_id="b"), 10)
        assert before.order.status == after.order.status == common_pb2.ORDER_STATUS_NEW
    second = journal.journal.pid
    assert second is not None and second != first and alive(second)
    assert journal_rows(database) == journal.committed_sequence == journal.next_sequence - 1
    assert fresh_digest(sqlite_url(database)) == state_digest(durable_server.gateway.exchange)


async def test_a_batch_larger_than_the_socket_buffer_arrives_whole(database: Path):
    """A batch is handed over in one write when it fits the socket's send buffer; one
    that does not goes in parts as the child reads, and is journaled all the same."""
    url = sqlite_url(database)
    Journal(url).upgrade()
    writer = JournalWriter(url, busy_timeout_ms=1_000)
    name = "x" * 1_000
    per_entry = len(pickle.dumps((1, "CreateAccount", (name, "key-1", 1, False))))
    count = 3 * SEND_BUFFER // per_entry  # a few times what the buffer holds
    entries = [(sequence, "CreateAccount", (name, f"key-{sequence}", sequence, False))
               for sequence in range(1, count + 1)]
    try:
        await writer.append(("fields", [pickle.dumps(entries)]), None)
        await writer.append(("fields", [pickle.dumps([(count + 1, "CreateAccount",
                                                       ("last", "key-last", 0, False))])]), None)
    finally:
        await writer.close()
    stored = list(Journal(url).read())
    assert [entry.sequence for entry in stored] == list(range(1, count + 2))
    assert decode(stored[count - 1]) == CreateAccount(name, f"key-{count}", count, False)
