"""gRPC for locust, as the locust documentation does it: gevent-compatible gRPC, and a
client interceptor that turns every unary call into a locust `request` event.

Locust's import has monkey-patched the standard library; `init_gevent` must follow that
and precede every gRPC object, so it runs when this module is imported, before any
user exists. Calls use the sync gRPC API: under gevent each blocks only its greenlet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import grpc.experimental.gevent
from grpc_status import rpc_status
from locust import User, constant_pacing
from locust.env import Environment
from tradepit_client.v1 import (
    account_pb2_grpc,
    admin_pb2_grpc,
    marketdata_pb2_grpc,
    order_pb2_grpc,
)

from bench.load.recorder import RECORDER

grpc.experimental.gevent.init_gevent()

LOOPBACK = "127.0.0.1:"
DEADLINE = 10.0  # seconds; an answer slower than this is an error, not a latency


def reason(error: grpc.RpcError) -> str:
    """The RejectReason name from the status's google.rpc.ErrorInfo, or ''."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is not None:
        from google.rpc import error_details_pb2

        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                return str(info.reason)
    return ""


class CallFailed(Exception):
    """A failed call as locust reports it."""


def describe(error: grpc.RpcError) -> str:
    return f"{error.code().name} {reason(error)}: {error.details()}"


class LocustInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Times each unary call from send to answer and fires a locust request event.

    `tolerated(error)` names a refusal that is part of the scenario (a cancel that lost the
    race with a fill); it is reported as a success under that name, not as a failure.
    Latencies also go to the recorder, exactly, under `<kind> <method>`.
    """

    def __init__(self, environment: Environment, kind: str,
                 tolerated: Callable[[grpc.RpcError], str | None]) -> None:
        self.environment = environment
        self.kind = kind
        self.tolerated = tolerated

    def intercept_unary_unary(self, continuation: Callable[[Any, Any], Any],
                              client_call_details: grpc.ClientCallDetails,
                              request: Any) -> Any:
        name = client_call_details.method.rsplit("/", 1)[-1]
        exception: Exception | None = None
        length = 0
        started = time.perf_counter()
        response = continuation(client_call_details, request)
        try:
            length = response.result().ByteSize()
        except grpc.RpcError as error:
            label = self.tolerated(error)
            if label is None:
                # Named by code and reason alone, so that locust's failure table groups
                # them (the message varies: "retry in 12 ms").
                exception = CallFailed(f"{error.code().name} {reason(error)}".strip())
            else:
                name = f"{name} ({label})"
        elapsed = time.perf_counter() - started
        if exception is None:
            RECORDER.latency(f"{self.kind} {name}", elapsed)
        self.environment.events.request.fire(
            request_type=self.kind, name=name, response_time=elapsed * 1000,
            response_length=length, exception=exception, context={})
        return response


class GrpcUser(User):
    """A user with one channel to the server under test and the Tradepit stubs on it."""

    abstract = True
    kind = "grpc"  # the request_type of its events, and its role in the recorder

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        host = self.host or ""
        if not host.startswith(LOOPBACK):
            # The scenarios load only a server on this machine that the command started.
            raise ValueError(f"refusing to load {host!r}: only {LOOPBACK}<port>")
        self.channel = grpc.insecure_channel(host)
        intercepted = grpc.intercept_channel(
            self.channel, LocustInterceptor(environment, self.kind, self.tolerated))
        self.orders = order_pb2_grpc.OrderServiceStub(intercepted)
        self.accounts = account_pb2_grpc.AccountServiceStub(intercepted)
        self.admin = admin_pb2_grpc.AdminServiceStub(intercepted)
        self.market = marketdata_pb2_grpc.MarketDataServiceStub(intercepted)
        self.metadata: tuple[tuple[str, str], ...] = ()
        self.pace = 0.0  # seconds from one task's start to the next one's

    def wait_time(self) -> float:
        """Paced, not a fixed pause: the offered rate does not drift with the latency."""
        return float(constant_pacing(self.pace)(self))

    def tolerated(self, error: grpc.RpcError) -> str | None:
        """Refusals this kind of user expects; none by default."""
        return None

    def error(self, message: str) -> None:
        RECORDER.error(self.kind, message)

    def on_stop(self) -> None:
        self.channel.close()
