//! Why a command was refused: one enum whose codes and messages are part of the contract.

use std::fmt;

code_enum!(
    /// The machine-readable error codes shared with `tradepit.book.constants.ErrorCode`.
    ErrorCode {
        InvalidSide = 1 => "INVALID_SIDE",
        InvalidOrderType = 2 => "INVALID_ORDER_TYPE",
        InvalidTimeInForce = 3 => "INVALID_TIME_IN_FORCE",
        InvalidStpMode = 4 => "INVALID_STP_MODE",
        NonPositiveQuantity = 5 => "NON_POSITIVE_QUANTITY",
        QuantityTooLarge = 6 => "QUANTITY_TOO_LARGE",
        QuantityOffLot = 7 => "QUANTITY_OFF_LOT",
        MarketOrderWithPrice = 8 => "MARKET_ORDER_WITH_PRICE",
        PostOnlyMarketOrder = 9 => "POST_ONLY_MARKET_ORDER",
        NonPositivePrice = 10 => "NON_POSITIVE_PRICE",
        PriceTooLarge = 11 => "PRICE_TOO_LARGE",
        PriceOffTick = 12 => "PRICE_OFF_TICK",
        UnknownOrder = 13 => "UNKNOWN_ORDER",
        AmendToZero = 14 => "AMEND_TO_ZERO",
        InvalidCommand = 15 => "INVALID_COMMAND",
        InvalidInstrument = 16 => "INVALID_INSTRUMENT",
        InvalidBatch = 17 => "INVALID_BATCH",
        InvariantViolation = 18 => "INVARIANT_VIOLATION",
        InvalidSnapshot = 19 => "INVALID_SNAPSHOT",
    }
);

/// A refused command. The book is guaranteed unchanged when one is returned.
///
/// Each variant keeps the values its message quotes, so `Display` renders the exact text the
/// Python backend produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookError {
    InvalidSide {
        side: i64,
    },
    InvalidOrderType {
        order_type: i64,
    },
    InvalidTimeInForce {
        tif: i64,
    },
    InvalidStpMode {
        stp: i64,
    },
    NonPositiveQuantity {
        quantity: i64,
    },
    QuantityTooLarge {
        quantity: i64,
    },
    QuantityOffLot {
        quantity: i64,
        lot_size: i64,
    },
    MarketOrderWithPrice {
        price: i64,
    },
    PostOnlyMarketOrder,
    NonPositivePrice {
        price: i64,
    },
    PriceTooLarge {
        price: i64,
    },
    PriceOffTick {
        price: i64,
        tick_size: i64,
    },
    UnknownOrder {
        order_id: i64,
    },
    AmendToZero {
        order_id: i64,
    },
    InvalidCommand {
        kind: i64,
    },
    InvalidInstrument {
        tick_size: i64,
        lot_size: i64,
    },
    /// `length` is the batch size in bytes.
    InvalidBatch {
        length: usize,
    },
    /// Raised by `Book::validate`: names the broken invariant. Always a bug, never user input.
    InvariantViolation(String),
    /// Raised by `Book::restore`: the snapshot bytes do not describe a valid book.
    InvalidSnapshot(String),
}

impl BookError {
    /// The contract's error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            BookError::InvalidSide { .. } => ErrorCode::InvalidSide,
            BookError::InvalidOrderType { .. } => ErrorCode::InvalidOrderType,
            BookError::InvalidTimeInForce { .. } => ErrorCode::InvalidTimeInForce,
            BookError::InvalidStpMode { .. } => ErrorCode::InvalidStpMode,
            BookError::NonPositiveQuantity { .. } => ErrorCode::NonPositiveQuantity,
            BookError::QuantityTooLarge { .. } => ErrorCode::QuantityTooLarge,
            BookError::QuantityOffLot { .. } => ErrorCode::QuantityOffLot,
            BookError::MarketOrderWithPrice { .. } => ErrorCode::MarketOrderWithPrice,
            BookError::PostOnlyMarketOrder => ErrorCode::PostOnlyMarketOrder,
            BookError::NonPositivePrice { .. } => ErrorCode::NonPositivePrice,
            BookError::PriceTooLarge { .. } => ErrorCode::PriceTooLarge,
            BookError::PriceOffTick { .. } => ErrorCode::PriceOffTick,
            BookError::UnknownOrder { .. } => ErrorCode::UnknownOrder,
            BookError::AmendToZero { .. } => ErrorCode::AmendToZero,
            BookError::InvalidCommand { .. } => ErrorCode::InvalidCommand,
            BookError::InvalidInstrument { .. } => ErrorCode::InvalidInstrument,
            BookError::InvalidBatch { .. } => ErrorCode::InvalidBatch,
            BookError::InvariantViolation(_) => ErrorCode::InvariantViolation,
            BookError::InvalidSnapshot(_) => ErrorCode::InvalidSnapshot,
        }
    }
}

impl fmt::Display for BookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BookError::InvalidSide { side } => {
                write!(f, "side must be BUY (1) or SELL (2), got {side}")
            }
            BookError::InvalidOrderType { order_type } => {
                write!(
                    f,
                    "order type must be LIMIT (1) or MARKET (2), got {order_type}"
                )
            }
            BookError::InvalidTimeInForce { tif } => write!(
                f,
                "time in force must be GTC (1), IOC (2), FOK (3) or DAY (4), got {tif}"
            ),
            BookError::InvalidStpMode { stp } => write!(
                f,
                "self-trade prevention must be CANCEL_NEWEST (1), CANCEL_OLDEST (2), \
                 CANCEL_BOTH (3) or DECREMENT_AND_CANCEL (4), got {stp}"
            ),
            BookError::NonPositiveQuantity { quantity } => {
                write!(f, "quantity must be positive, got {quantity}")
            }
            BookError::QuantityTooLarge { quantity } => {
                write!(
                    f,
                    "quantity {quantity} exceeds the maximum of 1000000000000"
                )
            }
            BookError::QuantityOffLot { quantity, lot_size } => write!(
                f,
                "quantity {quantity} is not a multiple of the lot size {lot_size}"
            ),
            BookError::MarketOrderWithPrice { price } => {
                write!(f, "a market order takes no price, got {price}")
            }
            BookError::PostOnlyMarketOrder => f.write_str("a market order cannot be post-only"),
            BookError::NonPositivePrice { price } => {
                write!(f, "price must be positive, got {price}")
            }
            BookError::PriceTooLarge { price } => {
                write!(f, "price {price} exceeds the maximum of 1000000000000")
            }
            BookError::PriceOffTick { price, tick_size } => write!(
                f,
                "price {price} is not a multiple of the tick size {tick_size}"
            ),
            BookError::UnknownOrder { order_id } => {
                write!(f, "order {order_id} is not resting in the book")
            }
            BookError::AmendToZero { order_id } => write!(
                f,
                "cannot amend order {order_id} to quantity 0; cancel it instead"
            ),
            BookError::InvalidCommand { kind } => write!(f, "unknown command kind {kind}"),
            BookError::InvalidInstrument {
                tick_size,
                lot_size,
            } => write!(
                f,
                "tick size and lot size must be positive, got {tick_size} and {lot_size}"
            ),
            BookError::InvalidBatch { length } => {
                write!(f, "batch length {length} is not a multiple of 88 bytes")
            }
            BookError::InvariantViolation(what) => f.write_str(what),
            BookError::InvalidSnapshot(what) => write!(f, "invalid snapshot: {what}"),
        }
    }
}

impl std::error::Error for BookError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_the_specification() {
        let cases: Vec<(BookError, i64, &str)> = vec![
            (
                BookError::InvalidSide { side: 3 },
                1,
                "side must be BUY (1) or SELL (2), got 3",
            ),
            (
                BookError::InvalidOrderType { order_type: 0 },
                2,
                "order type must be LIMIT (1) or MARKET (2), got 0",
            ),
            (
                BookError::InvalidTimeInForce { tif: 5 },
                3,
                "time in force must be GTC (1), IOC (2), FOK (3) or DAY (4), got 5",
            ),
            (
                BookError::InvalidStpMode { stp: -1 },
                4,
                "self-trade prevention must be CANCEL_NEWEST (1), CANCEL_OLDEST (2), \
                 CANCEL_BOTH (3) or DECREMENT_AND_CANCEL (4), got -1",
            ),
            (
                BookError::NonPositiveQuantity { quantity: -5 },
                5,
                "quantity must be positive, got -5",
            ),
            (
                BookError::QuantityTooLarge {
                    quantity: 1_000_000_000_001,
                },
                6,
                "quantity 1000000000001 exceeds the maximum of 1000000000000",
            ),
            (
                BookError::QuantityOffLot {
                    quantity: 15,
                    lot_size: 10,
                },
                7,
                "quantity 15 is not a multiple of the lot size 10",
            ),
            (
                BookError::MarketOrderWithPrice { price: 100 },
                8,
                "a market order takes no price, got 100",
            ),
            (
                BookError::PostOnlyMarketOrder,
                9,
                "a market order cannot be post-only",
            ),
            (
                BookError::NonPositivePrice { price: 0 },
                10,
                "price must be positive, got 0",
            ),
            (
                BookError::PriceTooLarge {
                    price: 1_000_000_000_005,
                },
                11,
                "price 1000000000005 exceeds the maximum of 1000000000000",
            ),
            (
                BookError::PriceOffTick {
                    price: 101,
                    tick_size: 5,
                },
                12,
                "price 101 is not a multiple of the tick size 5",
            ),
            (
                BookError::UnknownOrder { order_id: 42 },
                13,
                "order 42 is not resting in the book",
            ),
            (
                BookError::AmendToZero { order_id: 7 },
                14,
                "cannot amend order 7 to quantity 0; cancel it instead",
            ),
            (
                BookError::InvalidCommand { kind: 9 },
                15,
                "unknown command kind 9",
            ),
            (
                BookError::InvalidInstrument {
                    tick_size: 0,
                    lot_size: 1,
                },
                16,
                "tick size and lot size must be positive, got 0 and 1",
            ),
            (
                BookError::InvalidBatch { length: 89 },
                17,
                "batch length 89 is not a multiple of 88 bytes",
            ),
            (
                BookError::InvariantViolation("book is crossed".into()),
                18,
                "book is crossed",
            ),
            (
                BookError::InvalidSnapshot("version 2 is not supported".into()),
                19,
                "invalid snapshot: version 2 is not supported",
            ),
        ];
        for (error, code, message) in cases {
            assert_eq!(error.code().code(), code, "{error:?}");
            assert_eq!(error.to_string(), message);
        }
    }
}
