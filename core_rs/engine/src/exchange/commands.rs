//! Everything that can change the exchange's state (commands.py), and what applying each
//! returns. Each command carries the time it arrived, so applying the same commands in the
//! same order always gives the same state.

use super::model::{Limits, Report};
use super::money::Money;
use super::orders::Submit;
#[cfg(doc)]
use super::Exchange;

/// An order named by the exchange's id, or by the account's client_order_id (a non-empty
/// client_order_id wins).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OrderRef {
    pub order_id: i64,
    pub client_order_id: String,
}

/// One command; fields in the order and with the meaning of commands.py. Enum-valued fields
/// (`kind`, `status`, `side`, `order_type`, `tif`, `stp`) are raw codes as received: the
/// exchange refuses unknown ones, and 0 means the default where Python's `or` gives one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    CreateAccount {
        name: String,
        key_hash: String,
        timestamp: i64,
        system: bool,
    },
    /// `symbol` empty: cash; otherwise shares of that symbol.
    AdjustBalance {
        account_id: i64,
        amount: Money,
        kind: i64,
        timestamp: i64,
        symbol: String,
    },
    CreateInstrument {
        symbol: String,
        tick_size: Money,
        lot_size: Money,
        reference_price: Money,
        band_bps: Money,
        timestamp: i64,
    },
    /// `symbol` empty: every listed instrument.
    SetTradingStatus {
        symbol: String,
        status: i64,
        timestamp: i64,
    },
    /// Fees and limits from now on; accepted orders keep the fees they were accepted with.
    SetLimits {
        maker_fee_bps: Money,
        taker_fee_bps: Money,
        max_order_quantity: Money,
        max_order_notional: Money,
        timestamp: i64,
    },
    RemoveInstrument {
        symbol: String,
        timestamp: i64,
    },
    /// `symbol` empty: every listed instrument.
    EndSession {
        symbol: String,
        timestamp: i64,
    },
    SubmitOrder {
        account_id: i64,
        client_order_id: String,
        symbol: String,
        side: i64,
        order_type: i64,
        tif: i64,
        price: Money,
        quantity: Money,
        post_only: bool,
        stp: i64,
        timestamp: i64,
    },
    CancelOrder {
        account_id: i64,
        order: OrderRef,
        timestamp: i64,
    },
    AmendOrder {
        account_id: i64,
        order: OrderRef,
        price: Money,
        quantity: Money,
        timestamp: i64,
    },
    /// `symbol` empty: every symbol.
    CancelAll {
        account_id: i64,
        symbol: String,
        timestamp: i64,
    },
}

impl Command {
    /// A SubmitOrder's fields, borrowed as the order path takes them; None for any other
    /// command.
    pub fn as_submit(&self) -> Option<Submit<'_>> {
        let Command::SubmitOrder {
            account_id,
            client_order_id,
            symbol,
            side,
            order_type,
            tif,
            price,
            quantity,
            post_only,
            stp,
            timestamp,
        } = self
        else {
            return None;
        };
        Some(Submit {
            account_id: *account_id,
            client_order_id,
            symbol,
            side: *side,
            order_type: *order_type,
            tif: *tif,
            price: *price,
            quantity: *quantity,
            post_only: *post_only,
            stp: *stp,
            timestamp: *timestamp,
        })
    }
}

/// What a command returns when it applies (what each Python handler returns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// SubmitOrder, CancelOrder, AmendOrder: the order, and the reports of the command that
    /// belong to its account (an idempotent resubmission: the original acknowledgement).
    Order {
        order_id: i64,
        reports: OrderReports,
    },
    /// CreateAccount, AdjustBalance.
    Account { account_id: i64 },
    /// CreateInstrument.
    Instrument { symbol: String },
    /// SetTradingStatus: the instruments changed, in listing order.
    Instruments { symbols: Vec<String> },
    /// SetLimits.
    Limits(Limits),
    /// CancelAll: the orders cancelled, in acceptance order.
    Cancelled { order_ids: Vec<i64> },
    /// RemoveInstrument: the symbol and the orders cancelled, by order id.
    Removed { symbol: String, order_ids: Vec<i64> },
    /// EndSession: every report it caused, all accounts': those of the outbox
    /// ([`Exchange::reports`]) from position `start` on.
    Reports { start: usize },
}

/// The reports an order command returns. Positions in the outbox rather than copies: a
/// report is made once, and the caller finds the same one in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderReports {
    /// Those of the outbox ([`Exchange::reports`]) from position `start` on whose account
    /// is `account_id` (a trade also reports to the other side).
    Outbox { start: usize, account_id: i64 },
    /// An identical resubmission, which made no report: the order's acknowledgement again.
    Acknowledgement(Box<Report>),
}

impl OrderReports {
    /// The reports themselves, from `outbox` (what [`Exchange::reports`] shows until the
    /// reports are taken).
    pub fn collect(&self, outbox: &[Report]) -> Vec<Report> {
        match self {
            OrderReports::Outbox { start, account_id } => outbox[*start..]
                .iter()
                .filter(|report| report.account_id == *account_id)
                .cloned()
                .collect(),
            OrderReports::Acknowledgement(report) => vec![(**report).clone()],
        }
    }
}
