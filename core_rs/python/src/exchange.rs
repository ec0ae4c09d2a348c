//! `Exchange`: the engine's exchange state machine behind a Python class.
//!
//! Commands come in as the named tuples of `tradepit.exchange.commands` (read by position,
//! dispatched on the class name); reports and market events go out as the named tuples of
//! `tradepit.exchange.model`, whose classes the caller passes in once (`shapes`), so this
//! crate imports nothing of the server. A refusal is raised as
//! `tradepit.exchange.errors.Reject`, exactly as the Python exchange raises it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};
use pyo3::IntoPyObjectExt;
use tradepit_engine::exchange::{
    Account, Command, Exchange, ExchangeError, ExchangeParts, Fill, Instrument, Limits,
    MarketEvent, Order, OrderRef, OrderReports, Outcome, Report, Submit, TradePrint,
};

use crate::errors::to_py_err;
use crate::journal::Tape;
use crate::named_tuple::NamedTuple;
use crate::records::PyEvent;
use crate::store_notes::{StoreNotes, TakenNotes};
use crate::views::{AccountView, BookView, InstrumentView, OrderView};

/// The Python classes the exchange's values are made of.
struct Shapes {
    report: NamedTuple,
    trade: NamedTuple,
    book_change: NamedTuple,
    status_change: NamedTuple,
    reject: Py<PyType>,
    reject_code: Py<PyType>,
    /// `model.Fill`, a slotted dataclass: called with its ten fields positionally.
    fill: Py<PyType>,
}

impl Shapes {
    /// The classes `shapes` names (see [`PyExchange::new`]).
    fn read(py: Python<'_>, shapes: &Bound<'_, PyDict>) -> PyResult<Shapes> {
        let class = |name: &str| -> PyResult<Py<PyType>> {
            let value = shapes
                .get_item(name)?
                .ok_or_else(|| PyValueError::new_err(format!("shapes lacks {name}")))?;
            Ok(value.cast_into::<PyType>()?.unbind())
        };
        let tuple_class = |name: &str| -> PyResult<NamedTuple> {
            NamedTuple::new(class(name)?.bind(py), &format!("shapes[{name:?}]"))
        };
        Ok(Shapes {
            report: tuple_class("ExecutionReport")?,
            trade: tuple_class("TradePrint")?,
            book_change: tuple_class("BookChange")?,
            status_change: tuple_class("StatusChange")?,
            reject: class("Reject")?,
            reject_code: class("RejectCode")?,
            fill: class("Fill")?,
        })
    }
}

/// The exchange (native backend): the same commands, results and state as
/// `tradepit.exchange.exchange.Exchange`.
#[pyclass(name = "Exchange", module = "tradepit._native")]
pub(crate) struct PyExchange {
    pub(crate) exchange: Exchange,
    shapes: Shapes,
    /// The reports of the commands since the last `take_reports`, as Python objects: each
    /// is made once, and a result's reports are the same objects.
    reports: Py<PyList>,
    /// Command classes seen so far, and which command each is: dispatch by identity.
    kinds: Vec<(Py<PyType>, Kind)>,
    symbols: SymbolStrings,
    /// Once `start_tape` was called: the journal entry of every command applied since.
    tape: Option<Tape>,
    /// Once `start_store_notes` was called: what each entry on the tape changed in the
    /// queryable store.
    notes: Option<StoreNotes>,
}

/// The Python string of each listed symbol, found by the address of the engine's shared
/// string (`Instrument::symbol`), so that reports and market events name their symbol
/// without making a new str every time.
#[derive(Default)]
struct SymbolStrings(HashMap<usize, (Arc<str>, Py<PyString>), BuildHasherDefault<AddressHasher>>);

impl SymbolStrings {
    fn address(symbol: &Arc<str>) -> usize {
        Arc::as_ptr(symbol).cast::<u8>() as usize
    }

    /// Remembers a newly listed symbol (the `Arc` kept keeps its address unique).
    fn learn(&mut self, py: Python<'_>, symbol: &Arc<str>) {
        self.0
            .entry(Self::address(symbol))
            .or_insert_with(|| (symbol.clone(), PyString::new(py, symbol).unbind()));
    }

    fn get<'py>(&self, py: Python<'py>, symbol: &Arc<str>) -> Bound<'py, PyAny> {
        match self.0.get(&Self::address(symbol)) {
            Some((_, known)) => known.bind(py).clone().into_any(),
            None => PyString::new(py, symbol).into_any(),
        }
    }
}

/// Hashes an address: the high half of its product with a large odd constant, folded in
/// (addresses share their low bits, which a plain product would keep).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte) ^ self.0.rotate_left(8));
        }
    }

    fn write_u64(&mut self, value: u64) {
        let product = u128::from(value) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

/// The commands of `tradepit.exchange.commands`.
#[derive(Clone, Copy)]
enum Kind {
    SubmitOrder,
    CancelOrder,
    AmendOrder,
    CancelAll,
    CreateAccount,
    AdjustBalance,
    CreateInstrument,
    SetTradingStatus,
    SetLimits,
    RemoveInstrument,
    EndSession,
}

impl Kind {
    fn named(name: &str) -> Option<Kind> {
        Some(match name {
            "SubmitOrder" => Kind::SubmitOrder,
            "CancelOrder" => Kind::CancelOrder,
            "AmendOrder" => Kind::AmendOrder,
            "CancelAll" => Kind::CancelAll,
            "CreateAccount" => Kind::CreateAccount,
            "AdjustBalance" => Kind::AdjustBalance,
            "CreateInstrument" => Kind::CreateInstrument,
            "SetTradingStatus" => Kind::SetTradingStatus,
            "SetLimits" => Kind::SetLimits,
            "RemoveInstrument" => Kind::RemoveInstrument,
            "EndSession" => Kind::EndSession,
            _ => return None,
        })
    }
}

#[pymethods]
impl PyExchange {
    /// `shapes` maps "ExecutionReport", "TradePrint", "BookChange", "StatusChange",
    /// "Reject", "RejectCode" and "Fill" to their Python classes.
    #[new]
    #[pyo3(signature = (shapes, maker_fee_bps=0, taker_fee_bps=0, max_order_quantity=1_000_000,
                        max_order_notional=10_000_000_000_000))]
    fn new(
        py: Python<'_>,
        shapes: &Bound<'_, PyDict>,
        maker_fee_bps: i128,
        taker_fee_bps: i128,
        max_order_quantity: i128,
        max_order_notional: i128,
    ) -> PyResult<Self> {
        let shapes = Shapes::read(py, shapes)?;
        let limits = Limits {
            maker_fee_bps,
            taker_fee_bps,
            max_order_quantity,
            max_order_notional,
        };
        Ok(PyExchange {
            exchange: Exchange::new(limits),
            shapes,
            reports: PyList::empty(py).unbind(),
            kinds: Vec::new(),
            symbols: SymbolStrings::default(),
            tape: None,
            notes: None,
        })
    }

    /// An exchange rebuilt from `snapshot()`'s bytes. Bytes that do not decode, or
    /// parts that do not fit together, raise `ValueError` naming the problem.
    #[staticmethod]
    fn restore(py: Python<'_>, shapes: &Bound<'_, PyDict>, snapshot: &[u8]) -> PyResult<Self> {
        let shapes = Shapes::read(py, shapes)?;
        let exchange = py
            .detach(|| ExchangeParts::from_bytes(snapshot).and_then(Exchange::restore))
            .map_err(|e| PyValueError::new_err(e.0))?;
        let mut symbols = SymbolStrings::default();
        for instrument in exchange.instruments().chain(exchange.delisted()) {
            symbols.learn(py, &instrument.symbol);
        }
        Ok(PyExchange {
            exchange,
            shapes,
            reports: PyList::empty(py).unbind(),
            kinds: Vec::new(),
            symbols,
            tape: None,
            notes: None,
        })
    }

    /// The whole state as bytes (the engine's `ExchangeParts::to_bytes`, each book's
    /// snapshot among them): what `restore` rebuilds it from. The outboxes are not
    /// part of it.
    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = py.detach(|| self.exchange.to_parts().to_bytes());
        PyBytes::new(py, &bytes)
    }

    /// Apply one command. The result by command: SubmitOrder, CancelOrder and AmendOrder
    /// give `(order_id, reports)`; CreateAccount and AdjustBalance the account id;
    /// CreateInstrument the symbol; SetTradingStatus the symbols; SetLimits the limits
    /// as a tuple; CancelAll the order ids; RemoveInstrument `(symbol, order_ids)`;
    /// EndSession the reports.
    fn execute<'py>(
        &mut self,
        py: Python<'py>,
        command: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kind = self.kind(command)?;
        let events_before = self.exchange.market_events().len();
        // The submitted client_order_id, which the order's reports repeat.
        let mut client = None;
        let result = match kind {
            // The hot path: the strings are read in place, not copied into a command.
            Kind::SubmitOrder => {
                let f = command.cast::<PyTuple>()?;
                let client_order_id = client.insert(f.get_item(1)?.cast_into::<PyString>()?);
                let symbol = f.get_item(2)?.cast_into::<PyString>()?;
                let submit = Submit {
                    account_id: at(f, 0)?,
                    client_order_id: client_order_id.to_str()?,
                    symbol: symbol.to_str()?,
                    side: at(f, 3)?,
                    order_type: at(f, 4)?,
                    tif: at(f, 5)?,
                    price: money(f, 6)?,
                    quantity: money(f, 7)?,
                    post_only: truth(f, 8)?,
                    stp: at(f, 9)?,
                    timestamp: at(f, 10)?,
                };
                let result = self.exchange.submit(&submit);
                if let (Some(tape), Ok(_)) = (&mut self.tape, &result) {
                    tape.push_submit(&submit);
                }
                result
            }
            _ => {
                let command = to_command(kind, command)?;
                let result = self.exchange.execute(&command);
                if let (Some(tape), Ok(_)) = (&mut self.tape, &result) {
                    tape.push_command(&command);
                }
                result
            }
        };
        if let (Some(tape), Some(notes), Ok(_)) = (&self.tape, &mut self.notes, &result) {
            let events = &self.exchange.market_events()[events_before..];
            notes.note(tape.next() - 1, self.exchange.reports(), events);
        }
        if let Ok(Outcome::Instrument { symbol }) = &result {
            let listed = self.exchange.listing(symbol).expect("just listed");
            self.symbols.learn(py, &listed.symbol);
        }
        let answer = self.answer(py, result, client.as_ref());
        // The outbox is copied out each command; clearing keeps its memory.
        self.exchange.clear_reports();
        answer
    }

    // ------------------------------------------------------------ the journal's tape

    /// Write the journal entry of every command applied from now on (not of a refused
    /// one), numbered from `next_sequence`: what `take_tape` returns, for
    /// `tradepit._native.decode_journal_tape` to make the entries of.
    fn start_tape(&mut self, next_sequence: i64) {
        self.tape = Some(Tape::new(next_sequence));
    }

    /// The sequence the next entry on the tape gets; None before `start_tape`.
    fn tape_next(&self) -> Option<i64> {
        self.tape.as_ref().map(Tape::next)
    }

    /// The tape's entries since the last call (empty before `start_tape`).
    fn take_tape<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = self.tape.as_mut().map(Tape::take).unwrap_or_default();
        PyBytes::new(py, &bytes)
    }

    /// Add an entry encoded elsewhere: that of a command this raised on before it
    /// changed anything, which the journal holds all the same.
    fn tape_encoded(&mut self, kind: &str, arrived_ns: i64, payload: &[u8]) -> PyResult<()> {
        let tape = self
            .tape
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("the journal tape was not started"))?;
        tape.push_encoded(kind, arrived_ns, payload);
        Ok(())
    }

    // ------------------------------------------------------------ the store's notes

    /// Note what each command on the tape changes in the queryable store, from now on
    /// (store_notes.rs): what `take_store_notes` gives the rows of, the orders' and the
    /// fills' `rows_per_statement` to a tuple.
    #[pyo3(signature = (rows_per_statement=1))]
    fn start_store_notes(&mut self, rows_per_statement: usize) {
        self.notes = Some(StoreNotes::new(rows_per_statement));
    }

    /// Note that entry `sequence` changed an account (an admin command's own note).
    fn note_account(&mut self, account_id: i64, sequence: i128) -> PyResult<()> {
        self.started_notes()?.account(account_id, sequence);
        Ok(())
    }

    /// Note that entry `sequence` changed a position (an admin command's own note).
    fn note_position(&mut self, account_id: i64, symbol: &str, sequence: i128) -> PyResult<()> {
        self.started_notes()?.position(account_id, symbol, sequence);
        Ok(())
    }

    /// Note that entry `sequence` changed an instrument (an admin command's own note).
    fn note_instrument(&mut self, symbol: &str, sequence: i128) -> PyResult<()> {
        self.started_notes()?.instrument(symbol, sequence);
        Ok(())
    }

    /// The store's rows of everything noted since the last call, as the state is now:
    /// `(orders, accounts, positions, fills)`, each pickled (None: no rows), unpickling to
    /// exactly the tuples projection.py's row functions give (for the orders and fills,
    /// the values of `rows_per_statement` of them in each tuple), and the instruments as
    /// `[(symbol, sequence)]`, in the order first touched. A missing order or position
    /// has no row; an unknown account raises `KeyError`.
    fn take_store_notes<'py>(&mut self, py: Python<'py>) -> PyResult<TakenNotes<'py>> {
        let exchange = &self.exchange;
        match &mut self.notes {
            Some(notes) => notes.take(py, exchange),
            None => Err(PyValueError::new_err("the store's notes were not started")),
        }
    }

    /// The reports produced since the last call, in order.
    fn take_reports<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyList> {
        std::mem::replace(&mut self.reports, PyList::empty(py).unbind()).into_bound(py)
    }

    /// The book changes and status changes since the last call, in order.
    fn take_market_events<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        let made = self
            .exchange
            .market_events()
            .iter()
            .try_for_each(|event| list.append(self.market_event(py, event)?));
        self.exchange.clear_market_events();
        made.map(|()| list)
    }

    // ------------------------------------------------------------ live views (views.rs)

    /// Every account id, ascending.
    fn account_ids(&self) -> Vec<i64> {
        self.exchange.accounts().map(|a| a.account_id).collect()
    }

    /// A live view of an account; `None` if there is no such account.
    fn account_view(slf: &Bound<'_, Self>, account_id: i64) -> Option<AccountView> {
        let known = slf.borrow().exchange.account(account_id).is_some();
        known.then(|| AccountView::new(slf.clone().unbind(), account_id))
    }

    /// The id of the account with this key hash, if any.
    fn account_id_for_key(&self, key_hash: &str) -> Option<i64> {
        self.exchange
            .account_for_key(key_hash)
            .map(|a| a.account_id)
    }

    /// How many orders there are: their ids are 1 to this, every one kept.
    fn order_count(&self) -> usize {
        self.exchange.order_count()
    }

    /// A live view of an order; `None` if there is no such order.
    fn order_view(slf: &Bound<'_, Self>, order_id: i64) -> Option<OrderView> {
        let known = slf.borrow().exchange.order(order_id).is_some();
        known.then(|| OrderView::new(slf.clone().unbind(), order_id))
    }

    /// A live view of a listed or delisted instrument; `None` if it was never listed.
    fn instrument_view(slf: &Bound<'_, Self>, symbol: &str) -> Option<InstrumentView> {
        let known = slf.borrow().exchange.listing(symbol).is_some();
        known.then(|| InstrumentView::new(slf.clone().unbind(), symbol))
    }

    /// The listed symbols, in listing order.
    fn listed_symbols<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.exchange
                .instruments()
                .map(|i| self.symbols.get(py, &i.symbol)),
        )
    }

    /// The delisted symbols, in delisting order.
    fn delisted_symbols<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.exchange
                .delisted()
                .map(|i| self.symbols.get(py, &i.symbol)),
        )
    }

    /// A live view of a listed symbol's book; `None` if the symbol is not listed.
    fn book_view(slf: &Bound<'_, Self>, symbol: &str) -> Option<BookView> {
        let known = slf.borrow().exchange.book(symbol).is_some();
        known.then(|| BookView::new(slf.clone().unbind(), symbol))
    }

    /// `(maker_fee_bps, taker_fee_bps, max_order_quantity, max_order_notional)`.
    fn limits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let limits = self.exchange.limits();
        PyTuple::new(
            py,
            [
                int(py, limits.maker_fee_bps)?,
                int(py, limits.taker_fee_bps)?,
                int(py, limits.max_order_quantity)?,
                int(py, limits.max_order_notional)?,
            ],
        )
    }

    /// What newly accepted orders pay: `(maker_bps, taker_bps, max_bps)`.
    fn fee_rates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let rates = self.exchange.fee_rates();
        PyTuple::new(
            py,
            [
                int(py, rates.maker_bps)?,
                int(py, rates.taker_bps)?,
                int(py, rates.max_bps)?,
            ],
        )
    }

    fn fees_collected<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        int(py, self.exchange.fees_collected())
    }

    /// `(next account id, next order id, next trade id)`.
    fn next_ids(&self) -> (i64, i64, i64) {
        self.exchange.next_ids()
    }

    /// Every broken money or escrow invariant, as text; empty when all hold. Like the
    /// Python exchange's, it notes an empty position for every symbol it looks at.
    fn audit(&mut self) -> Vec<String> {
        self.exchange.audit_mut()
    }

    /// Per order, in id order, the fields the state digest covers, as the digest lists
    /// them (tradepit/exchange/digest.py): one call, where reading them through views
    /// costs a view and sixteen attribute reads per order.
    fn order_digest_rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = PyList::empty(py);
        for o in self.exchange.orders() {
            let values: [Bound<'py, PyAny>; 16] = [
                o.order_id.into_pyobject(py)?.into_any(),
                o.account_id.into_pyobject(py)?.into_any(),
                PyString::new(py, &o.client_order_id).into_any(),
                PyString::new(py, &o.symbol).into_any(),
                o.side.into_pyobject(py)?.into_any(),
                int(py, o.price)?,
                int(py, o.quantity)?,
                o.status.code().into_pyobject(py)?.into_any(),
                int(py, o.filled_quantity)?,
                int(py, o.filled_notional)?,
                int(py, o.fees)?,
                int(py, o.leaves)?,
                int(py, o.reserved_cash)?,
                o.book_id.into_pyobject(py)?.into_any(),
                o.created_ns.into_pyobject(py)?.into_any(),
                o.updated_ns.into_pyobject(py)?.into_any(),
            ];
            rows.append(PyTuple::new(py, values)?)?;
        }
        Ok(rows)
    }

    /// The whole state as plain values, in the layout `tests/exchange/state.py` gives
    /// the Python exchange's: what the parity tests compare.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let state = PyDict::new(py);
        let accounts = PyList::empty(py);
        for account in self.exchange.accounts() {
            accounts.append(account_state(py, account)?)?;
        }
        let orders = PyList::empty(py);
        for order in self.exchange.orders() {
            orders.append(self.order_state(py, order)?)?;
        }
        let listed = PyList::empty(py);
        for instrument in self.exchange.instruments() {
            listed.append(instrument_state(py, instrument)?)?;
        }
        let delisted = PyList::empty(py);
        for instrument in self.exchange.delisted() {
            delisted.append(instrument_state(py, instrument)?)?;
        }
        let books = PyList::empty(py);
        for instrument in self.exchange.instruments() {
            if let Some(book) = self.exchange.book(&instrument.symbol) {
                books.append((&*instrument.symbol, book.state_hash()))?;
            }
        }
        let limits = self.exchange.limits();
        state.set_item("accounts", accounts)?;
        state.set_item("orders", orders)?;
        state.set_item("instruments", listed)?;
        state.set_item("delisted", delisted)?;
        state.set_item("books", books)?;
        state.set_item("fees_collected", self.exchange.fees_collected())?;
        state.set_item("next_ids", self.exchange.next_ids())?;
        state.set_item(
            "limits",
            (
                limits.maker_fee_bps,
                limits.taker_fee_bps,
                limits.max_order_quantity,
                limits.max_order_notional,
            ),
        )?;
        Ok(state)
    }
}

impl PyExchange {
    fn started_notes(&mut self) -> PyResult<&mut StoreNotes> {
        self.notes
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("the store's notes were not started"))
    }

    /// The class's command kind, learnt from its name the first time it is seen.
    fn kind(&mut self, command: &Bound<'_, PyAny>) -> PyResult<Kind> {
        let class = command.get_type();
        if let Some((_, kind)) = self.kinds.iter().find(|(known, _)| class.is(known)) {
            return Ok(*kind);
        }
        let name = class.name()?;
        let kind = Kind::named(name.to_str()?)
            .ok_or_else(|| PyTypeError::new_err(format!("not an exchange command: {name}")))?;
        self.kinds.push((class.unbind(), kind));
        Ok(kind)
    }

    /// What `execute` returns or raises for `result`, once the command's reports (the
    /// engine's outbox) are appended to `self.reports` as Python objects. `client`: the
    /// command's client_order_id object, reused for the reports that repeat it.
    fn answer<'py>(
        &self,
        py: Python<'py>,
        result: Result<Outcome, ExchangeError>,
        client: Option<&Bound<'py, PyString>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let made = self.reports.bind(py);
        let base = made.len();
        let client = match client {
            Some(object) => Some((object.to_str()?, object)),
            None => None,
        };
        for report in self.exchange.reports() {
            let client_order_id = match client {
                Some((text, object)) if *report.client_order_id == *text => object.clone(),
                _ => PyString::new(py, &report.client_order_id),
            };
            made.append(self.report_with(py, report, client_order_id)?)?;
        }
        match result {
            Ok(outcome) => self.outcome(py, outcome, base),
            Err(ExchangeError::Reject(reject)) => {
                let code = self
                    .shapes
                    .reject_code
                    .bind(py)
                    .call1((reject.code.code(),))?;
                let error = self.shapes.reject.bind(py).call1((code, reject.message))?;
                Err(PyErr::from_value(error))
            }
            Err(ExchangeError::Book(error)) => Err(to_py_err(error)),
        }
    }

    /// The outbox's reports from `start` on (of one account, or all) as the objects
    /// already made for them: outbox position `i` is `self.reports[base + i]`.
    fn made_reports<'py>(
        &self,
        py: Python<'py>,
        start: usize,
        account_id: Option<i64>,
        base: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let made = self.reports.bind(py);
        let list = PyList::empty(py);
        for (i, report) in self.exchange.reports().iter().enumerate().skip(start) {
            if account_id.is_none_or(|id| id == report.account_id) {
                list.append(made.get_item(base + i)?)?;
            }
        }
        Ok(list)
    }

    fn outcome<'py>(
        &self,
        py: Python<'py>,
        outcome: Outcome,
        base: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(match outcome {
            Outcome::Order { order_id, reports } => {
                let reports = match reports {
                    OrderReports::Outbox { start, account_id } => {
                        self.made_reports(py, start, Some(account_id), base)?
                    }
                    OrderReports::Acknowledgement(report) => {
                        PyList::new(py, [self.report(py, &report)?])?
                    }
                };
                (order_id, reports).into_pyobject(py)?.into_any()
            }
            Outcome::Account { account_id } => account_id.into_pyobject(py)?.into_any(),
            Outcome::Instrument { symbol } => symbol.into_pyobject(py)?.into_any(),
            Outcome::Instruments { symbols } => symbols.into_pyobject(py)?.into_any(),
            Outcome::Limits(limits) => (
                limits.maker_fee_bps,
                limits.taker_fee_bps,
                limits.max_order_quantity,
                limits.max_order_notional,
            )
                .into_pyobject(py)?
                .into_any(),
            Outcome::Cancelled { order_ids } => order_ids.into_pyobject(py)?.into_any(),
            Outcome::Removed { symbol, order_ids } => {
                (symbol, order_ids).into_pyobject(py)?.into_any()
            }
            Outcome::Reports { start } => self.made_reports(py, start, None, base)?.into_any(),
        })
    }

    pub(crate) fn report<'py>(
        &self,
        py: Python<'py>,
        report: &Report,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.report_with(py, report, PyString::new(py, &report.client_order_id))
    }

    /// An `ExecutionReport`, its client_order_id given as a Python string; enums as their
    /// integer codes.
    fn report_with<'py>(
        &self,
        py: Python<'py>,
        report: &Report,
        client_order_id: Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = [
            small(py, report.account_id),
            small(py, report.sequence),
            small(py, report.order_id),
            client_order_id.into_any(),
            self.symbols.get(py, &report.symbol),
            small(py, report.exec_type.code()),
            small(py, report.order_status.code()),
            small(py, report.side),
            int(py, report.price)?,
            int(py, report.quantity)?,
            int(py, report.last_quantity)?,
            int(py, report.last_price)?,
            int(py, report.cumulative_quantity)?,
            int(py, report.leaves_quantity)?,
            PyString::new(py, &report.average_price).into_any(),
            int(py, report.fee)?,
            optional_code(py, report.liquidity.map(|l| l.code()))?,
            small(py, report.trade_id),
            optional_code(py, report.reject_reason.map(|code| code.code()))?,
            PyString::new(py, report.reject_message).into_any(),
            small(py, report.timestamp_ns),
        ];
        self.shapes.report.make(py, values)
    }

    fn trade<'py>(&self, py: Python<'py>, trade: &TradePrint) -> PyResult<Bound<'py, PyAny>> {
        let values = [
            self.symbols.get(py, &trade.symbol),
            small(py, trade.trade_id),
            small(py, trade.price),
            small(py, trade.quantity),
            small(py, trade.aggressor_side),
            small(py, trade.timestamp_ns),
            small(py, trade.sequence),
        ];
        self.shapes.trade.make(py, values)
    }

    fn market_event<'py>(
        &self,
        py: Python<'py>,
        event: &MarketEvent,
    ) -> PyResult<Bound<'py, PyAny>> {
        match event {
            MarketEvent::BookChange {
                symbol,
                events,
                trades,
                timestamp_ns,
            } => {
                let events = PyList::new(py, events.iter().map(PyEvent::from))?;
                let prints = PyList::empty(py);
                for trade in trades {
                    prints.append(self.trade(py, trade)?)?;
                }
                let values = [
                    self.symbols.get(py, symbol),
                    events.into_any(),
                    prints.into_any(),
                    small(py, *timestamp_ns),
                ];
                self.shapes.book_change.make(py, values)
            }
            MarketEvent::StatusChange {
                symbol,
                status,
                timestamp_ns,
            } => {
                let values = [
                    self.symbols.get(py, symbol),
                    small(py, status.code()),
                    small(py, *timestamp_ns),
                ];
                self.shapes.status_change.make(py, values)
            }
        }
    }

    /// The Python string of a symbol: the one made when it was listed.
    pub(crate) fn symbol<'py>(&self, py: Python<'py>, symbol: &Arc<str>) -> Bound<'py, PyAny> {
        self.symbols.get(py, symbol)
    }

    /// A `model.Fill` (its liquidity as the integer code).
    pub(crate) fn fill<'py>(&self, py: Python<'py>, fill: &Fill) -> PyResult<Bound<'py, PyAny>> {
        let values = (
            small(py, fill.trade_id),
            small(py, fill.order_id),
            PyString::new(py, &fill.client_order_id),
            self.symbols.get(py, &fill.symbol),
            small(py, fill.side),
            int(py, fill.price)?,
            int(py, fill.quantity)?,
            int(py, fill.fee)?,
            small(py, fill.liquidity.code()),
            small(py, fill.timestamp_ns),
        );
        self.shapes.fill.bind(py).call1(values)
    }

    fn order_state<'py>(&self, py: Python<'py>, order: &Order) -> PyResult<Bound<'py, PyTuple>> {
        let request = &order.request;
        let acknowledgement = match &order.acknowledgement() {
            Some(report) => self.report(py, report)?,
            None => py.None().into_bound(py),
        };
        let values: Vec<Bound<'py, PyAny>> = vec![
            order.order_id.into_pyobject(py)?.into_any(),
            order.account_id.into_pyobject(py)?.into_any(),
            PyString::new(py, &order.client_order_id).into_any(),
            PyString::new(py, &order.symbol).into_any(),
            order.side.into_pyobject(py)?.into_any(),
            order.order_type.into_pyobject(py)?.into_any(),
            order.tif.into_pyobject(py)?.into_any(),
            int(py, order.price)?,
            int(py, order.book_price)?,
            int(py, order.quantity)?,
            pybool(py, order.post_only),
            order.stp.into_pyobject(py)?.into_any(),
            order.created_ns.into_pyobject(py)?.into_any(),
            (
                &*request.symbol,
                request.side,
                request.order_type,
                request.tif,
                request.price,
                request.quantity,
                request.post_only,
                request.stp,
            )
                .into_pyobject(py)?
                .into_any(),
            (
                order.fee_rates.maker_bps,
                order.fee_rates.taker_bps,
                order.fee_rates.max_bps,
            )
                .into_pyobject(py)?
                .into_any(),
            int(py, order.leaves)?,
            int(py, order.filled_quantity)?,
            int(py, order.filled_notional)?,
            int(py, order.fees)?,
            order.status.code().into_pyobject(py)?.into_any(),
            order.updated_ns.into_pyobject(py)?.into_any(),
            optional_code(py, order.reject_reason.map(|code| code.code()))?,
            int(py, order.reserved_cash)?,
            order.book_id.into_pyobject(py)?.into_any(),
            acknowledgement,
        ];
        PyTuple::new(py, values)
    }
}

/// A Python int for an `i64`.
#[inline]
pub(crate) fn small(py: Python<'_>, value: i64) -> Bound<'_, PyAny> {
    value.into_bound_py_any(py).expect("an int")
}

/// A Python int for a money value: through `i64` when it fits (nearly always), which is
/// several times faster than PyO3's 128-bit conversion.
#[inline]
pub(crate) fn int(py: Python<'_>, value: i128) -> PyResult<Bound<'_, PyAny>> {
    Ok(match i64::try_from(value) {
        Ok(small) => small.into_pyobject(py)?.into_any(),
        Err(_) => value.into_pyobject(py)?.into_any(),
    })
}

pub(crate) fn pybool(py: Python<'_>, value: bool) -> Bound<'_, PyAny> {
    pyo3::types::PyBool::new(py, value).to_owned().into_any()
}

pub(crate) fn optional_code(py: Python<'_>, code: Option<i64>) -> PyResult<Bound<'_, PyAny>> {
    Ok(match code {
        Some(code) => code.into_pyobject(py)?.into_any(),
        None => py.None().into_bound(py),
    })
}

fn account_state<'py>(py: Python<'py>, account: &Account) -> PyResult<Bound<'py, PyTuple>> {
    let share_deposits: Vec<(&str, i128)> = account.share_deposits().collect();
    let positions: Vec<(&str, i128, i128, i128, i128)> = account
        .positions()
        .map(|(symbol, p)| (symbol, p.quantity, p.reserved, p.cost_basis, p.realised_pnl))
        .collect();
    let mut client_order_ids: Vec<(&str, i64)> = account
        .client_order_ids
        .iter()
        .map(|(id, order)| (&**id, *order))
        .collect();
    client_order_ids.sort_unstable();
    let fills = PyList::empty(py);
    for f in &account.fills {
        let values: Vec<Bound<'py, PyAny>> = vec![
            f.trade_id.into_pyobject(py)?.into_any(),
            f.order_id.into_pyobject(py)?.into_any(),
            PyString::new(py, &f.client_order_id).into_any(),
            PyString::new(py, &f.symbol).into_any(),
            f.side.into_pyobject(py)?.into_any(),
            int(py, f.price)?,
            int(py, f.quantity)?,
            int(py, f.fee)?,
            f.liquidity.code().into_pyobject(py)?.into_any(),
            f.timestamp_ns.into_pyobject(py)?.into_any(),
        ];
        fills.append(PyTuple::new(py, values)?)?;
    }
    let values: Vec<Bound<'py, PyAny>> = vec![
        account.account_id.into_pyobject(py)?.into_any(),
        account.name.as_str().into_pyobject(py)?.into_any(),
        account.key_hash.as_str().into_pyobject(py)?.into_any(),
        pybool(py, account.system),
        int(py, account.cash)?,
        int(py, account.reserved_cash)?,
        int(py, account.fees_paid)?,
        int(py, account.deposits)?,
        share_deposits.into_pyobject(py)?.into_any(),
        int(py, account.deposited_value)?,
        int(py, account.traded_quantity)?,
        int(py, account.traded_notional)?,
        positions.into_pyobject(py)?.into_any(),
        account.report_sequence.into_pyobject(py)?.into_any(),
        account.order_ids.clone().into_pyobject(py)?.into_any(),
        client_order_ids.into_pyobject(py)?.into_any(),
        fills.into_any(),
    ];
    PyTuple::new(py, values)
}

fn instrument_state<'py>(
    py: Python<'py>,
    instrument: &Instrument,
) -> PyResult<Bound<'py, PyTuple>> {
    (
        &*instrument.symbol,
        instrument.tick_size,
        instrument.lot_size,
        instrument.reference_price,
        instrument.band_bps,
        instrument.status.code(),
    )
        .into_pyobject(py)
}

// ------------------------------------------------------------------ commands in

/// Field `index` of a command tuple.
fn at<'py, T>(fields: &Bound<'py, PyTuple>, index: usize) -> PyResult<T>
where
    T: for<'a> FromPyObject<'a, 'py>,
    for<'a> <T as FromPyObject<'a, 'py>>::Error: Into<PyErr>,
{
    fields
        .get_borrowed_item(index)?
        .extract::<T>()
        .map_err(Into::into)
}

/// A money field: through `i64` when it fits, several times faster than 128 bits.
fn money(fields: &Bound<'_, PyTuple>, index: usize) -> PyResult<i128> {
    let value = fields.get_borrowed_item(index)?;
    match value.extract::<i64>() {
        Ok(small) => Ok(i128::from(small)),
        Err(_) => Ok(value.extract::<i128>()?),
    }
}

/// A truth value, as Python reads `post_only` and `system` (an int or a bool).
fn truth(fields: &Bound<'_, PyTuple>, index: usize) -> PyResult<bool> {
    fields.get_borrowed_item(index)?.is_truthy()
}

fn order_ref(value: &Bound<'_, PyAny>) -> PyResult<OrderRef> {
    let fields = value.cast::<PyTuple>()?;
    Ok(OrderRef {
        order_id: at(fields, 0)?,
        client_order_id: at(fields, 1)?,
    })
}

/// The engine command for one of `tradepit.exchange.commands`' named tuples.
fn to_command(kind: Kind, command: &Bound<'_, PyAny>) -> PyResult<Command> {
    let f = command.cast::<PyTuple>()?;
    Ok(match kind {
        Kind::SubmitOrder => Command::SubmitOrder {
            account_id: at(f, 0)?,
            client_order_id: at(f, 1)?,
            symbol: at(f, 2)?,
            side: at(f, 3)?,
            order_type: at(f, 4)?,
            tif: at(f, 5)?,
            price: money(f, 6)?,
            quantity: money(f, 7)?,
            post_only: truth(f, 8)?,
            stp: at(f, 9)?,
            timestamp: at(f, 10)?,
        },
        Kind::CancelOrder => Command::CancelOrder {
            account_id: at(f, 0)?,
            order: order_ref(&f.get_item(1)?)?,
            timestamp: at(f, 2)?,
        },
        Kind::AmendOrder => Command::AmendOrder {
            account_id: at(f, 0)?,
            order: order_ref(&f.get_item(1)?)?,
            price: money(f, 2)?,
            quantity: money(f, 3)?,
            timestamp: at(f, 4)?,
        },
        Kind::CancelAll => Command::CancelAll {
            account_id: at(f, 0)?,
            symbol: at(f, 1)?,
            timestamp: at(f, 2)?,
        },
        Kind::CreateAccount => Command::CreateAccount {
            name: at(f, 0)?,
            key_hash: at(f, 1)?,
            timestamp: at(f, 2)?,
            system: truth(f, 3)?,
        },
        Kind::AdjustBalance => Command::AdjustBalance {
            account_id: at(f, 0)?,
            amount: money(f, 1)?,
            kind: at(f, 2)?,
            timestamp: at(f, 3)?,
            symbol: at(f, 4)?,
        },
        Kind::CreateInstrument => Command::CreateInstrument {
            symbol: at(f, 0)?,
            tick_size: money(f, 1)?,
            lot_size: money(f, 2)?,
            reference_price: money(f, 3)?,
            band_bps: money(f, 4)?,
            timestamp: at(f, 5)?,
        },
        Kind::SetTradingStatus => Command::SetTradingStatus {
            symbol: at(f, 0)?,
            status: at(f, 1)?,
            timestamp: at(f, 2)?,
        },
        Kind::SetLimits => Command::SetLimits {
            maker_fee_bps: money(f, 0)?,
            taker_fee_bps: money(f, 1)?,
            max_order_quantity: money(f, 2)?,
            max_order_notional: money(f, 3)?,
            timestamp: at(f, 4)?,
        },
        Kind::RemoveInstrument => Command::RemoveInstrument {
            symbol: at(f, 0)?,
            timestamp: at(f, 1)?,
        },
        Kind::EndSession => Command::EndSession {
            symbol: at(f, 0)?,
            timestamp: at(f, 1)?,
        },
    })
}
