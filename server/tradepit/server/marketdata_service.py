"""MarketDataService: instruments, book snapshots, candles and the market-data stream.

No key is needed. Everything here reads the market-data hub, which knows the books
by the events published so far, except GetCandles with durability on: it reads the
queryable store, which holds every candle (the hub only recent ones, since its start).
The stream's updates are encoded once by the hub and shared by every subscriber, so
StreamMarketData yields encoded batches and is registered by `add_to_server` with a
serializer that passes them through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
from tradepit_client.v1 import marketdata_pb2

from tradepit.exchange.codes import RejectCode
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Exchange
from tradepit.marketdata import messages
from tradepit.marketdata.candles import INTERVAL_NS
from tradepit.marketdata.checksum import depth_checksum
from tradepit.marketdata.feeds import FEEDS, FeedKey
from tradepit.marketdata.hub import MarketDataHub
from tradepit.server import convert
from tradepit.server.context import Context
from tradepit.server.gateway import Gateway
from tradepit.store.reader import StoreReader

SERVICE = marketdata_pb2.DESCRIPTOR.services_by_name["MarketDataService"].full_name
MAX_SUBSCRIPTIONS = 50
DEFAULT_DEPTH, MAX_STREAM_DEPTH, MAX_BOOK_DEPTH = 10, 100, 1_000
DEFAULT_CANDLES, MAX_CANDLES = 1_000, 5_000
DEFAULT_INTERVAL = marketdata_pb2.CANDLE_INTERVAL_1M
L2, CANDLES = marketdata_pb2.CHANNEL_L2, marketdata_pb2.CHANNEL_CANDLES

_CHANNELS = ", ".join(marketdata_pb2.Channel.Name(marketdata_pb2.Channel.ValueType(c))
                      for c in FEEDS)
_INTERVALS = ", ".join(
    marketdata_pb2.CandleInterval.Name(marketdata_pb2.CandleInterval.ValueType(i))
    for i in INTERVAL_NS)


def _invalid(message: str) -> Reject:
    return Reject(RejectCode.INVALID_ARGUMENT, message)


def _interval(value: int, default: int | None) -> int:
    if value == marketdata_pb2.CANDLE_INTERVAL_UNSPECIFIED and default is not None:
        return default
    if value not in INTERVAL_NS:
        raise _invalid(f"candle interval must be one of {_INTERVALS}; got {value}")
    return value


def subscription_keys(request: marketdata_pb2.StreamMarketDataRequest,
                      exchange: Exchange) -> list[FeedKey]:
    """The feeds a request asks for, or a Reject that says what to fix."""
    subscriptions = request.subscriptions
    if not subscriptions:
        raise _invalid("subscribe to something: each Subscription names a symbol and "
                       f"channels ({_CHANNELS})")
    if len(subscriptions) > MAX_SUBSCRIPTIONS:
        raise _invalid(f"at most {MAX_SUBSCRIPTIONS} subscriptions per stream, got "
                       f"{len(subscriptions)}; open another stream for the rest")
    keys: list[FeedKey] = []
    seen: set[tuple[str, int]] = set()
    for subscription in subscriptions:
        symbol = subscription.symbol
        exchange.instrument(symbol)  # UNKNOWN_SYMBOL, naming the listed ones
        if not subscription.channels:
            raise _invalid(f"the subscription to {symbol} names no channels; choose from "
                           f"{_CHANNELS}")
        depth = subscription.depth or DEFAULT_DEPTH
        if not 1 <= depth <= MAX_STREAM_DEPTH:
            raise _invalid(f"depth must be 1..{MAX_STREAM_DEPTH} levels per side (0 means "
                           f"{DEFAULT_DEPTH}); got {subscription.depth} for {symbol}")
        interval = _interval(subscription.candle_interval, DEFAULT_INTERVAL)
        for channel in subscription.channels:
            if channel not in FEEDS:
                raise _invalid(f"unknown channel {channel} for {symbol}; choose from "
                               f"{_CHANNELS}")
            name = marketdata_pb2.Channel.Name(channel)
            if (symbol, channel) in seen:
                raise _invalid(f"{symbol} {name} is asked for twice; a stream carries each "
                               "symbol and channel once (open another stream for a second "
                               "depth or interval)")
            seen.add((symbol, channel))
            parameter = depth if channel == L2 else interval if channel == CANDLES else 0
            keys.append(FeedKey(symbol, channel, parameter))
    return keys


class MarketDataService:
    """tradepit.v1.MarketDataService (not a subclass of the generated servicer: its stream
    yields pre-encoded MarketDataBatch bytes; see `add_to_server`)."""

    def __init__(self, gateway: Gateway, hub: MarketDataHub, queue_size: int,
                 max_message_bytes: int, store: StoreReader | None = None) -> None:
        self._gateway = gateway
        self._store = store  # GetCandles reads it when durability is on
        self._exchange = gateway.exchange
        self._hub = hub
        self._queue_size = queue_size
        self._max_message_bytes = max_message_bytes
        self._batch_bytes = max_message_bytes // 2  # headroom below the send limit
        hub.limit_chunks(self._batch_bytes)

    async def ListInstruments(self, request: marketdata_pb2.ListInstrumentsRequest,
                              context: Context) -> marketdata_pb2.ListInstrumentsResponse:
        return marketdata_pb2.ListInstrumentsResponse(
            instruments=[convert.instrument(i) for i in self._exchange.instruments.values()])

    async def GetBook(self, request: marketdata_pb2.GetBookRequest,
                      context: Context) -> marketdata_pb2.BookSnapshot:
        self._exchange.instrument(request.symbol)
        depth = request.depth or DEFAULT_DEPTH
        if not 1 <= depth <= MAX_BOOK_DEPTH:
            raise _invalid(f"depth must be 1..{MAX_BOOK_DEPTH} levels per side (0 means "
                           f"{DEFAULT_DEPTH}); got {request.depth}")
        view = self._hub.market(request.symbol).view
        bids, asks = view.depth(depth)
        snapshot = marketdata_pb2.BookSnapshot(
            symbol=request.symbol, sequence=view.sequence, bids=messages.levels(bids),
            asks=messages.levels(asks), checksum=depth_checksum(bids, asks), depth=depth,
            timestamp_ns=self._gateway.now())
        if request.orders:
            bid_orders, ask_orders = view.orders()
            snapshot.bid_orders.extend(messages.book_order(o) for o in bid_orders)
            snapshot.ask_orders.extend(messages.book_order(o) for o in ask_orders)
            if snapshot.ByteSize() > self._max_message_bytes:
                await context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"{request.symbol} has {len(bid_orders) + len(ask_orders)} resting "
                    f"orders, more than one message of at most {self._max_message_bytes} "
                    "bytes holds; subscribe to CHANNEL_L3 (its snapshot comes in parts), or "
                    "ask for levels only (orders = false)")
        return snapshot

    async def GetCandles(self, request: marketdata_pb2.GetCandlesRequest,
                         context: Context) -> marketdata_pb2.GetCandlesResponse:
        self._exchange.instrument(request.symbol)
        if request.interval == marketdata_pb2.CANDLE_INTERVAL_UNSPECIFIED:
            raise _invalid(f"choose an interval: one of {_INTERVALS}")
        interval = _interval(request.interval, None)
        limit = request.limit or DEFAULT_CANDLES
        if not 1 <= limit <= MAX_CANDLES:
            raise _invalid(f"limit must be 1..{MAX_CANDLES} (0 means {DEFAULT_CANDLES}); "
                           f"got {request.limit}")
        if request.start_ns < 0 or request.end_ns < 0:
            raise _invalid("start_ns and end_ns are nanoseconds since the Unix epoch (0: "
                           "unbounded); negative values mean nothing")
        if request.end_ns and request.end_ns <= request.start_ns:
            raise _invalid(f"end_ns ({request.end_ns}) must be after start_ns "
                           f"({request.start_ns}); the range is [start_ns, end_ns)")
        if self._store is None:
            series = self._hub.market(request.symbol).history.candles[interval]
            candles = series.query(request.start_ns, request.end_ns, limit,
                                   self._gateway.now())
        else:  # the whole history, which outlives memory and restarts
            await self._gateway.settled()
            candles = await asyncio.to_thread(self._store.candles, request.symbol, interval,
                                              request.start_ns, request.end_ns, limit)
            now, length = self._gateway.now(), INTERVAL_NS[interval]
            for candle in candles:
                candle.closed = now >= candle.start_ns + length
        return marketdata_pb2.GetCandlesResponse(candles=[messages.candle(c) for c in candles])

    async def StreamMarketData(self, request: marketdata_pb2.StreamMarketDataRequest,
                               context: Context) -> AsyncIterator[bytes]:
        """Snapshots first, then updates as they come, everything ready in one message."""
        keys = subscription_keys(request, self._exchange)
        subscriber = self._hub.subscribe(keys, self._queue_size)
        try:
            while True:
                await subscriber.wait()
                owed, queued = subscriber.take()  # after the hub's pending updates
                if subscriber.failed:
                    await context.abort(grpc.StatusCode.INTERNAL,
                                        "market data failed on the server; resubscribe")
                if subscriber.overflowed:
                    await context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"this stream fell more than {self._queue_size} updates behind on "
                        "trades or L3, which are never dropped, so it was closed; "
                        "resubscribe to start again from snapshots")
                if owed:
                    queued = self._hub.snapshots(owed, self._batch_bytes) + queued
                if len(queued) == 1:
                    yield queued[0]  # the usual case: one chunk, shared with its fanout
                else:
                    for batch in messages.batches(queued, self._batch_bytes):
                        yield batch
        finally:
            self._hub.unsubscribe(subscriber)


def _pass_encoded(batch: bytes | marketdata_pb2.MarketDataBatch) -> bytes:
    """The stream yields encoded batches; a message (e.g. from an interceptor) is encoded."""
    return batch if isinstance(batch, bytes) else batch.SerializeToString()


def add_to_server(service: MarketDataService, server: grpc.aio.Server) -> None:
    """Register like the generated `add_MarketDataServiceServicer_to_server`, except for
    the stream's response serializer."""
    md = marketdata_pb2
    handlers: dict[str, Any] = {
        "ListInstruments": grpc.unary_unary_rpc_method_handler(
            service.ListInstruments, request_deserializer=md.ListInstrumentsRequest.FromString,
            response_serializer=md.ListInstrumentsResponse.SerializeToString),
        "GetBook": grpc.unary_unary_rpc_method_handler(
            service.GetBook, request_deserializer=md.GetBookRequest.FromString,
            response_serializer=md.BookSnapshot.SerializeToString),
        "StreamMarketData": grpc.unary_stream_rpc_method_handler(
            service.StreamMarketData,
            request_deserializer=md.StreamMarketDataRequest.FromString,
            response_serializer=_pass_encoded),
        "GetCandles": grpc.unary_unary_rpc_method_handler(
            service.GetCandles, request_deserializer=md.GetCandlesRequest.FromString,
            response_serializer=md.GetCandlesResponse.SerializeToString),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)

