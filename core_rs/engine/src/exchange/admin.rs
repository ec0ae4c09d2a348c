//! The operator's commands and account administration (exchange.py "admin" section):
//! accounts, balances, listings, limits, trading status, delisting and the session end.

use std::collections::HashMap;
use std::sync::Arc;

use super::checks::{refuse, DEFAULT_BAND_BPS, MAX_NAME};
use super::codes::{BalanceChange, RejectCode, TradingStatus};
use super::model::{Account, FeeRates, Instrument, Limits, MarketEvent};
use super::money::{floor_div, Money, BPS};
use super::{Exchange, ExchangeError, Market, Outcome};
use crate::{Book, BookError};

/// Python's `str.strip()`: Unicode whitespace, plus the four separators U+001C..U+001F
/// that Python counts as whitespace and Rust does not.
fn python_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// exchange.py `SYMBOL_PATTERN.fullmatch`: 1 to 16 of `A-Z`, `0-9`, `.`, `-`.
fn is_symbol(symbol: &str) -> bool {
    (1..=16).contains(&symbol.len())
        && symbol
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

impl Exchange {
    pub(super) fn create_account(
        &mut self,
        name: &str,
        key_hash: &str,
        system: bool,
    ) -> Result<Outcome, ExchangeError> {
        let name = python_strip(name);
        if !(1..=MAX_NAME).contains(&name.chars().count()) {
            return refuse(
                RejectCode::InvalidArgument,
                format!("an account name needs 1 to {MAX_NAME} characters"),
            );
        }
        if self.accounts_by_key.contains_key(key_hash) {
            return refuse(
                RejectCode::AlreadyExists,
                "that API key is already in use".to_owned(),
            );
        }
        let account_id = self.next_account_id;
        self.next_account_id += 1;
        self.accounts.push(Account::new(
            account_id,
            name.to_owned(),
            key_hash.to_owned(),
            system,
        ));
        self.accounts_by_key.insert(key_hash.to_owned(), account_id);
        Ok(Outcome::Account { account_id })
    }

    /// Pays cash in or out (`symbol` empty), or shares of a listed symbol.
    pub(super) fn adjust_balance(
        &mut self,
        account_id: i64,
        amount: Money,
        kind: i64,
        symbol: &str,
    ) -> Result<Outcome, ExchangeError> {
        let index = self.account_slot(account_id)?;
        if BalanceChange::from_code(kind).is_none() {
            return refuse(
                RejectCode::InvalidArgument,
                "kind must be DEPOSIT or ADJUSTMENT".to_owned(),
            );
        }
        if kind == BalanceChange::Deposit.code() && amount <= 0 {
            return refuse(
                RejectCode::InvalidArgument,
                format!("a deposit must be positive, got {amount}"),
            );
        }
        let account = &mut self.accounts[index];
        if !symbol.is_empty() {
            let market = self.listed_market(symbol)?;
            let instrument = &self.markets[market].instrument;
            let account = &mut self.accounts[index];
            let position = account.position(symbol);
            if amount % instrument.lot_size != 0 {
                return refuse(
                    RejectCode::QuantityOffLot,
                    format!(
                        "{amount} shares is not a multiple of the lot size {}",
                        instrument.lot_size
                    ),
                );
            }
            if position.available() + amount < 0 {
                return refuse(
                    RejectCode::InsufficientShares,
                    format!(
                        "cannot remove {} shares; {} are free",
                        -amount,
                        position.available()
                    ),
                );
            }
            if amount >= 0 {
                position.cost_basis += amount * instrument.reference_price;
            } else {
                position.cost_basis -= floor_div(position.cost_basis * -amount, position.quantity);
            }
            position.quantity += amount;
            *account.share_deposits.entry(symbol) += amount;
            account.deposited_value += amount * instrument.reference_price;
            return Ok(Outcome::Account { account_id });
        }
        if account.cash + amount < 0 {
            return refuse(
                RejectCode::InsufficientBuyingPower,
                format!(
                    "cannot remove {}; the account has {} free cash",
                    -amount, account.cash
                ),
            );
        }
        account.cash += amount;
        account.deposits += amount;
        account.deposited_value += amount;
        Ok(Outcome::Account { account_id })
    }

    pub(super) fn create_instrument(
        &mut self,
        symbol: &str,
        tick_size: Money,
        lot_size: Money,
        reference_price: Money,
        band_bps: Money,
    ) -> Result<Outcome, ExchangeError> {
        if !is_symbol(symbol) {
            return refuse(
                RejectCode::InvalidArgument,
                format!(
                    "symbol {} must be 1 to 16 characters of A-Z, 0-9, '.', '-'",
                    super::py_repr(symbol)
                ),
            );
        }
        if let Some(&market) = self.symbols.get(symbol) {
            let message = if self.markets[market].book.is_some() {
                format!("{symbol} is already listed")
            } else {
                format!(
                    "{symbol} was delisted, and a symbol is never listed twice: positions, \
                     orders and fills still name the old one; choose another symbol"
                )
            };
            return refuse(RejectCode::AlreadyExists, message);
        }
        if tick_size <= 0 || lot_size <= 0 {
            return refuse(
                RejectCode::InvalidArgument,
                "tick_size and lot_size must be positive".to_owned(),
            );
        }
        if reference_price <= 0 || reference_price % tick_size != 0 {
            return refuse(
                RejectCode::InvalidArgument,
                "reference_price must be positive and a multiple of tick_size".to_owned(),
            );
        }
        let band_bps = if band_bps == 0 {
            DEFAULT_BAND_BPS
        } else {
            band_bps
        };
        if !(1..=BPS).contains(&band_bps) {
            return refuse(
                RejectCode::InvalidArgument,
                "band_bps must be within 1..10000".to_owned(),
            );
        }
        // The book takes i64 sizes; larger ones are the book's refusal, before any change.
        let book = match (i64::try_from(tick_size), i64::try_from(lot_size)) {
            (Ok(tick), Ok(lot)) => Book::new(tick, lot)?,
            (tick, lot) => {
                return Err(BookError::InvalidInstrument {
                    tick_size: tick.unwrap_or(i64::MAX),
                    lot_size: lot.unwrap_or(i64::MAX),
                }
                .into())
            }
        };
        let instrument = Instrument {
            symbol: Arc::from(symbol),
            tick_size,
            lot_size,
            reference_price,
            band_bps,
            status: TradingStatus::Trading,
        };
        let index = self.markets.len();
        self.markets.push(Market {
            band: instrument.band(),
            instrument,
            book: Some(book),
            open: HashMap::default(),
        });
        self.symbols.insert(symbol.to_owned(), index);
        self.listed.push(index);
        Ok(Outcome::Instrument {
            symbol: symbol.to_owned(),
        })
    }

    /// Cancels every resting order in the symbol (refunding its escrow, with the usual
    /// reports and one book change), then delists it. Positions stay in the accounts,
    /// marked at the last trade price; the symbol can be neither traded nor re-listed.
    pub(super) fn remove_instrument(
        &mut self,
        symbol: &str,
        timestamp: i64,
    ) -> Result<Outcome, ExchangeError> {
        let market = self.listed_market(symbol)?;
        let mut resting: Vec<usize> = self.markets[market].open.values().copied().collect();
        resting.sort_unstable(); // order index order is order id order
        let mut events = Vec::new();
        for &index in &resting {
            let book_id = self.orders[index].book_id;
            self.book_mut(market)
                .cancel(book_id, timestamp, &mut events)?;
        }
        self.apply_events(market, events, timestamp);
        let listing = &mut self.markets[market];
        listing.instrument.status = TradingStatus::Delisted;
        listing.book = None;
        listing.open = HashMap::default();
        self.listed.retain(|&i| i != market);
        self.delisted.push(market);
        self.market_outbox.push(MarketEvent::StatusChange {
            symbol: listing.instrument.symbol.clone(),
            status: TradingStatus::Delisted,
            timestamp_ns: timestamp,
        });
        Ok(Outcome::Removed {
            symbol: symbol.to_owned(),
            order_ids: resting.iter().map(|&i| self.orders[i].order_id).collect(),
        })
    }

    pub(super) fn set_limits(&mut self, limits: Limits) -> Result<Outcome, ExchangeError> {
        for (name, value) in [
            ("maker_fee_bps", limits.maker_fee_bps),
            ("taker_fee_bps", limits.taker_fee_bps),
        ] {
            if !(0..=BPS).contains(&value) {
                return refuse(
                    RejectCode::InvalidArgument,
                    format!("{name} must be 0..{BPS}; got {value}"),
                );
            }
        }
        for (name, value) in [
            ("max_order_quantity", limits.max_order_quantity),
            ("max_order_notional", limits.max_order_notional),
        ] {
            if value <= 0 {
                return refuse(
                    RejectCode::InvalidArgument,
                    format!("{name} must be positive; got {value}"),
                );
            }
        }
        self.limits = limits;
        self.fee_rates = FeeRates::of(&limits);
        Ok(Outcome::Limits(limits))
    }

    /// The listed markets a command names: one symbol, or every listed one when empty.
    fn targets(&self, symbol: &str) -> Result<Vec<usize>, ExchangeError> {
        if symbol.is_empty() {
            Ok(self.listed.clone())
        } else {
            Ok(vec![self.listed_market(symbol)?])
        }
    }

    pub(super) fn set_trading_status(
        &mut self,
        symbol: &str,
        status: i64,
        timestamp: i64,
    ) -> Result<Outcome, ExchangeError> {
        let status = match TradingStatus::from_code(status) {
            Some(status @ (TradingStatus::Trading | TradingStatus::Halted)) => status,
            _ => {
                return refuse(
                    RejectCode::InvalidArgument,
                    "status must be TRADING or HALTED".to_owned(),
                )
            }
        };
        let targets = self.targets(symbol)?;
        let mut symbols = Vec::with_capacity(targets.len());
        for market in targets {
            let instrument = &mut self.markets[market].instrument;
            instrument.status = status;
            self.market_outbox.push(MarketEvent::StatusChange {
                symbol: instrument.symbol.clone(),
                status,
                timestamp_ns: timestamp,
            });
            symbols.push(instrument.symbol.to_string());
        }
        Ok(Outcome::Instruments { symbols })
    }

    /// Expires every resting DAY order (of one symbol, or of all), with its reports.
    pub(super) fn end_session(
        &mut self,
        symbol: &str,
        timestamp: i64,
    ) -> Result<Outcome, ExchangeError> {
        let start = self.outbox.len();
        for market in self.targets(symbol)? {
            let mut events = Vec::new();
            self.book_mut(market).end_session(timestamp, &mut events);
            self.apply_events(market, events, timestamp);
        }
        Ok(Outcome::Reports { start })
    }
}
