//! What each journal entry changed in the queryable store, noted by the Rust exchange as
//! it applies the command (`Exchange.start_store_notes`), and the store's rows of it all
//! (`Exchange.take_store_notes`).
//!
//! `Projection.note` (server/tradepit/store/projection.py) does this for the Python
//! exchange from each command's reports and market events, on the event loop: every
//! report touches its account, the position in its symbol and its order, a trade adds a
//! fill row, every market event touches its instrument. Here the same happens on the
//! engine's own reports, numbered by the journal tape, so an order costs the loop no
//! Python call for it. The admin commands' own notes (an account created, a balance
//! adjusted, an instrument listed or removed) still come from Python (`note_account`,
//! `note_position`, `note_instrument`), in command order, as do the candles.

use std::hash::Hash;
use std::sync::Arc;

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use rustc_hash::FxHashMap;
use tradepit_engine::exchange::{Exchange, ExecType, MarketEvent, Report};

use crate::pickled::PickledList;
use crate::store_rows::{account_row, order_row, position_row, Pickled};

/// Keys in the order first touched, each with the last entry that touched it: what a
/// Python dict assigned to again and again holds. Hashed with FxHash: the keys are the
/// exchange's own ids, not a caller's, and in a profile of the journal-on stream SipHash
/// took more of the loop's time than the rest of `touch`.
struct Touched<K> {
    index: FxHashMap<K, usize>,
    keys: Vec<(K, i128)>,
}

impl<K: Hash + Eq + Clone> Touched<K> {
    fn new() -> Self {
        Touched {
            index: FxHashMap::default(),
            keys: Vec::new(),
        }
    }

    fn touch(&mut self, key: K, sequence: i128) {
        match self.index.get(&key) {
            Some(&at) => self.keys[at].1 = sequence,
            None => {
                self.index.insert(key.clone(), self.keys.len());
                self.keys.push((key, sequence));
            }
        }
    }

    fn take(&mut self) -> Vec<(K, i128)> {
        self.index.clear();
        std::mem::take(&mut self.keys)
    }
}

pub(crate) struct StoreNotes {
    orders: Touched<i64>,
    accounts: Touched<i64>,
    positions: Touched<(i64, Arc<str>)>,
    instruments: Touched<Arc<str>>,
    fills: PickledList,
    /// How many order or fill rows the writer's INSERT statements take at once: their
    /// rows are pickled so many to a tuple (pickled.rs).
    rows_per_statement: usize,
}

/// `(order rows, account rows, position rows, fill rows)`, each pickled (None: no rows;
/// the orders' and fills' grouped, `PickledList::grouped`), and the instruments touched
/// with their entries.
pub(crate) type TakenNotes<'py> = (
    Pickled<'py>,
    Pickled<'py>,
    Pickled<'py>,
    Pickled<'py>,
    Bound<'py, PyList>,
);

impl StoreNotes {
    pub(crate) fn new(rows_per_statement: usize) -> StoreNotes {
        StoreNotes {
            orders: Touched::new(),
            accounts: Touched::new(),
            positions: Touched::new(),
            instruments: Touched::new(),
            fills: PickledList::grouped(rows_per_statement),
            rows_per_statement,
        }
    }

    /// What entry `sequence` touched: its reports, then its market events.
    pub(crate) fn note(&mut self, sequence: i64, reports: &[Report], events: &[MarketEvent]) {
        let sequence = i128::from(sequence);
        for r in reports {
            self.accounts.touch(r.account_id, sequence);
            self.positions
                .touch((r.account_id, r.symbol.clone()), sequence);
            if r.order_id != 0 {
                self.orders.touch(r.order_id, sequence);
            }
            if r.exec_type == ExecType::Trade {
                let liquidity = r
                    .liquidity
                    .expect("a fill is always a maker's or a taker's");
                self.fills
                    .row()
                    .int(r.account_id)
                    .int(r.trade_id)
                    .int(r.order_id)
                    .text(&r.client_order_id)
                    .text(&r.symbol)
                    .int(r.side)
                    .int(r.last_price)
                    .int(r.last_quantity)
                    .int(r.fee)
                    .int(liquidity.code())
                    .int(r.timestamp_ns)
                    .int(sequence)
                    .end_row();
            }
        }
        for event in events {
            let symbol = match event {
                MarketEvent::BookChange { symbol, .. }
                | MarketEvent::StatusChange { symbol, .. } => symbol,
            };
            self.instruments.touch(symbol.clone(), sequence);
        }
    }

    pub(crate) fn account(&mut self, account_id: i64, sequence: i128) {
        self.accounts.touch(account_id, sequence);
    }

    pub(crate) fn position(&mut self, account_id: i64, symbol: &str, sequence: i128) {
        self.positions
            .touch((account_id, Arc::from(symbol)), sequence);
    }

    pub(crate) fn instrument(&mut self, symbol: &str, sequence: i128) {
        self.instruments.touch(Arc::from(symbol), sequence);
    }

    /// The rows of everything touched since the last call, as `exchange` is now: a
    /// missing order or position has none, an unknown account raises `KeyError` (nothing
    /// is taken then).
    pub(crate) fn take<'py>(
        &mut self,
        py: Python<'py>,
        exchange: &Exchange,
    ) -> PyResult<TakenNotes<'py>> {
        let mut account_rows = PickledList::new();
        for &(account_id, sequence) in &self.accounts.keys {
            let account = exchange
                .account(account_id)
                .ok_or_else(|| PyKeyError::new_err(account_id))?;
            account_row(&mut account_rows, account, sequence);
        }
        let mut position_rows = PickledList::new();
        for ((account_id, symbol), sequence) in self.positions.take() {
            let held = exchange
                .account(account_id)
                .and_then(|account| account.positions.get(&symbol));
            if let Some(held) = held {
                position_row(&mut position_rows, account_id, &symbol, held, sequence);
            }
        }
        let mut order_rows = PickledList::grouped(self.rows_per_statement);
        for (order_id, sequence) in self.orders.take() {
            if let Some(order) = exchange.order(order_id) {
                order_row(&mut order_rows, order, sequence);
            }
        }
        self.accounts.take();
        let instruments = PyList::empty(py);
        for (symbol, sequence) in self.instruments.take() {
            instruments.append((&*symbol, sequence))?;
        }
        let fills = std::mem::replace(
            &mut self.fills,
            PickledList::grouped(self.rows_per_statement),
        );
        let pickled = |rows: PickledList| rows.finish().map(|bytes| PyBytes::new(py, &bytes));
        Ok((
            pickled(order_rows),
            pickled(account_rows),
            pickled(position_rows),
            pickled(fills),
            instruments,
        ))
    }
}
