//! Validation: every error code, the order in which checks run, and that an error changes
//! nothing (the harness compares the state hash, sequence and next id before and after).

mod common;

use common::*;
use tradepit_engine::TimeInForce;
use tradepit_engine::{Book, BookError, Command, ErrorCode, NewOrder, MAX_PRICE, MAX_QUANTITY};

fn submit_error(h: &mut Harness, order: NewOrder) -> BookError {
    h.try_submit(order).unwrap_err()
}

fn raw(side: i64, order_type: i64, tif: i64, stp: i64, price: i64, quantity: i64) -> NewOrder {
    NewOrder {
        owner: 1,
        side,
        price,
        quantity,
        order_type,
        tif,
        post_only: false,
        stp,
        timestamp: 0,
    }
}

#[test]
fn the_instrument_needs_a_positive_tick_and_lot() {
    for (tick, lot) in [(0, 1), (1, 0), (-1, 5), (5, -1)] {
        let error = Book::new(tick, lot).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInstrument);
        assert_eq!(
            error.to_string(),
            format!("tick size and lot size must be positive, got {tick} and {lot}")
        );
    }
}

#[test]
fn submit_checks_run_in_the_specified_order() {
    let mut h = Harness::with(5, 10);
    h.rest(2, Sell, 100, 10);
    let cases = [
        // side first, even when everything else is wrong too
        (raw(0, 9, 9, 9, -1, -1), ErrorCode::InvalidSide),
        (raw(3, 1, 1, 1, 100, 10), ErrorCode::InvalidSide),
        (raw(1, 0, 9, 9, -1, -1), ErrorCode::InvalidOrderType),
        (raw(2, 3, 1, 1, 100, 10), ErrorCode::InvalidOrderType),
        (raw(1, 1, 0, 9, -1, -1), ErrorCode::InvalidTimeInForce),
        (raw(1, 1, 5, 1, 100, 10), ErrorCode::InvalidTimeInForce),
        (raw(1, 1, 1, 0, -1, -1), ErrorCode::InvalidStpMode),
        (raw(1, 1, 1, 5, 100, 10), ErrorCode::InvalidStpMode),
        // quantity before price
        (raw(1, 1, 1, 1, -1, 0), ErrorCode::NonPositiveQuantity),
        (raw(1, 1, 1, 1, 100, -10), ErrorCode::NonPositiveQuantity),
        (
            raw(1, 1, 1, 1, 100, i64::MIN),
            ErrorCode::NonPositiveQuantity,
        ),
        (
            raw(1, 1, 1, 1, -1, MAX_QUANTITY + 10),
            ErrorCode::QuantityTooLarge,
        ),
        (raw(1, 1, 1, 1, 100, i64::MAX), ErrorCode::QuantityTooLarge),
        (raw(1, 1, 1, 1, -1, 15), ErrorCode::QuantityOffLot),
        // market orders
        (raw(1, 2, 1, 1, 100, 10), ErrorCode::MarketOrderWithPrice),
        (raw(1, 2, 1, 1, -5, 10), ErrorCode::MarketOrderWithPrice),
        // limit prices
        (raw(1, 1, 1, 1, 0, 10), ErrorCode::NonPositivePrice),
        (raw(1, 1, 1, 1, -5, 10), ErrorCode::NonPositivePrice),
        (raw(1, 1, 1, 1, i64::MIN, 10), ErrorCode::NonPositivePrice),
        (raw(1, 1, 1, 1, MAX_PRICE + 1, 10), ErrorCode::PriceTooLarge),
        (raw(1, 1, 1, 1, i64::MAX, 10), ErrorCode::PriceTooLarge),
        (raw(1, 1, 1, 1, 101, 10), ErrorCode::PriceOffTick),
    ];
    for (order, code) in cases {
        assert_eq!(submit_error(&mut h, order).code(), code, "{order:?}");
    }
}

#[test]
fn a_market_order_cannot_be_post_only_and_its_price_is_checked_first() {
    let mut h = Harness::new();
    let priced = NewOrder {
        price: 5,
        ..NewOrder::market(1, Buy, 1).post_only()
    };
    assert_eq!(
        submit_error(&mut h, priced),
        BookError::MarketOrderWithPrice { price: 5 }
    );
    let error = submit_error(&mut h, NewOrder::market(1, Buy, 1).post_only());
    assert_eq!(error, BookError::PostOnlyMarketOrder);
    assert_eq!(error.to_string(), "a market order cannot be post-only");
}

#[test]
fn error_values_carry_what_their_messages_quote() {
    let mut h = Harness::with(5, 10);
    assert_eq!(
        submit_error(&mut h, raw(7, 1, 1, 1, 100, 10)).to_string(),
        "side must be BUY (1) or SELL (2), got 7"
    );
    assert_eq!(
        submit_error(&mut h, raw(1, 1, 1, 1, 100, 15)).to_string(),
        "quantity 15 is not a multiple of the lot size 10"
    );
    assert_eq!(
        submit_error(&mut h, raw(1, 1, 1, 1, 102, 10)).to_string(),
        "price 102 is not a multiple of the tick size 5"
    );
}

#[test]
fn cancel_of_an_order_that_is_not_resting_is_unknown() {
    let mut h = Harness::new();
    let filled = h.rest(1, Sell, 100, 5);
    h.submit(NewOrder::limit(2, Buy, 100, 5));
    let cancelled = h.rest(1, Sell, 100, 5);
    h.cancel(cancelled);
    let expired = h.rest_order(NewOrder::limit(1, Sell, 100, 5).tif(TimeInForce::Day));
    h.end_session();
    let ioc = h.book.next_order_id();
    h.submit(NewOrder::limit(1, Buy, 1, 1).tif(TimeInForce::Ioc));
    for order_id in [
        filled,
        cancelled,
        expired,
        ioc,
        999,
        0,
        -1,
        i64::MAX,
        i64::MIN,
    ] {
        let error = h
            .try_apply(Command::Cancel {
                order_id,
                timestamp: 0,
            })
            .unwrap_err();
        assert_eq!(error, BookError::UnknownOrder { order_id });
        assert_eq!(
            error.to_string(),
            format!("order {order_id} is not resting in the book")
        );
    }
}

#[test]
fn amend_checks_run_in_the_specified_order() {
    let mut h = Harness::with(5, 10);
    let a = h.rest(1, Buy, 100, 10);
    let cases = [
        // quantity first, even for an unknown order
        (amend(999, -1, 0), BookError::AmendToZero { order_id: 999 }),
        (amend(a, 100, 0), BookError::AmendToZero { order_id: a }),
        (
            amend(999, -1, -10),
            BookError::NonPositiveQuantity { quantity: -10 },
        ),
        (
            amend(999, -1, MAX_QUANTITY + 10),
            BookError::QuantityTooLarge {
                quantity: MAX_QUANTITY + 10,
            },
        ),
        (
            amend(999, -1, 15),
            BookError::QuantityOffLot {
                quantity: 15,
                lot_size: 10,
            },
        ),
        // then price
        (amend(999, 0, 10), BookError::NonPositivePrice { price: 0 }),
        (
            amend(999, MAX_PRICE + 5, 10),
            BookError::PriceTooLarge {
                price: MAX_PRICE + 5,
            },
        ),
        (
            amend(a, 101, 10),
            BookError::PriceOffTick {
                price: 101,
                tick_size: 5,
            },
        ),
        // and only then the id
        (
            amend(999, 100, 10),
            BookError::UnknownOrder { order_id: 999 },
        ),
    ];
    for (command, expected) in cases {
        assert_eq!(h.try_apply(command).unwrap_err(), expected, "{command:?}");
    }
    assert_eq!(
        BookError::AmendToZero { order_id: a }.to_string(),
        "cannot amend order 1 to quantity 0; cancel it instead"
    );
}

#[test]
fn errors_between_commands_leave_ids_and_sequence_untouched() {
    let mut h = Harness::new();
    h.rest(1, Buy, 100, 1);
    assert!(h.try_submit(raw(9, 1, 1, 1, 100, 1)).is_err());
    assert!(h.try_apply(amend(1, 100, 0)).is_err());
    assert_eq!(
        h.submit(NewOrder::limit(1, Buy, 100, 1)),
        ["ACCEPTED #2 o1 BUY 1@100 rem=1"]
    );
    assert_eq!(h.book.sequence(), 2);
}

#[test]
fn validate_accepts_every_book_the_harness_built() {
    // The harness calls validate() after every command; this checks the empty book too.
    let book = Book::new(1, 1).unwrap();
    assert_eq!(book.validate(), Ok(()));
}
