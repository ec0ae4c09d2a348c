"""Where history queries are answered: the queryable store when durability is on, so
history outlives memory, and the exchange's memory when there is no database.

Both give the same answers for the same state (tests/durability/test_store.py): keyset
pages oldest first, each page the rows after the previous page's last key. Callers wait
for the journal first (`Gateway.settled`), so the store holds everything they saw.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Sequence
from operator import attrgetter
from typing import Protocol

from tradepit.exchange.exchange import Exchange
from tradepit.exchange.model import Fill, OrderState
from tradepit.exchange.portfolio import equity
from tradepit.store.reader import OrderRecord, StoredStanding, StoreReader

Order = OrderState | OrderRecord


class History(Protocol):
    async def orders(self, account_id: int, symbol: str, open_only: bool, after: int,
                     limit: int) -> Sequence[Order]: ...

    async def fills(self, account_id: int, symbol: str, after: int,
                    limit: int) -> Sequence[Fill]: ...

    async def standings(self, include_system: bool, offset: int,
                        limit: int) -> Sequence[StoredStanding]: ...


class StoreHistory:
    """Reads in a worker thread: the event loop goes on serving meanwhile."""

    def __init__(self, reader: StoreReader) -> None:
        self.reader = reader

    async def orders(self, account_id: int, symbol: str, open_only: bool, after: int,
                     limit: int) -> Sequence[Order]:
        return await asyncio.to_thread(self.reader.orders, account_id, symbol, open_only,
                                       after, limit)

    async def fills(self, account_id: int, symbol: str, after: int,
                    limit: int) -> Sequence[Fill]:
        return await asyncio.to_thread(self.reader.fills, account_id, symbol, after, limit)

    async def standings(self, include_system: bool, offset: int,
                        limit: int) -> Sequence[StoredStanding]:
        return await asyncio.to_thread(self.reader.standings, include_system, offset, limit)


class MemoryHistory:
    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    async def orders(self, account_id: int, symbol: str, open_only: bool, after: int,
                     limit: int) -> Sequence[Order]:
        ids = self.exchange.account(account_id).order_ids
        found: list[Order] = []
        for index in range(bisect_right(ids, after), len(ids)):
            order = self.exchange.orders[ids[index]]
            if (symbol and order.symbol != symbol) or (open_only and not order.is_open):
                continue
            found.append(order)
            if len(found) == limit:
                break
        return found

    async def fills(self, account_id: int, symbol: str, after: int,
                    limit: int) -> Sequence[Fill]:
        held = self.exchange.account(account_id).fills
        found: list[Fill] = []
        for index in range(bisect_right(held, after, key=attrgetter("trade_id")), len(held)):
            fill = held[index]
            if not symbol or fill.symbol == symbol:
                found.append(fill)
                if len(found) == limit:
                    break
        return found

    async def standings(self, include_system: bool, offset: int,
                        limit: int) -> Sequence[StoredStanding]:
        ranked = [StoredStanding(account, equity(self.exchange, account))
                  for account in self.exchange.accounts.values()
                  if include_system or not account.system]
        ranked.sort(key=lambda s: (-s.equity, s.account.account_id))
        return ranked[offset:offset + limit]
