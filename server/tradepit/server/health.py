"""The standard health service, telling whether the exchange can take commands now.

Market data and reflection keep working while the journal cannot commit, but every
command is refused with UNAVAILABLE meanwhile. So the server as a whole ("") and the
services that write say NOT_SERVING until commits work again: an agent or a load
balancer watching health backs off instead of retrying into refusals.
"""

from __future__ import annotations

import asyncio

from grpc_health.v1 import health, health_pb2

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class ExchangeHealth:
    def __init__(self, writers: tuple[str, ...], readers: tuple[str, ...]) -> None:
        self.servicer = health.aio.HealthServicer()
        self.writers = ("", *writers)
        self.readers = readers
        self._updates: set[asyncio.Task[None]] = set()

    async def serve(self) -> None:
        for name in (*self.writers, *self.readers):
            await self.servicer.set(name, SERVING)

    def journal_failing(self, reason: str | None) -> None:
        """The journal started (a reason) or stopped (None) failing to commit."""
        task = asyncio.get_running_loop().create_task(
            self._set_writers(NOT_SERVING if reason is not None else SERVING))
        self._updates.add(task)
        task.add_done_callback(self._updates.discard)

    async def _set_writers(self, status: int) -> None:
        for name in self.writers:
            await self.servicer.set(name, status)
