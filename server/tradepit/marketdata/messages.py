"""Market-data values as tradepit.v1 messages, and the wire form shared by subscribers.

A MarketDataBatch is `repeated MarketDataUpdate updates = 1`, so its encoding is the
concatenation of each update encoded as field 1 (`frame`). Every update is framed once
and the same bytes go to every subscriber; a batch is a join (usually of one shared
chunk, so not even that), never a re-encoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tradepit_client.v1 import common_pb2, marketdata_pb2

from tradepit.exchange.model import TradePrint
from tradepit.marketdata.candles import Candle
from tradepit.marketdata.view import Level, OrderEvent, RestingOrder

_UPDATES_TAG = b"\x0a"  # field 1, length-delimited

# Enum values travel as ints; the stubs type them as NewTypes of int (see server/convert.py).
_Side = common_pb2.Side.ValueType
_Kind = marketdata_pb2.OrderEvent.Kind.ValueType
_Interval = marketdata_pb2.CandleInterval.ValueType


def frame(update: marketdata_pb2.MarketDataUpdate) -> bytes:
    """`update` encoded as one element of MarketDataBatch.updates."""
    data = update.SerializeToString()
    size = len(data)
    if size < 0x80:
        return bytes((0x0A, size)) + data
    if size < 0x4000:
        return bytes((0x0A, (size & 0x7F) | 0x80, size >> 7)) + data
    return _UPDATES_TAG + _varint(size) + data


def batches(frames: Sequence[bytes], budget: int) -> list[bytes]:
    """Encoded MarketDataBatch messages holding `frames` in order, each about `budget`
    bytes at most (a single larger frame still goes, alone). A frame may hold several
    updates (a chunk of them, see subscriptions.py): it is never split."""
    messages: list[bytes] = []
    start = size = 0
    for index, item in enumerate(frames):
        if size and size + len(item) > budget:
            messages.append(b"".join(frames[start:index]))
            start, size = index, 0
        size += len(item)
    if start < len(frames):
        messages.append(b"".join(frames[start:]))
    return messages


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def levels(values: Iterable[Level]) -> list[marketdata_pb2.PriceLevel]:
    return [marketdata_pb2.PriceLevel(price=p, quantity=q, order_count=c) for p, q, c in values]


# An encoded BookOrder with its tag and length, at its largest: four int64 fields of up
# to 10 varint bytes plus a tag each, the side's two bytes, and two bytes to frame it.
MAX_BOOK_ORDER_BYTES = 3 * 11 + 2 + 2 + 3


def book_order(o: RestingOrder) -> marketdata_pb2.BookOrder:
    return marketdata_pb2.BookOrder(order_id=o.order_id, side=_Side(o.side), price=o.price,
                                    quantity=o.remaining)


def order_event(e: OrderEvent) -> marketdata_pb2.OrderEvent:
    return marketdata_pb2.OrderEvent(kind=_Kind(e.kind), order_id=e.order_id, side=_Side(e.side),
                                     price=e.price, quantity=e.quantity, remaining=e.remaining,
                                     sequence=e.sequence)


def add_trades(into: Any, trades: Iterable[TradePrint]) -> None:
    """Append `trades` to a repeated TradePrint field in place (no message built apart)."""
    add = into.add
    for t in trades:
        add(trade_id=t.trade_id, price=t.price, quantity=t.quantity,
            aggressor_side=_Side(t.aggressor_side), timestamp_ns=t.timestamp_ns,
            sequence=t.sequence)


def trade(t: TradePrint) -> marketdata_pb2.TradePrint:
    return marketdata_pb2.TradePrint(trade_id=t.trade_id, price=t.price, quantity=t.quantity,
                                     aggressor_side=_Side(t.aggressor_side),
                                     timestamp_ns=t.timestamp_ns, sequence=t.sequence)


def candle(c: Candle) -> marketdata_pb2.Candle:
    return marketdata_pb2.Candle(
        interval=_Interval(c.interval), start_ns=c.start_ns, open=c.open, high=c.high,
        low=c.low, close=c.close, volume=c.volume, notional=c.notional,
        trade_count=c.trade_count, closed=c.closed)
