//! Orders in: submit (exchange.py `_submit_checked` and `_accept`), cancel, amend and
//! cancel-all. Every check runs before anything changes; the escrow is taken before the
//! book sees the order.

use super::checks::{
    book_values, check_band, check_cash, check_client_order_id, check_enum, check_notional,
    check_price, check_quantity, check_trading, refuse, ORDER_TYPES, SIDES, STPS, TIFS,
};
use super::codes::{OrderStatus, RejectCode};
use super::model::{Order, OrderRequest};
use super::money::{buy_reservation, Money};
use std::sync::Arc;

use super::{slot, Exchange, ExchangeError, OrderRef, OrderReports, Outcome};
use crate::{NewOrder, OrderType, Side, StpMode, TimeInForce, MAX_PRICE};

pub(super) const BUY: i64 = Side::Buy.code();
pub(super) const SELL: i64 = Side::Sell.code();
const LIMIT: i64 = OrderType::Limit.code();
const MARKET: i64 = OrderType::Market.code();
const GTC: i64 = TimeInForce::Gtc.code();
const IOC: i64 = TimeInForce::Ioc.code();
const FOK: i64 = TimeInForce::Fok.code();
const CANCEL_NEWEST: i64 = StpMode::CancelNewest.code();

/// A `Command::SubmitOrder`, borrowed (for [`Exchange::submit`]: a caller that holds the
/// strings elsewhere need not copy them into a command).
#[derive(Clone, Copy, Debug)]
pub struct Submit<'a> {
    pub account_id: i64,
    pub client_order_id: &'a str,
    pub symbol: &'a str,
    pub side: i64,
    pub order_type: i64,
    pub tif: i64,
    pub price: Money,
    pub quantity: Money,
    pub post_only: bool,
    pub stp: i64,
    pub timestamp: i64,
}

impl Submit<'_> {
    /// Whether `request` asked for exactly this (an idempotent resubmission).
    fn repeats(&self, request: &OrderRequest) -> bool {
        *request.symbol == *self.symbol
            && request.side == self.side
            && request.order_type == self.order_type
            && request.tif == self.tif
            && request.price == self.price
            && request.quantity == self.quantity
            && request.post_only == self.post_only
            && request.stp == self.stp
    }
}

/// What `_accept` needs beyond the command: the checked values.
struct Accepted {
    account: usize,
    market: usize,
    order_type: i64,
    tif: i64,
    stp: i64,
    book_price: Money,
    reservation: Money,
    /// Where the account's position in the symbol is (`submit` looked it up already).
    position: usize,
}

impl Exchange {
    /// A new order (exchange.py `_submit_checked`: the authority for every decision):
    /// what `execute` does with a `Command::SubmitOrder`.
    pub fn submit(&mut self, c: &Submit<'_>) -> Result<Outcome, ExchangeError> {
        let account = self.account_slot(c.account_id)?;
        check_client_order_id(c.client_order_id)?;
        // An empty client_order_id is never recorded, so it never repeats.
        let repeated = match c.client_order_id {
            "" => None,
            id => self.accounts[account].client_order_ids.get(id).copied(),
        };
        if let Some(order_id) = repeated {
            let original = &self.orders[slot(order_id).expect("recorded ids are valid")];
            return match original.acknowledgement() {
                Some(acknowledgement) if c.repeats(&original.request) => Ok(Outcome::Order {
                    order_id,
                    reports: OrderReports::Acknowledgement(Box::new(acknowledgement)),
                }),
                _ => refuse(
                    RejectCode::DuplicateClientOrderId,
                    format!(
                        "client_order_id {} already names order {} with other parameters; \
                         use a new client_order_id",
                        super::py_repr(c.client_order_id),
                        original.order_id
                    ),
                ),
            };
        }

        let market = self.listed_market(c.symbol)?;
        let order_type = if c.order_type == 0 {
            LIMIT
        } else {
            c.order_type
        };
        let tif = if c.tif == 0 { GTC } else { c.tif };
        let stp = if c.stp == 0 { CANCEL_NEWEST } else { c.stp };
        check_enum("side", c.side, SIDES)?;
        check_enum("order type", order_type, ORDER_TYPES)?;
        check_enum("time in force", tif, TIFS)?;
        check_enum("self-trade prevention", stp, STPS)?;
        let listing = &self.markets[market];
        let instrument = &listing.instrument;
        check_quantity(instrument, &self.limits, c.quantity)?;
        let book_price = if order_type == MARKET {
            if c.price != 0 {
                return refuse(
                    RejectCode::InvalidArgument,
                    format!("a market order takes no price (send 0), got {}", c.price),
                );
            }
            if c.post_only {
                return refuse(
                    RejectCode::InvalidArgument,
                    "a market order cannot be post-only".to_owned(),
                );
            }
            let (low, high) = listing.band;
            let held_at = if c.side == BUY { high } else { low };
            if held_at > Money::from(MAX_PRICE) {
                return refuse(
                    RejectCode::InvalidArgument,
                    format!(
                        "a market buy in {} would be held at its band's top {held_at}, above the largest \
                         price the book takes, {MAX_PRICE}; send a limit order",
                        c.symbol
                    ),
                );
            }
            held_at
        } else {
            check_price(instrument, c.price)?;
            c.price
        };
        check_notional(&self.limits, book_price, c.quantity)?;
        check_trading(instrument)?;
        if order_type == LIMIT {
            check_band(instrument, listing.band, c.price)?;
        }
        // Python looks the position up here, before the cash or shares check, so even a
        // refusal below leaves the (empty) position behind.
        let holder = &mut self.accounts[account];
        let position = holder.positions.entry_index(c.symbol);
        let available = holder.positions.at_mut(position).available();
        let mut reservation = 0;
        if c.side == BUY {
            reservation = buy_reservation(book_price, c.quantity, self.fee_rates.max_bps);
            check_cash(holder.cash, reservation)?;
        } else if c.quantity > available {
            return refuse(
                RejectCode::InsufficientShares,
                format!(
                    "selling {} {} needs that many free shares; you have {available} \
                     (no short selling)",
                    c.quantity, c.symbol
                ),
            );
        }
        self.accept(
            c,
            Accepted {
                account,
                market,
                order_type,
                tif,
                stp,
                book_price,
                reservation,
                position,
            },
        )
    }

    /// Takes an order that passed every check: from here on it applies completely.
    fn accept(&mut self, c: &Submit<'_>, a: Accepted) -> Result<Outcome, ExchangeError> {
        // The book's own limits (10^12), before anything changes.
        let (book_price, book_quantity) = book_values(a.book_price, c.quantity)?;
        let order_id = self.next_order_id;
        let index = self.orders.len();
        debug_assert_eq!(slot(order_id), Some(index));
        let account = &mut self.accounts[a.account];
        let market = &mut self.markets[a.market];
        let book = market.book.as_mut().expect("a listed market has a book");
        let book_id = book.next_order_id();
        let client_order_id: Arc<str> = if c.client_order_id.is_empty() {
            self.no_client_order_id.clone()
        } else {
            Arc::from(c.client_order_id)
        };
        let mut order = Order {
            order_id,
            account_id: account.account_id,
            client_order_id: client_order_id.clone(),
            symbol: market.instrument.symbol.clone(),
            side: c.side,
            order_type: a.order_type,
            tif: a.tif,
            price: c.price,
            book_price: a.book_price,
            quantity: c.quantity,
            post_only: c.post_only,
            stp: a.stp,
            created_ns: c.timestamp,
            request: OrderRequest {
                symbol: market.instrument.symbol.clone(),
                side: c.side,
                order_type: c.order_type,
                tif: c.tif,
                price: c.price,
                quantity: c.quantity,
                post_only: c.post_only,
                stp: c.stp,
            },
            fee_rates: self.fee_rates,
            leaves: c.quantity,
            filled_quantity: 0,
            filled_notional: 0,
            fees: 0,
            status: OrderStatus::New,
            updated_ns: c.timestamp,
            reject_reason: None,
            reserved_cash: 0,
            book_id,
            acknowledged: None,
        };
        account.order_ids.push(order_id);
        if !c.client_order_id.is_empty() {
            account.client_order_ids.insert(client_order_id, order_id);
        }
        // An accepted order lists its symbol among the positions (`submit` created it).
        if c.side == BUY {
            account.cash -= a.reservation;
            account.reserved_cash += a.reservation;
            order.reserved_cash = a.reservation;
        } else {
            account.positions.at_mut(a.position).reserved += c.quantity;
        }
        self.next_order_id = order_id + 1;
        self.orders.push(order);
        self.order_markets.push(a.market);
        market.open.insert(book_id, index);

        // A market order goes to the book as a limit at its band edge, so the escrow taken
        // at that price always covers it.
        let book_tif = if a.order_type == LIMIT || a.tif == FOK {
            a.tif
        } else {
            IOC
        };
        let mut events = Vec::new();
        book.submit(
            &NewOrder {
                owner: c.account_id,
                side: c.side,
                price: book_price,
                quantity: book_quantity,
                order_type: LIMIT,
                tif: book_tif,
                post_only: c.post_only,
                stp: a.stp,
                timestamp: c.timestamp,
            },
            &mut events,
        )?;
        let start = self.apply_events(a.market, events, c.timestamp);
        Ok(self.result(index, start))
    }

    pub(super) fn cancel(
        &mut self,
        account_id: i64,
        order: &OrderRef,
        timestamp: i64,
    ) -> Result<Outcome, ExchangeError> {
        let index = self.open_order(account_id, order)?;
        let market = self.order_markets[index];
        let book_id = self.orders[index].book_id;
        let mut events = Vec::new();
        self.book_mut(market)
            .cancel(book_id, timestamp, &mut events)?;
        let start = self.apply_events(market, events, timestamp);
        Ok(self.result(index, start))
    }

    pub(super) fn amend(
        &mut self,
        account_id: i64,
        order: &OrderRef,
        price: Money,
        quantity: Money,
        timestamp: i64,
    ) -> Result<Outcome, ExchangeError> {
        let index = self.open_order(account_id, order)?;
        let market = self.order_markets[index];
        let listing = &self.markets[market];
        let instrument = &listing.instrument;
        check_quantity(instrument, &self.limits, quantity)?;
        check_price(instrument, price)?;
        check_notional(&self.limits, price, quantity)?;
        check_trading(instrument)?;
        check_band(instrument, listing.band, price)?;
        let order = &self.orders[index];
        let account = &mut self.accounts[slot(order.account_id).expect("valid account id")];
        if order.side == BUY {
            let needed = buy_reservation(price, quantity, order.fee_rates.max_bps);
            check_cash(account.cash, needed - order.reserved_cash)?;
        } else {
            let extra = quantity - order.leaves;
            let available = account.position(&order.symbol).available();
            if extra > available {
                return refuse(
                    RejectCode::InsufficientShares,
                    format!(
                        "raising this sell order by {extra} needs {extra} free shares; \
                         you have {available}"
                    ),
                );
            }
        }
        let (book_price, book_quantity) = book_values(price, quantity)?;
        let book_id = order.book_id;
        let mut events = Vec::new();
        self.book_mut(market)
            .amend(book_id, book_price, book_quantity, timestamp, &mut events)?;
        let start = self.apply_events(market, events, timestamp);
        Ok(self.result(index, start))
    }

    /// Cancels the account's open orders (in one symbol, or all), in acceptance order.
    pub(super) fn cancel_all(
        &mut self,
        account_id: i64,
        symbol: &str,
        timestamp: i64,
    ) -> Result<Outcome, ExchangeError> {
        let account = self.account_slot(account_id)?;
        if !symbol.is_empty() {
            self.listed_market(symbol)?;
        }
        let mut cancelled = Vec::new();
        for k in 0..self.accounts[account].order_ids.len() {
            let order_id = self.accounts[account].order_ids[k];
            let index = slot(order_id).expect("recorded ids are valid");
            let order = &self.orders[index];
            if order.is_open() && (symbol.is_empty() || *order.symbol == *symbol) {
                let market = self.order_markets[index];
                let book_id = order.book_id;
                let mut events = Vec::new();
                self.book_mut(market)
                    .cancel(book_id, timestamp, &mut events)?;
                self.apply_events(market, events, timestamp);
                cancelled.push(order_id);
            }
        }
        Ok(Outcome::Cancelled {
            order_ids: cancelled,
        })
    }

    /// The book of a market that still has one (every open order's market does).
    pub(super) fn book_mut(&mut self, market: usize) -> &mut crate::Book {
        self.markets[market]
            .book
            .as_mut()
            .expect("an open order's market is listed")
    }

    /// The order, and the reports since `start` that belong to its account.
    fn result(&self, index: usize, start: usize) -> Outcome {
        let order = &self.orders[index];
        Outcome::Order {
            order_id: order.order_id,
            reports: OrderReports::Outbox {
                start,
                account_id: order.account_id,
            },
        }
    }
}
