"""Fees and order limits are journaled: a restart with other settings changes what new
orders pay, never what was charged, and an order keeps the fees it was accepted with."""

from __future__ import annotations

from pathlib import Path

from tradepit.exchange.digest import state_digest
from tradepit.server.app import start
from tradepit_client import Client
from tradepit_client.v1 import admin_pb2, common_pb2

from .conftest import (
    ADMIN_TOKEN,
    MAKER_FEE_BPS,
    TAKER_FEE_BPS,
    durable_settings,
    fresh_digest,
    sqlite_url,
)

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL


async def agents(address: str) -> tuple[Client, Client, Client]:
    buyer, seller, admin = Client(address), Client(address), Client(address, ADMIN_TOKEN)
    await buyer.create_account("buyer")
    account = await seller.create_account("seller")
    await admin.admin.AdjustBalance(admin_pb2.AdjustBalanceRequest(
        account_id=account.account_id, amount=1_000, kind=admin_pb2.BALANCE_CHANGE_DEPOSIT,
        symbol="ACME"), metadata=admin.metadata)
    return buyer, seller, admin


async def test_a_restart_with_new_fees_charges_them_only_to_new_orders(database: Path
                                                                      ) -> None:
    running = await start(durable_settings(database))
    buyer, seller, admin = await agents(running.address)
    notional = 10_000 * 100
    try:
        await seller.submit("ACME", SELL, 100, 10_000)
        await buyer.submit("ACME", BUY, 100, 10_000)  # taker pays 10 bps, maker 5
        resting = await seller.submit("ACME", SELL, 100, 10_010)  # accepted at 5 bps maker
        fees_before = {"buyer": notional * TAKER_FEE_BPS // 10_000,
                       "seller": notional * MAKER_FEE_BPS // 10_000}
        assert (await buyer.portfolio()).fees_paid == fees_before["buyer"]
    finally:
        for client in (buyer, seller, admin):
            await client.close()
        await running.stop(None)

    free = durable_settings(database, maker_fee_bps=0, taker_fee_bps=0)
    running = await start(free)
    try:
        exchange = running.gateway.exchange
        assert exchange.limits.maker_fee_bps == exchange.limits.taker_fee_bps == 0
        accounts = {a.name: a for a in exchange.accounts.values()}
        assert {name: accounts[name].fees_paid for name in fees_before} == fees_before
        async with Client(running.address) as fresh:
            await fresh.create_account("fresh")
            # The old resting sell keeps its 5 bps maker fee; the new taker pays nothing.
            await fresh.submit("ACME", BUY, 100, 10_010)
        accounts = {a.name: a for a in exchange.accounts.values()}
        later = 10_010 * 100 * MAKER_FEE_BPS // 10_000
        assert accounts["seller"].fees_paid == fees_before["seller"] + later
        assert accounts["fresh"].fees_paid == 0
        assert exchange.orders[resting.order.order_id].fees == later
        assert exchange.audit() == []
    finally:
        await running.stop(None)
    # A replay of the journal charges the same, whatever the replaying exchange starts with.
    assert fresh_digest(sqlite_url(database)) == state_digest(running.gateway.exchange)
