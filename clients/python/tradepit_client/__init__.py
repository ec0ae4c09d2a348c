"""Tradepit agent SDK: the generated tradepit.v1 stubs (`tradepit_client.v1`), a thin
asyncio client for connecting, trading and following execution reports, and market-data
helpers: a self-checking local order book and candles."""

from tradepit_client.candles import (
    Candle,
    CandleSeries,
    candles_from_trades,
    follow_candles,
    get_candles,
)
from tradepit_client.client import Client, OrderSession, TradepitError
from tradepit_client.local_book import (
    BookOutOfSync,
    Level,
    LocalBook,
    RestingOrder,
    l2_checksum,
)

__all__ = [
    "BookOutOfSync",
    "Candle",
    "CandleSeries",
    "Client",
    "Level",
    "LocalBook",
    "OrderSession",
    "RestingOrder",
    "TradepitError",
    "candles_from_trades",
    "follow_candles",
    "get_candles",
    "l2_checksum",
]
