"""The whole exchange state as bytes, and an exchange rebuilt from them.

Recovery loads a snapshot and replays only the journal after it, so the rebuilt state
must be exactly what replaying everything gives. Rather than a list of fields that goes
stale whenever someone adds one, every instance attribute of `Exchange` is captured
(dataclasses by all their fields, shared objects once), except the ones below that are
not state; each book goes through its own shared snapshot format (core_rs/README.md).

The Rust exchange (exchange/native.py) is captured as the engine's own bytes instead,
and rebuilt from them by the engine, without a Python object per order: a million
orders of history load in well under a second. Each exchange loads only its own
snapshots (`adopt`).
The bytes are a pickle, read back by an unpickler that only builds classes from
`tradepit.exchange`, so a tampered row cannot run code. A snapshot names the fields of
every class it holds; one taken by code whose classes differ is refused (`Unusable`)
and recovery replays the journal instead.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import pickle
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from operator import attrgetter
from typing import Any

from tradepit.book import Book
from tradepit.exchange import model
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.native import NativeExchange

FORMAT = 3  # 2: model dataclasses as constructor calls; 3: the Rust exchange as bytes
# Configuration and in-flight effects, not state: the book factory is the running
# server's choice, the outboxes are drained after every command.
NOT_STATE = frozenset({"_book_factory", "books", "outbox", "market_outbox", "_trades"})
ALLOWED_MODULES = ("tradepit.exchange.",)


class Unusable(ValueError):
    """The bytes are not a snapshot this code can load."""


def layout() -> dict[str, tuple[str, ...]]:
    """The field names of every model class, to tell a snapshot of other code apart."""
    classes = [value for value in vars(model).values()
               if isinstance(value, type) and value.__module__ == model.__name__]
    names: dict[str, tuple[str, ...]] = {}
    for cls in sorted(classes, key=lambda c: c.__name__):
        if dataclasses.is_dataclass(cls):
            names[cls.__name__] = tuple(f.name for f in dataclasses.fields(cls))
        elif hasattr(cls, "_fields"):
            names[cls.__name__] = tuple(cls._fields)
    return names


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pickling makes and drops millions of small objects; a cyclic collection per few
    hundred of them over a heap this size would double the time. There are no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _reducers() -> dict[type, Callable[[Any], tuple[Any, ...]]]:
    """Each model dataclass pickled as its constructor and its field values in order:
    a C-level `attrgetter` per object, and one constructor call to load it, where the
    default (a state dict per slotted object, restored field by field) is several times
    slower. The layout check makes sure the order is the one the loading code has."""
    reducers: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
    for value in vars(model).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value):
            fields = attrgetter(*(f.name for f in dataclasses.fields(value)))
            reducers[value] = partial(_reduce, value, fields)
    return reducers


def _reduce(cls: type, fields: Callable[[Any], tuple[Any, ...]], obj: Any) -> tuple[Any, ...]:
    return cls, fields(obj)


REDUCERS = _reducers()


def capture(exchange: Exchange | NativeExchange) -> bytes:
    """The exchange's state now, as bytes. Synchronous on purpose: the single writer
    changes nothing while this runs, so the state is consistent. The Rust exchange's is
    the engine's own bytes (`NativeExchange.snapshot`)."""
    snapshot: dict[str, Any] = {"format": FORMAT, "layout": layout()}
    if isinstance(exchange, NativeExchange):
        snapshot["native"] = exchange.snapshot()
    else:
        snapshot["exchange"] = {name: value for name, value in vars(exchange).items()
                                if name not in NOT_STATE}
        snapshot["books"] = {symbol: book.snapshot() for symbol, book in exchange.books.items()}
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = REDUCERS
    with _no_gc():
        pickler.dump(snapshot)
    return buffer.getvalue()


class _ExchangeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if not module.startswith(ALLOWED_MODULES):
            raise Unusable(f"the snapshot names {module}.{name}, which it may not hold")
        return super().find_class(module, name)


def load(data: bytes,
         book_factory: Callable[[int, int], Any] = Book) -> Exchange | NativeExchange:
    """A new exchange in the captured state: the Rust exchange for a snapshot it took,
    else a Python one whose books `book_factory`'s class makes."""
    try:
        with _no_gc():
            snapshot = _ExchangeUnpickler(io.BytesIO(data)).load()
    except Unusable:
        raise
    except Exception as error:
        raise Unusable(f"the snapshot does not decode: {error!r}") from error
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT:
        raise Unusable(f"the snapshot is not in format {FORMAT}")
    if snapshot["layout"] != layout():
        raise Unusable("the snapshot was taken by code whose state classes differ")
    if "native" in snapshot:
        try:
            return NativeExchange.restore(snapshot["native"])
        except (ImportError, ValueError, TypeError) as error:
            raise Unusable(f"the Rust exchange cannot be rebuilt from it: {error}") from error
    exchange = Exchange(book_factory=book_factory)
    expected = set(vars(exchange)) - NOT_STATE
    state: dict[str, Any] = snapshot["exchange"]
    if set(state) != expected:
        raise Unusable("the snapshot was taken by code whose exchange holds other attributes")
    restore_book = getattr(book_factory, "restore", Book.restore)
    for name, value in state.items():
        setattr(exchange, name, value)
    exchange.books = {symbol: restore_book(data) for symbol, data in snapshot["books"].items()}
    return exchange


def adopt(target: Exchange | NativeExchange, source: Exchange | NativeExchange) -> None:
    """Make `target` (the object the server's services hold) take `source`'s state.
    Each exchange loads only its own snapshots: across them, `Unusable` (recovery then
    replays the journal instead)."""
    if type(target) is not type(source):
        raise Unusable(f"it holds the state of a {_kind(source)}, and this server runs the "
                       f"{_kind(target)}")
    for name, value in vars(source).items():
        if name not in ("_book_factory", "outbox", "market_outbox"):
            setattr(target, name, value)


def _kind(exchange: Exchange | NativeExchange) -> str:
    return "Rust exchange" if isinstance(exchange, NativeExchange) else "Python exchange"
