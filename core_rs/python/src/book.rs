//! `Book`: the engine's book behind a Python class.

use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use tradepit_engine::codec::apply_batch;
use tradepit_engine::{Book, Event, NewOrder};

use crate::errors::to_py_err;
use crate::records::{PyEvent, PyOrder};

/// A limit order book for one instrument (the native backend).
#[pyclass(name = "Book", module = "tradepit._native")]
pub(crate) struct PyBook {
    book: Book,
    /// Reused for every command so the per-call path allocates only the Python objects.
    events: Vec<Event>,
}

impl PyBook {
    /// Turns the events of the last command into a fresh `list[Event]`.
    #[inline]
    fn event_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.events.iter().map(PyEvent::from))
    }
}

#[pymethods]
impl PyBook {
    #[new]
    fn new(tick_size: i64, lot_size: i64) -> PyResult<Self> {
        Ok(PyBook {
            book: Book::new(tick_size, lot_size).map_err(to_py_err)?,
            events: Vec::with_capacity(16),
        })
    }

    #[pyo3(signature = (
        owner, side, price, quantity, order_type=1, tif=1, post_only=false, stp=1, timestamp=0
    ))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python signature one to one
    fn submit<'py>(
        &mut self,
        py: Python<'py>,
        owner: i64,
        side: i64,
        price: i64,
        quantity: i64,
        order_type: i64,
        tif: i64,
        post_only: bool,
        stp: i64,
        timestamp: i64,
    ) -> PyResult<Bound<'py, PyList>> {
        let order = NewOrder {
            owner,
            side,
            price,
            quantity,
            order_type,
            tif,
            post_only,
            stp,
            timestamp,
        };
        self.events.clear();
        self.book
            .submit(&order, &mut self.events)
            .map_err(to_py_err)?;
        self.event_list(py)
    }

    #[pyo3(signature = (order_id, timestamp=0))]
    fn cancel<'py>(
        &mut self,
        py: Python<'py>,
        order_id: i64,
        timestamp: i64,
    ) -> PyResult<Bound<'py, PyList>> {
        self.events.clear();
        self.book
            .cancel(order_id, timestamp, &mut self.events)
            .map_err(to_py_err)?;
        self.event_list(py)
    }

    #[pyo3(signature = (order_id, price, quantity, timestamp=0))]
    fn amend<'py>(
        &mut self,
        py: Python<'py>,
        order_id: i64,
        price: i64,
        quantity: i64,
        timestamp: i64,
    ) -> PyResult<Bound<'py, PyList>> {
        self.events.clear();
        self.book
            .amend(order_id, price, quantity, timestamp, &mut self.events)
            .map_err(to_py_err)?;
        self.event_list(py)
    }

    #[pyo3(signature = (timestamp=0))]
    fn end_session<'py>(
        &mut self,
        py: Python<'py>,
        timestamp: i64,
    ) -> PyResult<Bound<'py, PyList>> {
        self.events.clear();
        self.book.end_session(timestamp, &mut self.events);
        self.event_list(py)
    }

    /// Applies a batch of 88-byte command records and returns the 112-byte output records.
    ///
    /// Decoding and matching run with the GIL released. `bytes` is immutable, so it is read in
    /// place; any other byte buffer (`bytearray`, `memoryview`) is copied first, because
    /// another thread could change it while the GIL is released.
    fn apply_batch<'py>(
        &mut self,
        py: Python<'py>,
        commands: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let copied;
        let input: &[u8] = match commands.cast::<PyBytes>() {
            Ok(bytes) => bytes.as_bytes(),
            Err(_) => {
                copied = PyBuffer::<u8>::get(commands)?.to_vec(py)?;
                &copied
            }
        };
        let book = &mut self.book;
        let output = py.detach(|| apply_batch(book, input)).map_err(to_py_err)?;
        Ok(PyBytes::new(py, &output))
    }

    /// The whole book as bytes (format in core_rs/README.md, shared with the Python backend).
    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.book.snapshot())
    }

    /// A book rebuilt from `snapshot()` bytes of either backend.
    #[staticmethod]
    fn restore(data: &[u8]) -> PyResult<Self> {
        Ok(PyBook {
            book: Book::restore(data).map_err(to_py_err)?,
            events: Vec::with_capacity(16),
        })
    }

    fn best_bid(&self) -> Option<(i64, i64)> {
        self.book.best_bid()
    }

    fn best_ask(&self) -> Option<(i64, i64)> {
        self.book.best_ask()
    }

    /// `(bids, asks)`: up to `levels` `(price, quantity, count)` tuples per side, best first.
    #[allow(clippy::type_complexity)] // the Python return shape, spelled out
    fn depth(&self, levels: i64) -> (Vec<(i64, i64, i64)>, Vec<(i64, i64, i64)>) {
        let (bids, asks) = self.book.depth(levels);
        let plain = |side: Vec<tradepit_engine::DepthLevel>| {
            side.into_iter()
                .map(|level| (level.price, level.quantity, level.count))
                .collect()
        };
        (plain(bids), plain(asks))
    }

    fn get_order(&self, order_id: i64) -> Option<PyOrder> {
        self.book.get_order(order_id).as_ref().map(PyOrder::from)
    }

    /// `(bids, asks)`: every resting order in priority order.
    fn orders(&self) -> (Vec<PyOrder>, Vec<PyOrder>) {
        let side = |side| self.book.side_orders(side).map(PyOrder::from).collect();
        (
            side(tradepit_engine::Side::Buy),
            side(tradepit_engine::Side::Sell),
        )
    }

    fn state_hash(&self) -> String {
        self.book.state_hash()
    }

    fn validate(&self) -> PyResult<()> {
        self.book.validate().map_err(to_py_err)
    }

    #[getter]
    fn sequence(&self) -> i64 {
        self.book.sequence()
    }

    #[getter]
    fn next_order_id(&self) -> i64 {
        self.book.next_order_id()
    }

    #[getter]
    fn tick_size(&self) -> i64 {
        self.book.tick_size()
    }

    #[getter]
    fn lot_size(&self) -> i64 {
        self.book.lot_size()
    }

    fn __len__(&self) -> usize {
        self.book.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Book(tick_size={}, lot_size={}, orders={}, sequence={})",
            self.book.tick_size(),
            self.book.lot_size(),
            self.book.len(),
            self.book.sequence()
        )
    }
}
