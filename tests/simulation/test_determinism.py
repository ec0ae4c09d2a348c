"""The engine clock: time moves only with commands, so a seed and the same client
commands give the same trade tape, system agents included."""

from __future__ import annotations

import asyncio
import random
from functools import partial
from typing import Any

import grpc
import pytest
from tradepit.exchange.commands import CreateAccount, CreateInstrument
from tradepit.exchange.errors import Reject
from tradepit.server.app import Running, build_exchange, start
from tradepit.server.clock import EngineClock
from tradepit_client import Client, TradepitError
from tradepit_client.v1 import common_pb2, marketdata_pb2_grpc
from tradepit_client.v1 import marketdata_pb2 as md

from .conftest import settings

STEP_NS = 1_000_000
LISTING = {"ACME": (1, 1, 10_000), "LOTS": (5, 10, 2_000)}  # tick, lot, reference


def test_engine_time_moves_by_one_step_per_applied_command() -> None:
    gateway = build_exchange(settings(clock="engine", engine_step_ns=STEP_NS))
    assert isinstance(gateway.clock, EngineClock)
    assert gateway.now() == 0
    gateway.apply(lambda now: CreateAccount("a", "key-a", now))
    assert gateway.now() == gateway.now() == STEP_NS  # asking does not move time
    with pytest.raises(Reject):
        gateway.apply(lambda now: CreateAccount("a", "key-a", now))  # key already used
    assert gateway.now() == STEP_NS  # a refusal is no command: time stands still
    gateway.apply(partial(CreateInstrument, "ACME", 1, 1, 10_000, 1_000))
    assert gateway.now() == 2 * STEP_NS


def engine_settings(seed: int) -> Any:
    return settings(
        clock="engine", engine_step_ns=STEP_NS, seed=seed, makers_enabled=True,
        noise_traders_enabled=True, momentum_traders_enabled=True,
        makers="ACME:refresh_ms=7;LOTS:refresh_ms=11", noise_interval_ms=3,
        momentum_interval_ms=5, momentum_lookback=3, momentum_threshold_bps=5,
        starting_cash=100_000_000, leaderboard_sample_ms=20)


Tape = list[tuple[str, int, int, int, int, int, int]]


async def run(book: Any, seed: int) -> tuple[Tape, list[Any]]:
    """Start a server on the engine clock, follow every trade while one scripted client
    trades; return the tape and the client's equity samples (the leaderboard's)."""
    running = await start(engine_settings(seed), book_factory=book)
    assert running.simulation is not None and running.simulation._task is None
    prints: dict[int, tuple[str, int, int, int, int, int, int]] = {}
    try:
        async with Client(running.address) as client:
            stub = marketdata_pb2_grpc.MarketDataServiceStub(client.channel)
            call = stub.StreamMarketData(md.StreamMarketDataRequest(subscriptions=[
                md.Subscription(symbol=symbol, channels=[md.CHANNEL_TRADES])
                for symbol in LISTING]))
            reader = asyncio.create_task(follow(call, prints))
            agent = await client.create_account("agent")
            await scripted_client(client)
            last = last_trade_id(running)
            async with asyncio.timeout(10):
                while last not in {trade_id for _, trade_id, *_ in prints.values()}:
                    await asyncio.sleep(0.01)
            reader.cancel()
            call.cancel()
    finally:
        await running.stop(None)
    assert running.gateway.exchange.audit() == []
    assert running.leaderboard is not None
    samples = list(running.leaderboard.samples(agent.account_id))
    return [prints[trade_id] for trade_id in sorted(prints)], samples


async def follow(call: Any, prints: dict[int, tuple[str, int, int, int, int, int, int]]
                 ) -> None:
    async for batch in call:
        for update in batch.updates:
            for t in update.trades.trades:
                prints[t.trade_id] = (update.symbol, t.trade_id, t.price, t.quantity,
                                      t.aggressor_side, t.timestamp_ns, t.sequence)


async def scripted_client(client: Client) -> None:
    """The same 80 orders every time, each sent after the last one's answer."""
    rng = random.Random(99)
    for _ in range(80):
        symbol = rng.choice(sorted(LISTING))
        tick, lot, reference = LISTING[symbol]
        side = rng.choice((common_pb2.SIDE_BUY, common_pb2.SIDE_SELL))
        price = reference + rng.randint(-30, 30) * tick
        try:
            await client.submit(symbol, side, rng.randint(1, 5) * lot, price)
        except TradepitError as error:  # selling shares it does not hold
            assert error.code == grpc.StatusCode.FAILED_PRECONDITION


def last_trade_id(running: Running) -> int:
    exchange = running.gateway.exchange
    return max(f.trade_id for a in exchange.accounts.values() for f in a.fills)


async def test_same_seed_same_client_commands_same_tape(backend: Any) -> None:
    first, first_samples = await run(backend.Book, seed=7)
    second, second_samples = await run(backend.Book, seed=7)
    assert len(first) > 50
    assert first == second
    assert len(first_samples) > 5
    assert first_samples == second_samples  # sampled at the same commands, same equity
    other, _ = await run(backend.Book, seed=8)
    assert other != first  # the seed, not the script alone, decides the system agents
