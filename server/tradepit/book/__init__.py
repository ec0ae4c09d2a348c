"""The order book, from the Rust extension or its pure-Python twin.

`TRADEPIT_BOOK=rust|python` chooses the backend. Unset, Rust is used when the
extension imports and Python otherwise, with a warning. Both backends implement
core_rs/README.md and raise the classes in `tradepit.book.errors`.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from tradepit.book.codec import BatchRecord, Command, decode_events, encode_commands
from tradepit.book.constants import (
    MAX_PRICE,
    MAX_QUANTITY,
    AmendKind,
    CancelReason,
    CommandKind,
    ErrorCode,
    EventKind,
    OrderType,
    RejectReason,
    Side,
    StpMode,
    TimeInForce,
)
from tradepit.book.errors import BookError, InvalidOrder, InvariantViolation, UnknownOrder

__all__ = [
    "BACKEND", "MAX_PRICE", "MAX_QUANTITY", "AmendKind", "BatchRecord", "Book", "BookError",
    "CancelReason", "Command", "CommandKind", "ErrorCode", "Event", "EventKind", "InvalidOrder",
    "InvariantViolation", "Order", "OrderType", "RejectReason", "Side", "StpMode", "TimeInForce",
    "UnknownOrder", "decode_events", "encode_commands", "load_backend",
]

log = logging.getLogger(__name__)

BACKENDS = ("rust", "python")


def load_backend(name: str) -> Any:
    """Return the module that provides `Book`, `Event` and `Order` for a backend name."""
    if name == "rust":
        try:
            from tradepit import _native
        except ImportError as error:
            raise ImportError(
                "TRADEPIT_BOOK=rust but the Rust extension tradepit._native is not built; "
                "run `make install` (or `maturin develop --release`), or set TRADEPIT_BOOK=python"
            ) from error
        return _native
    if name == "python":
        from tradepit.book import pure

        return pure
    raise ValueError(f"TRADEPIT_BOOK must be one of {', '.join(BACKENDS)}, got {name!r}")


def _select() -> tuple[str, Any]:
    requested = os.environ.get("TRADEPIT_BOOK", "").strip().lower()
    if requested:
        return requested, load_backend(requested)
    try:
        return "rust", load_backend("rust")
    except ImportError as error:
        log.warning("%s; falling back to the pure-Python book", error)
        return "python", load_backend("python")


BACKEND, _module = _select()
Book = _module.Book
Event = _module.Event
Order = _module.Order
