"""OrderStream responses encoded in Rust are byte for byte what protobuf encodes, and
gRPC sends them as they are."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tradepit import _native
from tradepit.exchange.codes import ExecType, Liquidity, OrderStatus, RejectCode
from tradepit.exchange.model import ExecutionReport
from tradepit.server import convert, wire
from tradepit.server.app import add_order_service
from tradepit_client.v1 import common_pb2, order_pb2, order_pb2_grpc

ENCODERS = {"rust": _native.encode_stream_response, "python": wire.python_stream_response}


def reference(reports):
    """The bytes OrderService sent before the fast path existed."""
    return order_pb2.OrderStreamResponse(reports=[
        r if isinstance(r, common_pb2.ExecutionReport) else convert.report(r) for r in reports
    ]).SerializeToString()


INT64 = st.one_of(st.just(0), st.integers(-(2**63), 2**63 - 1), st.integers(-200, 200))
ENUM = st.integers(-(2**31), 2**31 - 1)  # proto3 enums are open: any int32 goes on the wire


def enum(members):
    return st.one_of(st.sampled_from(list(members)), st.just(0), ENUM)


reports = st.builds(
    ExecutionReport,
    account_id=INT64, sequence=INT64, order_id=INT64, client_order_id=st.text(),
    symbol=st.text(max_size=8), exec_type=enum(ExecType), order_status=enum(OrderStatus),
    side=enum([1, 2]), price=INT64, quantity=INT64, last_quantity=INT64, last_price=INT64,
    cumulative_quantity=INT64, leaves_quantity=INT64,
    average_price=st.one_of(st.just(""), st.decimals(allow_nan=False,
                                                     allow_infinity=False).map(str)),
    fee=INT64, liquidity=st.none() | enum(Liquidity), trade_id=INT64,
    reject_reason=st.none() | enum(RejectCode), reject_message=st.text(), timestamp_ns=INT64,
)
refusals = reports.map(convert.report)  # ready-made messages, as OrderService queues them
stream_reports = st.lists(st.one_of(reports, refusals), max_size=20)


@pytest.mark.parametrize("encoder", ENCODERS.values(), ids=ENCODERS.keys())
@given(stream_reports)
def test_the_encoders_give_the_bytes_protobuf_gives(encoder, reports):
    encoded = encoder(reports)
    assert encoded == reference(reports)
    parsed = order_pb2.OrderStreamResponse.FromString(encoded)
    assert list(parsed.reports) == [
        r if isinstance(r, common_pb2.ExecutionReport) else convert.report(r) for r in reports]


@given(stream_reports)
def test_rust_wraps_encoded_reports_as_given(reports):
    as_bytes = [r.SerializeToString() if isinstance(r, common_pb2.ExecutionReport) else r
                for r in reports]
    assert _native.encode_stream_response(as_bytes) == reference(reports)


def test_a_report_at_its_defaults_is_still_an_entry():
    empty = ExecutionReport(0, 0, 0, "", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, "", 0, None, 0, None,
                            "", 0)
    for encoder in ENCODERS.values():
        assert encoder([empty, common_pb2.ExecutionReport()]) == b"\x0a\x00\x0a\x00"
        assert encoder([]) == b""


def test_stream_response_is_the_native_encoder_when_the_extension_is_built():
    assert wire.ENCODER == "rust"
    assert wire.stream_response is _native.encode_stream_response


SAMPLE = ("from tradepit.exchange.model import ExecutionReport; "
          "from tradepit_client.v1 import common_pb2; "
          "from tradepit.server import wire; "
          "r = ExecutionReport(7, 3, 42, 'cl-é', 'ACME', 2, 2, 1, 10_000, 10, 4, 9_990, 4, 6, "
          "'9990', -5, 1, 77, None, '', 1_700_000_000_000_000_000); "
          "m = common_pb2.ExecutionReport(reject_reason=9, reject_message='no cash'); "
          "print(wire.ENCODER, wire.stream_response([r, m, r]).hex())")


def test_without_the_extension_the_python_encoder_gives_the_same_bytes():
    blocked = "import sys; sys.modules['tradepit._native'] = None; " + SAMPLE
    env = {k: v for k, v in os.environ.items() if k != "TRADEPIT_BOOK"}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=60, check=True).stdout.split()
            for code in (SAMPLE, blocked)]
    assert runs[0][0] == "rust"
    assert runs[1][0] == "python"
    assert runs[0][1] == runs[1][1]


def _report(**fields):
    values = dict(account_id=1, sequence=1, order_id=1, client_order_id="", symbol="ACME",
                  exec_type=ExecType.NEW, order_status=OrderStatus.NEW, side=1, price=1,
                  quantity=1, last_quantity=0, last_price=0, cumulative_quantity=0,
                  leaves_quantity=1, average_price="", fee=0, liquidity=None, trade_id=0,
                  reject_reason=None, reject_message="", timestamp_ns=1)
    return ExecutionReport(**(values | fields))


@pytest.mark.parametrize("name", ExecutionReport._fields[1:])  # account_id is not sent
def test_rust_reads_the_fields_in_the_model_order(name):
    with pytest.raises(TypeError) as raised:
        _native.encode_stream_response([_report(), _report(**{name: object()})])
    assert raised.value.__notes__ == [f"in field ExecutionReport.{name}"]


@pytest.mark.parametrize("bad", [_report(timestamp_ns=2**63), _report(price=-(2**63) - 1),
                                 _report(exec_type=2**31), _report(reject_reason=-(2**31) - 1)])
def test_rust_refuses_integers_outside_their_field(bad):
    with pytest.raises(OverflowError):
        _native.encode_stream_response([bad])


@pytest.mark.parametrize(("bad", "message"), [
    ((1, 2, 3), "an ExecutionReport has 21 fields, got a tuple of 3"),
    (17, "a report is an ExecutionReport tuple, bytes or a message, not int"),
])
def test_rust_refuses_what_is_not_a_report(bad, message):
    with pytest.raises(TypeError, match=message):
        _native.encode_stream_response([bad])


def test_the_passthrough_serializer_encodes_only_messages():
    message = order_pb2.OrderStreamResponse(reports=[common_pb2.ExecutionReport(order_id=3)])
    assert wire.passthrough_serializer(b"\x0a\x00") == b"\x0a\x00"
    assert wire.passthrough_serializer(message) == message.SerializeToString()


class EncodedStream(order_pb2_grpc.OrderServiceServicer):
    """Answers an OrderStream with one response per request, encoded by wire."""

    def __init__(self, reports):
        self.reports = reports

    async def OrderStream(self, request_iterator, context) -> AsyncIterator[bytes]:
        async for _ in request_iterator:
            yield wire.stream_response(self.reports)


async def test_encoded_responses_reach_a_client_as_they_were_encoded():
    reports = [_report(client_order_id="ü", price=-1), _report(liquidity=Liquidity.TAKER),
               common_pb2.ExecutionReport(reject_reason=14, reject_message="slow down")]
    server = grpc.aio.server()
    add_order_service(EncodedStream(reports), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = order_pb2_grpc.OrderServiceStub(channel).OrderStream()
            await call.write(order_pb2.OrderStreamRequest())
            response = await call.read()
            await call.done_writing()
            assert response == order_pb2.OrderStreamResponse.FromString(reference(reports))
    finally:
        await server.stop(None)
