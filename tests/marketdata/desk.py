"""A small exchange with a market-data hub listening, driven without gRPC."""

from __future__ import annotations

from typing import Any

from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import (
    AdjustBalance,
    AmendOrder,
    CancelOrder,
    CreateAccount,
    CreateInstrument,
    OrderRef,
    SetTradingStatus,
    SubmitOrder,
)
from tradepit.exchange.exchange import Exchange, Limits
from tradepit.marketdata.hub import MarketDataHub
from tradepit.marketdata.subscriptions import Subscriber
from tradepit_client.v1 import marketdata_pb2

SECOND = 1_000_000_000
BUY, SELL = 1, 2
LIMIT, GTC, IOC = 1, 1, 2
SYMBOL = "ACME"


class Desk:
    """One instrument (tick 1, lot 1, reference 10_000) and two funded traders."""

    def __init__(self, book_factory: Any, *, hub_first: bool = True, **hub_options: Any) -> None:
        self.exchange = Exchange(Limits(max_order_quantity=10**6, max_order_notional=10**12),
                                 book_factory=book_factory)
        self.now = 1_000 * SECOND
        self.hub: MarketDataHub | None = None
        self._hub_options = hub_options
        if hub_first:
            self.start_hub()
        self.run(CreateInstrument(SYMBOL, 1, 1, 10_000, 1_000, self.now))
        self.alice = self._trader("alice")
        self.bob = self._trader("bob")

    def start_hub(self) -> MarketDataHub:
        self.hub = MarketDataHub(self.exchange, self.clock, **self._hub_options)
        return self.hub

    def clock(self) -> int:
        return self.now

    @property
    def book(self) -> Any:
        return self.exchange.books[SYMBOL]

    def run(self, command: Any) -> Any:
        """Apply a command and hand its market events to the hub, as the gateway does."""
        result = self.exchange.execute(command)
        self.exchange.take_reports()
        events = self.exchange.take_market_events()
        if self.hub is not None and events:
            self.hub.on_market_events(events)
        return result

    def _trader(self, name: str) -> int:
        account = self.run(CreateAccount(name, name, self.now)).account_id
        self.run(AdjustBalance(account, 10**11, BalanceChange.DEPOSIT, self.now))
        self.run(AdjustBalance(account, 10**6, BalanceChange.DEPOSIT, self.now, SYMBOL))
        return int(account)

    def order(self, account: int, side: int, price: int, quantity: int, tif: int = GTC) -> int:
        """Submit a limit order; return the book's id for it."""
        result = self.run(SubmitOrder(account, "", SYMBOL, side, LIMIT, tif, price, quantity,
                                      False, 1, self.now))
        return int(result.order.book_id)

    def exchange_id(self, book_id: int) -> int:
        return next(o.order_id for o in self.exchange.orders.values() if o.book_id == book_id)

    def cancel(self, book_id: int, account: int) -> None:
        self.run(CancelOrder(account, OrderRef(self.exchange_id(book_id)), self.now))

    def amend(self, book_id: int, account: int, price: int, quantity: int) -> None:
        self.run(AmendOrder(account, OrderRef(self.exchange_id(book_id)), price, quantity,
                            self.now))

    def status(self, status: int) -> None:
        self.run(SetTradingStatus(SYMBOL, status, self.now))

    def read(self, subscriber: Subscriber[Any], max_bytes: int = 1 << 19
             ) -> list[marketdata_pb2.MarketDataUpdate]:
        """What the stream's writer would send now, decoded."""
        assert self.hub is not None
        owed, queued = subscriber.take()
        frames = self.hub.snapshots(owed, max_bytes) + queued
        return list(marketdata_pb2.MarketDataBatch.FromString(b"".join(frames)).updates)
