"""Health follows the journal: while commits fail, the server and the services that
write report NOT_SERVING (market data keeps serving), and SERVING once they work again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from grpc_health.v1 import health_pb2, health_pb2_grpc
from tradepit.server.app import READING_SERVICES, WRITING_SERVICES, start
from tradepit_client import Client
from tradepit_client.v1 import common_pb2

from .conftest import durable_settings, write_locked

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def statuses(stub: Any) -> dict[str, int]:
    return {name: (await stub.Check(health_pb2.HealthCheckRequest(service=name))).status
            for name in ("", *WRITING_SERVICES, *READING_SERVICES)}


async def until_status(stub: Any, wanted: dict[str, int]) -> None:
    async with asyncio.timeout(10):
        while await statuses(stub) != wanted:
            await asyncio.sleep(0.01)


async def test_health_is_not_serving_while_the_journal_cannot_commit(database: Path) -> None:
    running = await start(durable_settings(database, journal_busy_timeout_ms=100))
    writers = ("", *WRITING_SERVICES)
    try:
        async with Client(running.address) as client:
            health = health_pb2_grpc.HealthStub(client.channel)
            assert set((await statuses(health)).values()) == {SERVING}
            await client.create_account("agent")
            with write_locked(database):
                pending = asyncio.ensure_future(client.submit(
                    "ACME", common_pb2.SIDE_BUY, 1, 9_000, type=common_pb2.ORDER_TYPE_LIMIT))
                await until_status(health, {**dict.fromkeys(writers, NOT_SERVING),
                                            **dict.fromkeys(READING_SERVICES, SERVING)})
            await until_status(health, dict.fromkeys((*writers, *READING_SERVICES), SERVING))
            assert (await asyncio.wait_for(pending, 10)).order.status == \
                common_pb2.ORDER_STATUS_NEW
    finally:
        await running.stop(None)
