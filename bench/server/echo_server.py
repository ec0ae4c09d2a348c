"""The ceiling: OrderService with the same messages and a trivial handler.

Each order is answered with an acknowledgement built from the request alone, so what
this server costs is gRPC, protobuf and asyncio, and nothing of the exchange.

    python -m bench.server.echo_server --address 127.0.0.1:0
prints `PORT <n>` once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
from collections.abc import AsyncIterator
from typing import Any

import grpc
import uvloop
from tradepit_client.v1 import common_pb2, order_pb2, order_pb2_grpc

_ids = itertools.count(1)


def acknowledge(new: order_pb2.NewOrder) -> common_pb2.ExecutionReport:
    return common_pb2.ExecutionReport(
        sequence=next(_ids), client_order_id=new.client_order_id, symbol=new.symbol,
        exec_type=common_pb2.EXEC_TYPE_NEW, order_status=common_pb2.ORDER_STATUS_NEW,
        side=new.side, price=new.price, quantity=new.quantity, leaves_quantity=new.quantity,
    )


class EchoOrderService(order_pb2_grpc.OrderServiceServicer):
    async def SubmitOrder(self, request: order_pb2.NewOrder,
                          context: Any) -> order_pb2.OrderResponse:
        report = acknowledge(request)
        order = common_pb2.Order(order_id=report.sequence, client_order_id=request.client_order_id,
                                 symbol=request.symbol, side=request.side, price=request.price,
                                 quantity=request.quantity, leaves_quantity=request.quantity,
                                 status=common_pb2.ORDER_STATUS_NEW)
        return order_pb2.OrderResponse(order=order, reports=[report])

    async def OrderStream(self, request_iterator: AsyncIterator[order_pb2.OrderStreamRequest],
                          context: Any) -> AsyncIterator[order_pb2.OrderStreamResponse]:
        async for message in request_iterator:
            yield order_pb2.OrderStreamResponse(
                reports=[acknowledge(r.new) for r in message.requests])


async def serve(address: str) -> None:
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 16 << 20)])
    order_pb2_grpc.add_OrderServiceServicer_to_server(EchoOrderService(), server)
    port = server.add_insecure_port(address)
    await server.start()
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1:0")
    uvloop.run(serve(parser.parse_args().address))
