//! `BookView`: the engine's `BookMirror` (a book rebuilt from its events alone) behind the
//! Python API of `tradepit.marketdata.view.PythonBookView`, which stays the reference.
//!
//! Events are the binding's own `Event` objects (read straight from the Rust struct) or any
//! objects with the event attributes, such as the pure-Python book's. The `OrderEvent` and
//! `RestingOrder` named tuples handed back are `tradepit.marketdata.view`'s own classes,
//! imported once on first use.

use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};
use tradepit_engine::mirror::{BookMirror, MirrorError, OrderEvent, RestingOrder};
use tradepit_engine::{DepthLevel, Event, EventKind, Side};

use crate::named_tuple::NamedTuple;
use crate::records::PyEvent;

/// A price level as Python sees it: `(price, open quantity, order count)`.
type Level = (i64, i64, i64);

/// The market-data hub's mirror of one book (native backend of `marketdata.view.BookView`).
#[pyclass(name = "BookView", module = "tradepit._native")]
pub(crate) struct PyBookView {
    mirror: BookMirror,
    /// Reused for every replay: the events read from Python, the L3 events and the touched
    /// prices, so the per-command path allocates only the Python objects it returns.
    events: Vec<Event>,
    orders: Vec<OrderEvent>,
    bids: Vec<i64>,
    asks: Vec<i64>,
}

impl PyBookView {
    fn with(mirror: BookMirror) -> Self {
        PyBookView {
            mirror,
            events: Vec::with_capacity(16),
            orders: Vec::new(),
            bids: Vec::new(),
            asks: Vec::new(),
        }
    }

    /// Replays one command's events into the mirror, appending the L3 events to `out` when
    /// it is given (a list, or anything with `append`). As in the reference, L3 events made
    /// before an error are still appended.
    fn replay_events(
        &mut self,
        events: &Bound<'_, PyAny>,
        out: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        self.events.clear();
        if let Ok(list) = events.cast::<PyList>() {
            for item in list.iter() {
                self.events.push(read_event(&item)?);
            }
        } else {
            for item in events.try_iter()? {
                self.events.push(read_event(&item?)?);
            }
        }
        self.bids.clear();
        self.asks.clear();
        self.orders.clear();
        let replayed = self.mirror.replay_into(
            &self.events,
            &mut self.bids,
            &mut self.asks,
            out.is_some().then_some(&mut self.orders),
        );
        if let Some(out) = out {
            let py = out.py();
            let shapes = shapes(py)?;
            let list = out.cast::<PyList>().ok();
            for e in &self.orders {
                let item = shapes.order_event.make_ints(
                    py,
                    [
                        e.kind.code(),
                        e.order_id,
                        e.side.code(),
                        e.price,
                        e.quantity,
                        e.remaining,
                        e.sequence,
                    ],
                )?;
                match list {
                    Some(list) => list.append(item)?,
                    None => {
                        out.call_method1(intern!(py, "append"), (item,))?;
                    }
                }
            }
        }
        replayed.map_err(|MirrorError::UnknownOrder(order_id)| PyKeyError::new_err(order_id))
    }
}

#[pymethods]
impl PyBookView {
    #[new]
    #[pyo3(signature = (sequence=0))]
    fn new(sequence: i64) -> Self {
        PyBookView::with(BookMirror::new(sequence))
    }

    /// The view of a live book, for a start when none of its events is in flight: `book`
    /// has a `sequence` and `orders()` giving `(bids, asks)` in priority order, of objects
    /// with `order_id`, `side`, `price` and `remaining`.
    #[classmethod]
    fn of(_cls: &Bound<'_, PyType>, book: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = book.py();
        let mut mirror = BookMirror::new(book.getattr(intern!(py, "sequence"))?.extract()?);
        let sides: Vec<Bound<'_, PyAny>> = book
            .call_method0(intern!(py, "orders"))?
            .try_iter()?
            .collect::<PyResult<_>>()?;
        if sides.len() != 2 {
            return Err(PyValueError::new_err(format!(
                "orders() must give (bids, asks), got {} values",
                sides.len()
            )));
        }
        for side in sides {
            for order in side.try_iter()? {
                let order = order?;
                let attr = |name: &Bound<'_, pyo3::types::PyString>| -> PyResult<i64> {
                    order.getattr(name)?.extract()
                };
                mirror.rest(RestingOrder {
                    order_id: attr(intern!(py, "order_id"))?,
                    side: side_of(attr(intern!(py, "side"))?)?,
                    price: attr(intern!(py, "price"))?,
                    remaining: attr(intern!(py, "remaining"))?,
                });
            }
        }
        Ok(PyBookView::with(mirror))
    }

    #[getter]
    fn sequence(&self) -> i64 {
        self.mirror.sequence()
    }

    #[setter]
    fn set_sequence(&mut self, sequence: i64) {
        self.mirror.set_sequence(sequence);
    }

    // ------------------------------------------------------------ queries

    fn best_bid(&self) -> Option<(i64, i64)> {
        self.mirror.best_bid()
    }

    fn best_ask(&self) -> Option<(i64, i64)> {
        self.mirror.best_ask()
    }

    /// Up to `levels` levels per side, best first, as the book's own `depth`.
    fn depth(&self, levels: i64) -> (Vec<Level>, Vec<Level>) {
        let (bids, asks) = self.mirror.depth(levels);
        (plain(bids), plain(asks))
    }

    /// Up to `levels` bid levels, best first (one side of `depth`).
    fn bid_levels(&self, levels: i64) -> Vec<Level> {
        plain(self.mirror.bid_levels(levels))
    }

    fn ask_levels(&self, levels: i64) -> Vec<Level> {
        plain(self.mirror.ask_levels(levels))
    }

    /// Up to `levels` bid levels at prices below `price`, best first.
    fn bid_levels_below(&self, price: i64, levels: i64) -> Vec<Level> {
        plain(self.mirror.bid_levels_below(price, levels))
    }

    /// Up to `levels` ask levels at prices above `price`, best first.
    fn ask_levels_above(&self, price: i64, levels: i64) -> Vec<Level> {
        plain(self.mirror.ask_levels_above(price, levels))
    }

    /// The bid level at `price`, if any order rests there.
    fn bid_level(&self, price: i64) -> Option<Level> {
        self.mirror.bid_level(price).map(tuple)
    }

    fn ask_level(&self, price: i64) -> Option<Level> {
        self.mirror.ask_level(price).map(tuple)
    }

    /// Every resting order, per side in priority order: best price, then time.
    fn orders<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let shapes = shapes(py)?;
        let side = |side| -> PyResult<Bound<'py, PyList>> {
            let list = PyList::empty(py);
            for o in self.mirror.side_orders(side) {
                list.append(
                    shapes
                        .resting_order
                        .make_ints(py, [o.order_id, o.side.code(), o.price, o.remaining])?,
                )?;
            }
            Ok(list)
        };
        Ok((side(Side::Buy)?, side(Side::Sell)?))
    }

    fn __len__(&self) -> usize {
        self.mirror.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "BookView(sequence={}, orders={})",
            self.mirror.sequence(),
            self.mirror.len()
        )
    }

    // ------------------------------------------------------------ changes

    /// Replay one command's events; return what an L3 reader sees of them.
    fn apply<'py>(&mut self, events: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
        let orders = PyList::empty(events.py());
        self.replay_events(events, Some(orders.as_any()))?;
        Ok(orders)
    }

    /// Replay one command's events; return the prices of the bid levels and of the ask
    /// levels they changed, one per L3 event (so a price may repeat). `orders` receives the
    /// L3 events themselves, when given.
    #[pyo3(signature = (events, orders=None))]
    fn replay<'py>(
        &mut self,
        events: &Bound<'py, PyAny>,
        orders: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        self.replay_events(events, orders)?;
        let py = events.py();
        Ok((PyList::new(py, &self.bids)?, PyList::new(py, &self.asks)?))
    }
}

fn tuple(level: DepthLevel) -> Level {
    (level.price, level.quantity, level.count)
}

fn plain(levels: Vec<DepthLevel>) -> Vec<Level> {
    levels.into_iter().map(tuple).collect()
}

fn side_of(code: i64) -> PyResult<Side> {
    Side::from_code(code).ok_or_else(|| PyValueError::new_err(format!("invalid side {code}")))
}

/// One event as the engine's `Event`. Only the fields the mirror reads are filled (the
/// others are 0), and of an object only the attributes the reference reads for its kind
/// are read. A kind the mirror does not know changes nothing, as in the reference.
#[inline]
fn read_event(item: &Bound<'_, PyAny>) -> PyResult<Event> {
    let mut event = Event {
        kind: EventKind::Error,
        seq: 0,
        timestamp: 0,
        order_id: 0,
        owner: 0,
        side: Side::Buy,
        price: 0,
        quantity: 0,
        remaining: 0,
        reason: 0,
        maker_id: 0,
        maker_owner: 0,
        maker_remaining: 0,
    };
    if let Ok(native) = item.cast_exact::<PyEvent>() {
        // The contract's order: kind, seq, timestamp, order_id, owner, side, price,
        // quantity, remaining, reason, maker_id, maker_owner, maker_remaining.
        let w = native.get().words();
        event = Event {
            kind: EventKind::from_code(w[0]).unwrap_or(EventKind::Error),
            seq: w[1],
            timestamp: w[2],
            order_id: w[3],
            owner: w[4],
            side: event.side,
            price: w[6],
            quantity: w[7],
            remaining: w[8],
            reason: w[9],
            maker_id: w[10],
            maker_owner: w[11],
            maker_remaining: w[12],
        };
        if event.kind == EventKind::Accepted {
            event.side = side_of(w[5])?;
        }
        return Ok(event);
    }
    let py = item.py();
    let attr = |name: &Bound<'_, pyo3::types::PyString>| -> PyResult<i64> {
        item.getattr(name)?.extract()
    };
    event.kind = EventKind::from_code(attr(intern!(py, "kind"))?).unwrap_or(EventKind::Error);
    event.seq = attr(intern!(py, "seq"))?;
    match event.kind {
        EventKind::Trade => {
            event.maker_id = attr(intern!(py, "maker_id"))?;
            event.quantity = attr(intern!(py, "quantity"))?;
            event.maker_remaining = attr(intern!(py, "maker_remaining"))?;
            event.remaining = attr(intern!(py, "remaining"))?;
        }
        EventKind::Accepted => {
            event.order_id = attr(intern!(py, "order_id"))?;
            event.side = side_of(attr(intern!(py, "side"))?)?;
            event.price = attr(intern!(py, "price"))?;
            event.remaining = attr(intern!(py, "remaining"))?;
        }
        EventKind::Cancelled => {
            event.order_id = attr(intern!(py, "order_id"))?;
            event.quantity = attr(intern!(py, "quantity"))?;
            event.remaining = attr(intern!(py, "remaining"))?;
        }
        EventKind::Amended => {
            event.order_id = attr(intern!(py, "order_id"))?;
            event.reason = attr(intern!(py, "reason"))?;
            event.price = attr(intern!(py, "price"))?;
            event.remaining = attr(intern!(py, "remaining"))?;
        }
        EventKind::Rejected | EventKind::Error => {}
    }
    Ok(event)
}

/// `tradepit.marketdata.view`'s named tuples, imported once.
struct Shapes {
    order_event: NamedTuple,
    resting_order: NamedTuple,
}

static SHAPES: PyOnceLock<Shapes> = PyOnceLock::new();

fn shapes(py: Python<'_>) -> PyResult<&'static Shapes> {
    SHAPES.get_or_try_init(py, || {
        let module = py.import("tradepit.marketdata.view")?;
        let tuple_class = |name: &str| -> PyResult<NamedTuple> {
            let class = module.getattr(name)?.cast_into::<PyType>()?;
            NamedTuple::new(&class, &format!("tradepit.marketdata.view.{name}"))
        };
        Ok(Shapes {
            order_event: tuple_class("OrderEvent")?,
            resting_order: tuple_class("RestingOrder")?,
        })
    })
}
