//! `tradepit._native`: the Rust order book and exchange exposed to Python, the order
//! stream's response encoder (`wire`) and the journal's entry encoder (`journal`).
//! `BookView` (`mirror`) is the market-data hub's mirror of a book, rebuilt from its events.
//!
//! This crate only converts. Every rule lives in `tradepit-engine`; errors are raised as the
//! shared Python classes from `tradepit.book.errors`, so callers cannot tell the backends
//! apart except by speed.

use pyo3::prelude::*;

mod book;
mod errors;
mod exchange;
mod journal;
mod mirror;
mod named_tuple;
mod pickled;
mod protowire;
mod records;
mod store_notes;
mod store_rows;
mod views;
mod wire;

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<book::PyBook>()?;
    module.add_class::<exchange::PyExchange>()?;
    module.add_class::<records::PyEvent>()?;
    module.add_class::<records::PyOrder>()?;
    module.add_class::<views::AccountView>()?;
    module.add_class::<views::PositionView>()?;
    module.add_class::<views::OrderView>()?;
    module.add_class::<views::InstrumentView>()?;
    module.add_class::<views::BookView>()?;
    module.add_class::<mirror::PyBookView>()?;
    module.add_function(wrap_pyfunction!(wire::encode_stream_response, module)?)?;
    module.add_function(wrap_pyfunction!(journal::encode_journal_entry, module)?)?;
    module.add_function(wrap_pyfunction!(journal::decode_journal_tape, module)?)?;
    module.add_function(wrap_pyfunction!(journal::journal_rows_of_tape, module)?)?;
    Ok(())
}
