"""The flooding agent: submits orders at FLOOD_FACTOR times its account's rate limit.

Its orders keep to a clock, not to the answers: each tick sends, from a pool of
greenlets, every order due since the start, so a slow answer never lowers the rate.
Each order is an IOC buy far below the market, so what gets through expires at once and
leaves the book as it was. The server must turn the excess away with RESOURCE_EXHAUSTED
(and say when to retry), without slowing the well-behaved agents; those refusals are
the point of this user, so they are counted, not treated as its errors.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import cast

import grpc
from gevent.pool import Pool
from locust import task
from locust.env import Environment
from tradepit_client.v1 import account_pb2, common_pb2, marketdata_pb2, order_pb2

from bench.load.grpc_user import DEADLINE, GrpcUser, describe
from bench.load.plan import FLOOD_FACTOR, SYMBOLS
from bench.load.recorder import RECORDER

BELOW = 50  # ticks under the reference price: never trades, well inside the price band
TICK = 0.05  # seconds between the flooder's tasks
IN_FLIGHT = 64  # orders awaiting an answer at most; beyond it the flooder waits


class Flooder(GrpcUser):
    abstract = False
    kind = "flooder"

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        self.rate = FLOOD_FACTOR * (options.rate_limit if options else 1)
        self.pace = TICK
        self.order = order_pb2.NewOrder()
        self.started = 0.0
        self.sent = 0
        self.pool = Pool(IN_FLIGHT)

    def on_start(self) -> None:
        created = self.accounts.CreateAccount(
            account_pb2.CreateAccountRequest(name="load-flooder"), timeout=DEADLINE)
        self.metadata = (("authorization", f"Bearer {created.api_key}"),)
        instruments = self.market.ListInstruments(marketdata_pb2.ListInstrumentsRequest(),
                                                  timeout=DEADLINE).instruments
        listing = next(i for i in instruments if i.symbol == SYMBOLS[0])
        self.order = order_pb2.NewOrder(
            symbol=listing.symbol, side=common_pb2.SIDE_BUY, type=common_pb2.ORDER_TYPE_LIMIT,
            time_in_force=common_pb2.TIME_IN_FORCE_IOC,
            price=listing.reference_price - BELOW * listing.tick_size, quantity=listing.lot_size)
        self.started = time.monotonic()

    @task
    def flood(self) -> None:
        due = int(self.rate * (time.monotonic() - self.started)) - self.sent
        for _ in range(due):
            self.sent += 1
            self.pool.spawn(self.send)

    def send(self) -> None:
        RECORDER.count("flooder.sent")
        try:
            self.orders.SubmitOrder(self.order, metadata=self.metadata, timeout=DEADLINE)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                self.error(describe(error))
                return
            RECORDER.count("flooder.throttled")
            # gRPC gives (key, value) pairs; the stubs call them objects with attributes.
            trailing = cast(Sequence[tuple[str, str]], error.trailing_metadata() or ())
            RECORDER.count("flooder.retry_after", any(k == "retry-after-ms" for k, _ in trailing))
        else:
            RECORDER.count("flooder.accepted")

    def on_stop(self) -> None:
        self.pool.join(timeout=DEADLINE)
        if self.started:
            RECORDER.value("flooder.seconds", time.monotonic() - self.started)
        super().on_stop()
