"""A thin asyncio client over the generated stubs.

`Client` holds one channel and sends the API key with every call. `OrderSession` is one
OrderStream: requests queue up locally and `flush()` sends them in one message, while
iterating the session yields execution reports for all of the account's orders.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, TypeVar, cast

import grpc
from grpc_status import rpc_status

from tradepit_client.v1 import (
    account_pb2,
    account_pb2_grpc,
    admin_pb2_grpc,
    common_pb2,
    order_pb2,
    order_pb2_grpc,
)

DEFAULT_TARGET = "127.0.0.1:50051"

_Request = TypeVar("_Request")
_Response = TypeVar("_Response")


class TradepitError(Exception):
    """A failed call: the gRPC code, the server's message and its ErrorInfo reason."""

    def __init__(self, error: grpc.aio.AioRpcError) -> None:
        self.code = error.code()
        self.message = error.details() or ""
        self.reason = ""
        self.retry_after_ms = 0
        # The stub wants a sync grpc.Call; an AioRpcError has the same sync code(),
        # details() and trailing_metadata() that from_call reads.
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        if status is not None:
            for detail in status.details:
                if detail.type_url.endswith("google.rpc.ErrorInfo"):
                    from google.rpc import error_details_pb2

                    info = error_details_pb2.ErrorInfo()
                    detail.Unpack(info)
                    self.reason = info.reason
        for key, value in error.trailing_metadata() or ():
            if key == "retry-after-ms":
                self.retry_after_ms = int(value)
        super().__init__(f"{self.code.name}: {self.message}")


def _target(url: str) -> str:
    for scheme in ("grpc://", "http://"):
        if url.startswith(scheme):
            return url[len(scheme):]
    return url


async def _call(method: grpc.aio.UnaryUnaryMultiCallable[_Request, _Response],
                request: _Request, metadata: Sequence[tuple[str, str]]) -> _Response:
    try:
        return await method(request, metadata=metadata)
    except grpc.aio.AioRpcError as error:
        raise TradepitError(error) from None


class Client:
    """Connect with `Client(url, api_key)`; use as `async with` or call `close()`."""

    def __init__(self, url: str = DEFAULT_TARGET, api_key: str | None = None, *,
                 channel: grpc.aio.Channel | None = None) -> None:
        self.channel = channel or grpc.aio.insecure_channel(_target(url))
        self.api_key = api_key
        self.accounts = account_pb2_grpc.AccountServiceStub(self.channel)
        self.orders = order_pb2_grpc.OrderServiceStub(self.channel)
        self.admin = admin_pb2_grpc.AdminServiceStub(self.channel)

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.api_key}"),) if self.api_key else ()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def create_account(self, name: str) -> common_pb2.Account:
        """Open an account and use its key from now on."""
        response = await _call(self.accounts.CreateAccount,
                               account_pb2.CreateAccountRequest(name=name), ())
        self.api_key = response.api_key
        return response.account

    async def portfolio(self) -> account_pb2.Portfolio:
        return await _call(self.accounts.GetPortfolio, account_pb2.GetPortfolioRequest(),
                           self.metadata)

    async def leaderboard(self, include_system: bool = False, page_size: int = 0,
                          page_token: str = "") -> account_pb2.GetLeaderboardResponse:
        """One page of the ranking by equity (`next_page_token` names the next)."""
        request = account_pb2.GetLeaderboardRequest(
            include_system=include_system, page_size=page_size, page_token=page_token)
        return await _call(self.accounts.GetLeaderboard, request, self.metadata)

    async def submit(self, symbol: str, side: int, quantity: int, price: int = 0,
                     **fields: Any) -> order_pb2.OrderResponse:
        """Place an order; `price=0` with `type=ORDER_TYPE_MARKET` for a market order."""
        return await _call(self.orders.SubmitOrder,
                           new_order(symbol, side, quantity, price, **fields), self.metadata)

    async def cancel(self, order_id: int = 0, client_order_id: str = "") -> order_pb2.OrderResponse:
        request = order_pb2.CancelOrderRequest(order=order_ref(order_id, client_order_id))
        return await _call(self.orders.CancelOrder, request, self.metadata)

    async def amend(self, order_id: int, price: int, quantity: int,
                    client_order_id: str = "") -> order_pb2.OrderResponse:
        request = order_pb2.AmendOrderRequest(order=order_ref(order_id, client_order_id),
                                              price=price, quantity=quantity)
        return await _call(self.orders.AmendOrder, request, self.metadata)

    async def cancel_all(self, symbol: str = "") -> list[int]:
        response = await _call(self.orders.CancelAll, order_pb2.CancelAllRequest(symbol=symbol),
                               self.metadata)
        return list(response.order_ids)

    def session(self) -> OrderSession:
        return OrderSession(self)


def new_order(symbol: str, side: int, quantity: int, price: int = 0,
              **fields: Any) -> order_pb2.NewOrder:
    fields.setdefault("client_order_id", uuid.uuid4().hex)
    if price == 0 and "type" not in fields:
        fields["type"] = common_pb2.ORDER_TYPE_MARKET
    # `side` is a common_pb2.SIDE_* number; protobuf itself checks it, as before.
    return order_pb2.NewOrder(symbol=symbol, side=cast(common_pb2.Side.ValueType, side),
                              quantity=quantity,
                              price=price, **fields)


def order_ref(order_id: int = 0, client_order_id: str = "") -> order_pb2.OrderRef:
    if client_order_id:
        return order_pb2.OrderRef(client_order_id=client_order_id)
    return order_pb2.OrderRef(order_id=order_id)


class OrderSession:
    """One bidirectional OrderStream. Queue requests, `flush()` them as one batch,
    and `async for report in session` to follow every report of the account."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._pending: list[order_pb2.OrderRequest] = []
        self._outgoing: asyncio.Queue[order_pb2.OrderStreamRequest | None] = asyncio.Queue()
        self._call: grpc.aio.StreamStreamCall[
            order_pb2.OrderStreamRequest, order_pb2.OrderStreamResponse] | None = None

    async def __aenter__(self) -> OrderSession:
        self._call = self._client.orders.OrderStream(self._requests(),
                                                     metadata=self._client.metadata)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._call is not None:
            self._call.cancel()
            self._call = None

    def submit(self, symbol: str, side: int, quantity: int, price: int = 0,
               **fields: Any) -> str:
        """Queue a new order; returns its client_order_id."""
        order = new_order(symbol, side, quantity, price, **fields)
        self._pending.append(order_pb2.OrderRequest(new=order))
        return order.client_order_id

    def cancel(self, order_id: int = 0, client_order_id: str = "") -> None:
        ref = order_ref(order_id, client_order_id)
        self._pending.append(order_pb2.OrderRequest(cancel=order_pb2.CancelOrderRequest(order=ref)))

    def amend(self, order_id: int, price: int, quantity: int, client_order_id: str = "") -> None:
        request = order_pb2.AmendOrderRequest(order=order_ref(order_id, client_order_id),
                                              price=price, quantity=quantity)
        self._pending.append(order_pb2.OrderRequest(amend=request))

    async def flush(self) -> int:
        """Send everything queued in one message; returns how many requests went."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, []
        await self._outgoing.put(order_pb2.OrderStreamRequest(requests=batch))
        return len(batch)

    async def _requests(self) -> AsyncIterator[order_pb2.OrderStreamRequest]:
        while (message := await self._outgoing.get()) is not None:
            yield message

    async def reports(self) -> AsyncIterator[common_pb2.ExecutionReport]:
        if self._call is None:
            raise RuntimeError("use the session inside `async with client.session()`")
        try:
            async for response in self._call:
                for report in response.reports:
                    yield report
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                raise TradepitError(error) from None

    def __aiter__(self) -> AsyncIterator[common_pb2.ExecutionReport]:
        return self.reports()
