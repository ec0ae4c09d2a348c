"""A journal of N accepted commands, written straight through the journal's own API.

Going through gRPC would take minutes for 1M events and measure the server, not
recovery. Instead each command is applied to an in-process `Exchange` (with the
server's limits, from the same Settings), and only those it accepts are encoded with
`codec.encode` and written with `Journal.append` in large transactions: the journal
then holds exactly what a server would have journaled, and replays without a refusal.
Each transaction also writes the queryable store's rows for its entries, as the
server's group commit does, so the server finds the store current at start.

The mix, after the instruments, accounts and their deposits: about 63% orders (one in
six an IOC priced through the middle to take liquidity, the rest GTC limits around the
reference price, a few crossing) and 37% cancels of an account's open orders; at 1M
events that is ~160k trades and ~28k orders resting at the end. Seeded: every run
builds the same journal.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from tradepit.book import Book
from tradepit.config import Settings
from tradepit.exchange.codes import BalanceChange, ExecType
from tradepit.exchange.commands import (
    AdjustBalance,
    CancelOrder,
    Command,
    CreateAccount,
    CreateInstrument,
    OrderRef,
    SubmitOrder,
)
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange
from tradepit.journal.codec import Entry, encode
from tradepit.journal.snapshots import Captured, Forked, Snapshotter
from tradepit.journal.store import Journal
from tradepit.server.app import build_exchange
from tradepit.store.projection import Projection

ACCOUNTS = 8
BUY, SELL = 1, 2
LIMIT, GTC, IOC = 1, 1, 2
TRANSACTION = 20_000  # entries per append: one transaction each


@dataclass(frozen=True)
class Built:
    events: int
    submits: int
    cancels: int
    trades: int
    resting: int  # open orders left in the book at the end
    seconds: float
    exchange: Exchange  # the state the journal replays to, for a digest check
    # the state after entry `snapshot_at`, if asked for, taken as the server takes one
    snapshot: Captured | Forked | None = None


def _setup(settings: Settings, now: int) -> list[Command]:
    commands: list[Command] = [
        CreateInstrument(s.symbol, s.tick_size, s.lot_size, s.reference_price, s.band_bps, now)
        for s in settings.instrument_specs()]
    for n in range(ACCOUNTS):
        commands.append(CreateAccount(f"bench-{n}", f"bench-key-{n}", now))
    for account in range(1, ACCOUNTS + 1):
        commands.append(AdjustBalance(account, 10**15, BalanceChange.DEPOSIT, now))
        for s in settings.instrument_specs():
            commands.append(AdjustBalance(account, 10**9 * s.lot_size, BalanceChange.DEPOSIT,
                                          now, s.symbol))
    return commands


def build(settings: Settings, events: int, seed: int = 5, snapshot_at: int = 0) -> Built:
    """Append `events` accepted commands to the journal at settings.database_url; capture
    the state after entry `snapshot_at` (0: never) as the server would."""
    began = time.perf_counter()
    exchange = build_exchange(settings).exchange
    journal = Journal(settings.database_url)
    journal.upgrade()
    if journal.last_sequence():
        raise RuntimeError(f"{settings.database_url} already holds a journal")
    rng = random.Random(seed)
    spec = settings.instrument_specs()[0]
    tick, lot, mid = spec.tick_size, spec.lot_size, spec.reference_price
    open_orders: list[list[int]] = [[] for _ in range(ACCOUNTS + 1)]
    now = time.time_ns() - events * 1_000  # 1 us apart, ending about now
    pending: list[Entry] = []
    sequence = submits = cancels = trades = 0
    snapshotter = Snapshotter(exchange, snapshot_at, Book)  # as the server's restore does
    projection = Projection(exchange)  # the queryable store's rows, as the server writes them
    captured: Captured | Forked | None = None

    def accept(command: Command) -> Any:
        nonlocal sequence, captured
        try:
            result = exchange.execute(command)
        except Reject:
            return None
        sequence += 1
        pending.append(encode(sequence, command))
        projection.note(sequence, command, exchange.take_reports(),
                        exchange.take_market_events())
        if sequence == snapshot_at:
            captured = snapshotter.take(sequence, command.timestamp)
        if len(pending) >= TRANSACTION:
            journal.append(pending, projection.take())
            pending.clear()
        return result

    for command in _setup(settings, now):
        if accept(command) is None:
            raise RuntimeError(f"the setup command {command} was refused")
    while sequence < events:
        now += 1_000
        account = rng.randint(1, ACCOUNTS)
        draw = rng.random()
        if draw < 0.42 and open_orders[account]:
            orders = open_orders[account]
            order_id = orders.pop(rng.randrange(len(orders)))
            if accept(CancelOrder(account, OrderRef(order_id), now)) is not None:
                cancels += 1
            continue
        side = rng.choice((BUY, SELL))
        sign = -1 if side == BUY else 1  # passive: buys below the middle, sells above
        if draw < 0.52:
            tif, offset = IOC, -sign * rng.randint(0, 5)  # priced through the middle
        else:
            tif, offset = GTC, sign * rng.randint(-2, 20)  # a few cross
        command = SubmitOrder(account, f"c{sequence}", spec.symbol, side, LIMIT, tif,
                              mid + offset * tick, rng.randint(1, 10) * lot, False, 0, now)
        result = accept(command)
        if result is None:
            continue
        submits += 1
        order = result.order
        if order.leaves and tif == GTC:
            open_orders[account].append(order.order_id)
        trades += sum(1 for report in result.reports if report.exec_type == ExecType.TRADE)
    if pending:
        journal.append(pending, projection.take())
    journal.close()
    resting = sum(1 for order in exchange.orders.values() if order.is_open)
    return Built(sequence, submits, cancels, trades, resting, time.perf_counter() - began,
                 exchange, captured)
