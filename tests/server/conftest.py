"""A real Tradepit server on 127.0.0.1:0 per test, once per book backend.

After every test the exchange's own audit must come back clean: cash + reserved +
fees collected equals deposits, shares are conserved per symbol, escrow equals what
open orders hold, and each book agrees with the exchange on its open orders.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from tradepit.book import load_backend
from tradepit.config import Settings
from tradepit.server.app import Running, start
from tradepit_client import Client
from tradepit_client.v1 import admin_pb2

ADMIN_TOKEN = "admin-secret"
STARTING_CASH = 1_000_000


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "address": "127.0.0.1:0",
        "admin_token": ADMIN_TOKEN,
        "durability": "off",  # no database; tests/durability runs the journal
        "makers_enabled": False,  # a quiet market; tests/simulation runs the makers
        "instruments": "ACME:1:1:10000,LOTS:5:10:2000",
        "starting_cash": STARTING_CASH,
        "maker_fee_bps": 5,
        "taker_fee_bps": 10,
        "rate_limit_per_second": 10_000,
        "rate_limit_burst": 10_000,
        "max_order_quantity": 100_000,
        "max_order_notional": 50_000_000,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(params=["rust", "python", "native"])
def book_backend(request: pytest.FixtureRequest) -> str:
    """"rust" and "python": the Python exchange on that book backend; "native": the Rust
    exchange, with the engine's own books (tradepit/exchange/native.py)."""
    try:
        load_backend("rust" if request.param == "native" else request.param)
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)
    return str(request.param)


async def start_with(backend: str, server_settings: Settings) -> Running:
    """Start a server on `backend` (see `book_backend`)."""
    if backend == "native":
        return await start(server_settings.model_copy(update={"exchange": "rust"}))
    return await start(server_settings, book_factory=load_backend(backend).Book)


@pytest.fixture
def server_settings() -> Settings:
    """Override in a test module to start the server differently."""
    return settings()


@pytest.fixture
async def server(book_backend: str, server_settings: Settings) -> AsyncIterator[Running]:
    running = await start_with(book_backend, server_settings)
    try:
        yield running
    finally:
        problems = running.gateway.exchange.audit()
        await running.stop(None)
    assert problems == [], problems


@dataclass
class Agents:
    running: Running
    admin: Client
    clients: list[Client]

    async def new(self, name: str, shares: dict[str, int] | None = None) -> Client:
        """An agent with an account, the starting cash and, optionally, shares."""
        client = Client(self.running.address)
        self.clients.append(client)
        account = await client.create_account(name)
        for symbol, quantity in (shares or {}).items():
            await self.admin.admin.AdjustBalance(
                admin_pb2.AdjustBalanceRequest(account_id=account.account_id, amount=quantity,
                                               kind=admin_pb2.BALANCE_CHANGE_DEPOSIT,
                                               symbol=symbol),
                metadata=self.admin.metadata)
        return client


@pytest.fixture
async def agents(server: Running) -> AsyncIterator[Agents]:
    admin = Client(server.address, ADMIN_TOKEN)
    made = Agents(server, admin, [admin])
    try:
        yield made
    finally:
        for client in made.clients:
            await client.close()


AgentFactory = Callable[..., Awaitable[Client]]


def state(running: Running) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    exchange = running.gateway.exchange
    accounts = tuple(
        (a.account_id, a.cash, a.reserved_cash, a.fees_paid, len(a.order_ids),
         tuple(sorted((s, p.quantity, p.reserved, p.cost_basis) for s, p in a.positions.items())))
        for a in exchange.accounts.values()
    )
    books = tuple((s, b.state_hash()) for s, b in sorted(exchange.books.items()))
    return accounts, books, exchange.fees_collected, len(exchange.orders)
