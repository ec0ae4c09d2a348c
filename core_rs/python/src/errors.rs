//! Engine errors become the shared Python exception classes, in this one place.

use pyo3::import_exception;
use pyo3::PyErr;
use tradepit_engine::{BookError, ErrorCode};

// Imported (and cached) from the Python package, so `except UnknownOrder` works whichever
// backend raised it.
import_exception!(tradepit.book.errors, InvalidOrder);
import_exception!(tradepit.book.errors, UnknownOrder);
import_exception!(tradepit.book.errors, InvariantViolation);

/// Builds `Cls(message, code)` for an engine error.
pub(crate) fn to_py_err(error: BookError) -> PyErr {
    let code = error.code();
    let args = (error.to_string(), code.code());
    match code {
        ErrorCode::UnknownOrder => UnknownOrder::new_err(args),
        ErrorCode::InvariantViolation => InvariantViolation::new_err(args),
        _ => InvalidOrder::new_err(args),
    }
}
