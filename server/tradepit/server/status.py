"""The one place where exchange refusals become gRPC statuses."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from tradepit.exchange.codes import RejectCode
from tradepit.exchange.errors import Reject
from tradepit.server.context import Metadata

DOMAIN = "tradepit.v1"
RETRY_AFTER_KEY = "retry-after-ms"

STATUS_OF = {
    RejectCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    RejectCode.PRICE_OFF_TICK: grpc.StatusCode.INVALID_ARGUMENT,
    RejectCode.QUANTITY_OFF_LOT: grpc.StatusCode.INVALID_ARGUMENT,
    RejectCode.QUANTITY_TOO_LARGE: grpc.StatusCode.INVALID_ARGUMENT,
    RejectCode.NOTIONAL_TOO_LARGE: grpc.StatusCode.INVALID_ARGUMENT,
    RejectCode.UNKNOWN_SYMBOL: grpc.StatusCode.NOT_FOUND,
    RejectCode.UNKNOWN_ORDER: grpc.StatusCode.NOT_FOUND,
    RejectCode.UNKNOWN_ACCOUNT: grpc.StatusCode.NOT_FOUND,
    RejectCode.TRADING_HALTED: grpc.StatusCode.FAILED_PRECONDITION,
    RejectCode.PRICE_OUTSIDE_BAND: grpc.StatusCode.FAILED_PRECONDITION,
    RejectCode.INSUFFICIENT_BUYING_POWER: grpc.StatusCode.FAILED_PRECONDITION,
    RejectCode.INSUFFICIENT_SHARES: grpc.StatusCode.FAILED_PRECONDITION,
    RejectCode.ORDER_NOT_OPEN: grpc.StatusCode.FAILED_PRECONDITION,
    RejectCode.POST_ONLY_WOULD_CROSS: grpc.StatusCode.FAILED_PRECONDITION,
    RejectCode.DUPLICATE_CLIENT_ORDER_ID: grpc.StatusCode.ALREADY_EXISTS,
    RejectCode.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    RejectCode.RATE_LIMITED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    RejectCode.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    RejectCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
}


class RateLimited(Reject):
    """Over the account's order rate; carries how long to wait before trying again."""

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(RejectCode.RATE_LIMITED,
                         f"order rate limit exceeded; retry in {retry_after_ms} ms")
        self.retry_after_ms = retry_after_ms


def status_for(reject: Reject) -> grpc.Status:
    """A rich status: code, message, and google.rpc details a program can read."""
    code = STATUS_OF[reject.code]
    info = error_details_pb2.ErrorInfo(reason=reject.code.name, domain=DOMAIN)
    details = [_pack(info)]
    trailing: Metadata = ()
    if isinstance(reject, RateLimited):
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(reject.retry_after_ms)
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
        trailing = ((RETRY_AFTER_KEY, str(reject.retry_after_ms)),)
    message = status_pb2.Status(code=getattr(code_pb2, code.name), message=reject.message,
                                details=details)
    status = rpc_status.to_status(message)
    return _WithTrailing(status.code, status.details,
                         tuple(status.trailing_metadata) + trailing)


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


class _WithTrailing(grpc.Status):
    def __init__(self, code: grpc.StatusCode, details: str,
                 trailing_metadata: Metadata) -> None:
        self.code = code
        self.details = details
        self.trailing_metadata = trailing_metadata
