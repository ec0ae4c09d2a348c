"""Choosing the exchange: what the server builds for each setting."""

from __future__ import annotations

import logging
import sys

import pytest
from tradepit.book import load_backend
from tradepit.config import Settings
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange
from tradepit.server.app import build_exchange


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_rust_exchange_is_the_default() -> None:
    assert type(build_exchange(settings()).exchange) is NativeExchange
    assert type(build_exchange(settings(exchange="rust")).exchange) is NativeExchange


def test_the_python_exchange_when_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert type(build_exchange(settings(exchange="python")).exchange) is Exchange
    monkeypatch.setenv("TRADEPIT_EXCHANGE", "python")
    assert type(build_exchange(settings()).exchange) is Exchange


def test_a_book_factory_runs_the_python_exchange_on_that_book() -> None:
    for backend in ("rust", "python"):
        book = load_backend(backend).Book
        exchange = build_exchange(settings(), book).exchange
        assert type(exchange) is Exchange
        assert exchange._book_factory is book
    with pytest.raises(ValueError, match="books of its own"):
        build_exchange(settings(exchange="rust"), load_backend("python").Book)


def test_without_the_extension_the_python_exchange_runs_unless_rust_is_asked_for(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "tradepit._native", None)  # as if it were not built
    with caplog.at_level(logging.WARNING):
        assert type(build_exchange(settings()).exchange) is Exchange
    assert "not built" in caplog.text
    with pytest.raises(ImportError):
        build_exchange(settings(exchange="rust"))
