"""A well-behaved trading agent: submits, cancels and amends limit orders, by unary calls
and over its order stream, and reads every execution report.

Each order's latency runs from sending it to its acknowledgement: the unary answer, or on
the stream the first report for it (NEW, or REJECTED). The stream's reports also tell the
agent which of its orders are still open, so it cancels and amends only those; a cancel
or amend that loses the race with a fill is refused as ORDER_NOT_OPEN, which is part of
trading and counted apart. Any other refusal, a failed call, a gap in the stream's
sequence numbers or an order never acknowledged is an error.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import gevent
import grpc
from gevent.queue import Queue
from google.protobuf.message import Message
from locust import task
from locust.env import Environment
from tradepit_client.v1 import (
    account_pb2,
    admin_pb2,
    common_pb2,
    marketdata_pb2,
    order_pb2,
)

from bench.load.grpc_user import DEADLINE, GrpcUser, describe, reason
from bench.load.plan import SYMBOLS
from bench.load.recorder import RECORDER

OPEN = (common_pb2.ORDER_STATUS_NEW, common_pb2.ORDER_STATUS_PARTIALLY_FILLED)
LATE = "ORDER_NOT_OPEN"
MAX_OPEN = 20  # beyond this many open orders a submit turns into a cancel
CASH = 10**10  # deposited by the admin: buying power is never what limits the agent
LOTS = 100_000  # shares deposited per symbol, in lots: nor is selling
STREAM_WAIT = 10.0  # seconds to wait at the end for the stream's last acknowledgements
_ACKS = {
    "new": None,  # any first report acknowledges a new order
    "cancel": (common_pb2.EXEC_TYPE_CANCELED, common_pb2.EXEC_TYPE_REJECTED),
    "amend": (common_pb2.EXEC_TYPE_REPLACED, common_pb2.EXEC_TYPE_REJECTED),
}
_numbers = itertools.count()
Responses = Iterator[order_pb2.OrderStreamResponse]


@dataclass(frozen=True)
class Listing:
    symbol: str
    tick: int
    lot: int
    reference: int


@dataclass
class Pending:
    """A stream request waiting for its acknowledgement."""

    kind: str
    sent: float


class TradingAgent(GrpcUser):
    abstract = False
    kind = "trader"

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.number = next(_numbers)
        options = environment.parsed_options
        self.rng = random.Random(f"{options.seed if options else 0}-trader-{self.number}")
        self.admin_token = options.admin_token if options else ""
        self.pace = 1 / options.trader_rate if options else 1.0
        self.listings: list[Listing] = []
        self.listing_of: dict[str, Listing] = {}  # client_order_id -> its instrument
        self.status: dict[str, tuple[int, int]] = {}  # client_order_id -> (sequence, status)
        self.open: dict[str, None] = {}  # open orders, oldest first (a dict keeps order)
        self.pending: dict[str, Pending] = {}  # stream requests awaiting their ack
        self.stream_sequence = 0
        self.sent = 0
        self.outbox: Queue[order_pb2.OrderStreamRequest | None] = Queue()
        self.closing = False
        self.follower: gevent.Greenlet[[Responses], None] | None = None

    def tolerated(self, error: grpc.RpcError) -> str | None:
        return "too late" if reason(error) == LATE else None

    # --- set-up and tear-down --------------------------------------------------------

    def on_start(self) -> None:
        created = self.accounts.CreateAccount(
            account_pb2.CreateAccountRequest(name=f"load-trader-{self.number}"),
            timeout=DEADLINE)
        self.metadata = (("authorization", f"Bearer {created.api_key}"),)
        admin = (("authorization", f"Bearer {self.admin_token}"),)
        account = created.account.account_id
        instruments = self.market.ListInstruments(marketdata_pb2.ListInstrumentsRequest(),
                                                  timeout=DEADLINE)
        for instrument in instruments.instruments:
            if instrument.symbol in SYMBOLS:
                self.listings.append(Listing(instrument.symbol, instrument.tick_size,
                                             instrument.lot_size, instrument.reference_price))
                self.admin.AdjustBalance(admin_pb2.AdjustBalanceRequest(
                    account_id=account, amount=LOTS * instrument.lot_size,
                    kind=admin_pb2.BALANCE_CHANGE_DEPOSIT, symbol=instrument.symbol),
                    metadata=admin, timeout=DEADLINE)
        self.admin.AdjustBalance(admin_pb2.AdjustBalanceRequest(
            account_id=account, amount=CASH, kind=admin_pb2.BALANCE_CHANGE_DEPOSIT),
            metadata=admin, timeout=DEADLINE)
        responses = self.orders.OrderStream(iter(self.outbox.get, None), metadata=self.metadata)
        self.follower = gevent.spawn(self.follow, responses)

    def on_stop(self) -> None:
        """Close our side; the server then sends what is pending and ends the call."""
        self.closing = True
        self.outbox.put(None)
        if self.follower is not None:
            self.follower.join(STREAM_WAIT)
            self.follower.kill()
        for coid, pending in self.pending.items():
            self.error(f"stream {pending.kind} of {coid} never acknowledged")
        self.pending.clear()
        super().on_stop()

    # --- reading the stream ----------------------------------------------------------

    def follow(self, responses: Responses) -> None:
        try:
            for response in responses:
                for report in response.reports:
                    self.on_stream_report(report)
        except grpc.RpcError as error:
            if not (self.closing and error.code() == grpc.StatusCode.CANCELLED):
                self.error(f"order stream ended: {describe(error)}")

    def on_stream_report(self, report: common_pb2.ExecutionReport) -> None:
        if report.sequence:
            # The first report may follow orders sent before the server had opened the
            # stream; from there on every one must follow the last.
            if self.stream_sequence and report.sequence != self.stream_sequence + 1:
                self.error(f"execution report {report.sequence} after {self.stream_sequence}")
            self.stream_sequence = report.sequence
        self.track(report)
        RECORDER.count("trader.reports")
        if report.exec_type == common_pb2.EXEC_TYPE_TRADE:
            RECORDER.count("trader.fills")
        pending = self.pending.get(report.client_order_id)
        if pending is None:
            return
        acks = _ACKS[pending.kind]
        if acks is not None and report.exec_type not in acks:
            return
        del self.pending[report.client_order_id]
        elapsed = time.perf_counter() - pending.sent
        name, exception = f"OrderStream {pending.kind}", None
        if report.exec_type == common_pb2.EXEC_TYPE_REJECTED:
            why = common_pb2.RejectReason.Name(report.reject_reason).removeprefix(
                "REJECT_REASON_")
            if why == LATE and pending.kind != "new":
                name += " (too late)"
                RECORDER.count("trader.late")
            else:
                exception = RuntimeError(f"{why}: {report.reject_message}")
                self.error(f"stream {pending.kind} of {report.client_order_id} refused: "
                           f"{exception}")
        if exception is None:
            RECORDER.latency(f"trader {name}", elapsed)
        self.environment.events.request.fire(
            request_type=self.kind, name=name, response_time=elapsed * 1000,
            response_length=report.ByteSize(), exception=exception, context={})

    def track(self, report: common_pb2.ExecutionReport) -> None:
        """The latest word on each order wins, whichever path (unary answer or stream)
        brought it: reports carry the account's sequence. Refusals (sequence 0) change
        no order."""
        coid = report.client_order_id
        if not report.sequence or not coid:
            return
        known = self.status.get(coid)
        if known is not None and known[0] >= report.sequence:
            return
        self.status[coid] = (report.sequence, report.order_status)
        if report.order_status in OPEN:
            self.open.setdefault(coid)
        else:
            self.open.pop(coid, None)

    # --- trading ---------------------------------------------------------------------

    @task
    def act(self) -> None:
        """One step of the mix, drawn from this agent's own seeded generator."""
        roll = self.rng.random()
        idle = [coid for coid in self.open if coid not in self.pending]
        if len(self.open) >= MAX_OPEN and idle:
            roll = 0.9 + roll * 0.1  # too many open: a cancel or an amend, not a new order
        if roll < 0.35:
            self.submit()
        elif roll < 0.7:
            self.stream_submit()
        elif not idle:
            self.submit()
        elif roll < 0.8:
            self.cancel(self.rng.choice(idle))
        elif roll < 0.9:
            self.amend(self.rng.choice(idle))
        else:
            self.stream_cancel_or_amend(self.rng.choice(idle))

    def new_order(self) -> order_pb2.NewOrder:
        listing = self.rng.choice(self.listings)
        self.sent += 1
        coid = f"t{self.number}-{self.sent}"
        self.listing_of[coid] = listing
        return order_pb2.NewOrder(
            client_order_id=coid, symbol=listing.symbol,
            side=self.rng.choice((common_pb2.SIDE_BUY, common_pb2.SIDE_SELL)),
            type=common_pb2.ORDER_TYPE_LIMIT, time_in_force=common_pb2.TIME_IN_FORCE_GTC,
            price=listing.reference + listing.tick * self.rng.randint(-15, 15),
            quantity=listing.lot * self.rng.randint(1, 5))

    def unary(self, what: str, call: Callable[..., order_pb2.OrderResponse],
              request: Message) -> None:
        try:
            response = call(request, metadata=self.metadata, timeout=DEADLINE)
        except grpc.RpcError as error:
            if reason(error) == LATE:
                RECORDER.count("trader.late")
            else:
                self.error(f"{what}: {describe(error)}")
            return
        for report in response.reports:
            self.track(report)

    def submit(self) -> None:
        RECORDER.count("trader.orders")
        self.unary("SubmitOrder", self.orders.SubmitOrder, self.new_order())

    def cancel(self, coid: str) -> None:
        self.unary("CancelOrder", self.orders.CancelOrder, order_pb2.CancelOrderRequest(
            order=order_pb2.OrderRef(client_order_id=coid)))

    def amend(self, coid: str) -> None:
        self.unary("AmendOrder", self.orders.AmendOrder, self.amend_request(coid))

    def amend_request(self, coid: str) -> order_pb2.AmendOrderRequest:
        listing = self.listing_of[coid]
        return order_pb2.AmendOrderRequest(
            order=order_pb2.OrderRef(client_order_id=coid),
            price=listing.reference + listing.tick * self.rng.randint(-15, 15),
            quantity=listing.lot * self.rng.randint(1, 5))

    def stream_submit(self) -> None:
        orders = [self.new_order() for _ in range(self.rng.randint(1, 3))]
        RECORDER.count("trader.orders", len(orders))
        self.send([order_pb2.OrderRequest(new=order) for order in orders],
                  [(order.client_order_id, "new") for order in orders])

    def stream_cancel_or_amend(self, coid: str) -> None:
        ref = order_pb2.OrderRef(client_order_id=coid)
        if self.rng.random() < 0.5:
            request = order_pb2.OrderRequest(cancel=order_pb2.CancelOrderRequest(order=ref))
            self.send([request], [(coid, "cancel")])
        else:
            self.send([order_pb2.OrderRequest(amend=self.amend_request(coid))],
                      [(coid, "amend")])

    def send(self, requests: list[order_pb2.OrderRequest], keys: list[tuple[str, str]]) -> None:
        sent = time.perf_counter()
        for coid, kind in keys:
            self.pending[coid] = Pending(kind, sent)
        self.outbox.put(order_pb2.OrderStreamRequest(requests=requests))
