//! The queryable store's rows of orders, accounts and positions, built from the native
//! state and pickled (store_notes.rs takes them once per journal batch).
//!
//! Read through the live views on the event loop, attribute by attribute, each row cost
//! a borrow and a lookup per column; here it costs one lookup, and the row is written
//! straight into the pickle the journal's writer process reads, never a Python object on
//! the loop. Unpickled, every row is exactly the tuple projection.py's `order_row`,
//! `account_row` and `position_row` give: ints (enums as their codes, money exact beyond
//! 64 bits), strs, bools and `None`, with the sequence given for its key (any int to 128
//! bits).

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tradepit_engine::exchange::{Account, Order, Position};

use crate::pickled::PickledList;

/// A pickled list of rows, or None for no rows.
pub(crate) type Pickled<'py> = Option<Bound<'py, PyBytes>>;

/// projection.py's `order_row`.
pub(crate) fn order_row(rows: &mut PickledList, o: &Order, sequence: i128) {
    rows.row()
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
        .end_row();
}

/// projection.py's `account_row`.
pub(crate) fn account_row(rows: &mut PickledList, a: &Account, sequence: i128) {
    rows.row()
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
        .end_row();
}

/// projection.py's `position_row`.
pub(crate) fn position_row(
    rows: &mut PickledList,
    account_id: i64,
    symbol: &str,
    p: &Position,
    sequence: i128,
) {
    rows.row()
        .int(account_id)
        .text(symbol)
        .int(p.quantity)
        .int(p.reserved)
        .int(p.cost_basis)
        .int(p.realised_pnl)
        .int(sequence)
        .end_row();
}
