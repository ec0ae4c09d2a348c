"""Trading agents that make Tradepit's market move: funded accounts on order streams.

Makers post passive orders and takers cross them, pair by pair, each agent on its own
OrderStream. Messages are built before the clock starts. The agents keep within WINDOW
rounds of each other (every agent's round r - WINDOW is acknowledged before round r is
sent), so takers always find the makers' orders and every taker order trades.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from tradepit_client.v1 import (
    account_pb2,
    account_pb2_grpc,
    admin_pb2,
    admin_pb2_grpc,
    common_pb2,
    order_pb2,
    order_pb2_grpc,
)

from bench.marketdata import workload

WINDOW = 2
ACKS = (common_pb2.EXEC_TYPE_NEW, common_pb2.EXEC_TYPE_REJECTED)


def messages(orders: Sequence[order_pb2.NewOrder]) -> list[order_pb2.OrderStreamRequest]:
    return [order_pb2.OrderStreamRequest(requests=[
        order_pb2.OrderRequest(new=o) for o in orders[i:i + workload.PER_MESSAGE]])
        for i in range(0, len(orders), workload.PER_MESSAGE)]


class Agent:
    """One account's order stream, counting the acknowledgements of its own orders."""

    def __init__(self, channel: grpc.aio.Channel, api_key: str) -> None:
        self.call = order_pb2_grpc.OrderServiceStub(channel).OrderStream(
            metadata=(("authorization", f"Bearer {api_key}"),))
        self.sent = self.acked = self.rejected = 0
        self.progress = asyncio.Event()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for response in self.call:
            for report in response.reports:
                if report.exec_type in ACKS:
                    self.acked += 1
                    self.rejected += report.exec_type == common_pb2.EXEC_TYPE_REJECTED
            self.progress.set()

    async def send(self, message: order_pb2.OrderStreamRequest) -> None:
        self.sent += len(message.requests)
        await self.call.write(message)

    async def acknowledged(self, count: int) -> None:
        while self.acked < count:
            if self.reader.done():
                raise RuntimeError(f"order stream ended after {self.acked} acknowledgements")
            self.progress.clear()
            await self.progress.wait()

    def close(self) -> None:
        self.call.cancel()


async def open_agent(channel: grpc.aio.Channel, admin_token: str, name: str) -> Agent:
    """A new account holding ample cash and shares, with its order stream open."""
    created = await account_pb2_grpc.AccountServiceStub(channel).CreateAccount(
        account_pb2.CreateAccountRequest(name=name))
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    for symbol, amount in (("", 10**15), (workload.SYMBOL, 10**9)):
        await admin.AdjustBalance(admin_pb2.AdjustBalanceRequest(
            account_id=created.account.account_id, amount=amount, symbol=symbol,
            kind=admin_pb2.BALANCE_CHANGE_DEPOSIT),
            metadata=(("authorization", f"Bearer {admin_token}"),))
    return Agent(channel, created.api_key)


class Market:
    """The makers and takers of one run, with the book seeded and the script pre-built."""

    def __init__(self, makers: list[Agent], takers: list[Agent], rounds: int) -> None:
        self.makers, self.takers = makers, takers
        self.script = [[(maker, messages(workload.maker_message(r, pair))[0])
                        for pair, maker in enumerate(makers)]
                       + [(taker, messages(workload.taker_message(r, pair))[0])
                          for pair, taker in enumerate(takers)]
                       for r in range(rounds)]
        self.marker = messages([workload.marker_order()])[0]

    @property
    def agents(self) -> list[Agent]:
        return [*self.makers, *self.takers]

    @property
    def orders(self) -> int:
        """Orders the timed part sends, the marker included."""
        return sum(len(m.requests) for round_ in self.script for _, m in round_) + 1

    async def seed(self) -> None:
        for message in messages(workload.seed_orders()):
            await self.makers[0].send(message)
        await self.makers[0].acknowledged(self.makers[0].sent)

    async def trade(self) -> None:
        """Every round in order, then the marker once all of them are acknowledged."""
        sent_after: list[dict[Agent, int]] = []
        for r, round_ in enumerate(self.script):
            if r >= WINDOW:
                await asyncio.gather(*(a.acknowledged(n)
                                       for a, n in sent_after[r - WINDOW].items()))
            for agent, message in round_:
                await agent.send(message)
            sent_after.append({a: a.sent for a in self.agents})
        await asyncio.gather(*(a.acknowledged(a.sent) for a in self.agents))
        await self.takers[0].send(self.marker)
        await self.takers[0].acknowledged(self.takers[0].sent)
        rejected = sum(a.rejected for a in self.agents)
        if rejected:
            raise RuntimeError(f"{rejected} orders rejected")

    def close(self) -> None:
        for agent in self.agents:
            agent.close()


async def open_market(channel: grpc.aio.Channel, admin_token: str, rounds: int) -> Market:
    makers = [await open_agent(channel, admin_token, f"maker-{i}")
              for i in range(workload.PAIRS)]
    takers = [await open_agent(channel, admin_token, f"taker-{i}")
              for i in range(workload.PAIRS)]
    market = Market(makers, takers, rounds)
    await market.seed()
    return market
