//! Refusals: the error type, and the pre-trade checks with their messages, worded exactly as
//! exchange.py words them (clients and tests match on the text).

use std::fmt;

use super::codes::RejectCode;
use super::model::{Instrument, Limits};
use super::money::{product_text, Money};
use crate::{BookError, OrderType, Side, StpMode, TimeInForce, MAX_PRICE, MAX_QUANTITY};

/// A refused command: `code` is machine-readable; the message says what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub code: RejectCode,
    pub message: String,
}

/// Why `Exchange::execute` failed.
#[derive(Debug)]
pub enum ExchangeError {
    /// Refused by the exchange's rules; nothing changed (except, as in Python, an empty
    /// position a check looked up).
    Reject(Reject),
    /// A value passed every exchange rule but lies outside what the book accepts (prices
    /// and quantities above 10^12, tick or lot sizes beyond `i64`); nothing changed.
    Book(BookError),
}

impl ExchangeError {
    /// The refusal, if this is one.
    pub fn as_reject(&self) -> Option<&Reject> {
        match self {
            ExchangeError::Reject(reject) => Some(reject),
            ExchangeError::Book(_) => None,
        }
    }
}

impl From<Reject> for ExchangeError {
    fn from(reject: Reject) -> Self {
        ExchangeError::Reject(reject)
    }
}

impl From<BookError> for ExchangeError {
    fn from(error: BookError) -> Self {
        ExchangeError::Book(error)
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message)
    }
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExchangeError::Reject(reject) => reject.fmt(f),
            ExchangeError::Book(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for Reject {}
impl std::error::Error for ExchangeError {}

/// A refusal as the `Err` of a command.
#[cold]
pub(super) fn refuse<T>(code: RejectCode, message: String) -> Result<T, ExchangeError> {
    Err(ExchangeError::Reject(Reject { code, message }))
}

pub(super) const MAX_NAME: usize = 64;
pub(super) const MAX_CLIENT_ORDER_ID: usize = 64;
pub(super) const DEFAULT_BAND_BPS: Money = 1_000;

/// `(name, code)` of each member of a book enum, in declaration order: what `_check_enum`
/// lists.
pub(super) type Members = &'static [(&'static str, i64)];

macro_rules! members {
    ($($member:expr),+) => { &[$(($member.name(), $member.code())),+] };
}

pub(super) const SIDES: Members = members!(Side::Buy, Side::Sell);
pub(super) const ORDER_TYPES: Members = members!(OrderType::Limit, OrderType::Market);
pub(super) const TIFS: Members = members!(
    TimeInForce::Gtc,
    TimeInForce::Ioc,
    TimeInForce::Fok,
    TimeInForce::Day
);
pub(super) const STPS: Members = members!(
    StpMode::CancelNewest,
    StpMode::CancelOldest,
    StpMode::CancelBoth,
    StpMode::DecrementAndCancel
);

pub(super) fn check_enum(name: &str, value: i64, members: Members) -> Result<(), ExchangeError> {
    if members.iter().any(|&(_, code)| code == value) {
        return Ok(());
    }
    let allowed: Vec<String> = members
        .iter()
        .map(|(member, code)| format!("{member} ({code})"))
        .collect();
    refuse(
        RejectCode::InvalidArgument,
        format!("{name} must be one of {}; got {value}", allowed.join(", ")),
    )
}

pub(super) fn check_client_order_id(client_order_id: &str) -> Result<(), ExchangeError> {
    // Python counts characters; a text of at most 64 bytes has at most 64 of them.
    if client_order_id.len() > MAX_CLIENT_ORDER_ID
        && client_order_id.chars().count() > MAX_CLIENT_ORDER_ID
    {
        return refuse(
            RejectCode::InvalidArgument,
            format!("client_order_id is longer than {MAX_CLIENT_ORDER_ID} characters"),
        );
    }
    Ok(())
}

pub(super) fn check_quantity(
    instrument: &Instrument,
    limits: &Limits,
    quantity: Money,
) -> Result<(), ExchangeError> {
    if quantity <= 0 {
        return refuse(
            RejectCode::InvalidArgument,
            format!("quantity must be positive, got {quantity}"),
        );
    }
    if quantity % instrument.lot_size != 0 {
        return refuse(
            RejectCode::QuantityOffLot,
            format!(
                "quantity {quantity} is not a multiple of {}'s lot size {}",
                instrument.symbol, instrument.lot_size
            ),
        );
    }
    if quantity > limits.max_order_quantity {
        return refuse(
            RejectCode::QuantityTooLarge,
            format!(
                "quantity {quantity} is above the maximum order quantity {}",
                limits.max_order_quantity
            ),
        );
    }
    if quantity > Money::from(MAX_QUANTITY) {
        return refuse(
            RejectCode::QuantityTooLarge,
            format!("quantity {quantity} is above the largest the book takes, {MAX_QUANTITY}"),
        );
    }
    Ok(())
}

pub(super) fn check_price(instrument: &Instrument, price: Money) -> Result<(), ExchangeError> {
    if price <= 0 {
        return refuse(
            RejectCode::InvalidArgument,
            format!("a limit order needs a positive price, got {price}"),
        );
    }
    if price % instrument.tick_size != 0 {
        return refuse(
            RejectCode::PriceOffTick,
            format!(
                "price {price} is not a multiple of {}'s tick size {}",
                instrument.symbol, instrument.tick_size
            ),
        );
    }
    Ok(())
}

pub(super) fn check_notional(
    limits: &Limits,
    price: Money,
    quantity: Money,
) -> Result<(), ExchangeError> {
    // A product beyond i128 is above any limit; the message still quotes it exactly.
    let above = match price.checked_mul(quantity) {
        Some(notional) => notional > limits.max_order_notional,
        None => true,
    };
    if above {
        return refuse(
            RejectCode::NotionalTooLarge,
            format!(
                "price * quantity = {} is above the maximum order notional {}",
                product_text(price, quantity),
                limits.max_order_notional
            ),
        );
    }
    Ok(())
}

pub(super) fn check_trading(instrument: &Instrument) -> Result<(), ExchangeError> {
    if instrument.status != super::codes::TradingStatus::Trading {
        return refuse(
            RejectCode::TradingHalted,
            format!(
                "trading in {} is halted; cancels still work",
                instrument.symbol
            ),
        );
    }
    Ok(())
}

/// `band` is the instrument's current band (cached by the caller).
pub(super) fn check_band(
    instrument: &Instrument,
    (low, high): (Money, Money),
    price: Money,
) -> Result<(), ExchangeError> {
    if !(low <= price && price <= high) {
        return refuse(
            RejectCode::PriceOutsideBand,
            format!(
                "price {price} is outside {}'s band {low}..{high} around the reference price {}",
                instrument.symbol, instrument.reference_price
            ),
        );
    }
    // A band around a price near the book's limit reaches past it.
    if price > Money::from(MAX_PRICE) {
        return refuse(
            RejectCode::InvalidArgument,
            format!("price {price} is above the largest price the book takes, {MAX_PRICE}"),
        );
    }
    Ok(())
}

pub(super) fn check_cash(cash: Money, needed: Money) -> Result<(), ExchangeError> {
    if needed > cash {
        return refuse(
            RejectCode::InsufficientBuyingPower,
            format!(
                "this order needs {needed} in free cash (notional plus the largest fee); \
                 buying power is {cash}"
            ),
        );
    }
    Ok(())
}

/// The price and quantity as the book takes them. The checks above refuse anything beyond
/// the book's limits, so the book's error here means a bug; it is still raised before
/// anything changes (in the book's order: quantity, then price).
pub(super) fn book_values(price: Money, quantity: Money) -> Result<(i64, i64), ExchangeError> {
    let saturate = |value: Money| i64::try_from(value).unwrap_or(i64::MAX);
    if quantity > Money::from(MAX_QUANTITY) {
        return Err(BookError::QuantityTooLarge {
            quantity: saturate(quantity),
        }
        .into());
    }
    if price > Money::from(MAX_PRICE) {
        return Err(BookError::PriceTooLarge {
            price: saturate(price),
        }
        .into());
    }
    // Both are positive here (the exchange's checks come first) and at most 10^12.
    Ok((price as i64, quantity as i64))
}
