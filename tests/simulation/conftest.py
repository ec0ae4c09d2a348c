"""An in-process exchange with makers, driven cycle by cycle with explicit times, once
per book backend; client agents send the same commands through the same gateway."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from tradepit.book import OrderType, Side, TimeInForce
from tradepit.config import Settings
from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount, SubmitOrder
from tradepit.exchange.errors import Reject
from tradepit.exchange.model import OrderState
from tradepit.server.app import build_exchange, restore
from tradepit.server.gateway import Gateway
from tradepit.simulation.makers import Maker
from tradepit.simulation.runner import SimulationRunner, build_makers, build_traders
from tradepit.simulation.traders import Trader

BUY, SELL = int(Side.BUY), int(Side.SELL)
LIMIT, GTC = int(OrderType.LIMIT), int(TimeInForce.GTC)
SECOND = 10**9
INSTRUMENTS = "ACME:1:1:10000,LOTS:5:10:2000"


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "address": "127.0.0.1:0", "admin_token": "admin-secret", "durability": "off",
        "instruments": INSTRUMENTS, "maker_fee_bps": 5, "taker_fee_bps": 10,
        "makers_enabled": False, "noise_traders_enabled": False,
        "momentum_traders_enabled": False, "seed": 1, **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Constant:
    """A fair value that does not move, to see what the makers themselves do."""

    def __init__(self, price: int) -> None:
        self.price = price

    def price_at(self, time_ns: int) -> int:
        return self.price


@dataclass
class Market:
    gateway: Gateway
    makers: dict[str, Maker]
    traders: list[Trader] = field(default_factory=list)
    clients: list[int] = field(default_factory=list)

    @property
    def exchange(self) -> Any:
        return self.gateway.exchange

    def client(self, name: str, cash: int = 10**9, shares: dict[str, int] | None = None) -> int:
        account = self.gateway.apply(lambda now: CreateAccount(name, f"client:{name}", now))
        account_id: int = account.account_id
        self.gateway.apply(lambda now: AdjustBalance(account_id, cash, BalanceChange.DEPOSIT,
                                                     now))
        for symbol, quantity in (shares or {}).items():
            self.gateway.apply(lambda now, s=symbol, q=quantity: AdjustBalance(
                account_id, q, BalanceChange.DEPOSIT, now, s))
        self.clients.append(account_id)
        return account_id

    def submit(self, account_id: int, symbol: str, side: int, price: int, quantity: int,
               ) -> OrderState | None:
        try:
            result = self.gateway.apply(lambda now: SubmitOrder(
                account_id, "", symbol, side, LIMIT, GTC, price, quantity, False, 0, now))
        except Reject:
            return None
        order: OrderState = result.order
        return order

    def quotes(self, symbol: str) -> dict[int, list[OrderState]]:
        """The maker's open orders on `symbol` by side, best first."""
        maker = self.makers[symbol]
        account = self.exchange.accounts[maker.account_id]
        open_orders = [self.exchange.orders[i] for i in account.order_ids
                       if self.exchange.orders[i].is_open and self.exchange.orders[i].symbol
                       == symbol]
        return {BUY: sorted((o for o in open_orders if o.side == BUY), key=lambda o: -o.price),
                SELL: sorted((o for o in open_orders if o.side == SELL), key=lambda o: o.price)}

    def cycle(self, time_ns: int) -> None:
        for maker in self.makers.values():
            maker.cycle(time_ns)

    def run_due(self, time_ns: int) -> None:
        """Cycle every system agent (makers and traders) that is due at `time_ns`."""
        SimulationRunner(self.gateway, list(self.makers.values()), self.traders,
                         seed=0).cycle_due(time_ns)

    def random_client_orders(self, rng: random.Random, count: int) -> None:
        for _ in range(count):
            symbol = rng.choice(sorted(self.makers))
            instrument = self.exchange.instruments[symbol]
            low, high = instrument.band()
            price = rng.randrange(low, high + 1, instrument.tick_size) // \
                instrument.tick_size * instrument.tick_size
            near = self.makers[symbol].last_fair_value or instrument.reference_price
            if rng.random() < 0.7:  # most orders near the fair value
                price = near + rng.randint(-20, 20) * instrument.tick_size
            quantity = rng.randint(1, 30) * instrument.lot_size
            self.submit(rng.choice(self.clients), symbol, rng.choice((BUY, SELL)), price,
                        quantity)


async def open_market(book: Any, **overrides: Any) -> Market:
    config = settings(**overrides)
    gateway = build_exchange(config, book)
    await restore(config, gateway)
    makers = build_makers(gateway, config, config.seed or 0, start_ns=0)
    traders = build_traders(gateway, config, config.seed or 0)
    return Market(gateway, {m.symbol: m for m in makers}, traders)


@pytest.fixture
async def market(backend: Any) -> AsyncIterator[Market]:
    made = await open_market(backend.Book)
    yield made
    assert made.exchange.audit() == []
