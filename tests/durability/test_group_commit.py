"""Group commit: many commands per transaction, and nothing leaves before its commit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import time
from pathlib import Path

import grpc
import pytest
from tradepit.exchange.commands import CreateInstrument
from tradepit.server.app import Running, start
from tradepit_client import Client, TradepitError
from tradepit_client.v1 import admin_pb2, common_pb2

from .conftest import ADMIN_TOKEN, durable_settings

BUY, SELL, LIMIT = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL, common_pb2.ORDER_TYPE_LIMIT


def rows(database: Path) -> int:
    """Entries committed, as another process reading the file would see them."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM journal").fetchone()[0])


async def test_concurrent_commands_share_transactions(database: Path):
    # a window long enough that all 40 waiting callers are back before it closes
    running = await start(durable_settings(database, journal_flush_ms=25))
    journal = running.gateway.journal
    assert journal is not None
    try:
        async with Client(running.address) as client:
            await client.create_account("busy")
            before = (journal.batches, journal.entries)

            async def submit_many(worker: int) -> None:
                for i in range(20):
                    await client.submit("ACME", BUY, 1, 9_000 + worker * 20 + i, type=LIMIT)

            await asyncio.gather(*(submit_many(w) for w in range(40)))
        batches, entries = journal.batches - before[0], journal.entries - before[1]
        assert entries == 800 and batches * 10 <= entries, (batches, entries)
        assert rows(database) == journal.committed_sequence == journal.next_sequence - 1
    finally:
        await running.stop(None)


async def test_a_full_batch_commits_without_waiting_for_the_window(database: Path):
    running = await start(durable_settings(database, journal_batch_size=100))
    journal = running.gateway.journal
    assert journal is not None
    try:
        async with Client(running.address) as client:
            await client.create_account("streaming")
            journal.flush_s = 60.0  # from now on only a full batch starts a commit
            before = (journal.batches, journal.entries)
            started = time.monotonic()
            async with client.session() as session:
                for i in range(500):
                    session.submit("ACME", BUY, 1, 9_500 + i % 400, type=LIMIT)
                await session.flush()
                seen = 0
                async for report in session:
                    seen += report.exec_type == common_pb2.EXEC_TYPE_NEW
                    if seen == 500:
                        break
        assert time.monotonic() - started < 10
        assert journal.entries - before[1] == 500 and journal.batches - before[0] <= 5
    finally:
        await running.stop(None)


class Stall:
    """Hold the journal writer process (SIGSTOP) until `set`; `clear` holds it again."""

    def __init__(self, pid: int) -> None:
        self._pid = pid

    def set(self) -> None:
        os.kill(self._pid, signal.SIGCONT)

    def clear(self) -> None:
        os.kill(self._pid, signal.SIGSTOP)


@pytest.fixture
def stalled(durable_server: Running):
    """Hold every commit until the test lets it through."""
    journal = durable_server.gateway.journal
    assert journal is not None and journal.journal.pid is not None
    stall = Stall(journal.journal.pid)
    stall.clear()
    yield stall
    stall.set()


async def test_an_acknowledgement_and_its_reports_wait_for_the_commit(
        durable_server: Running, database: Path, stalled: Stall):
    async with Client(durable_server.address) as client:
        stalled.set()
        await client.create_account("patient")
        stalled.clear()
        committed = rows(database)
        async with client.session() as session:
            reports: list[common_pb2.ExecutionReport] = []

            async def follow() -> None:
                async for report in session:
                    reports.append(report)

            follower = asyncio.ensure_future(follow())
            session.submit("ACME", BUY, 1, 9_000, type=LIMIT, client_order_id="streamed")
            await session.flush()
            account = durable_server.gateway.exchange.accounts[1]
            while "streamed" not in account.client_order_ids:  # applied, in memory
                await asyncio.sleep(0.005)
            unary = asyncio.ensure_future(
                client.submit("ACME", BUY, 2, 9_001, type=LIMIT, client_order_id="unary"))
            await asyncio.sleep(0.2)
            # applied in memory, but neither durable nor acknowledged nor reported
            assert len(account.order_ids) == 2
            assert not unary.done() and reports == [] and rows(database) == committed
            stalled.set()
            answer = await unary
            assert rows(database) == committed + 2  # both, in one or two transactions
            assert answer.order.status == common_pb2.ORDER_STATUS_NEW
            while len(reports) < 2:
                await asyncio.sleep(0.01)
            assert [r.client_order_id for r in reports] == ["streamed", "unary"]  # in order
            follower.cancel()


async def test_refused_commands_are_not_journaled(durable_server: Running, database: Path):
    async with Client(durable_server.address) as client:
        await client.create_account("refused")
        committed = rows(database)
        for price, quantity in ((0, 1), (10_000, 0), (999_999, 1), (10_000, 10**9)):
            with pytest.raises(TradepitError):
                await client.submit("ACME", BUY, quantity, price, type=LIMIT)
        with pytest.raises(TradepitError):
            await client.cancel(order_id=12345)
        async with Client(durable_server.address, ADMIN_TOKEN) as admin:
            with pytest.raises(grpc.aio.AioRpcError, match="already listed"):
                await admin.admin.CreateInstrument(
                    admin_pb2.CreateInstrumentRequest(symbol="ACME", tick_size=1, lot_size=1,
                                                      reference_price=100),
                    metadata=admin.metadata)
        assert rows(database) == committed


async def test_a_stream_runs_ahead_of_a_slow_commit_by_a_bounded_amount(
        durable_server: Running, stalled: Stall):
    """While a commit is written, a stream's requests go on being applied until
    `max_ahead` wait; then the stream waits, and the next commit takes them all."""
    journal = durable_server.gateway.journal
    assert journal is not None
    messages, per_message = 50, 100
    async with Client(durable_server.address) as client:
        stalled.set()
        await client.create_account("ahead")
        stalled.clear()
        before = journal.entries
        async with client.session() as session:

            async def send() -> None:
                for message in range(messages):
                    for i in range(per_message):
                        session.submit("ACME", BUY, 1, 9_000 + i, type=LIMIT,
                                       client_order_id=f"a{message}-{i}")
                    await session.flush()

            sender = asyncio.ensure_future(send())
            while journal.pending < journal.max_ahead:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.3)
            # held: past the limit by less than one message, and nothing durable
            assert journal.max_ahead <= journal.pending < journal.max_ahead + per_message
            assert journal.entries == before
            stalled.set()
            acknowledged = 0
            async for report in session:
                acknowledged += report.exec_type == common_pb2.EXEC_TYPE_NEW
                if acknowledged == messages * per_message:
                    break
            await sender
    assert journal.entries - before == messages * per_message


async def test_a_committer_that_stops_fails_its_waiters_instead_of_leaving_them(
        database: Path, caplog: pytest.LogCaptureFixture):
    """A command applied behind the journal's back (a bug) is caught when its batch is
    cut: the committer stops, the order waiting on that batch gets UNAVAILABLE rather
    than waiting forever, and every later command is refused."""
    running = await start(durable_settings(database, exchange="rust"))
    try:
        async with Client(running.address) as client:
            await client.create_account("bystander")
            running.gateway.exchange.execute(CreateInstrument("BETA", 1, 1, 100, 1_000, 1))
            with pytest.raises(TradepitError) as waited:
                await asyncio.wait_for(client.submit("ACME", BUY, 1, 9_000, type=LIMIT), 10)
            assert waited.value.code == grpc.StatusCode.UNAVAILABLE
            assert "did not happen" in waited.value.message
            with pytest.raises(TradepitError) as later:
                await client.submit("ACME", BUY, 1, 9_001, type=LIMIT)
            assert later.value.code == grpc.StatusCode.UNAVAILABLE
            assert "must be restarted" in later.value.message
        assert "bypassed the journal" in caplog.text
    finally:
        await running.stop(None)
