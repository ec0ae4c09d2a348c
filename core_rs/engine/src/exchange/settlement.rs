//! Settlement (exchange.py `_apply_events` and below): book events become order state,
//! money and share movements, and execution reports. Whenever an order's open quantity
//! changes, `set_leaves` makes its escrow exactly what the rest of it needs.

use super::codes::{ExecType, Liquidity, OrderStatus, RejectCode};
use super::model::{Acknowledgement, Fill, MarketEvent, Report, TradePrint, POST_ONLY_REFUSED};
use super::money::{buy_reservation, fee, floor_div, Money};
use super::orders::{BUY, SELL};
use super::{slot, Exchange};
use crate::{CancelReason, Event, EventKind};

/// The fields of a report beyond what the order itself says (`_report`'s keywords).
#[derive(Default)]
struct Extra {
    last_quantity: Money,
    last_price: Money,
    fee: Money,
    liquidity: Option<Liquidity>,
    trade_id: i64,
    reject: Option<RejectCode>,
    message: &'static str,
}

impl Exchange {
    /// Applies one command's book events to the orders of `market`, and publishes them as
    /// one book change. Returns where the command's reports start in the outbox.
    pub(super) fn apply_events(&mut self, market: usize, events: Vec<Event>, now: i64) -> usize {
        let start = self.outbox.len();
        self.trades = Vec::new();
        for e in &events {
            let index = self.open_index(market, e.order_id);
            match e.kind {
                EventKind::Trade => {
                    let maker = self.open_index(market, e.maker_id);
                    self.settle(market, index, maker, e, now);
                }
                EventKind::Accepted => {
                    self.report(index, ExecType::New, now, Extra::default());
                    self.acknowledge(index);
                }
                EventKind::Cancelled => {
                    let expired = e.reason == CancelReason::SessionEnd.code();
                    self.set_leaves(index, Money::from(e.remaining));
                    let order = &mut self.orders[index];
                    if e.remaining == 0 {
                        order.status = if expired {
                            OrderStatus::Expired
                        } else {
                            OrderStatus::Canceled
                        };
                        self.markets[market].open.remove(&e.order_id);
                    }
                    order.updated_ns = now;
                    let exec_type = if expired {
                        ExecType::Expired
                    } else {
                        ExecType::Canceled
                    };
                    let extra = Extra {
                        last_quantity: Money::from(e.quantity),
                        ..Extra::default()
                    };
                    self.report(index, exec_type, now, extra);
                }
                EventKind::Amended => {
                    let order = &mut self.orders[index];
                    order.price = Money::from(e.price);
                    order.book_price = Money::from(e.price);
                    order.quantity = Money::from(e.quantity);
                    self.set_leaves(index, Money::from(e.remaining));
                    self.orders[index].updated_ns = now;
                    self.report(index, ExecType::Replaced, now, Extra::default());
                }
                EventKind::Rejected => {
                    let reject = Some(RejectCode::PostOnlyWouldCross);
                    if self.orders[index].acknowledged.is_none() {
                        // A new order, not an amendment.
                        let order = &mut self.orders[index];
                        order.status = OrderStatus::Rejected;
                        order.reject_reason = reject;
                        self.set_leaves(index, 0);
                        self.markets[market].open.remove(&e.order_id);
                        let extra = Extra {
                            reject,
                            message: POST_ONLY_REFUSED,
                            ..Extra::default()
                        };
                        self.report(index, ExecType::Rejected, now, extra);
                        self.acknowledge(index);
                    } else {
                        let extra = Extra {
                            reject,
                            message: "amendment refused: post-only order would have taken \
                                      liquidity",
                            ..Extra::default()
                        };
                        self.report(index, ExecType::Rejected, now, extra);
                    }
                }
                // Only the compact batch output carries errors.
                EventKind::Error => unreachable!("the book emits no ERROR events"),
            }
        }
        if !events.is_empty() {
            let change = MarketEvent::BookChange {
                symbol: self.markets[market].instrument.symbol.clone(),
                events,
                trades: std::mem::take(&mut self.trades),
                timestamp_ns: now,
            };
            self.market_outbox.push(change);
        }
        start
    }

    /// Records the report just made as the order's acknowledgement.
    fn acknowledge(&mut self, index: usize) {
        let report = self.outbox.last().expect("just reported");
        let order = &mut self.orders[index];
        order.acknowledged = Some(Acknowledgement {
            sequence: report.sequence,
            exec_type: report.exec_type,
        });
        debug_assert_eq!(order.acknowledgement().as_ref(), Some(report));
    }

    /// The order behind an open book id of `market`.
    #[inline]
    fn open_index(&self, market: usize, book_id: i64) -> usize {
        *self.markets[market]
            .open
            .get(&book_id)
            .expect("the book reports only on orders the exchange tracks as open")
    }

    fn settle(&mut self, market: usize, taker: usize, maker: usize, e: &Event, now: i64) {
        let (quantity, price) = (Money::from(e.quantity), Money::from(e.price));
        let trade_id = self.next_trade_id;
        self.next_trade_id += 1;
        let listing = &mut self.markets[market];
        listing.instrument.reference_price = price;
        listing.band = listing.instrument.band();
        self.trades.push(TradePrint {
            symbol: listing.instrument.symbol.clone(),
            trade_id,
            price: e.price,
            quantity: e.quantity,
            aggressor_side: self.orders[taker].side,
            timestamp_ns: now,
            sequence: e.seq,
        });
        let taker_bps = self.orders[taker].fee_rates.taker_bps;
        let trade = (trade_id, price, quantity, now);
        self.fill(
            market,
            taker,
            Liquidity::Taker,
            taker_bps,
            e.remaining,
            trade,
        );
        let maker_bps = self.orders[maker].fee_rates.maker_bps;
        self.fill(
            market,
            maker,
            Liquidity::Maker,
            maker_bps,
            e.maker_remaining,
            trade,
        );
    }

    /// One side of a trade: move the money and shares, and report the fill.
    /// `trade` is `(trade_id, price, quantity, now)`.
    fn fill(
        &mut self,
        market: usize,
        index: usize,
        liquidity: Liquidity,
        bps: Money,
        leaves: i64,
        (trade_id, price, quantity, now): (i64, Money, Money, i64),
    ) {
        let notional = price * quantity;
        let charged = fee(notional, bps);
        let order = &mut self.orders[index];
        let account = &mut self.accounts[slot(order.account_id).expect("valid account id")];
        if order.side == BUY {
            let cost = notional + charged;
            order.reserved_cash -= cost;
            account.reserved_cash -= cost;
            let position = account.position(&order.symbol);
            position.quantity += quantity;
            position.cost_basis += cost;
        } else {
            let position = account.position(&order.symbol);
            let cost_sold = floor_div(position.cost_basis * quantity, position.quantity);
            position.cost_basis -= cost_sold;
            position.quantity -= quantity;
            position.realised_pnl += notional - charged - cost_sold;
            account.cash += notional - charged;
        }
        account.fees_paid += charged;
        account.traded_quantity += quantity;
        account.traded_notional += notional;
        self.fees_collected += charged;
        order.filled_quantity += quantity;
        order.filled_notional += notional;
        order.fees += charged;
        order.updated_ns = now;
        self.set_leaves(index, Money::from(leaves));
        let order = &mut self.orders[index];
        if leaves != 0 {
            order.status = OrderStatus::PartiallyFilled;
        } else {
            order.status = OrderStatus::Filled;
            self.markets[market].open.remove(&order.book_id);
        }
        let fill = Fill {
            trade_id,
            order_id: order.order_id,
            client_order_id: order.client_order_id.clone(),
            symbol: order.symbol.clone(),
            side: order.side,
            price,
            quantity,
            fee: charged,
            liquidity,
            timestamp_ns: now,
        };
        self.accounts[slot(order.account_id).expect("valid account id")]
            .fills
            .push(fill);
        let extra = Extra {
            last_quantity: quantity,
            last_price: price,
            fee: charged,
            liquidity: Some(liquidity),
            trade_id,
            ..Extra::default()
        };
        self.report(index, ExecType::Trade, now, extra);
    }

    /// Changes an order's open quantity and holds exactly what the rest of it needs.
    fn set_leaves(&mut self, index: usize, leaves: Money) {
        let order = &mut self.orders[index];
        let account = &mut self.accounts[slot(order.account_id).expect("valid account id")];
        if order.side == SELL {
            account.position(&order.symbol).reserved += leaves - order.leaves;
        } else {
            let needed = buy_reservation(order.book_price, leaves, order.fee_rates.max_bps);
            let change = needed - order.reserved_cash;
            account.cash -= change;
            account.reserved_cash += change;
            order.reserved_cash = needed;
        }
        order.leaves = leaves;
    }

    /// Appends the order's next report to the outbox.
    fn report(&mut self, index: usize, exec_type: ExecType, now: i64, extra: Extra) {
        let order = &self.orders[index];
        let account = &mut self.accounts[slot(order.account_id).expect("valid account id")];
        account.report_sequence += 1;
        let report = Report {
            account_id: account.account_id,
            sequence: account.report_sequence,
            order_id: order.order_id,
            client_order_id: order.client_order_id.clone(),
            symbol: order.symbol.clone(),
            exec_type,
            order_status: order.status,
            side: order.side,
            price: order.price,
            quantity: order.quantity,
            last_quantity: extra.last_quantity,
            last_price: extra.last_price,
            cumulative_quantity: order.filled_quantity,
            leaves_quantity: order.leaves,
            average_price: order.average_price(),
            fee: extra.fee,
            liquidity: extra.liquidity,
            trade_id: extra.trade_id,
            reject_reason: extra.reject,
            reject_message: extra.message,
            timestamp_ns: now,
        };
        self.outbox.push(report);
    }
}
