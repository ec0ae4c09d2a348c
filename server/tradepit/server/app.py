"""Build and run the gRPC server: services, health, reflection, interceptors, limits."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from tradepit_client.v1 import (
    account_pb2,
    account_pb2_grpc,
    admin_pb2,
    admin_pb2_grpc,
    marketdata_pb2,
    order_pb2,
    order_pb2_grpc,
)

from tradepit.book import BACKEND, Book
from tradepit.config import Settings
from tradepit.exchange.commands import CreateInstrument, SetLimits
from tradepit.exchange.digest import state_digest
from tradepit.exchange.exchange import Exchange, Limits
from tradepit.exchange.native import NativeExchange, exchange_kind
from tradepit.exchange.snapshot import adopt
from tradepit.journal.group_commit import GroupCommit
from tradepit.journal.pending import pending_entries
from tradepit.journal.recovery import Recovered, recover
from tradepit.journal.snapshots import Snapshotter, open_snapshot
from tradepit.journal.store import Journal, SnapshotRow
from tradepit.journal.writer import JournalWriter
from tradepit.leaderboard.sampler import EquitySampler
from tradepit.marketdata.hub import MarketDataHub
from tradepit.server.account_service import AccountService
from tradepit.server.admin_service import AdminService
from tradepit.server.clock import EngineClock, WallClock
from tradepit.server.context import Handler
from tradepit.server.gateway import Gateway
from tradepit.server.health import ExchangeHealth
from tradepit.server.history import MemoryHistory, StoreHistory
from tradepit.server.interceptors import AuthInterceptor, RejectInterceptor
from tradepit.server.marketdata_service import MarketDataService, add_to_server
from tradepit.server.order_service import OrderService
from tradepit.server.ratelimit import RateLimiter
from tradepit.server.wire import passthrough_serializer
from tradepit.simulation.runner import SimulationRunner, start_simulation
from tradepit.store.reader import StoreReader
from tradepit.store.sync import attach

log = logging.getLogger(__name__)

BookFactory = Callable[[int, int], Any]

WRITING_SERVICES = (  # NOT_SERVING in health while the journal cannot commit
    account_pb2.DESCRIPTOR.services_by_name["AccountService"].full_name,
    order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
)
READING_SERVICES = (
    marketdata_pb2.DESCRIPTOR.services_by_name["MarketDataService"].full_name,
)
SERVICE_NAMES = WRITING_SERVICES + READING_SERVICES


@dataclass
class Running:
    """A started server and what a caller (a test, the entry point) needs from it."""

    server: grpc.aio.Server
    port: int
    gateway: Gateway
    admin_token: str
    settings: Settings
    recovered: Recovered | None = None  # what the journal held at start; None: durability off
    simulation: SimulationRunner | None = None  # None: TRADEPIT_MAKERS_ENABLED=false
    leaderboard: EquitySampler | None = None  # the equity samples GetLeaderboard reads
    store: StoreReader | None = None  # history reads; None: durability off
    hub: MarketDataHub | None = None  # market data as published

    async def stop(self, grace: float | None) -> None:
        """Stop serving (in-flight calls get `grace` s), then commit what is pending and
        take a last snapshot (TRADEPIT_SNAPSHOT_EVERY > 0), so the next start replays
        nothing."""
        if self.leaderboard is not None:
            await self.leaderboard.stop()
        if self.simulation is not None:
            await self.simulation.stop()
        await self.server.stop(grace)
        if self.gateway.journal is not None:
            lost = await self.gateway.journal.close()
            if lost:
                log.error("%d applied commands were never made durable nor acknowledged", lost)
        if self.store is not None:
            self.store.close()

    @property
    def address(self) -> str:
        host = self.settings.address.rsplit(":", 1)[0]
        return f"{host}:{self.port}"


def server_options(settings: Settings) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.max_metadata_size", settings.max_metadata_bytes),
        ("grpc.max_concurrent_streams", settings.max_concurrent_streams),
        ("grpc.keepalive_time_ms", settings.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", settings.keepalive_timeout_ms),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", settings.min_ping_interval_ms),
        ("grpc.http2.max_ping_strikes", 2),
    ]


class _Handlers:
    """Stands in for the server in a generated `add_*_to_server` to keep its handlers."""

    def __init__(self) -> None:
        self.by_method: dict[str, Handler] = {}

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        pass

    def add_registered_method_handlers(self, service: str,
                                       handlers: dict[str, Handler]) -> None:
        self.by_method = handlers


def add_order_service(service: OrderService, server: grpc.aio.Server) -> None:
    """Register like the generated `add_OrderServiceServicer_to_server`, except that
    OrderStream may yield responses already encoded (tradepit.server.wire)."""
    generated = _Handlers()
    order_pb2_grpc.add_OrderServiceServicer_to_server(service, generated)  # type: ignore[arg-type]
    handlers = generated.by_method
    handlers["OrderStream"] = grpc.stream_stream_rpc_method_handler(
        service.OrderStream, order_pb2.OrderStreamRequest.FromString, passthrough_serializer)
    name = order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    server.add_registered_method_handlers(name, handlers)


def build_exchange(settings: Settings, book_factory: BookFactory | None = None) -> Gateway:
    """An empty exchange behind its gateway; `restore` fills it and sets its limits.
    The Rust exchange (`settings.exchange`) has the Rust engine's books of its own; a
    `book_factory` is for the Python exchange's, and asks for it when no exchange is set."""
    kind = "python" if book_factory and settings.exchange is None else exchange_kind(
        settings.exchange)
    if kind == "rust" and book_factory is not None:
        raise ValueError("the Rust exchange has books of its own: it takes no book_factory")
    # The Rust exchange has the Python one's interface, held to it by tests/exchange and
    # by the server suite on both.
    exchange = (cast(Exchange, NativeExchange()) if kind == "rust"
                else Exchange(book_factory=book_factory or Book))
    clock = EngineClock(settings.engine_step_ns) if settings.clock == "engine" else WallClock()
    return Gateway(exchange, clock)


async def restore(settings: Settings, gateway: Gateway, book_factory: BookFactory | None = None,
                  on_snapshot: Callable[[], None] | None = None) -> Recovered | None:
    """Load the newest good snapshot and replay the journal after it into the gateway's
    exchange, and journal (and snapshot) from then on (durability on); list the
    configured instruments when there is no history. Before serving. `on_snapshot` runs
    right after a snapshot is loaded, before the replay: listeners that know the books
    only by their events take them from there."""
    recovered = None
    book_factory = book_factory or Book
    if settings.durability == "on":
        journal = Journal(settings.database_url, settings.journal_busy_timeout_ms)

        def load(row: SnapshotRow) -> None:
            adopt(gateway.exchange, open_snapshot(row, book_factory))
            gateway._last_time = max(gateway._last_time, row.last_time_ns)  # as replay would
            if on_snapshot is not None:
                on_snapshot()

        # After recovery the database is written by a process of its own (journal/writer.py).
        writer = JournalWriter(settings.database_url, settings.journal_busy_timeout_ms)
        try:
            journal.upgrade()
            recovered = recover(journal, gateway.replay, settings.journal_on_corruption, load)
            projection = attach(journal, gateway.exchange, recovered.last_sequence)
            await writer.start()
        except BaseException:
            await writer.close()
            raise
        finally:
            journal.close()
        audit = gateway.exchange.audit()
        log.info("recovered %d journal entries in %.3f s; audit %s; state digest %s; %s, "
                 "then %d entries replayed", recovered.entries, recovered.seconds,
                 "; ".join(audit) or "clean", state_digest(gateway.exchange),
                 f"from the snapshot at entry {recovered.snapshot_sequence}"
                 if recovered.snapshot_sequence else "no snapshot", recovered.replayed)
        gateway.journal = GroupCommit(
            writer, recovered.last_sequence + 1, gateway.release,
            flush_ms=settings.journal_flush_ms,
            batch_size=settings.journal_batch_size, max_pending=settings.journal_max_pending,
            entries=pending_entries(gateway.exchange, recovered.last_sequence + 1))
        gateway.journal.snapshots = Snapshotter(gateway.exchange, settings.snapshot_every,
                                                book_factory, recovered.snapshot_sequence)
        gateway.journal.projection = projection
    if recovered is None or recovered.entries == 0:
        for spec in settings.instrument_specs():
            gateway.apply(partial(CreateInstrument, spec.symbol, spec.tick_size,
                                  spec.lot_size, spec.reference_price, spec.band_bps))
    apply_configured_limits(settings, gateway)
    await gateway.settled()
    return recovered


def apply_configured_limits(settings: Settings, gateway: Gateway) -> None:
    """Fees and order limits as configured, journaled when they differ from the ones in
    force (the defaults, or the journal's last): a replay then charges every trade what
    it was charged, whatever the configuration says later."""
    configured = Limits(
        maker_fee_bps=settings.maker_fee_bps, taker_fee_bps=settings.taker_fee_bps,
        max_order_quantity=settings.max_order_quantity,
        max_order_notional=settings.max_order_notional)
    current = gateway.exchange.limits
    if current != configured:
        gateway.apply(lambda now: SetLimits(
            configured.maker_fee_bps, configured.taker_fee_bps, configured.max_order_quantity,
            configured.max_order_notional, now))
        log.info("fees and order limits set to %s (were %s); orders already accepted keep "
                 "their fees", configured, current)


async def start(settings: Settings, book_factory: BookFactory | None = None) -> Running:
    """Start a server on settings.address (port 0 picks a free one) and return it.

    `book_factory` runs the Python exchange on that book implementation (tests run
    both), unless `settings.exchange` says otherwise (see `build_exchange`).
    """
    admin_token = settings.admin_token or secrets.token_urlsafe(18)
    gateway = build_exchange(settings, book_factory)
    server = grpc.aio.server(
        interceptors=[AuthInterceptor(gateway.exchange, admin_token), RejectInterceptor()],
        options=server_options(settings),
    )
    limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    sampler = EquitySampler(gateway.exchange, gateway.now, settings.leaderboard_samples)
    store = (StoreReader(settings.database_url, settings.journal_busy_timeout_ms)
             if settings.durability == "on" else None)
    history = MemoryHistory(gateway.exchange) if store is None else StoreHistory(store)
    account_pb2_grpc.add_AccountServiceServicer_to_server(
        AccountService(gateway, settings.starting_cash, sampler, history), server)
    add_order_service(OrderService(gateway, limiter, settings.stream_queue_size), server)
    admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminService(gateway), server)
    hub = MarketDataHub(gateway.exchange, gateway.now, defer=gateway.after_pending)
    gateway.on_market_events(hub.on_market_events)
    add_to_server(MarketDataService(gateway, hub, settings.market_data_queue_size,
                                    settings.max_message_bytes, store), server)
    try:
        recovered = await restore(  # after the listeners, before serving
            settings, gateway, book_factory,
            on_snapshot=lambda: hub.restart(gateway.exchange))
    except BaseException:
        if store is not None:
            store.close()
        raise

    health = ExchangeHealth(WRITING_SERVICES, READING_SERVICES)
    health_pb2_grpc.add_HealthServicer_to_server(health.servicer, server)
    await health.serve()
    if gateway.journal is not None:
        gateway.journal.on_failing = health.journal_failing
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)

    port = server.add_insecure_port(settings.address)
    if port == 0:
        raise OSError(f"cannot listen on {settings.address}")
    await server.start()
    if settings.leaderboard_sample_ms > 0:
        if gateway.clock.deterministic:
            gateway.on_command_applied(sampler.every(settings.leaderboard_sample_ms))
        else:
            sampler.start(settings.leaderboard_sample_ms)
    simulation = await start_simulation(gateway, settings) if settings.makers_enabled else None
    log.info("tradepit listening on port %d (%s)", port,
             "Rust exchange" if isinstance(gateway.exchange, NativeExchange) else
             f"Python exchange, book backend: {BACKEND}")
    return Running(server, port, gateway, admin_token, settings, recovered, simulation,
                   leaderboard=sampler, store=store, hub=hub)
