"""A delisting is journaled: after a restart the symbol is still gone, its orders still
cancelled and refunded, and the positions in it still held; activity figures replay too."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from tradepit.book import load_backend
from tradepit.exchange.digest import state_digest
from tradepit.journal.store import Journal
from tradepit.server.app import start
from tradepit_client import Client, TradepitError
from tradepit_client.v1 import admin_pb2, common_pb2

from .conftest import ADMIN_TOKEN, durable_settings, fresh_digest, sqlite_url

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT = common_pb2.ORDER_TYPE_LIMIT


def kinds(database: Path) -> list[str]:
    journal = Journal(sqlite_url(database))
    try:
        return [entry.kind for entry in journal.read()]
    finally:
        journal.close()


@pytest.mark.parametrize("backend", ["rust", "python"])
async def test_a_removed_instrument_stays_removed_after_a_restart(database: Path, backend: str):
    other = "python" if backend == "rust" else "rust"
    running = await start(durable_settings(database), book_factory=load_backend(backend).Book)
    admin = Client(running.address, ADMIN_TOKEN)
    seller, buyer = Client(running.address), Client(running.address)
    try:
        await buyer.create_account("buyer")
        seller_id = (await seller.create_account("seller")).account_id
        await admin.admin.AdjustBalance(admin_pb2.AdjustBalanceRequest(
            account_id=seller_id, amount=50, kind=admin_pb2.BALANCE_CHANGE_DEPOSIT,
            symbol="ACME"), metadata=admin.metadata)
        await seller.submit("ACME", SELL, 10, 10_100, type=LIMIT)
        await buyer.submit("ACME", BUY, 10, 10_100, type=LIMIT)
        await seller.submit("ACME", SELL, 20, 10_200, type=LIMIT)
        await buyer.submit("ACME", BUY, 5, 10_000, type=LIMIT)
        removed = await admin.admin.RemoveInstrument(
            admin_pb2.RemoveInstrumentRequest(symbol="ACME"), metadata=admin.metadata)
        assert len(removed.cancelled_order_ids) == 2
        with pytest.raises(TradepitError):  # a refusal: counted, never journaled
            await seller.submit("ACME", SELL, 1, 10_100, type=LIMIT)
    finally:
        for client in (admin, seller, buyer):
            await client.close()
        await running.stop(None)
    before = state_digest(running.gateway.exchange)
    assert kinds(database).count("RemoveInstrument") == 1
    assert fresh_digest(sqlite_url(database), "rust") == before
    assert fresh_digest(sqlite_url(database), "python") == before

    running = await start(durable_settings(database), book_factory=load_backend(other).Book)
    admin = Client(running.address, ADMIN_TOKEN)
    try:
        exchange = running.gateway.exchange
        assert state_digest(exchange) == before
        assert exchange.audit() == []
        assert sorted(exchange.instruments) == ["LOTS"] and sorted(exchange.delisted) == ["ACME"]
        assert not any(o.is_open for o in exchange.orders.values())
        accounts = {a.name: a for a in exchange.accounts.values()}
        assert accounts["buyer"].reserved_cash == 0
        assert accounts["buyer"].positions["ACME"].quantity == 10
        assert accounts["seller"].positions["ACME"].reserved == 0

        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await admin.admin.CreateInstrument(admin_pb2.CreateInstrumentRequest(
                symbol="ACME", tick_size=1, lot_size=1, reference_price=10_000),
                metadata=admin.metadata)
        assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
        agents = await admin.admin.ListAgents(admin_pb2.ListAgentsRequest(),
                                              metadata=admin.metadata)
        figures = {a.account.name: (a.orders, a.fills, a.traded_quantity, a.rejects)
                   for a in agents.agents}
        # activity replays from the journal; the refusal before the restart does not
        assert figures == {"buyer": (2, 1, 10, 0), "seller": (2, 1, 10, 0)}
    finally:
        await admin.close()
        await running.stop(None)
    assert kinds(database).count("CreateInstrument") == 2  # listed once, never again
