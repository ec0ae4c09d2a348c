"""The makers on a real server: on by default, quoting on their own clock, stopped with
the server; after a restart the journal's maker accounts are reused, not funded again."""

from __future__ import annotations

import asyncio
from typing import Any

from tradepit.config import Settings
from tradepit.server.app import Running, start
from tradepit.simulation.makers import maker_key
from tradepit_client import Client
from tradepit_client.v1 import marketdata_pb2, marketdata_pb2_grpc

from .conftest import BUY, SELL, settings


def test_makers_are_on_by_default() -> None:
    assert Settings(_env_file=None).makers_enabled  # type: ignore[call-arg]


def resting(running: Running, account_id: int, symbol: str) -> dict[int, int]:
    exchange = running.gateway.exchange
    orders = [exchange.orders[i] for i in exchange.accounts[account_id].order_ids]
    return {side: sum(1 for o in orders if o.is_open and o.symbol == symbol and o.side == side)
            for side in (BUY, SELL)}


async def test_a_started_server_has_two_sided_quotes(backend: Any) -> None:
    running = await start(settings(makers_enabled=True, seed=3,
                                   makers="ACME:refresh_ms=20;LOTS:refresh_ms=20,levels=2"),
                          book_factory=backend.Book)
    try:
        assert running.simulation is not None and running.simulation.seed == 3
        client = Client(running.address)
        try:
            await client.create_account("agent")
            stub = marketdata_pb2_grpc.MarketDataServiceStub(client.channel)
            await asyncio.sleep(0.2)
            for maker in running.simulation.makers:
                levels = maker.params.levels
                assert resting(running, maker.account_id, maker.symbol) == {
                    BUY: levels, SELL: levels}
                book = await stub.GetBook(marketdata_pb2.GetBookRequest(symbol=maker.symbol))
                assert book.bids and book.asks
        finally:
            await client.close()
    finally:
        task = running.simulation._task if running.simulation else None
        await running.stop(None)
    assert task is not None and task.done()
    assert running.gateway.exchange.audit() == []


async def test_restart_reuses_the_funded_maker_accounts(tmp_path, backend: Any) -> None:
    config = settings(makers_enabled=True, seed=3, durability="on",
                      database_url=f"sqlite:///{tmp_path / 'journal.db'}")
    running = await start(config, book_factory=backend.Book)
    await asyncio.sleep(0.1)
    first = {m.symbol: m.account_id for m in running.simulation.makers}  # type: ignore[union-attr]
    await running.stop(None)
    running = await start(config, book_factory=backend.Book)
    try:
        exchange = running.gateway.exchange
        assert {m.symbol: m.account_id for m in running.simulation.makers} == first  # type: ignore[union-attr]
        for symbol, account_id in first.items():
            account = exchange.accounts[account_id]
            assert account.key_hash == maker_key(symbol)
            assert account.share_deposits == {symbol: 100 * 10 * exchange.instruments[
                symbol].lot_size}  # funded once
        assert len([a for a in exchange.accounts.values() if a.system]) == len(first)
        await asyncio.sleep(0.1)
    finally:
        await running.stop(None)
    assert running.gateway.exchange.audit() == []
