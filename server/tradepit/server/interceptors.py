"""Server interceptors, one concern each: who is calling, and refusals as statuses.

grpc.aio interceptors see only the method name and metadata, so each one wraps the
method's handler: the wrapper runs around the servicer's own coroutine or stream.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange
from tradepit.server.context import Context, Handler, Metadata
from tradepit.server.status import status_for

# The authenticated account of the call being served (set by AuthInterceptor).
CURRENT_ACCOUNT: contextvars.ContextVar[int] = contextvars.ContextVar("tradepit_account")

PUBLIC_METHODS = frozenset({"/tradepit.v1.AccountService/CreateAccount"})
PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.", "/tradepit.v1.MarketDataService/")
ADMIN_PREFIX = "/tradepit.v1.AdminService/"

Wrapper = Callable[[Callable[..., Any]], Callable[..., Any]]


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def wrap_handler(handler: Handler | None, unary: Wrapper,
                 streaming: Wrapper) -> Handler | None:
    """Return `handler` with its behaviour wrapped (unary responses vs response streams).

    The handler is rebuilt with grpc's own constructors, keeping its (de)serializers:
    grpc's handlers are namedtuples at runtime, but the stubs only promise the
    abstract `grpc.RpcMethodHandler`, which has no `_replace`.
    """
    if handler is None:
        return None
    deserializer = handler.request_deserializer
    serializer = handler.response_serializer
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(
            unary(handler.unary_unary), deserializer, serializer)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(
            unary(handler.stream_unary), deserializer, serializer)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            streaming(handler.unary_stream), deserializer, serializer)
    if handler.stream_stream:
        return grpc.stream_stream_rpc_method_handler(
            streaming(handler.stream_stream), deserializer, serializer)
    return handler  # no behaviour at all: nothing to wrap (grpc never builds one)


def _refuse(handler: Handler | None, code: grpc.StatusCode,
            message: str) -> Handler | None:
    def unary(_: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        async def refused(request: Any, context: Context) -> Any:
            await context.abort(code, message)

        return refused

    def streaming(_: Callable[..., Any]) -> Callable[..., AsyncIterator[Any]]:
        async def refused(request: Any, context: Context) -> AsyncIterator[Any]:
            await context.abort(code, message)
            yield  # pragma: no cover - makes this an async generator

        return refused

    return wrap_handler(handler, unary, streaming)


def _bearer(metadata: Metadata | None) -> str | None:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            return value[len("Bearer "):].strip()
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """API keys for the trading services, the admin token for AdminService."""

    def __init__(self, exchange: Exchange, admin_token: str) -> None:
        self._exchange = exchange
        self._admin_token = admin_token

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method = handler_call_details.method
        handler = await continuation(handler_call_details)
        if method in PUBLIC_METHODS or method.startswith(PUBLIC_PREFIXES):
            return handler
        token = _bearer(handler_call_details.invocation_metadata)
        if token is None:
            return _refuse(handler, grpc.StatusCode.UNAUTHENTICATED,
                           "missing credentials: send metadata 'authorization: Bearer <api key>'"
                           " (CreateAccount returns a key)")
        if method.startswith(ADMIN_PREFIX):
            if hmac.compare_digest(token.encode(), self._admin_token.encode()):
                return handler
            if self._exchange.account_for_key(hash_key(token)) is not None:
                return _refuse(handler, grpc.StatusCode.PERMISSION_DENIED,
                               "AdminService needs the admin token, not an account key")
            return _refuse(handler, grpc.StatusCode.UNAUTHENTICATED, "invalid admin token")
        account = self._exchange.account_for_key(hash_key(token))
        if account is None:
            return _refuse(handler, grpc.StatusCode.UNAUTHENTICATED,
                           "unknown API key: check the key CreateAccount returned")
        return _as_account(handler, account.account_id)


def _as_account(handler: Handler | None,
                account_id: int) -> Handler | None:
    def unary(behaviour: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def authenticated(request: Any, context: Context) -> Any:
            CURRENT_ACCOUNT.set(account_id)
            return await behaviour(request, context)

        return authenticated

    def streaming(behaviour: Callable[..., AsyncIterator[Any]]) -> Callable[..., Any]:
        async def authenticated(request: Any, context: Context) -> Any:
            CURRENT_ACCOUNT.set(account_id)
            async for response in behaviour(request, context):
                yield response

        return authenticated

    return wrap_handler(handler, unary, streaming)


class RejectInterceptor(grpc.aio.ServerInterceptor):
    """A `Reject` escaping a servicer becomes its gRPC status with ErrorInfo details.

    The call ends with the status set on its context, not with `context.abort`: grpc's
    AbortError is kept in a reference cycle with its traceback, dozens of objects per
    refused call, and under a flood of refusals (a client far over its rate limit) those
    cycles made the garbage collector pause the event loop for tens of milliseconds.
    """

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        def unary(behaviour: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            async def mapped(request: Any, context: Context) -> Any:
                try:
                    return await behaviour(request, context)
                except Reject as reject:
                    end_with(context, status_for(reject))
                return None

            return mapped

        def streaming(behaviour: Callable[..., AsyncIterator[Any]]) -> Callable[..., Any]:
            async def mapped(request: Any, context: Context) -> Any:
                try:
                    async for response in behaviour(request, context):
                        yield response
                except Reject as reject:
                    end_with(context, status_for(reject))

            return mapped

        return wrap_handler(await continuation(handler_call_details), unary, streaming)


def end_with(context: Context, status: grpc.Status) -> None:
    """End the call with `status` once the handler returns (it sends no message)."""
    context.set_code(status.code)
    context.set_details(status.details)
    context.set_trailing_metadata(status.trailing_metadata)
