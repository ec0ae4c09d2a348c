"""The database fails: nothing that is not durable is acknowledged, new commands get
UNAVAILABLE, and service resumes by itself once the database is back."""

from __future__ import annotations

import asyncio
import resource
import signal
from functools import partial
from pathlib import Path

import grpc
import pytest
from tradepit.book import load_backend
from tradepit.exchange.digest import state_digest
from tradepit.server.app import start
from tradepit_client import Client, TradepitError
from tradepit_client.v1 import common_pb2, order_pb2

from .conftest import durable_settings, fresh_digest, sqlite_url, write_locked
from .load import (
    Ledger,
    check_against_journal,
    check_against_server,
    open_accounts,
    order_view,
    run_load,
)
from .postgres import PostgresCluster
from .process import ServerProcess

BUY, LIMIT = common_pb2.SIDE_BUY, common_pb2.ORDER_TYPE_LIMIT


async def until(condition: object, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_locked_database_refuses_new_commands_until_it_is_free(database: Path):
    running = await start(durable_settings(database, journal_busy_timeout_ms=100))
    journal = running.gateway.journal
    assert journal is not None
    try:
        async with Client(running.address) as client:
            await client.create_account("waiting")
            with write_locked(database):
                first = asyncio.ensure_future(client.submit(
                    "ACME", BUY, 1, 9_000, type=LIMIT, client_order_id="first"))
                await until(lambda: journal.failing is not None)
                assert "locked" in journal.failing
                with pytest.raises(TradepitError) as refused:
                    await client.submit("ACME", BUY, 1, 9_001, type=LIMIT,
                                        client_order_id="second")
                assert refused.value.code == grpc.StatusCode.UNAVAILABLE
                assert refused.value.reason == "UNAVAILABLE"
                assert "cannot write its journal" in refused.value.message
                assert not first.done()  # applied, not durable: not acknowledged
            answer = await asyncio.wait_for(first, 10)
            assert answer.order.status == common_pb2.ORDER_STATUS_NEW
            assert journal.failing is None
            third = await client.submit("ACME", BUY, 1, 9_002, type=LIMIT)
            assert third.order.status == common_pb2.ORDER_STATUS_NEW
            orders = running.gateway.exchange.accounts[1].client_order_ids
            assert "first" in orders and "second" not in orders
    finally:
        await running.stop(None)
    assert fresh_digest(sqlite_url(database)) == state_digest(running.gateway.exchange)


async def test_a_stream_message_is_refused_whole_while_the_journal_cannot_write(
        database: Path):
    """A stream's message is admitted once: while commits fail, each of its requests
    gets a REJECTED report (UNAVAILABLE) and none is applied; the refusals leave after
    the reports of what was applied before them, once that is durable."""
    running = await start(durable_settings(database, journal_busy_timeout_ms=100))
    journal = running.gateway.journal
    assert journal is not None
    try:
        async with Client(running.address) as client:
            await client.create_account("streaming")
            async with client.session() as session:
                with write_locked(database):
                    session.submit("ACME", BUY, 1, 9_000, type=LIMIT, client_order_id="first")
                    await session.flush()
                    await until(lambda: journal.failing is not None)
                    for i in range(3):
                        session.submit("ACME", BUY, 1, 9_001 + i, type=LIMIT,
                                       client_order_id=f"refused{i}")
                    session.cancel(client_order_id="first")
                    await session.flush()
                    await asyncio.sleep(0.2)
                reports = session.reports()
                first = await asyncio.wait_for(anext(reports), 10)
                assert (first.client_order_id, first.exec_type) == ("first",
                                                                    common_pb2.EXEC_TYPE_NEW)
                refused = [await asyncio.wait_for(anext(reports), 10) for _ in range(4)]
                assert [r.client_order_id for r in refused] == [
                    "refused0", "refused1", "refused2", "first"]
                for report in refused:
                    assert report.exec_type == common_pb2.EXEC_TYPE_REJECTED
                    assert report.reject_reason == common_pb2.REJECT_REASON_UNAVAILABLE
                    assert "cannot write its journal" in report.reject_message
                session.submit("ACME", BUY, 1, 9_100, type=LIMIT, client_order_id="after")
                await session.flush()
                after = await asyncio.wait_for(anext(reports), 10)
                assert (after.client_order_id, after.exec_type) == ("after",
                                                                    common_pb2.EXEC_TYPE_NEW)
            account = running.gateway.exchange.accounts[1]
            assert set(account.client_order_ids) == {"first", "after"}
            assert running.gateway.exchange.orders[1].status == common_pb2.ORDER_STATUS_NEW
    finally:
        await running.stop(None)
    assert fresh_digest(sqlite_url(database)) == state_digest(running.gateway.exchange)


async def test_a_full_disk_means_unavailable_then_recovery(tmp_path: Path):
    """A file-size limit of 0 on the running server's journal writer makes every journal
    write fail as a full disk would (it ignores SIGXFSZ, so the write returns EFBIG)."""
    database = tmp_path / "journal.db"
    url = sqlite_url(database)
    server = ServerProcess(database, TRADEPIT_JOURNAL_BUSY_TIMEOUT_MS="100")
    ledger = Ledger()
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        await run_load(server.address, ledger, seed=7, tag="f", accounts=2, duration=0.3)
        acknowledged = ledger.acks

        fresh = Ledger()
        await open_accounts(server.address, 1, fresh, "full")  # with its cash untouched
        [(account_id, key)] = fresh.keys.items()
        ledger.keys[account_id] = key
        writer = server.writer_pid
        resource.prlimit(writer, resource.RLIMIT_FSIZE, (0, hard))  # the disk is full
        async with Client(server.address, key) as client:

            def submit(coid: str) -> asyncio.Future[order_pb2.OrderResponse]:
                ledger.sent.add((account_id, coid))
                return asyncio.ensure_future(
                    # well inside the band (+-10% around the last price, near 10,000), and
                    # far below the asks: it rests
                    client.submit("ACME", BUY, 1, 9_500, type=LIMIT, client_order_id=coid))

            waiting = [submit("pending")]
            refused = None
            for attempt in range(500):  # accepted (and left waiting) until a commit fails
                probe = submit(f"probe-{attempt}")
                await asyncio.wait([probe], timeout=0.02)
                if probe.done():
                    refused = probe.exception()
                    break
                waiting.append(probe)
            assert isinstance(refused, TradepitError), refused
            assert refused.code == grpc.StatusCode.UNAVAILABLE
            assert "cannot write its journal" in refused.message
            await asyncio.sleep(0.3)
            assert not any(w.done() for w in waiting)  # applied, not durable: no answer yet
            with pytest.raises(TradepitError, match="UNAVAILABLE"):
                await submit("while-full")

            resource.prlimit(writer, resource.RLIMIT_FSIZE, (hard, hard))  # space again
            for answer in await asyncio.wait_for(asyncio.gather(*waiting), 15):
                view = order_view(answer.order)
                ledger.at_submit[(account_id, answer.order.client_order_id)] = view
                ledger.saw((account_id, answer.order.client_order_id), view)
            assert (await submit("after")).order.status == common_pb2.ORDER_STATUS_NEW
        assert "journal commit failed" in server.output
        assert "journal commits again" in server.output
        await run_load(server.address, ledger, seed=8, tag="g", accounts=1, duration=0.2,
                       kill=partial(server.send, signal.SIGKILL))
        server.kill()
        assert ledger.acks > acknowledged
        digest, entries, exchange = check_against_journal(url, load_backend("rust"), ledger)
        server = ServerProcess(database)
        assert server.recovered() == (entries, "clean", digest)
        await check_against_server(server.address, ledger, exchange)
    finally:
        server.kill()



async def test_a_stopped_postgresql_server_means_unavailable_until_it_is_back(
        postgres: PostgresCluster):
    url = postgres.new_database()
    running = await start(durable_settings(url))
    journal = running.gateway.journal
    assert journal is not None
    stopped = False
    try:
        async with Client(running.address) as client:
            await client.create_account("waiting")
            await asyncio.to_thread(postgres.stop)
            stopped = True
            first = asyncio.ensure_future(client.submit("ACME", BUY, 1, 9_000, type=LIMIT,
                                                        client_order_id="first"))
            await until(lambda: journal.failing is not None)
            with pytest.raises(TradepitError) as refused:
                await client.submit("ACME", BUY, 1, 9_001, type=LIMIT, client_order_id="second")
            assert refused.value.code == grpc.StatusCode.UNAVAILABLE
            assert not first.done()
            await asyncio.to_thread(postgres.start)
            stopped = False
            answer = await asyncio.wait_for(first, 20)
            assert answer.order.status == common_pb2.ORDER_STATUS_NEW
            await until(lambda: journal.failing is None)
            third = await client.submit("ACME", BUY, 1, 9_002, type=LIMIT)
            assert third.order.status == common_pb2.ORDER_STATUS_NEW
    finally:
        if stopped:
            postgres.start()
        await running.stop(None)
    assert fresh_digest(url) == state_digest(running.gateway.exchange)


async def test_stopping_while_the_database_is_down_loses_only_what_was_never_answered(
        database: Path):
    running = await start(durable_settings(database, journal_busy_timeout_ms=50))
    journal = running.gateway.journal
    assert journal is not None
    async with Client(running.address) as client:
        await client.create_account("unlucky")
        with write_locked(database):
            waiting = asyncio.ensure_future(client.submit("ACME", BUY, 1, 9_000, type=LIMIT,
                                                          client_order_id="never"))
            await until(lambda: journal.failing is not None)
            await running.server.stop(0.1)
            assert await journal.close(timeout=0.3) == 1  # applied, never durable
            with pytest.raises(TradepitError):
                await waiting  # and never acknowledged
    running = await start(durable_settings(database))
    try:
        account = running.gateway.exchange.accounts[1]
        assert account.name == "unlucky" and "never" not in account.client_order_ids
    finally:
        await running.stop(None)
