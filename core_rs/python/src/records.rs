//! `Event` and `Order`: immutable value objects with the contract's integer fields.

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use tradepit_engine::{AmendKind, CancelReason, Event, EventKind, Order, RejectReason, Side};

/// One book event (see `core_rs/README.md` for which fields apply to which kind).
#[pyclass(name = "Event", module = "tradepit._native", frozen, eq, hash, get_all)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PyEvent {
    kind: i64,
    seq: i64,
    timestamp: i64,
    order_id: i64,
    owner: i64,
    side: i64,
    price: i64,
    quantity: i64,
    remaining: i64,
    reason: i64,
    maker_id: i64,
    maker_owner: i64,
    maker_remaining: i64,
}

impl From<&Event> for PyEvent {
    #[inline]
    fn from(event: &Event) -> Self {
        PyEvent {
            kind: event.kind.code(),
            seq: event.seq,
            timestamp: event.timestamp,
            order_id: event.order_id,
            owner: event.owner,
            side: event.side.code(),
            price: event.price,
            quantity: event.quantity,
            remaining: event.remaining,
            reason: event.reason,
            maker_id: event.maker_id,
            maker_owner: event.maker_owner,
            maker_remaining: event.maker_remaining,
        }
    }
}

impl PyEvent {
    /// The thirteen fields in contract order: `astuple`, and Rust readers of events handed
    /// back from Python (`mirror::PyBookView` reads them without a Python attribute lookup).
    #[inline]
    pub(crate) fn words(&self) -> [i64; 13] {
        [
            self.kind,
            self.seq,
            self.timestamp,
            self.order_id,
            self.owner,
            self.side,
            self.price,
            self.quantity,
            self.remaining,
            self.reason,
            self.maker_id,
            self.maker_owner,
            self.maker_remaining,
        ]
    }
}

#[pymethods]
impl PyEvent {
    /// The thirteen fields in contract order.
    fn astuple<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.words())
    }

    fn __repr__(&self) -> String {
        let kind = EventKind::from_code(self.kind);
        let reason = match kind {
            Some(EventKind::Cancelled) => CancelReason::from_code(self.reason).map(|r| r.name()),
            Some(EventKind::Rejected) => RejectReason::from_code(self.reason).map(|r| r.name()),
            Some(EventKind::Amended) => AmendKind::from_code(self.reason).map(|r| r.name()),
            _ => None,
        };
        format!(
            "Event(kind={}, seq={}, timestamp={}, order_id={}, owner={}, side={}, price={}, \
             quantity={}, remaining={}, reason={}, maker_id={}, maker_owner={}, \
             maker_remaining={})",
            name_or_code(kind.map(EventKind::name), self.kind),
            self.seq,
            self.timestamp,
            self.order_id,
            self.owner,
            name_or_code(Side::from_code(self.side).map(Side::name), self.side),
            self.price,
            self.quantity,
            self.remaining,
            name_or_code(reason, self.reason),
            self.maker_id,
            self.maker_owner,
            self.maker_remaining,
        )
    }
}

/// A snapshot of a resting order.
#[pyclass(name = "Order", module = "tradepit._native", frozen, eq, hash, get_all)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PyOrder {
    order_id: i64,
    owner: i64,
    side: i64,
    price: i64,
    quantity: i64,
    remaining: i64,
    order_type: i64,
    tif: i64,
    post_only: bool,
    stp: i64,
    timestamp: i64,
}

impl From<&Order> for PyOrder {
    fn from(order: &Order) -> Self {
        PyOrder {
            order_id: order.order_id,
            owner: order.owner,
            side: order.side.code(),
            price: order.price,
            quantity: order.quantity,
            remaining: order.remaining,
            order_type: order.order_type.code(),
            tif: order.tif.code(),
            post_only: order.post_only,
            stp: order.stp.code(),
            timestamp: order.timestamp,
        }
    }
}

#[pymethods]
impl PyOrder {
    /// The eleven fields in contract order (`post_only` a bool).
    fn astuple<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        (
            self.order_id,
            self.owner,
            self.side,
            self.price,
            self.quantity,
            self.remaining,
            self.order_type,
            self.tif,
            self.post_only,
            self.stp,
            self.timestamp,
        )
            .into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        use tradepit_engine::{OrderType, StpMode, TimeInForce};
        format!(
            "Order(order_id={}, owner={}, side={}, price={}, quantity={}, remaining={}, \
             order_type={}, tif={}, post_only={}, stp={}, timestamp={})",
            self.order_id,
            self.owner,
            name_or_code(Side::from_code(self.side).map(Side::name), self.side),
            self.price,
            self.quantity,
            self.remaining,
            name_or_code(
                OrderType::from_code(self.order_type).map(OrderType::name),
                self.order_type
            ),
            name_or_code(
                TimeInForce::from_code(self.tif).map(TimeInForce::name),
                self.tif
            ),
            if self.post_only { "True" } else { "False" },
            name_or_code(StpMode::from_code(self.stp).map(StpMode::name), self.stp),
            self.timestamp,
        )
    }
}

/// An enum's name when the code is known, else the bare number (e.g. a reason of 0).
fn name_or_code(name: Option<&'static str>, code: i64) -> String {
    name.map_or_else(|| code.to_string(), str::to_owned)
}
