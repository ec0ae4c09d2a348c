"""Choosing the exchange: what the server builds for each setting."""

from __future__ import annotations

from tradepit.config import Settings
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange
from tradepit.server.app import build_exchange


def test_the_python_exchange_is_the_default() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert type(build_exchange(settings).exchange) is Exchange


def test_the_rust_exchange_when_chosen() -> None:
    settings = Settings(_env_file=None, exchange="rust")  # type: ignore[call-arg]
    assert type(build_exchange(settings).exchange) is NativeExchange
