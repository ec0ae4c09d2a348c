"""Tradepit agent SDK: the generated tradepit.v1 stubs (`tradepit_client.v1`) and a thin
asyncio client for connecting, trading and following execution reports."""

from tradepit_client.client import Client, OrderSession, TradepitError

__all__ = ["Client", "OrderSession", "TradepitError"]
