"""The exchange in Rust (`tradepit._native.Exchange`) behind the Python exchange's interface.

The Python `Exchange` (exchange.py) is the reference; tests/exchange holds the native one
to the same results, refusals, reports, market events and state. This class only adapts:
commands go in as they are, results come back as the Python exchange gives them (an
`OrderResult` whose order is a view, accounts and instruments as views), and the state is
read through live views of the native state (`tradepit._native.AccountView` and the
others), which change only inside `execute`.

Snapshots hold `snapshot()`, the engine's own bytes (tradepit/exchange/snapshot.py), and
`restore` builds the exchange back from them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tradepit.exchange import model
from tradepit.exchange.codes import RejectCode, TradingStatus
from tradepit.exchange.commands import (
    AdjustBalance,
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    CreateAccount,
    CreateInstrument,
    EndSession,
    RemoveInstrument,
    SetLimits,
    SetTradingStatus,
    SubmitOrder,
)
from tradepit.exchange.errors import Reject
from tradepit.exchange.exchange import Limits, OrderResult, Queries
from tradepit.exchange.model import FeeRates

# The Python classes the native exchange makes its values of.
SHAPES: dict[str, type] = {
    "ExecutionReport": model.ExecutionReport, "TradePrint": model.TradePrint,
    "BookChange": model.BookChange, "StatusChange": model.StatusChange,
    "Fill": model.Fill, "Reject": Reject, "RejectCode": RejectCode,
}
log = logging.getLogger(__name__)

_DELISTED = int(TradingStatus.DELISTED)


def _native_class() -> Any:
    from tradepit._native import Exchange

    return Exchange


def exchange_kind(requested: str | None) -> str:
    """"rust" or "python": the one `requested` (TRADEPIT_EXCHANGE); unset, the Rust one
    when the extension imports, otherwise the Python one with a warning (as the book
    backend is chosen, tradepit/book/__init__.py)."""
    if requested is not None:
        return requested
    try:
        _native_class()
    except ImportError as error:
        log.warning("the Rust extension tradepit._native is not built (%s); running the "
                    "Python exchange", error)
        return "python"
    return "rust"


class _Accounts(Mapping[int, Any]):
    def __init__(self, native: Any) -> None:
        self._native = native

    def __getitem__(self, account_id: int) -> Any:
        view = self._native.account_view(account_id)
        if view is None:
            raise KeyError(account_id)
        return view

    def get(self, account_id: int, default: Any = None) -> Any:
        view = self._native.account_view(account_id)
        return default if view is None else view

    def __iter__(self) -> Iterator[int]:
        return iter(self._native.account_ids())

    def __len__(self) -> int:
        return len(self._native.account_ids())


class _Orders(Mapping[int, Any]):
    """Every order ever accepted: ids 1 to the count, none removed."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def __getitem__(self, order_id: int) -> Any:
        view = self._native.order_view(order_id)
        if view is None:
            raise KeyError(order_id)
        return view

    def get(self, order_id: int, default: Any = None) -> Any:
        view = self._native.order_view(order_id)
        return default if view is None else view

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, self._native.order_count() + 1))

    def __len__(self) -> int:
        return int(self._native.order_count())


class _Instruments(Mapping[str, Any]):
    """The listed instruments (in listing order), or the delisted ones."""

    def __init__(self, native: Any, delisted: bool) -> None:
        self._native = native
        self._delisted = delisted

    def __getitem__(self, symbol: str) -> Any:
        view = self._native.instrument_view(symbol) if isinstance(symbol, str) else None
        if view is None or (view.status == _DELISTED) != self._delisted:
            raise KeyError(symbol)
        return view

    def get(self, symbol: str, default: Any = None) -> Any:
        try:
            return self[symbol]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(self._symbols())

    def __len__(self) -> int:
        return len(self._symbols())

    def _symbols(self) -> list[str]:
        native = self._native
        found = native.delisted_symbols() if self._delisted else native.listed_symbols()
        return list(found)


class _Books(Mapping[str, Any]):
    """Each listed symbol's book, read-only (`tradepit._native.ExchangeBook`)."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def __getitem__(self, symbol: str) -> Any:
        view = self._native.book_view(symbol) if isinstance(symbol, str) else None
        if view is None:
            raise KeyError(symbol)
        return view

    def __iter__(self) -> Iterator[str]:
        return iter(self._native.listed_symbols())

    def __len__(self) -> int:
        return len(self._native.listed_symbols())


class NativeExchange(Queries):
    """`Exchange`'s interface on the Rust exchange. Its books are the Rust engine's own,
    so a book backend is not chosen for it."""

    def __init__(self, limits: Limits | None = None, *, native: Any = None) -> None:
        """An empty exchange, or one around `native` (a `tradepit._native.Exchange`)."""
        if native is None:
            limits = limits or Limits()
            native = _native_class()(SHAPES, limits.maker_fee_bps, limits.taker_fee_bps,
                                     limits.max_order_quantity, limits.max_order_notional)
        self._native = native
        self.take_reports: Callable[[], list[model.ExecutionReport]] = native.take_reports
        self.take_market_events: Callable[[], list[model.MarketEvent]] = \
            native.take_market_events
        self.audit: Callable[[], list[str]] = native.audit
        # Writes each applied command's journal entry once started (journal/pending.py),
        # and notes what it changed in the queryable store (store/projection.py).
        self.journal_tape: Any = native
        self.store_notes: Any = native
        self.accounts = _Accounts(native)
        self.orders = _Orders(native)
        self.instruments = _Instruments(native, delisted=False)
        self.delisted = _Instruments(native, delisted=True)
        self.books = _Books(native)
        self._results: dict[type, Callable[[Any], Any]] = {
            SubmitOrder: self._order_result, CancelOrder: self._order_result,
            AmendOrder: self._order_result, CreateAccount: self.accounts.__getitem__,
            AdjustBalance: self.accounts.__getitem__,
            CreateInstrument: self.instruments.__getitem__,
            SetTradingStatus: lambda symbols: [self.instruments[s] for s in symbols],
            SetLimits: lambda values: Limits(*values),
            RemoveInstrument: lambda removed: (self.delisted[removed[0]], removed[1]),
            CancelAll: list, EndSession: list,
        }

    @classmethod
    def restore(cls, snapshot: bytes) -> NativeExchange:
        """The exchange `snapshot` described; `ValueError` if the bytes do not decode or
        the state they hold does not fit together."""
        return cls(native=_native_class().restore(SHAPES, snapshot))

    def snapshot(self) -> bytes:
        """The whole state as the engine's own bytes: what `restore` rebuilds it from
        (tradepit/exchange/snapshot.py stores them)."""
        snapshot: bytes = self._native.snapshot()
        return snapshot

    def order_digest_rows(self) -> list[tuple[Any, ...]]:
        """Each order's fields that the state digest covers (exchange/digest.py)."""
        rows: list[tuple[Any, ...]] = self._native.order_digest_rows()
        return rows

    def execute(self, command: Command) -> Any:
        """Apply one command; raise `Reject` (and change nothing) if it is refused. The
        result is what the Python exchange's `execute` returns for it."""
        result = self._native.execute(command)
        return self._results[type(command)](result)

    def _order_result(self, result: tuple[int, list[model.ExecutionReport]]) -> OrderResult:
        order_id, reports = result
        return OrderResult(self._native.order_view(order_id), reports)

    # ---------------------------------------------------------------- queries

    def account_for_key(self, key_hash: str) -> Any:
        account_id = self._native.account_id_for_key(key_hash)
        return None if account_id is None else self.accounts[account_id]

    @property
    def limits(self) -> Limits:
        return Limits(*self._native.limits())

    @property
    def fee_rates(self) -> FeeRates:
        return FeeRates(*self._native.fee_rates())

    @property
    def fees_collected(self) -> int:
        return int(self._native.fees_collected())

    # The id counters, by the Python exchange's names (the state digest reads them).
    @property
    def _next_account_id(self) -> int:
        return int(self._native.next_ids()[0])

    @property
    def _next_order_id(self) -> int:
        return int(self._native.next_ids()[1])

    @property
    def _next_trade_id(self) -> int:
        return int(self._native.next_ids()[2])
