//! Live, read-only views of the native exchange's state: what the server reads where the
//! Python exchange gives it `Account`, `Position`, `OrderState`, `Instrument` and a `Book`.
//!
//! A view holds the `Exchange` object and a key (an account id, an order id, a symbol),
//! and every attribute access reads the state as it is now: a view taken before a command
//! sees what the command did. Values come out as model.py's do: ints (enums as their
//! integer codes), bools, strs, `None` where model.py has `None`. A view of something that
//! no longer exists raises `KeyError`: only a delisted symbol's book can go, since
//! accounts, orders and instruments (listed or delisted) are never removed.
//!
//! Each access borrows the exchange for its duration only. Nothing calls back into Python
//! while a command is applied, so no access meets the command's mutable borrow.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use tradepit_engine::exchange::{py_repr, Account, Instrument, Order, Position};
use tradepit_engine::{Book, DepthLevel, Side};

use crate::errors::to_py_err;
use crate::exchange::{int, optional_code, pybool, small, PyExchange};
use crate::records::PyOrder;

/// The exchange, borrowed for one access.
fn borrow<'py>(exchange: &Py<PyExchange>, py: Python<'py>) -> PyResult<PyRef<'py, PyExchange>> {
    Ok(exchange.bind(py).try_borrow()?)
}

/// A hash of a view's identity: the exchange object's address and the key.
fn identity_hash(exchange: &Py<PyExchange>, key: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    (exchange.as_ptr() as usize).hash(&mut hasher);
    key.hash(&mut hasher);
    hasher.finish()
}

// ------------------------------------------------------------------ accounts

/// A live view of one account (model.py `Account`).
#[pyclass(name = "AccountView", module = "tradepit._native", frozen)]
pub(crate) struct AccountView {
    exchange: Py<PyExchange>,
    account_id: i64,
}

impl AccountView {
    pub(crate) fn new(exchange: Py<PyExchange>, account_id: i64) -> Self {
        AccountView {
            exchange,
            account_id,
        }
    }

    /// `read` applied to the exchange and the account as they are now.
    fn read<'py, R>(
        &self,
        py: Python<'py>,
        read: impl FnOnce(&PyExchange, &Account) -> PyResult<R>,
    ) -> PyResult<R> {
        let exchange = borrow(&self.exchange, py)?;
        let account = exchange
            .exchange
            .account(self.account_id)
            .ok_or_else(|| PyKeyError::new_err(self.account_id))?;
        read(&exchange, account)
    }

    fn money<'py>(
        &self,
        py: Python<'py>,
        field: impl FnOnce(&Account) -> i128,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, |_, account| int(py, field(account)))
    }

    fn position_view(&self, py: Python<'_>, symbol: &str) -> PositionView {
        PositionView {
            exchange: self.exchange.clone_ref(py),
            account_id: self.account_id,
            symbol: symbol.to_owned(),
        }
    }
}

#[pymethods]
impl AccountView {
    #[getter]
    fn account_id(&self) -> i64 {
        self.account_id
    }

    #[getter]
    fn name<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        self.read(py, |_, account| Ok(PyString::new(py, &account.name)))
    }

    #[getter]
    fn key_hash<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        self.read(py, |_, account| Ok(PyString::new(py, &account.key_hash)))
    }

    #[getter]
    fn system(&self, py: Python<'_>) -> PyResult<bool> {
        self.read(py, |_, account| Ok(account.system))
    }

    #[getter]
    fn cash<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |account| account.cash)
    }

    #[getter]
    fn reserved_cash<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |account| account.reserved_cash)
    }

    #[getter]
    fn fees_paid<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |account| account.fees_paid)
    }

    #[getter]
    fn deposits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |account| account.deposits)
    }

    #[getter]
    fn deposited_value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |account| account.deposited_value)
    }

    #[getter]
    fn traded_quantity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |account| account.traded_quantity)
    }

    #[getter]
    fn traded_notional<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |account| account.traded_notional)
    }

    #[getter]
    fn report_sequence(&self, py: Python<'_>) -> PyResult<i64> {
        self.read(py, |_, account| Ok(account.report_sequence))
    }

    /// `{symbol: net shares paid in}`, in first-deposit order (a new dict each time).
    #[getter]
    fn share_deposits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.read(py, |_, account| {
            let dict = PyDict::new(py);
            for (symbol, amount) in account.share_deposits() {
                dict.set_item(symbol, int(py, amount)?)?;
            }
            Ok(dict)
        })
    }

    /// `{symbol: PositionView}`, in the order the positions were created.
    #[getter]
    fn positions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.read(py, |_, account| {
            let dict = PyDict::new(py);
            for (symbol, _) in account.positions() {
                dict.set_item(symbol, self.position_view(py, symbol))?;
            }
            Ok(dict)
        })
    }

    /// Every order of the account, in acceptance order.
    #[getter]
    fn order_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.read(py, |_, account| PyList::new(py, &account.order_ids))
    }

    /// `{client_order_id: order id}` in insertion order (an entry is never replaced, so
    /// that is order id order).
    #[getter]
    fn client_order_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.read(py, |_, account| {
            let mut entries: Vec<(&str, i64)> = account
                .client_order_ids
                .iter()
                .map(|(id, &order)| (&**id, order))
                .collect();
            entries.sort_unstable_by_key(|&(_, order)| order);
            let dict = PyDict::new(py);
            for (id, order) in entries {
                dict.set_item(id, order)?;
            }
            Ok(dict)
        })
    }

    /// How many fills the account has: `len(fills)` without building them.
    #[getter]
    fn fill_count(&self, py: Python<'_>) -> PyResult<usize> {
        self.read(py, |_, account| Ok(account.fills.len()))
    }

    /// Every fill of the account, oldest first, as `model.Fill` instances.
    #[getter]
    fn fills<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.read(py, |exchange, account| {
            let list = PyList::empty(py);
            for fill in &account.fills {
                list.append(exchange.fill(py, fill)?)?;
            }
            Ok(list)
        })
    }

    /// The account's position in `symbol`: all zeros while it holds none. Unlike
    /// `Account.position`, looking creates nothing.
    fn position(&self, py: Python<'_>, symbol: &str) -> PyResult<PositionView> {
        self.read(py, |_, _| Ok(self.position_view(py, symbol)))
    }

    fn __eq__(&self, other: &Bound<'_, Self>) -> bool {
        let other = other.get();
        self.exchange.is(&other.exchange) && self.account_id == other.account_id
    }

    fn __hash__(&self) -> u64 {
        identity_hash(&self.exchange, self.account_id)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |_, account| {
            Ok(format!(
                "AccountView(account_id={}, name={}, cash={}, reserved_cash={})",
                account.account_id,
                py_repr(&account.name),
                account.cash,
                account.reserved_cash
            ))
        })
    }
}

// ------------------------------------------------------------------ positions

/// A live view of one account's position in one symbol (model.py `Position`): zeros
/// while the account holds none.
#[pyclass(name = "PositionView", module = "tradepit._native", frozen)]
pub(crate) struct PositionView {
    exchange: Py<PyExchange>,
    account_id: i64,
    symbol: String,
}

impl PositionView {
    /// The position as it is now (a copy).
    fn now(&self, py: Python<'_>) -> PyResult<Position> {
        let exchange = borrow(&self.exchange, py)?;
        let account = exchange
            .exchange
            .account(self.account_id)
            .ok_or_else(|| PyKeyError::new_err(self.account_id))?;
        Ok(account
            .positions
            .get(&self.symbol)
            .copied()
            .unwrap_or_default())
    }
}

#[pymethods]
impl PositionView {
    #[getter]
    fn quantity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        int(py, self.now(py)?.quantity)
    }

    #[getter]
    fn reserved<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        int(py, self.now(py)?.reserved)
    }

    #[getter]
    fn cost_basis<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        int(py, self.now(py)?.cost_basis)
    }

    #[getter]
    fn realised_pnl<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        int(py, self.now(py)?.realised_pnl)
    }

    /// Shares free to sell or withdraw.
    #[getter]
    fn available<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        int(py, self.now(py)?.available())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let p = self.now(py)?;
        Ok(format!(
            "PositionView(account_id={}, symbol={}, quantity={}, reserved={}, cost_basis={}, \
             realised_pnl={})",
            self.account_id,
            py_repr(&self.symbol),
            p.quantity,
            p.reserved,
            p.cost_basis,
            p.realised_pnl
        ))
    }
}

// ------------------------------------------------------------------ orders

/// A live view of one order (model.py `OrderState`).
#[pyclass(name = "OrderView", module = "tradepit._native", frozen)]
pub(crate) struct OrderView {
    exchange: Py<PyExchange>,
    order_id: i64,
}

impl OrderView {
    pub(crate) fn new(exchange: Py<PyExchange>, order_id: i64) -> Self {
        OrderView { exchange, order_id }
    }

    /// `read` applied to the exchange and the order as they are now.
    fn read<'py, R>(
        &self,
        py: Python<'py>,
        read: impl FnOnce(&PyExchange, &Order) -> PyResult<R>,
    ) -> PyResult<R> {
        let exchange = borrow(&self.exchange, py)?;
        let order = exchange
            .exchange
            .order(self.order_id)
            .ok_or_else(|| PyKeyError::new_err(self.order_id))?;
        read(&exchange, order)
    }

    fn money<'py>(
        &self,
        py: Python<'py>,
        field: impl FnOnce(&Order) -> i128,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, |_, order| int(py, field(order)))
    }

    fn plain(&self, py: Python<'_>, field: impl FnOnce(&Order) -> i64) -> PyResult<i64> {
        self.read(py, |_, order| Ok(field(order)))
    }
}

#[pymethods]
impl OrderView {
    #[getter]
    fn order_id(&self) -> i64 {
        self.order_id
    }

    #[getter]
    fn account_id(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.account_id)
    }

    #[getter]
    fn client_order_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyString>> {
        self.read(py, |_, order| Ok(PyString::new(py, &order.client_order_id)))
    }

    #[getter]
    fn symbol<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, |exchange, order| Ok(exchange.symbol(py, &order.symbol)))
    }

    #[getter]
    fn side(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.side)
    }

    #[getter]
    fn order_type(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.order_type)
    }

    #[getter]
    fn tif(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.tif)
    }

    /// As entered: 0 for a market order.
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |order| order.price)
    }

    /// The limit the book sees (a market order's is its band edge).
    #[getter]
    fn book_price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |order| order.book_price)
    }

    #[getter]
    fn quantity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |order| order.quantity)
    }

    #[getter]
    fn post_only(&self, py: Python<'_>) -> PyResult<bool> {
        self.read(py, |_, order| Ok(order.post_only))
    }

    #[getter]
    fn stp(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.stp)
    }

    #[getter]
    fn created_ns(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.created_ns)
    }

    /// What was asked for: `(symbol, side, order_type, tif, price, quantity, post_only,
    /// stp)`, as received.
    #[getter]
    fn request<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.read(py, |exchange, order| {
            let r = &order.request;
            PyTuple::new(
                py,
                [
                    exchange.symbol(py, &r.symbol),
                    small(py, r.side),
                    small(py, r.order_type),
                    small(py, r.tif),
                    int(py, r.price)?,
                    int(py, r.quantity)?,
                    pybool(py, r.post_only),
                    small(py, r.stp),
                ],
            )
        })
    }

    /// `(maker_bps, taker_bps, max_bps)`, fixed when the order was accepted.
    #[getter]
    fn fee_rates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.read(py, |_, order| {
            let rates = &order.fee_rates;
            PyTuple::new(
                py,
                [
                    int(py, rates.maker_bps)?,
                    int(py, rates.taker_bps)?,
                    int(py, rates.max_bps)?,
                ],
            )
        })
    }

    /// Open quantity.
    #[getter]
    fn leaves<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |order| order.leaves)
    }

    #[getter]
    fn filled_quantity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |order| order.filled_quantity)
    }

    #[getter]
    fn filled_notional<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |order| order.filled_notional)
    }

    #[getter]
    fn fees<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |order| order.fees)
    }

    /// The `OrderStatus` code.
    #[getter]
    fn status(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.status.code())
    }

    #[getter]
    fn updated_ns(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.updated_ns)
    }

    /// The `RejectCode` code, or `None`.
    #[getter]
    fn reject_reason<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, |_, order| {
            optional_code(py, order.reject_reason.map(|code| code.code()))
        })
    }

    #[getter]
    fn reserved_cash<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |order| order.reserved_cash)
    }

    #[getter]
    fn book_id(&self, py: Python<'_>) -> PyResult<i64> {
        self.plain(py, |order| order.book_id)
    }

    /// The order's first report (an `ExecutionReport`), or `None`.
    #[getter]
    fn acknowledgement<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, |exchange, order| match order.acknowledgement() {
            Some(report) => exchange.report(py, &report),
            None => Ok(py.None().into_bound(py)),
        })
    }

    /// NEW or PARTIALLY_FILLED.
    #[getter]
    fn is_open(&self, py: Python<'_>) -> PyResult<bool> {
        self.read(py, |_, order| Ok(order.is_open()))
    }

    /// Exact decimal text of the average fill price; empty until the first fill.
    #[getter]
    fn average_price(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |_, order| Ok(order.average_price()))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |_, order| {
            Ok(format!(
                "OrderView(order_id={}, account_id={}, symbol={}, side={}, price={}, \
                 quantity={}, leaves={}, status={})",
                order.order_id,
                order.account_id,
                py_repr(&order.symbol),
                order.side,
                order.price,
                order.quantity,
                order.leaves,
                order.status.name()
            ))
        })
    }
}

// ------------------------------------------------------------------ instruments

/// A live view of one listed or delisted instrument (model.py `Instrument`).
#[pyclass(name = "InstrumentView", module = "tradepit._native", frozen)]
pub(crate) struct InstrumentView {
    exchange: Py<PyExchange>,
    symbol: String,
}

impl InstrumentView {
    pub(crate) fn new(exchange: Py<PyExchange>, symbol: &str) -> Self {
        InstrumentView {
            exchange,
            symbol: symbol.to_owned(),
        }
    }

    /// `read` applied to the exchange and the instrument as they are now.
    fn read<'py, R>(
        &self,
        py: Python<'py>,
        read: impl FnOnce(&PyExchange, &Instrument) -> PyResult<R>,
    ) -> PyResult<R> {
        let exchange = borrow(&self.exchange, py)?;
        let instrument = exchange
            .exchange
            .listing(&self.symbol)
            .ok_or_else(|| PyKeyError::new_err(self.symbol.clone()))?;
        read(&exchange, instrument)
    }

    fn money<'py>(
        &self,
        py: Python<'py>,
        field: impl FnOnce(&Instrument) -> i128,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, |_, instrument| int(py, field(instrument)))
    }
}

#[pymethods]
impl InstrumentView {
    #[getter]
    fn symbol<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.read(py, |exchange, instrument| {
            Ok(exchange.symbol(py, &instrument.symbol))
        })
    }

    #[getter]
    fn tick_size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |instrument| instrument.tick_size)
    }

    #[getter]
    fn lot_size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |instrument| instrument.lot_size)
    }

    /// The last trade price; the listing price until the first trade.
    #[getter]
    fn reference_price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |instrument| instrument.reference_price)
    }

    #[getter]
    fn band_bps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.money(py, |instrument| instrument.band_bps)
    }

    /// The `TradingStatus` code.
    #[getter]
    fn status(&self, py: Python<'_>) -> PyResult<i64> {
        self.read(py, |_, instrument| Ok(instrument.status.code()))
    }

    /// The lowest and highest price an order may carry now, on the tick grid.
    fn band<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        self.read(py, |_, instrument| {
            let (low, high) = instrument.band();
            PyTuple::new(py, [int(py, low)?, int(py, high)?])
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |_, i| {
            Ok(format!(
                "InstrumentView(symbol={}, tick_size={}, lot_size={}, reference_price={}, \
                 band_bps={}, status={})",
                py_repr(&i.symbol),
                i.tick_size,
                i.lot_size,
                i.reference_price,
                i.band_bps,
                i.status.name()
            ))
        })
    }
}

// ------------------------------------------------------------------ books

/// A live, read-only view of a listed symbol's book: the queries of `Book`. Once the
/// symbol is delisted its book is gone, and every query raises `KeyError`.
#[pyclass(name = "ExchangeBook", module = "tradepit._native", frozen)]
pub(crate) struct BookView {
    exchange: Py<PyExchange>,
    symbol: String,
}

impl BookView {
    pub(crate) fn new(exchange: Py<PyExchange>, symbol: &str) -> Self {
        BookView {
            exchange,
            symbol: symbol.to_owned(),
        }
    }

    /// `read` applied to the book as it is now.
    fn read<R>(&self, py: Python<'_>, read: impl FnOnce(&Book) -> PyResult<R>) -> PyResult<R> {
        let exchange = borrow(&self.exchange, py)?;
        let book = exchange
            .exchange
            .book(&self.symbol)
            .ok_or_else(|| PyKeyError::new_err(self.symbol.clone()))?;
        read(book)
    }
}

#[pymethods]
impl BookView {
    /// The whole book as bytes (format in core_rs/README.md).
    fn snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.read(py, |book| Ok(PyBytes::new(py, &book.snapshot())))
    }

    fn best_bid(&self, py: Python<'_>) -> PyResult<Option<(i64, i64)>> {
        self.read(py, |book| Ok(book.best_bid()))
    }

    fn best_ask(&self, py: Python<'_>) -> PyResult<Option<(i64, i64)>> {
        self.read(py, |book| Ok(book.best_ask()))
    }

    /// `(bids, asks)`: up to `levels` `(price, quantity, count)` tuples per side, best first.
    #[allow(clippy::type_complexity)] // the Python return shape, spelled out
    fn depth(
        &self,
        py: Python<'_>,
        levels: i64,
    ) -> PyResult<(Vec<(i64, i64, i64)>, Vec<(i64, i64, i64)>)> {
        self.read(py, |book| {
            let (bids, asks) = book.depth(levels);
            let plain = |side: Vec<DepthLevel>| {
                side.into_iter()
                    .map(|level| (level.price, level.quantity, level.count))
                    .collect()
            };
            Ok((plain(bids), plain(asks)))
        })
    }

    fn get_order(&self, py: Python<'_>, order_id: i64) -> PyResult<Option<PyOrder>> {
        self.read(py, |book| {
            Ok(book.get_order(order_id).as_ref().map(PyOrder::from))
        })
    }

    /// `(bids, asks)`: every resting order in priority order.
    fn orders(&self, py: Python<'_>) -> PyResult<(Vec<PyOrder>, Vec<PyOrder>)> {
        self.read(py, |book| {
            let side = |side| book.side_orders(side).map(PyOrder::from).collect();
            Ok((side(Side::Buy), side(Side::Sell)))
        })
    }

    fn state_hash(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |book| Ok(book.state_hash()))
    }

    fn validate(&self, py: Python<'_>) -> PyResult<()> {
        self.read(py, |book| book.validate().map_err(to_py_err))
    }

    #[getter]
    fn sequence(&self, py: Python<'_>) -> PyResult<i64> {
        self.read(py, |book| Ok(book.sequence()))
    }

    #[getter]
    fn next_order_id(&self, py: Python<'_>) -> PyResult<i64> {
        self.read(py, |book| Ok(book.next_order_id()))
    }

    #[getter]
    fn tick_size(&self, py: Python<'_>) -> PyResult<i64> {
        self.read(py, |book| Ok(book.tick_size()))
    }

    #[getter]
    fn lot_size(&self, py: Python<'_>) -> PyResult<i64> {
        self.read(py, |book| Ok(book.lot_size()))
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.read(py, |book| Ok(book.len()))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |book| {
            Ok(format!(
                "ExchangeBook(symbol={}, tick_size={}, lot_size={}, orders={}, sequence={})",
                py_repr(&self.symbol),
                book.tick_size(),
                book.lot_size(),
                book.len(),
                book.sequence()
            ))
        })
    }
}
