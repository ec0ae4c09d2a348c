//! The queryable store's rows of orders, accounts and positions, built from the native
//! state in one call per journal batch (`Exchange.store_rows`).
//!
//! `Projection.take` (server/tradepit/store/projection.py) builds these rows on the event
//! loop for everything a batch touched. Read through the live views, attribute by
//! attribute, each row costs a borrow and a lookup per column; here it costs one lookup.
//! Every row is exactly the tuple projection.py's `order_row`, `account_row` and
//! `position_row` give: ints (enums as their codes, money exact beyond 64 bits), strs,
//! bools and `None`, with the sequence given for its key.

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use tradepit_engine::exchange::{Account, Order, Position};

use crate::exchange::{int, optional_code, pybool, small, PyExchange};

/// `(order rows, account rows, position rows)` for the keys of `orders` (order id),
/// `accounts` (account id) and `positions` (`(account id, symbol)`), each mapped to the
/// journal sequence that last touched it, in the dicts' order. As `Projection.take` does:
/// an order or position that does not exist is skipped, and an unknown account raises
/// `KeyError` (accounts are read first, so nothing else is read before it).
pub(crate) fn store_rows<'py>(
    exchange: &PyExchange,
    py: Python<'py>,
    orders: &Bound<'py, PyDict>,
    accounts: &Bound<'py, PyDict>,
    positions: &Bound<'py, PyDict>,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>, Bound<'py, PyList>)> {
    let state = &exchange.exchange;
    let mut account_rows = Vec::with_capacity(accounts.len());
    for (account_id, sequence) in accounts.iter() {
        let account = state
            .account(account_id.extract()?)
            .ok_or_else(|| PyKeyError::new_err(account_id.unbind()))?;
        account_rows.push(account_row(py, account, sequence)?);
    }
    let mut position_rows = Vec::with_capacity(positions.len());
    for (key, sequence) in positions.iter() {
        let key = key.cast::<PyTuple>()?;
        let (account_id, symbol) = (key.get_item(0)?, key.get_item(1)?);
        let Some(account) = state.account(account_id.extract()?) else {
            continue;
        };
        if let Some(held) = account.positions.get(symbol.cast::<PyString>()?.to_str()?) {
            position_rows.push(position_row(py, account_id, symbol, held, sequence)?);
        }
    }
    let mut order_rows = Vec::with_capacity(orders.len());
    for (order_id, sequence) in orders.iter() {
        if let Some(order) = state.order(order_id.extract()?) {
            order_rows.push(order_row(exchange, py, order, sequence)?);
        }
    }
    Ok((
        PyList::new(py, order_rows)?,
        PyList::new(py, account_rows)?,
        PyList::new(py, position_rows)?,
    ))
}

/// projection.py's `order_row`.
fn order_row<'py>(
    exchange: &PyExchange,
    py: Python<'py>,
    o: &Order,
    sequence: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            small(py, o.order_id),
            small(py, o.account_id),
            PyString::new(py, &o.client_order_id).into_any(),
            exchange.symbol(py, &o.symbol),
            small(py, o.side),
            small(py, o.order_type),
            small(py, o.tif),
            int(py, o.price)?,
            int(py, o.quantity)?,
            pybool(py, o.post_only),
            small(py, o.stp),
            small(py, o.status.code()),
            int(py, o.filled_quantity)?,
            int(py, o.leaves)?,
            int(py, o.filled_notional)?,
            int(py, o.fees)?,
            optional_code(py, o.reject_reason.map(|code| code.code()))?,
            small(py, o.created_ns),
            small(py, o.updated_ns),
            sequence,
        ],
    )
}

/// projection.py's `account_row`.
fn account_row<'py>(
    py: Python<'py>,
    a: &Account,
    sequence: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            small(py, a.account_id),
            PyString::new(py, &a.name).into_any(),
            pybool(py, a.system),
            int(py, a.cash)?,
            int(py, a.reserved_cash)?,
            int(py, a.fees_paid)?,
            int(py, a.deposits)?,
            int(py, a.deposited_value)?,
            int(py, a.traded_quantity)?,
            int(py, a.traded_notional)?,
            sequence,
        ],
    )
}

/// projection.py's `position_row`: the account id and symbol are the key's own objects.
fn position_row<'py>(
    py: Python<'py>,
    account_id: Bound<'py, PyAny>,
    symbol: Bound<'py, PyAny>,
    p: &Position,
    sequence: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            account_id,
            symbol,
            int(py, p.quantity)?,
            int(py, p.reserved)?,
            int(py, p.cost_basis)?,
            int(py, p.realised_pnl)?,
            sequence,
        ],
    )
}
