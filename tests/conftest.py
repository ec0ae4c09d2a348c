"""Fixtures shared by the whole suite: every book test runs on both backends."""

from __future__ import annotations

import os

# As the server sets it (tradepit/server/__init__.py): servers in this process fork
# snapshot children, which gRPC's fork handlers must stay out of.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from collections.abc import Callable
from typing import Any

import pytest
from tradepit.book import load_backend


@pytest.fixture(scope="session", params=["rust", "python"])
def backend(request: pytest.FixtureRequest) -> Any:
    """The backend module. A missing Rust extension fails the run; it is never skipped."""
    try:
        return load_backend(request.param)
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def make_book(backend: Any) -> Callable[..., Any]:
    def make(tick_size: int = 1, lot_size: int = 1) -> Any:
        return backend.Book(tick_size, lot_size)

    return make


@pytest.fixture
def book(make_book: Callable[..., Any]) -> Any:
    """A book with tick 1 and lot 1, so scenario numbers read as they are."""
    return make_book()
