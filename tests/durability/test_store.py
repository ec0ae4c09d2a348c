"""The queryable store: tables written with the journal, history served from them.

ListOrders, ListTrades and the leaderboard read the store when durability is on; they
must answer exactly what the in-memory state answers, page by page. The store must be
rebuilt when it is behind its journal, and the leaderboard is one SQL statement.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import grpc
from sqlalchemy import delete, event
from tradepit.book import load_backend
from tradepit.exchange.codes import BalanceChange, OrderStatus
from tradepit.exchange.commands import (
    AdjustBalance,
    AmendOrder,
    CancelOrder,
    Command,
    CreateAccount,
    CreateInstrument,
    OrderRef,
    SubmitOrder,
)
from tradepit.exchange.exchange import Exchange
from tradepit.journal.codec import encode
from tradepit.journal.schema import metadata
from tradepit.journal.store import ROWS_PER_STATEMENT, STORE_TABLES, Journal
from tradepit.marketdata import messages
from tradepit.marketdata.candles import INTERVAL_NS
from tradepit.server import convert
from tradepit.server.app import Running, start
from tradepit.server.history import History, MemoryHistory, StoreHistory
from tradepit.store.projection import Projection, account_row
from tradepit.store.reader import StoreReader
from tradepit_client import Client
from tradepit_client.v1 import account_pb2, common_pb2, marketdata_pb2, marketdata_pb2_grpc

from .conftest import durable_settings, fresh_replay
from .load import Ledger, run_load
from .store_check import assert_store_matches, expected_rows, stored_rows

PAGE = 7
CANDLE_INTERVAL_1D = marketdata_pb2.CANDLE_INTERVAL_1D


async def _traded(url: str, backend: str = "rust", **overrides: Any) -> Running:
    """A server after a mixed load between clients, with the makers quoting too."""
    running = await start(durable_settings(url, makers_enabled=True, **overrides),
                          book_factory=load_backend(backend).Book)
    await run_load(running.address, Ledger(), seed=21, tag="s", accounts=3, duration=0.6)
    if running.simulation is not None:
        await running.simulation.stop()
    await running.gateway.settled()
    return running


async def _all_pages(history: History, account_id: int, kind: str, **query: Any) -> list[Any]:
    """Every page of one query, converted to what a client receives."""
    pages: list[Any] = []
    after = 0
    while True:
        if kind == "orders":
            page = await history.orders(account_id, query.get("symbol", ""),
                                        query.get("open_only", False), after, PAGE)
            pages.append([convert.order(o) for o in page])
            after = page[-1].order_id if page else after
        else:
            page = await history.fills(account_id, query.get("symbol", ""), after, PAGE)
            pages.append([convert.fill(f) for f in page])
            after = page[-1].trade_id if page else after
        if len(page) < PAGE:
            return pages


async def test_history_from_the_store_equals_history_in_memory(database_url: str) -> None:
    running = await _traded(database_url)
    exchange = running.gateway.exchange
    store = StoreHistory(StoreReader(database_url))
    memory = MemoryHistory(exchange)
    try:
        queries: list[dict[str, Any]] = [
            {}, {"symbol": "ACME"}, {"symbol": "LOTS"}, {"open_only": True},
            {"symbol": "ACME", "open_only": True}]
        compared = 0
        for account_id in exchange.accounts:
            for kind in ("orders", "fills"):
                for query in queries:
                    if kind == "fills" and "open_only" in query:
                        continue
                    stored = await _all_pages(store, account_id, kind, **query)
                    assert stored == await _all_pages(memory, account_id, kind, **query)
                    compared += sum(len(page) for page in stored)
        assert compared > 100, "the load should leave a history to compare"
        for include_system in (False, True):
            stored_board = await store.standings(include_system, 0, 1_000)
            in_memory = await memory.standings(include_system, 0, 1_000)
            assert [(s.account.account_id, s.account.name, s.equity) for s in stored_board] \
                == [(s.account.account_id, s.account.name, s.equity) for s in in_memory]
            assert any(s.account.system for s in stored_board) == include_system
        assert_store_matches(database_url, exchange, running.gateway.journal.committed_sequence)
    finally:
        store.reader.close()
        await running.stop(None)


async def test_list_orders_pages_through_the_store_over_grpc(database: Any) -> None:
    """A client's own orders, end to end, in pages of 3."""
    running = await start(durable_settings(database))
    try:
        async with Client(running.address) as buyer:
            await buyer.create_account("buyer")
            placed = [(await buyer.submit("ACME", common_pb2.SIDE_BUY, 10, price=9_990 + i,
                                          client_order_id=f"b{i}")).order.order_id
                      for i in range(8)]
            listed: list[int] = []
            token = ""
            while True:
                page = await buyer.accounts.ListOrders(
                    account_pb2.ListOrdersRequest(page_size=3, page_token=token),
                    metadata=buyer.metadata)
                assert len(page.orders) <= 3
                listed += [o.order_id for o in page.orders]
                if not (token := page.next_page_token):
                    break
            assert listed == placed
    finally:
        await running.stop(None)


async def test_the_leaderboard_is_one_statement(database: Any) -> None:
    running = await _traded(f"sqlite:///{database}")
    reader = StoreReader(f"sqlite:///{database}")
    statements: list[str] = []
    event.listen(reader.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: statements.append(statement))
    try:
        ranked = reader.standings(True, 0, 100)
        assert len(ranked) == len(running.gateway.exchange.accounts)
        assert len(statements) == 1, statements
    finally:
        reader.close()
        await running.stop(None)


async def test_a_store_behind_its_journal_is_rebuilt_at_start(database: Any) -> None:
    """As after migrating a database with history to the store: every store row gone."""
    url = f"sqlite:///{database}"
    running = await _traded(url, backend="python")
    await running.stop(None)
    journal = Journal(url)
    try:
        with journal.engine.begin() as connection:
            for table in (*STORE_TABLES, "store_state"):
                connection.execute(delete(metadata.tables[table]))
        entries = journal.last_sequence()
    finally:
        journal.close()
    running = await start(durable_settings(url))
    try:
        assert running.recovered is not None and running.recovered.last_sequence == entries
    finally:
        await running.stop(None)
    assert_store_matches(url, fresh_replay(url), entries)


async def _candles(address: str, symbol: str) -> dict[int, list[Any]]:
    """GetCandles at every interval, as a client sees it."""
    channel = grpc.aio.insecure_channel(address)
    try:
        stub = marketdata_pb2_grpc.MarketDataServiceStub(channel)
        return {interval: list((await stub.GetCandles(marketdata_pb2.GetCandlesRequest(
                    symbol=symbol, interval=interval))).candles)
                for interval in INTERVAL_NS}
    finally:
        await channel.close()


def _closed_no_sooner(before: dict[int, list[Any]], after: dict[int, list[Any]]) -> bool:
    """Every candle closed in `before` is closed in `after`, read later."""
    return all(later.closed or not earlier.closed
               for interval in before
               for earlier, later in zip(before[interval], after[interval], strict=True))


def _without_closed(candles: dict[int, list[Any]]) -> dict[int, list[tuple[Any, ...]]]:
    return {interval: [(c.interval, c.start_ns, c.open, c.high, c.low, c.close, c.volume,
                        c.notional, c.trade_count) for c in found]
            for interval, found in candles.items()}


async def test_candles_from_the_store_equal_the_hub_and_outlive_a_restart(database: Any) -> None:
    """The store's candles are the hub's, and after a restart from a snapshot (the hub
    then knows only what came after it) GetCandles still has them all."""
    url = f"sqlite:///{database}"
    running = await _traded(url, snapshot_every=50)
    try:
        stored = await _candles(running.address, "ACME")
        assert running.hub is not None
        now = running.gateway.now()
        in_memory = {interval: [messages.candle(c) for c in running.hub.market("ACME").history
                                .candles[interval].query(0, 0, 1_000, now)]
                     for interval in INTERVAL_NS}
        # Read a moment later: an open candle may have closed meanwhile, never reopened.
        assert _without_closed(stored) == _without_closed(in_memory)
        assert _closed_no_sooner(stored, in_memory)
        assert sum(c.trade_count for c in stored[CANDLE_INTERVAL_1D]) > 10
    finally:
        await running.stop(None)  # with a last snapshot: the next start replays nothing
    running = await start(durable_settings(url), book_factory=load_backend("rust").Book)
    try:
        assert running.recovered is not None and running.recovered.replayed == 0
        restarted = await _candles(running.address, "ACME")
        # The same candles; the clock went on meanwhile, so an open one may have closed.
        assert _without_closed(restarted) == _without_closed(stored)
        assert _closed_no_sooner(stored, restarted)
    finally:
        await running.stop(None)


def test_accounts_created_in_one_batch_each_get_their_row() -> None:
    """A command's note may be taken after later commands ran: each CreateAccount must
    still name its own account, not the newest."""
    exchange = Exchange()
    created = [CreateAccount(f"agent-{i}", f"key-{i}", 10 + i) for i in range(3)]
    applied = []
    for command in created:
        exchange.execute(command)
        applied.append((command, exchange.take_reports(), exchange.take_market_events()))
    projection = Projection(exchange)
    for sequence, (command, reports, events) in enumerate(applied, 5):
        projection.note(sequence, command, reports, events)
    assert projection.take()["accounts"] == [account_row(exchange.accounts[i + 1], 5 + i)
                                             for i in range(3)]


def test_batches_of_many_orders_keep_every_order_row_current(database_url: str) -> None:
    """Orders are written ROWS_PER_STATEMENT to an upsert: a batch of new orders, then one
    that changes some of them and adds more, leave every row as the exchange has it."""
    exchange = Exchange()
    journal = Journal(database_url)
    journal.upgrade()
    projection = Projection(exchange)
    sequence = 0

    def batch(commands: list[Command]) -> None:
        nonlocal sequence
        entries = []
        for command in commands:
            exchange.execute(command)
            sequence += 1
            entries.append(encode(sequence, command))
            projection.note(sequence, command, exchange.take_reports(),
                            exchange.take_market_events())
        journal.append(entries, projection.take())

    try:
        batch([CreateInstrument("ACME", 1, 1, 10_000, 1_000, 1), CreateAccount("a", "k", 1),
               AdjustBalance(1, 10**12, BalanceChange.DEPOSIT, 1)])
        buys = [SubmitOrder(1, f"b{i}", "ACME", 1, 1, 1, 9_900 + i % 50, 1 + i % 3, False, 1,
                            2) for i in range(3 * ROWS_PER_STATEMENT + 7)]
        batch(buys)
        cancels = [CancelOrder(1, OrderRef(order_id, ""), 3) for order_id in range(1, 90, 2)]
        amends = [AmendOrder(1, OrderRef(order_id, ""), 9_950, 2, 3)
                  for order_id in range(2, 60, 2)]
        more = [SubmitOrder(1, f"c{i}", "ACME", 1, 1, 1, 9_800, 1, False, 1, 3)
                for i in range(ROWS_PER_STATEMENT + 3)]
        batch(cancels + amends + more)
        statuses = Counter(o.status for o in exchange.orders.values())
        assert statuses[OrderStatus.CANCELED] == len(cancels)
        stored = stored_rows(journal)["orders"]
        assert len(stored) == len(exchange.orders) > 4 * ROWS_PER_STATEMENT
        assert stored == expected_rows(journal, exchange, sequence)["orders"]
    finally:
        journal.close()
