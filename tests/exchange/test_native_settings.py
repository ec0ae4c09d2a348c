"""Choosing the Rust exchange: what the server starts with, and what it refuses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from tradepit.config import Settings
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange
from tradepit.server.app import build_exchange


def test_the_python_exchange_is_the_default() -> None:
    settings = Settings(_env_file=None, durability="off")  # type: ignore[call-arg]
    assert type(build_exchange(settings).exchange) is Exchange


def test_the_rust_exchange_runs_with_durability_off() -> None:
    settings = Settings(_env_file=None, durability="off", exchange="rust")  # type: ignore[call-arg]
    assert type(build_exchange(settings).exchange) is NativeExchange


def test_the_rust_exchange_with_the_journal_on_is_refused_with_the_way_out() -> None:
    with pytest.raises(ValidationError, match="TRADEPIT_EXCHANGE=rust needs "
                                              "TRADEPIT_DURABILITY=off") as refused:
        Settings(_env_file=None, durability="on", exchange="rust")  # type: ignore[call-arg]
    assert "TRADEPIT_EXCHANGE=python" in str(refused.value)
