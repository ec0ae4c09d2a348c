//! The exchange state machine: pre-trade checks, escrow, matching and settlement, ported
//! from the Python reference `server/tradepit/exchange/exchange.py`.
//!
//! One writer applies one command at a time ([`Exchange::execute`]). A command either
//! returns a [`Reject`] having changed nothing, or applies completely. For the same
//! commands it gives exactly the Python exchange's results, refusals (code and text),
//! execution reports, market events and state; every path that moves money mirrors its
//! Python counterpart, in the same order.
//!
//! Layout: `codes`, `commands` and `model` hold the vocabulary and the state; `money` the
//! integer money rules; `checks` words the refusals (`repr` quotes like Python); `orders`
//! takes orders in; `settlement` turns book events into money, shares and reports;
//! `admin` holds the operator commands and `audit` the conservation checks.

mod admin;
mod audit;
mod checks;
mod codes;
mod commands;
mod model;
mod money;
mod orders;
mod repr;
mod restore;
mod settlement;

use std::collections::HashMap;
use std::sync::Arc;

use crate::id_hash::BuildOrderIdHasher;
use crate::Book;

pub use checks::{ExchangeError, Reject};
pub use codes::{BalanceChange, ExecType, Liquidity, OrderStatus, RejectCode, TradingStatus};
pub use commands::{Command, OrderRef, OrderReports, Outcome};
pub use model::{
    Account, Acknowledgement, ClientIdHasher, ClientIdState, FeeRates, Fill, Instrument, Limits,
    MarketEvent, Order, OrderRequest, Position, Report, SymbolMap, TradePrint,
};
pub use money::{buy_reservation, decimal_text, fee, floor_div, price_band, Money, BPS};
pub use orders::Submit;
pub use repr::py_repr;
pub use restore::{ExchangeParts, RestoreError, PARTS_VERSION};

use checks::refuse;

/// One instrument ever listed, with its book while it is listed.
#[derive(Debug)]
struct Market {
    instrument: Instrument,
    /// `instrument.band()`, recomputed whenever the reference price moves (every order
    /// is checked against it; Python caches `price_band` for the same reason).
    band: (Money, Money),
    /// `None` once delisted: nothing trades any more.
    book: Option<Book>,
    /// Open orders only: book id -> index into `Exchange::orders`.
    open: HashMap<i64, usize, BuildOrderIdHasher>,
}

/// The exchange: accounts, instruments with their books, orders, and the outboxes of
/// reports and market events.
#[derive(Debug)]
pub struct Exchange {
    limits: Limits,
    /// What newly accepted orders pay.
    fee_rates: FeeRates,
    /// Every instrument ever listed, in listing order; never shrinks, so an index stays valid.
    markets: Vec<Market>,
    /// Symbol -> index into `markets`, listed and delisted.
    symbols: model::SymbolIndex<usize>,
    /// Indexes of the listed markets, in listing order (a Python dict's order).
    listed: Vec<usize>,
    /// Indexes of the delisted markets, in delisting order.
    delisted: Vec<usize>,
    /// By account id: `accounts[id - 1]`.
    accounts: Vec<Account>,
    accounts_by_key: HashMap<String, i64>,
    /// By order id: `orders[id - 1]`.
    orders: Vec<Order>,
    /// The market of each order, parallel to `orders`.
    order_markets: Vec<usize>,
    fees_collected: Money,
    /// The client_order_id of orders sent without one, shared rather than made per order.
    no_client_order_id: Arc<str>,
    outbox: Vec<Report>,
    /// What market data publishes.
    market_outbox: Vec<MarketEvent>,
    /// Trades of the book command being applied.
    trades: Vec<TradePrint>,
    next_account_id: i64,
    next_order_id: i64,
    next_trade_id: i64,
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange::new(Limits::default())
    }
}

/// The index of id `id` in a vector holding ids 1, 2, 3, ...; `None` for ids below 1.
#[inline]
fn slot(id: i64) -> Option<usize> {
    usize::try_from(id.checked_sub(1)?).ok()
}

impl Exchange {
    pub fn new(limits: Limits) -> Self {
        Exchange {
            limits,
            fee_rates: FeeRates::of(&limits),
            markets: Vec::new(),
            symbols: model::SymbolIndex::default(),
            listed: Vec::new(),
            delisted: Vec::new(),
            accounts: Vec::new(),
            accounts_by_key: HashMap::new(),
            orders: Vec::new(),
            order_markets: Vec::new(),
            fees_collected: 0,
            no_client_order_id: Arc::from(""),
            outbox: Vec::new(),
            market_outbox: Vec::new(),
            trades: Vec::new(),
            next_account_id: 1,
            next_order_id: 1,
            next_trade_id: 1,
        }
    }

    /// Applies one command. `Err(Reject)`: refused, and nothing changed.
    pub fn execute(&mut self, command: &Command) -> Result<Outcome, ExchangeError> {
        match command {
            Command::SubmitOrder { .. } => {
                self.submit(&command.as_submit().expect("a SubmitOrder"))
            }
            Command::CancelOrder {
                account_id,
                order,
                timestamp,
            } => self.cancel(*account_id, order, *timestamp),
            Command::AmendOrder {
                account_id,
                order,
                price,
                quantity,
                timestamp,
            } => self.amend(*account_id, order, *price, *quantity, *timestamp),
            Command::CancelAll {
                account_id,
                symbol,
                timestamp,
            } => self.cancel_all(*account_id, symbol, *timestamp),
            Command::CreateAccount {
                name,
                key_hash,
                system,
                ..
            } => self.create_account(name, key_hash, *system),
            Command::AdjustBalance {
                account_id,
                amount,
                kind,
                symbol,
                ..
            } => self.adjust_balance(*account_id, *amount, *kind, symbol),
            Command::CreateInstrument {
                symbol,
                tick_size,
                lot_size,
                reference_price,
                band_bps,
                ..
            } => self.create_instrument(symbol, *tick_size, *lot_size, *reference_price, *band_bps),
            Command::SetTradingStatus {
                symbol,
                status,
                timestamp,
            } => self.set_trading_status(symbol, *status, *timestamp),
            Command::EndSession { symbol, timestamp } => self.end_session(symbol, *timestamp),
            Command::RemoveInstrument { symbol, timestamp } => {
                self.remove_instrument(symbol, *timestamp)
            }
            Command::SetLimits {
                maker_fee_bps,
                taker_fee_bps,
                max_order_quantity,
                max_order_notional,
                ..
            } => self.set_limits(Limits {
                maker_fee_bps: *maker_fee_bps,
                taker_fee_bps: *taker_fee_bps,
                max_order_quantity: *max_order_quantity,
                max_order_notional: *max_order_notional,
            }),
        }
    }

    /// Hands over the reports produced since the last call, in order.
    pub fn take_reports(&mut self) -> Vec<Report> {
        std::mem::take(&mut self.outbox)
    }

    /// The reports produced since they were last taken or cleared, in order: the outbox
    /// that [`OrderReports`] and [`Outcome::Reports`] point into.
    pub fn reports(&self) -> &[Report] {
        &self.outbox
    }

    /// Drops the reports, keeping the outbox's memory for the next ones (for a caller
    /// that copies them out after each command, instead of taking them).
    pub fn clear_reports(&mut self) {
        self.outbox.clear();
    }

    /// Hands over the book changes and status changes since the last call, in order.
    pub fn take_market_events(&mut self) -> Vec<MarketEvent> {
        std::mem::take(&mut self.market_outbox)
    }

    /// The market events produced since they were last taken or cleared, in order.
    pub fn market_events(&self) -> &[MarketEvent] {
        &self.market_outbox
    }

    /// Drops the market events, keeping the outbox's memory.
    pub fn clear_market_events(&mut self) {
        self.market_outbox.clear();
    }

    // ------------------------------------------------------------------ queries

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// What newly accepted orders pay.
    pub fn fee_rates(&self) -> FeeRates {
        self.fee_rates
    }

    pub fn fees_collected(&self) -> Money {
        self.fees_collected
    }

    /// `(next account id, next order id, next trade id)`.
    pub fn next_ids(&self) -> (i64, i64, i64) {
        (self.next_account_id, self.next_order_id, self.next_trade_id)
    }

    pub fn account(&self, account_id: i64) -> Option<&Account> {
        self.accounts.get(slot(account_id)?)
    }

    pub fn account_for_key(&self, key_hash: &str) -> Option<&Account> {
        self.account(*self.accounts_by_key.get(key_hash)?)
    }

    /// Every account, by account id.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> + '_ {
        self.accounts.iter()
    }

    pub fn order(&self, order_id: i64) -> Option<&Order> {
        self.orders.get(slot(order_id)?)
    }

    /// How many orders there are: their ids are 1 to this, and every one is kept.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// Every order, by order id.
    pub fn orders(&self) -> impl Iterator<Item = &Order> + '_ {
        self.orders.iter()
    }

    /// The listed instruments (trading or halted), in listing order.
    pub fn instruments(&self) -> impl Iterator<Item = &Instrument> + '_ {
        self.listed.iter().map(|&i| &self.markets[i].instrument)
    }

    /// The delisted instruments, in delisting order.
    pub fn delisted(&self) -> impl Iterator<Item = &Instrument> + '_ {
        self.delisted.iter().map(|&i| &self.markets[i].instrument)
    }

    /// A listed instrument: one that trades, or may again after a halt.
    pub fn instrument(&self, symbol: &str) -> Option<&Instrument> {
        let market = &self.markets[*self.symbols.get(symbol)?];
        market.book.as_ref().map(|_| &market.instrument)
    }

    /// A listed or delisted instrument: what positions, orders and fills may name.
    pub fn listing(&self, symbol: &str) -> Option<&Instrument> {
        Some(&self.markets[*self.symbols.get(symbol)?].instrument)
    }

    /// The book of a listed instrument.
    pub fn book(&self, symbol: &str) -> Option<&Book> {
        self.markets[*self.symbols.get(symbol)?].book.as_ref()
    }

    // ------------------------------------------------------------------ lookups that refuse

    /// The index of an account, or the refusal that names it unknown.
    fn account_slot(&self, account_id: i64) -> Result<usize, ExchangeError> {
        match slot(account_id).filter(|&i| i < self.accounts.len()) {
            Some(i) => Ok(i),
            None => refuse(
                RejectCode::UnknownAccount,
                format!("account {account_id} does not exist"),
            ),
        }
    }

    /// The market index of a listed instrument, or the refusal that lists the symbols.
    fn listed_market(&self, symbol: &str) -> Result<usize, ExchangeError> {
        let found = self.symbols.get(symbol).copied();
        if let Some(i) = found.filter(|&i| self.markets[i].book.is_some()) {
            return Ok(i);
        }
        let mut known: Vec<&str> = self.instruments().map(|i| &*i.symbol).collect();
        known.sort_unstable();
        let known = if known.is_empty() {
            "none".to_owned()
        } else {
            known.join(", ")
        };
        match found {
            Some(i) => refuse(
                RejectCode::UnknownSymbol,
                format!(
                    "{symbol} was delisted and no longer trades; positions in it stay, marked \
                     at its last price {}; listed symbols: {known}",
                    self.markets[i].instrument.reference_price
                ),
            ),
            None => refuse(
                RejectCode::UnknownSymbol,
                format!(
                    "unknown symbol {}; listed symbols: {known}",
                    py_repr(symbol)
                ),
            ),
        }
    }

    /// The account's order named by id or client_order_id; other accounts' are invisible.
    fn find_order(&self, account_id: i64, order: &OrderRef) -> Result<usize, ExchangeError> {
        let account = &self.accounts[self.account_slot(account_id)?];
        let order_id = if order.client_order_id.is_empty() {
            order.order_id
        } else {
            account
                .client_order_ids
                .get(order.client_order_id.as_str())
                .copied()
                .unwrap_or(0)
        };
        match slot(order_id).filter(|&i| {
            self.orders
                .get(i)
                .is_some_and(|o| o.account_id == account_id)
        }) {
            Some(i) => Ok(i),
            None => {
                let name = if order.client_order_id.is_empty() {
                    format!("order {}", order.order_id)
                } else {
                    format!("client_order_id {}", py_repr(&order.client_order_id))
                };
                refuse(
                    RejectCode::UnknownOrder,
                    format!("{name} is not an order of this account"),
                )
            }
        }
    }

    /// Like `find_order`, but the order must be open.
    fn open_order(&self, account_id: i64, order: &OrderRef) -> Result<usize, ExchangeError> {
        let i = self.find_order(account_id, order)?;
        let found = &self.orders[i];
        if !found.is_open() {
            return refuse(
                RejectCode::OrderNotOpen,
                format!(
                    "order {} is already {}",
                    found.order_id,
                    found.status.name()
                ),
            );
        }
        Ok(i)
    }
}
