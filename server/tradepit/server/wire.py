"""OrderStream responses as wire bytes: encoded in Rust when the extension is built,
by protobuf otherwise. Both give the same bytes (tests/server/test_wire.py).

OrderService is registered with `passthrough_serializer` for OrderStream (see
`tradepit.server.app`), so the stream may yield these bytes or a message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.protobuf.message import Message
from tradepit_client.v1 import common_pb2, order_pb2

from tradepit.server import convert
from tradepit.server.gateway import StreamReport

__all__ = ["ENCODER", "passthrough_serializer", "python_stream_response", "stream_response"]


def python_stream_response(reports: Sequence[StreamReport]) -> bytes:
    """The encoded OrderStreamResponse carrying `reports`, built as a protobuf message."""
    return order_pb2.OrderStreamResponse(reports=[
        r if isinstance(r, common_pb2.ExecutionReport) else convert.report(r) for r in reports
    ]).SerializeToString()


stream_response: Callable[[Sequence[StreamReport]], bytes]
try:
    from tradepit._native import encode_stream_response
except ImportError:  # the same bytes, about 20 times slower; tradepit.book warns of it
    ENCODER = "python"
    stream_response = python_stream_response
else:
    ENCODER = "rust"
    # Takes ExecutionReport tuples and protobuf messages alike: one call per response.
    stream_response = encode_stream_response


def passthrough_serializer(response: bytes | Message) -> bytes:
    """A response serializer for gRPC: encoded bytes go out as they are, a message
    (from a servicer or an interceptor that builds one) is encoded."""
    return response if isinstance(response, bytes) else response.SerializeToString()
