"""OrderService: order entry by unary calls and by one bidirectional stream per session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial

import grpc
from tradepit_client.v1 import common_pb2, order_pb2, order_pb2_grpc

from tradepit.exchange.codes import ExecType, RejectCode
from tradepit.exchange.commands import AmendOrder, CancelAll, CancelOrder, SubmitOrder
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import OrderResult
from tradepit.server import convert, wire
from tradepit.server.context import Context
from tradepit.server.gateway import Gateway, ReportQueue
from tradepit.server.interceptors import CURRENT_ACCOUNT
from tradepit.server.ratelimit import RateLimiter

log = logging.getLogger(__name__)


def _submit(account_id: int, new: order_pb2.NewOrder) -> Callable[[int], SubmitOrder]:
    return partial(convert.submit_order, account_id, new)


def _amend(account_id: int, amend: order_pb2.AmendOrderRequest) -> Callable[[int], AmendOrder]:
    ref = convert.order_ref(amend.order)
    return lambda now: AmendOrder(account_id, ref, amend.price, amend.quantity, now)


def _cancel(account_id: int, cancel: order_pb2.CancelOrderRequest) -> Callable[[int], CancelOrder]:
    ref = convert.order_ref(cancel.order)
    return lambda now: CancelOrder(account_id, ref, now)


def _response(result: OrderResult) -> order_pb2.OrderResponse:
    """The unary answer; a post-only refusal by the book is a FAILED_PRECONDITION."""
    for report in result.reports:
        if report.exec_type == ExecType.REJECTED and report.reject_reason is not None:
            raise Reject(RejectCode(report.reject_reason),
                         f"order {report.order_id}: {report.reject_message}")
    return order_pb2.OrderResponse(order=convert.order(result.order),
                                   reports=[convert.report(r) for r in result.reports])


def _refusal(request: order_pb2.OrderRequest, reject: Reject,
             now: int) -> common_pb2.ExecutionReport:
    """A REJECTED report for a stream request that never became an order change.

    Its sequence is 0: sequences count changes to the account's orders, and a refusal
    changes nothing.
    """
    kind = request.WhichOneof("request")
    report = common_pb2.ExecutionReport(
        exec_type=common_pb2.EXEC_TYPE_REJECTED,
        reject_reason=common_pb2.RejectReason.ValueType(reject.code),
        reject_message=reject.message, timestamp_ns=now,
    )
    if kind == "new":
        new = request.new
        report.client_order_id = new.client_order_id
        report.symbol = new.symbol
        report.side = new.side
        report.price = new.price
        report.quantity = new.quantity
        report.order_status = common_pb2.ORDER_STATUS_REJECTED
    elif kind in ("cancel", "amend"):
        ref = getattr(request, kind).order
        report.order_id = ref.order_id
        report.client_order_id = ref.client_order_id
    return report


class OrderService(order_pb2_grpc.OrderServiceServicer):
    def __init__(self, gateway: Gateway, limiter: RateLimiter, stream_queue_size: int) -> None:
        self._gateway = gateway
        self._limiter = limiter
        self._queue_size = stream_queue_size

    async def SubmitOrder(self, request: order_pb2.NewOrder,
                          context: Context) -> order_pb2.OrderResponse:
        account_id = CURRENT_ACCOUNT.get()
        self._limiter.check(account_id)
        return await self._gateway.execute(_submit(account_id, request), _response)

    async def CancelOrder(self, request: order_pb2.CancelOrderRequest,
                          context: Context) -> order_pb2.OrderResponse:
        return await self._gateway.execute(_cancel(CURRENT_ACCOUNT.get(), request), _response)

    async def AmendOrder(self, request: order_pb2.AmendOrderRequest,
                         context: Context) -> order_pb2.OrderResponse:
        account_id = CURRENT_ACCOUNT.get()
        self._limiter.check(account_id)
        return await self._gateway.execute(_amend(account_id, request), _response)

    async def CancelAll(self, request: order_pb2.CancelAllRequest,
                        context: Context) -> order_pb2.CancelAllResponse:
        account_id = CURRENT_ACCOUNT.get()
        return await self._gateway.execute(
            lambda now: CancelAll(account_id, request.symbol, now),
            lambda ids: order_pb2.CancelAllResponse(order_ids=ids))

    async def OrderStream(  # type: ignore[override]  # yields encoded responses, see wire
            self, request_iterator: AsyncIterator[order_pb2.OrderStreamRequest],
            context: Context) -> AsyncIterator[bytes]:
        """Reports flow until the client closes its side; then what is pending is sent
        and the call ends with OK. Each response leaves already encoded (`wire`):
        `app.add_order_service` registers this method with a serializer that lets bytes
        through."""
        account_id = CURRENT_ACCOUNT.get()
        queue = self._gateway.subscribe(account_id, self._queue_size)
        reader = asyncio.ensure_future(self._serve_requests(account_id, request_iterator, queue))
        reader.add_done_callback(lambda _: queue.wake())
        try:
            while True:
                await queue.wait()
                client_done = reader.done()
                if client_done:
                    reader.result()  # re-raise if serving the requests failed
                reports = queue.drain()
                if reports:
                    yield wire.stream_response(reports)  # an encoded OrderStreamResponse
                if queue.overflowed:
                    await context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        "this stream fell too far behind its execution reports and was "
                        "closed; reopen it and use ListOrders to catch up")
                if client_done:
                    return
        finally:
            reader.cancel()
            self._gateway.unsubscribe(account_id, queue)

    async def _serve_requests(self, account_id: int,
                              request_iterator: AsyncIterator[order_pb2.OrderStreamRequest],
                              queue: ReportQueue) -> None:
        async for message in request_iterator:
            self._apply_message(account_id, message.requests, queue)
            await self._gateway.throttle()
        await self._gateway.settled()  # the client is done: its reports leave before the end

    def _apply_message(self, account_id: int, requests: Sequence[order_pb2.OrderRequest],
                       queue: ReportQueue) -> None:
        """Apply one message's requests in order, without waiting: a stream's
        acknowledgements are its reports, which leave only once the journal holds the
        requests. The message is admitted whole (one check, not one per request): while
        the journal cannot take commands, each of its requests is refused with the
        reason. Its orders (new and amend) take their rate-limit tokens at once; those
        beyond what the account's bucket holds are refused, as one check each would."""
        gateway = self._gateway

        def refuse(request: order_pb2.OrderRequest, reject: Reject) -> None:
            # After the reports of the requests before it, which wait for the journal.
            gateway.after_pending(partial(queue.put, _refusal(request, reject, gateway.now())))

        try:
            gateway.admit()
        except Reject as reject:
            for request in requests:
                refuse(request, reject)
            return
        kinds = [request.WhichOneof("request") for request in requests]
        allowed = self._limiter.grant(
            account_id, kinds.count("new") + kinds.count("amend")) if kinds else 0
        for request, kind in zip(requests, kinds, strict=True):
            try:
                if kind == "new" or kind == "amend":
                    if not allowed:
                        raise self._limiter.refusal(account_id)
                    allowed -= 1
                    gateway.apply(_submit(account_id, request.new) if kind == "new"
                                  else _amend(account_id, request.amend), admit=False)
                elif kind == "cancel":
                    gateway.apply(_cancel(account_id, request.cancel), admit=False)
                else:
                    raise Reject(RejectCode.INVALID_ARGUMENT,
                                 "an OrderRequest must set one of new, cancel or amend")
            except Reject as reject:
                refuse(request, reject)
