"""A mixed trading load that records every acknowledgement, and the checks run on a journal
after a crash: each acknowledged order is there as it was acknowledged, nothing is
half-applied, money is conserved, and the journal replays to the recovered state.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

import grpc
from tradepit.exchange.codes import OrderStatus
from tradepit.exchange.commands import SubmitOrder
from tradepit.exchange.digest import state_digest
from tradepit.exchange.exchange import Exchange, Limits
from tradepit.journal.codec import decode
from tradepit.journal.store import Journal
from tradepit_client import Client, TradepitError
from tradepit_client.v1 import account_pb2, admin_pb2, common_pb2

from .conftest import ADMIN_TOKEN, MAKER_FEE_BPS, TAKER_FEE_BPS
from .store_check import assert_store_matches

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
LIMIT = common_pb2.ORDER_TYPE_LIMIT
IOC = common_pb2.TIME_IN_FORCE_IOC
TERMINAL = {int(s) for s in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED,
                             OrderStatus.EXPIRED)}
SHARES = 5_000

OrderKey = tuple[int, str]  # account id, client_order_id
View = tuple[int, int, int]  # status, filled quantity, leaves quantity


@dataclass
class Ledger:
    """What the clients were told. Only acknowledgements count."""

    keys: dict[int, str] = field(default_factory=dict)  # account id -> API key
    at_submit: dict[OrderKey, View] = field(default_factory=dict)  # the submit's own answer
    latest: dict[OrderKey, View] = field(default_factory=dict)  # the last word on each order
    sent: set[OrderKey] = field(default_factory=set)
    acks = 0
    unavailable = 0

    def saw(self, key: OrderKey, view: View) -> None:
        """Answers and stream reports may arrive out of order; a terminal state is final."""
        old = self.latest.get(key)
        if old is None or old[0] not in TERMINAL:
            self.latest[key] = view


def order_view(order: common_pb2.Order) -> View:
    return int(order.status), order.filled_quantity, order.leaves_quantity


async def open_accounts(address: str, count: int, ledger: Ledger, tag: str) -> None:
    """New funded accounts holding shares; only fully acknowledged ones are recorded."""
    async with Client(address, ADMIN_TOKEN) as admin:
        for i in range(count):
            client = Client(address)
            try:
                account = await client.create_account(f"{tag}-{i}")
            finally:
                await client.close()
            await admin.admin.AdjustBalance(
                admin_pb2.AdjustBalanceRequest(account_id=account.account_id, amount=SHARES,
                                               kind=admin_pb2.BALANCE_CHANGE_DEPOSIT,
                                               symbol="ACME"), metadata=admin.metadata)
            assert client.api_key is not None
            ledger.keys[account.account_id] = client.api_key


_STOPPING = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED,
             grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL,
             grpc.StatusCode.UNKNOWN)


class Trader:
    """One account submitting, cancelling, amending and streaming orders at random."""

    def __init__(self, address: str, account_id: int, ledger: Ledger, rng: random.Random,
                 tag: str) -> None:
        self.client = Client(address, ledger.keys[account_id])
        self.account_id = account_id
        self.ledger = ledger
        self.rng = rng
        self.tag = tag
        self.mine: list[str] = []

    def new_id(self) -> str:
        coid = f"{self.tag}-{self.account_id}-{len(self.ledger.sent)}"
        self.ledger.sent.add((self.account_id, coid))
        self.mine.append(coid)
        return coid

    def price(self) -> int:
        return self.rng.randint(9_990, 10_010)

    async def run(self, stop: asyncio.Event) -> None:
        """Trade until `stop` or until the server goes away."""
        try:
            async with self.client.session() as session:
                follower = asyncio.ensure_future(self.follow(session))
                try:
                    while not stop.is_set() and not follower.done():
                        await self.step(session)
                    # Stopped, not killed: end the stream's requests and read its last
                    # reports, so that everything sent is applied when run_load returns.
                    await session._outgoing.put(None)
                    await asyncio.wait([follower], timeout=10)
                finally:
                    follower.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await follower
        except TradepitError as error:
            if error.code == grpc.StatusCode.UNAVAILABLE:
                self.ledger.unavailable += 1
            if error.code not in _STOPPING:
                raise
        except grpc.aio.AioRpcError as error:
            if error.code() not in _STOPPING:
                raise
        finally:
            await self.client.close()

    async def follow(self, session: Any) -> None:
        """Stream reports are acknowledgements too: they leave only once durable."""
        with contextlib.suppress(TradepitError, grpc.aio.AioRpcError):
            async for report in session:
                if report.client_order_id and report.sequence:
                    view = (int(report.order_status), report.cumulative_quantity,
                            report.leaves_quantity)
                    self.ledger.saw((self.account_id, report.client_order_id), view)
                    self.ledger.acks += 1

    async def step(self, session: Any) -> None:
        rng, client, key = self.rng, self.client, self.account_id
        roll = rng.random()
        try:
            if roll < 0.5:
                coid = self.new_id()
                tif = IOC if rng.random() < 0.1 else common_pb2.TIME_IN_FORCE_GTC
                answer = await client.submit("ACME", rng.choice((BUY, SELL)), rng.randint(1, 20),
                                             self.price(), type=LIMIT, time_in_force=tif,
                                             client_order_id=coid)
                self.ledger.at_submit[(key, coid)] = order_view(answer.order)
                self.ledger.saw((key, coid), order_view(answer.order))
            elif roll < 0.7 and self.mine:
                coid = rng.choice(self.mine)
                answer = await client.cancel(client_order_id=coid)
                self.ledger.saw((key, coid), order_view(answer.order))
            elif roll < 0.8 and self.mine:
                coid = rng.choice(self.mine)
                answer = await client.amend(0, self.price(), rng.randint(1, 20),
                                            client_order_id=coid)
                self.ledger.saw((key, coid), order_view(answer.order))
            elif roll < 0.97:
                for _ in range(rng.randint(1, 8)):
                    session.submit("ACME", rng.choice((BUY, SELL)), rng.randint(1, 20),
                                   self.price(), type=LIMIT, client_order_id=self.new_id())
                await session.flush()
                await asyncio.sleep(0)
            else:
                await client.cancel_all("ACME")
            self.ledger.acks += 1
        except TradepitError as error:
            if error.code in _STOPPING:
                raise
            # refusals (no shares, not open, unknown yet) are part of the mix


async def run_load(address: str, ledger: Ledger, seed: int, tag: str, accounts: int = 4,
                   kill: Any = None, duration: float = 0.5) -> None:
    """Open `accounts` more accounts, trade with all of them for `duration` seconds, then
    call `kill()` while they are still trading, or stop them: then everything they sent
    has been answered when this returns."""
    await open_accounts(address, accounts, ledger, tag)
    rng = random.Random(seed)
    stop = asyncio.Event()
    traders = [Trader(address, account_id, ledger, random.Random(rng.random()), tag)
               for account_id in list(ledger.keys)]
    tasks = [asyncio.ensure_future(t.run(stop)) for t in traders]
    await asyncio.sleep(duration)
    if kill is not None:
        kill()
    else:
        stop.set()
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)


def replay_journal(url: str, backend: Any) -> tuple[Exchange, dict[OrderKey, View], int]:
    """A fresh replay of the whole journal, with each order's state right after the
    command that submitted it, and the number of entries."""
    exchange = Exchange(Limits(maker_fee_bps=MAKER_FEE_BPS, taker_fee_bps=TAKER_FEE_BPS),
                        book_factory=backend.Book)
    after_submit: dict[OrderKey, View] = {}
    journal = Journal(url)
    entries = 0
    try:
        for entry in journal.read():
            assert entry.sequence == entries + 1, f"hole before entry {entry.sequence}"
            command = decode(entry)
            exchange.execute(command)
            exchange.take_reports()
            exchange.take_market_events()
            entries += 1
            if isinstance(command, SubmitOrder) and command.client_order_id:
                key = (command.account_id, command.client_order_id)
                if key not in after_submit:
                    account = exchange.accounts[command.account_id]
                    order = exchange.orders[account.client_order_ids[command.client_order_id]]
                    after_submit[key] = (int(order.status), order.filled_quantity, order.leaves)
    finally:
        journal.close()
    return exchange, after_submit, entries


def check_against_journal(url: str, backend: Any, ledger: Ledger) -> tuple[str, int, Exchange]:
    """Every acknowledged order is in the journal as acknowledged; money is conserved.
    The queryable store holds that state too. Returns the replayed state's digest and
    entry count."""
    exchange, after_submit, entries = replay_journal(url, backend)
    assert exchange.audit() == []
    assert_store_matches(url, exchange, entries)
    for account_id in ledger.keys:  # an acknowledged account has its cash and shares
        account = exchange.accounts[account_id]
        assert account.deposits > 0 and account.share_deposits.get("ACME") == SHARES
    for key, view in ledger.at_submit.items():
        assert after_submit.get(key) == view, (key, view, after_submit.get(key))
    for key, view in ledger.latest.items():
        account = exchange.accounts[key[0]]
        order = exchange.orders[account.client_order_ids[key[1]]]
        final = (int(order.status), order.filled_quantity, order.leaves)
        if view[0] in TERMINAL:
            assert final == view, (key, view, final)
        else:
            assert final[1] >= view[1], (key, view, final)
    for account in exchange.accounts.values():  # nothing half-applied: no order unsent
        for coid in account.client_order_ids:
            assert (account.account_id, coid) in ledger.sent, coid
    return state_digest(exchange), entries, exchange


async def check_against_server(address: str, ledger: Ledger, exchange: Exchange,
                               tag: str = "") -> None:
    """The restarted server answers with the replayed state: every account's money, and
    each acknowledged order whose client_order_id starts with `tag`."""
    for account_id, key in ledger.keys.items():
        async with Client(address, key) as client:
            portfolio = await client.portfolio()
            account = exchange.accounts[account_id]
            assert (portfolio.cash, portfolio.reserved_cash) == (account.cash,
                                                                 account.reserved_cash)
            coids = [coid for (owner, coid) in ledger.latest
                     if owner == account_id and coid.startswith(tag)]
            for coid in coids:
                answer = await client.accounts.GetOrder(
                    account_pb2.GetOrderRequest(client_order_id=coid), metadata=client.metadata)
                order = exchange.orders[account.client_order_ids[coid]]
                assert order_view(answer) == (int(order.status), order.filled_quantity,
                                              order.leaves)
