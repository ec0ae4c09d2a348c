//! The queryable store's rows of orders, accounts and positions, built from the native
//! state in one call per journal batch (`Exchange.store_rows`), and pickled.
//!
//! `Projection.take` (server/tradepit/store/projection.py) builds these rows on the event
//! loop for everything a batch touched, and the group commit pickles them for the
//! journal's writer process. Read through the live views, attribute by attribute, each
//! row costs a borrow and a lookup per column; here it costs one lookup, and the row is
//! written straight into the pickle the writer reads, never a Python object on the loop.
//! Unpickled, every row is exactly the tuple projection.py's `order_row`, `account_row`
//! and `position_row` give: ints (enums as their codes, money exact beyond 64 bits),
//! strs, bools and `None`, with the sequence given for its key (any int to 128 bits).

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use tradepit_engine::exchange::{Account, Order, Position};

use crate::exchange::PyExchange;
use crate::pickled::PickledList;

/// `(order rows, account rows, position rows)`, each a pickled list (None: no rows), for
/// the keys of
/// `orders` (order id), `accounts` (account id) and `positions` (`(account id, symbol)`),
/// each mapped to the journal sequence that last touched it, in the dicts' order. As
/// `Projection.take` does: an order or position that does not exist is skipped, and an
/// unknown account raises `KeyError` (accounts are read first, so nothing else is read
/// before it).
pub(crate) fn store_rows<'py>(
    exchange: &PyExchange,
    py: Python<'py>,
    orders: &Bound<'py, PyDict>,
    accounts: &Bound<'py, PyDict>,
    positions: &Bound<'py, PyDict>,
) -> PyResult<(Pickled<'py>, Pickled<'py>, Pickled<'py>)> {
    let state = &exchange.exchange;
    let mut account_rows = PickledList::new();
    for (account_id, sequence) in accounts.iter() {
        let account = state
            .account(account_id.extract()?)
            .ok_or_else(|| PyKeyError::new_err(account_id.unbind()))?;
        account_row(&mut account_rows, account, sequence.extract()?);
    }
    let mut position_rows = PickledList::new();
    for (key, sequence) in positions.iter() {
        let key = key.cast::<PyTuple>()?;
        let account_id: i64 = key.get_item(0)?.extract()?;
        let symbol = key.get_item(1)?;
        let symbol = symbol.cast::<PyString>()?.to_str()?;
        let Some(account) = state.account(account_id) else {
            continue;
        };
        if let Some(held) = account.positions.get(symbol) {
            position_row(
                &mut position_rows,
                account_id,
                symbol,
                held,
                sequence.extract()?,
            );
        }
    }
    let mut order_rows = PickledList::new();
    for (order_id, sequence) in orders.iter() {
        if let Some(order) = state.order(order_id.extract()?) {
            order_row(&mut order_rows, order, sequence.extract()?);
        }
    }
    let pickled = |rows: PickledList| rows.finish().map(|bytes| PyBytes::new(py, &bytes));
    Ok((
        pickled(order_rows),
        pickled(account_rows),
        pickled(position_rows),
    ))
}

/// A pickled list of rows, or None for no rows.
pub(crate) type Pickled<'py> = Option<Bound<'py, PyBytes>>;

/// projection.py's `order_row`.
fn order_row(rows: &mut PickledList, o: &Order, sequence: i128) {
    rows.tuple()
        .int(o.order_id)
        .int(o.account_id)
        .text(&o.client_order_id)
        .text(&o.symbol)
        .int(o.side)
        .int(o.order_type)
        .int(o.tif)
        .int(o.price)
        .int(o.quantity)
        .flag(o.post_only)
        .int(o.stp)
        .int(o.status.code())
        .int(o.filled_quantity)
        .int(o.leaves)
        .int(o.filled_notional)
        .int(o.fees)
        .optional_int(o.reject_reason.map(|code| code.code()))
        .int(o.created_ns)
        .int(o.updated_ns)
        .int(sequence)
        .end_tuple();
}

/// projection.py's `account_row`.
fn account_row(rows: &mut PickledList, a: &Account, sequence: i128) {
    rows.tuple()
        .int(a.account_id)
        .text(&a.name)
        .flag(a.system)
        .int(a.cash)
        .int(a.reserved_cash)
        .int(a.fees_paid)
        .int(a.deposits)
        .int(a.deposited_value)
        .int(a.traded_quantity)
        .int(a.traded_notional)
        .int(sequence)
        .end_tuple();
}

/// projection.py's `position_row`.
fn position_row(
    rows: &mut PickledList,
    account_id: i64,
    symbol: &str,
    p: &Position,
    sequence: i128,
) {
    rows.tuple()
        .int(account_id)
        .text(symbol)
        .int(p.quantity)
        .int(p.reserved)
        .int(p.cost_basis)
        .int(p.realised_pnl)
        .int(sequence)
        .end_tuple();
}
