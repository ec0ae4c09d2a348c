//! An exchange rebuilt from its parts (crash recovery): the state a binding saved (what
//! `state()` lists, plus each listed book's snapshot) becomes an exchange that answers
//! every later command exactly as the original would.
//!
//! [`Exchange::to_parts`] takes the parts; [`Exchange::restore`] checks them and rebuilds
//! everything the engine derives from them (the account index by key hash, each market's
//! open orders by book id, the order -> market table, the price bands, the shared
//! strings). Parts that do not describe a consistent exchange are refused with a
//! [`RestoreError`] naming the first problem found; nothing half-built is returned.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::codes::TradingStatus;
use super::model::{Account, ClientIdState, Instrument, Limits, Order};
use super::money::{Money, BPS};
use super::{slot, Exchange, Market};
use crate::Book;

/// Everything an exchange holds between commands, as plain values: what
/// [`Exchange::to_parts`] gives and [`Exchange::restore`] takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeParts {
    pub limits: Limits,
    /// By account id: `accounts[id - 1]`.
    pub accounts: Vec<Account>,
    /// By order id: `orders[id - 1]`.
    pub orders: Vec<Order>,
    /// The listed instruments, in listing order.
    pub instruments: Vec<Instrument>,
    /// The delisted instruments, in delisting order.
    pub delisted: Vec<Instrument>,
    /// One [`Book::snapshot`] per listed symbol (in any order).
    pub books: Vec<(String, Vec<u8>)>,
    pub fees_collected: Money,
    /// `(next account id, next order id, next trade id)`.
    pub next_ids: (i64, i64, i64),
}

/// The first four bytes of [`ExchangeParts::to_bytes`], little-endian: raise it whenever
/// a saved type changes, so that bytes of another layout are refused, not misread.
pub const PARTS_VERSION: u32 = 1;

impl ExchangeParts {
    /// The parts as bytes, for a snapshot: [`PARTS_VERSION`], then the parts in
    /// postcard's compact encoding (varints, fields in declaration order).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = PARTS_VERSION.to_le_bytes().to_vec();
        postcard::to_io(self, &mut out).expect("writing to a Vec cannot fail");
        out
    }

    /// The parts [`ExchangeParts::to_bytes`] wrote; bytes of another version, cut short
    /// or with anything after the parts are refused. Whether the parts hold together is
    /// [`Exchange::restore`]'s to check.
    pub fn from_bytes(bytes: &[u8]) -> Result<ExchangeParts, RestoreError> {
        let Some((version, encoded)) = bytes.split_first_chunk::<4>() else {
            return fail(format!("{} bytes cannot hold exchange parts", bytes.len()));
        };
        let version = u32::from_le_bytes(*version);
        if version != PARTS_VERSION {
            return fail(format!(
                "exchange parts of version {version}; this engine reads version {PARTS_VERSION}"
            ));
        }
        match postcard::take_from_bytes::<ExchangeParts>(encoded) {
            Ok((parts, [])) => Ok(parts),
            Ok((_, rest)) => fail(format!("{} bytes follow the exchange parts", rest.len())),
            Err(error) => fail(format!("the exchange parts do not decode: {error}")),
        }
    }
}

/// Why parts could not be restored: the first problem found, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreError(pub String);

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RestoreError {}

/// Refuses with the message.
fn fail<T>(message: String) -> Result<T, RestoreError> {
    Err(RestoreError(message))
}

impl Exchange {
    /// The exchange's state as parts, for [`Exchange::restore`]. The outboxes are not
    /// part of it: take them first.
    pub fn to_parts(&self) -> ExchangeParts {
        ExchangeParts {
            limits: self.limits,
            accounts: self.accounts.clone(),
            orders: self.orders.clone(),
            instruments: self.instruments().cloned().collect(),
            delisted: self.delisted().cloned().collect(),
            books: self
                .listed
                .iter()
                .map(|&i| {
                    let market = &self.markets[i];
                    let book = market.book.as_ref().expect("a listed market has a book");
                    (market.instrument.symbol.to_string(), book.snapshot())
                })
                .collect(),
            fees_collected: self.fees_collected,
            next_ids: self.next_ids(),
        }
    }

    /// Rebuilds an exchange from its parts, checking that they fit together: ids in
    /// sequence and below their counters, every order's account and symbol known, each
    /// listed symbol's book restored from its snapshot and holding exactly the open
    /// orders (same open quantity), and the money and escrow audit clean.
    pub fn restore(parts: ExchangeParts) -> Result<Exchange, RestoreError> {
        let ExchangeParts {
            limits,
            accounts,
            orders,
            instruments,
            delisted,
            books,
            fees_collected,
            next_ids: (next_account_id, next_order_id, next_trade_id),
        } = parts;
        check_limits(&limits)?;
        let mut exchange = Exchange::new(limits);
        exchange.fees_collected = fees_collected;
        exchange.add_markets(instruments, delisted)?;
        exchange.add_books(books)?;
        exchange.add_accounts(accounts, next_account_id)?;
        exchange.add_orders(orders, next_order_id)?;
        exchange.index_accounts(next_trade_id)?;
        exchange.check_books()?;
        exchange.next_account_id = next_account_id;
        exchange.next_order_id = next_order_id;
        exchange.next_trade_id = next_trade_id;
        let problems = exchange.audit();
        if !problems.is_empty() {
            return fail(format!(
                "the restored state fails its audit: {}",
                problems.join("; ")
            ));
        }
        Ok(exchange)
    }

    /// The listed instruments, then the delisted ones, as markets (no books yet).
    fn add_markets(
        &mut self,
        instruments: Vec<Instrument>,
        delisted: Vec<Instrument>,
    ) -> Result<(), RestoreError> {
        let listed_count = instruments.len();
        for (k, instrument) in instruments.into_iter().chain(delisted).enumerate() {
            let listed = k < listed_count;
            let symbol = &*instrument.symbol;
            let status_fits = match instrument.status {
                TradingStatus::Trading | TradingStatus::Halted => listed,
                TradingStatus::Delisted => !listed,
            };
            if !status_fits {
                return fail(format!(
                    "instrument {symbol} is {} but has status {}",
                    if listed { "listed" } else { "delisted" },
                    instrument.status.name()
                ));
            }
            if instrument.tick_size <= 0
                || instrument.lot_size <= 0
                || instrument.reference_price <= 0
                || !(1..=BPS).contains(&instrument.band_bps)
            {
                return fail(format!(
                    "instrument {symbol} has an invalid tick size, lot size, reference price \
                     or band"
                ));
            }
            if self.symbols.contains_key(symbol) {
                return fail(format!("instrument {symbol} appears twice"));
            }
            let index = self.markets.len();
            self.symbols.insert(symbol.to_owned(), index);
            if listed {
                self.listed.push(index);
            } else {
                self.delisted.push(index);
            }
            self.markets.push(Market {
                band: instrument.band(),
                instrument,
                book: None,
                open: HashMap::default(),
            });
        }
        Ok(())
    }

    /// Each listed symbol's book, from its snapshot.
    fn add_books(&mut self, books: Vec<(String, Vec<u8>)>) -> Result<(), RestoreError> {
        for (symbol, bytes) in books {
            let market = match self.symbols.get(symbol.as_str()) {
                Some(&market) if self.listed.contains(&market) => market,
                Some(_) => {
                    return fail(format!(
                        "book snapshot for {symbol}, which is delisted, not listed"
                    ))
                }
                None => return fail(format!("book snapshot for {symbol}, which is not listed")),
            };
            if self.markets[market].book.is_some() {
                return fail(format!("two book snapshots for {symbol}"));
            }
            let book = Book::restore(&bytes)
                .map_err(|error| RestoreError(format!("book snapshot of {symbol}: {error}")))?;
            let instrument = &self.markets[market].instrument;
            if Money::from(book.tick_size()) != instrument.tick_size
                || Money::from(book.lot_size()) != instrument.lot_size
            {
                return fail(format!(
                    "book snapshot of {symbol} has tick size {} and lot size {}, the \
                     instrument {} and {}",
                    book.tick_size(),
                    book.lot_size(),
                    instrument.tick_size,
                    instrument.lot_size
                ));
            }
            self.markets[market].book = Some(book);
        }
        if let Some(&missing) = self
            .listed
            .iter()
            .find(|&&i| self.markets[i].book.is_none())
        {
            return fail(format!(
                "no book snapshot for listed symbol {}",
                self.markets[missing].instrument.symbol
            ));
        }
        Ok(())
    }

    /// The accounts, in id order, and the index by key hash. Their order and fill
    /// records are checked (and their strings shared) once the orders are in.
    fn add_accounts(
        &mut self,
        accounts: Vec<Account>,
        next_account_id: i64,
    ) -> Result<(), RestoreError> {
        for (k, account) in accounts.into_iter().enumerate() {
            if slot(account.account_id) != Some(k) {
                return fail(format!(
                    "account {} is at position {}: account ids must run 1, 2, 3, ...",
                    account.account_id,
                    k + 1
                ));
            }
            if self
                .accounts_by_key
                .insert(account.key_hash.clone(), account.account_id)
                .is_some()
            {
                return fail(format!(
                    "account {} repeats another account's key hash",
                    account.account_id
                ));
            }
            let symbols = account
                .positions()
                .map(|(symbol, _)| symbol)
                .chain(account.share_deposits().map(|(symbol, _)| symbol));
            for symbol in symbols {
                if !self.symbols.contains_key(symbol) {
                    return fail(format!(
                        "account {} holds {}, which was never listed",
                        account.account_id,
                        super::py_repr(symbol)
                    ));
                }
            }
            self.accounts.push(account);
        }
        let expected = self.accounts.len() as i64 + 1;
        if next_account_id != expected {
            return fail(format!(
                "next account id {next_account_id} is not {expected}, one above the last \
                 account id"
            ));
        }
        Ok(())
    }

    /// The orders, in id order, with their markets; the open ones indexed by book id
    /// after checking them against their book.
    fn add_orders(
        &mut self,
        mut orders: Vec<Order>,
        next_order_id: i64,
    ) -> Result<(), RestoreError> {
        // Checked and completed in place, then kept as they are: a million orders are
        // not moved one by one into a growing list.
        self.order_markets.reserve_exact(orders.len());
        for (k, order) in orders.iter_mut().enumerate() {
            let id = order.order_id;
            if slot(id) != Some(k) {
                return fail(format!(
                    "order {id} is at position {}: order ids must run 1, 2, 3, ...",
                    k + 1
                ));
            }
            if self.account(order.account_id).is_none() {
                return fail(format!(
                    "order {id} belongs to account {}, which does not exist",
                    order.account_id
                ));
            }
            let Some(&market) = self.symbols.get(&*order.symbol) else {
                return fail(format!(
                    "order {id} is in {}, which was never listed",
                    super::py_repr(&order.symbol)
                ));
            };
            if order.request.symbol != order.symbol {
                return fail(format!("order {id} requested another symbol than its own"));
            }
            // Share the strings, as orders made by commands do.
            let symbol = self.markets[market].instrument.symbol.clone();
            order.symbol = symbol.clone();
            order.request.symbol = symbol;
            if order.client_order_id.is_empty() {
                order.client_order_id = self.no_client_order_id.clone();
            }
            if order.is_open() {
                self.index_open_order(market, order)?;
            }
            self.order_markets.push(market);
        }
        self.orders = orders;
        let expected = self.orders.len() as i64 + 1;
        if next_order_id != expected {
            return fail(format!(
                "next order id {next_order_id} is not {expected}, one above the last order id"
            ));
        }
        Ok(())
    }

    /// Checks an open order against its book and indexes it by book id.
    fn index_open_order(&mut self, market: usize, order: &Order) -> Result<(), RestoreError> {
        let (id, book_id) = (order.order_id, order.book_id);
        let listing = &mut self.markets[market];
        let symbol = &listing.instrument.symbol;
        let Some(book) = listing.book.as_ref() else {
            return fail(format!(
                "open order {id} is in {symbol}, which is not listed"
            ));
        };
        let Some(resting) = book.get_order(book_id) else {
            return fail(format!(
                "open order {id} is not in the {symbol} book (book id {book_id})"
            ));
        };
        if Money::from(resting.remaining) != order.leaves {
            return fail(format!(
                "open order {id} has {} open, but the {symbol} book holds {} of it",
                order.leaves, resting.remaining
            ));
        }
        if resting.owner != order.account_id
            || resting.side.code() != order.side
            || Money::from(resting.price) != order.book_price
        {
            return fail(format!(
                "open order {id} differs from {symbol} book order {book_id} in owner, side \
                 or price"
            ));
        }
        let index = slot(id).expect("checked by the caller");
        if let Some(other) = listing.open.insert(book_id, index) {
            return fail(format!(
                "open orders {} and {id} are both {symbol} book order {book_id}",
                other + 1
            ));
        }
        Ok(())
    }

    /// Each account's order ids, client_order_id index and fills, checked against the
    /// orders, with the strings shared as commands share them.
    fn index_accounts(&mut self, next_trade_id: i64) -> Result<(), RestoreError> {
        if next_trade_id < 1 {
            return fail(format!("next trade id {next_trade_id} is not positive"));
        }
        let mut owned = vec![false; self.orders.len()];
        for account in &mut self.accounts {
            let account_id = account.account_id;
            let order_of = |order_id: i64| {
                slot(order_id)
                    .and_then(|i| self.orders.get(i))
                    .filter(|order| order.account_id == account_id)
            };
            for &order_id in &account.order_ids {
                let Some(order) = order_of(order_id) else {
                    return fail(format!(
                        "account {account_id} lists order {order_id}, which is not its order"
                    ));
                };
                let seen = &mut owned[slot(order.order_id).expect("a valid id")];
                if std::mem::replace(seen, true) {
                    return fail(format!("account {account_id} lists order {order_id} twice"));
                }
            }
            let mut client_order_ids = HashMap::with_capacity_and_hasher(
                account.client_order_ids.len(),
                ClientIdState::default(),
            );
            for (client_order_id, &order_id) in &account.client_order_ids {
                match order_of(order_id) {
                    Some(order)
                        if !client_order_id.is_empty()
                            && order.client_order_id == *client_order_id =>
                    {
                        client_order_ids.insert(order.client_order_id.clone(), order_id);
                    }
                    _ => {
                        return fail(format!(
                            "account {account_id}: client_order_id {} does not name its \
                             order {order_id}",
                            super::py_repr(client_order_id)
                        ))
                    }
                }
            }
            let named = account
                .order_ids
                .iter()
                .filter(|&&id| !self.orders[id as usize - 1].client_order_id.is_empty())
                .count();
            if named != client_order_ids.len() {
                return fail(format!(
                    "account {account_id}: its client_order_ids do not match its orders"
                ));
            }
            account.client_order_ids = client_order_ids;
            for fill in &mut account.fills {
                let trade_id = fill.trade_id;
                let Some(order) = order_of(fill.order_id) else {
                    return fail(format!(
                        "account {account_id}: the fill of trade {trade_id} names order {}, \
                         which is not its order",
                        fill.order_id
                    ));
                };
                if fill.client_order_id != order.client_order_id || fill.symbol != order.symbol {
                    return fail(format!(
                        "account {account_id}: the fill of trade {trade_id} differs from \
                         order {} in client_order_id or symbol",
                        order.order_id
                    ));
                }
                if !(1..next_trade_id).contains(&trade_id) {
                    return fail(format!(
                        "account {account_id}: trade id {trade_id} is not below the next \
                         trade id {next_trade_id}"
                    ));
                }
                fill.client_order_id = order.client_order_id.clone();
                fill.symbol = order.symbol.clone();
            }
        }
        if let Some(lost) = owned.iter().position(|&seen| !seen) {
            let order = &self.orders[lost];
            return fail(format!(
                "order {} is not listed by its account {}",
                order.order_id, order.account_id
            ));
        }
        Ok(())
    }

    /// Every resting order of every book is an open order of the exchange.
    fn check_books(&self) -> Result<(), RestoreError> {
        for &market in &self.listed {
            let listing = &self.markets[market];
            let book = listing
                .book
                .as_ref()
                .expect("every listed market has a book");
            if book.len() == listing.open.len() {
                continue; // each open order was found in the book, each once
            }
            let unknown = book
                .side_orders(crate::Side::Buy)
                .chain(book.side_orders(crate::Side::Sell))
                .find(|resting| !listing.open.contains_key(&resting.order_id))
                .expect("more book orders than open orders");
            return fail(format!(
                "{} book order {} is not an open order of the exchange",
                listing.instrument.symbol, unknown.order_id
            ));
        }
        Ok(())
    }
}

/// The limits `SetLimits` would accept.
fn check_limits(limits: &Limits) -> Result<(), RestoreError> {
    let fees_fit =
        (0..=BPS).contains(&limits.maker_fee_bps) && (0..=BPS).contains(&limits.taker_fee_bps);
    if !fees_fit || limits.max_order_quantity <= 0 || limits.max_order_notional <= 0 {
        return fail(format!("invalid limits {limits:?}"));
    }
    Ok(())
}
