//! Self-trade prevention: the taker's mode decides what happens at a same-owner maker.

mod common;

use common::*;
use tradepit_engine::NewOrder;
use tradepit_engine::{StpMode, TimeInForce};

/// Asks: #1 o2 3@100, #2 o1 5@100, #3 o3 5@101. The taker (owner 1) meets its own #2 second.
fn book_with_own_order_second() -> Harness {
    let mut h = Harness::new();
    h.rest(2, Sell, 100, 3);
    h.rest(1, Sell, 100, 5);
    h.rest(3, Sell, 101, 5);
    h
}

fn taker(stp: StpMode) -> NewOrder {
    NewOrder::limit(1, Buy, 101, 10).stp(stp)
}

#[test]
fn cancel_newest_stops_matching_and_cancels_the_taker() {
    let mut h = book_with_own_order_second();
    assert_eq!(
        h.submit(taker(StpMode::CancelNewest)),
        [
            "ACCEPTED #4 o1 BUY 10@101 rem=10",
            "TRADE #4 o1 BUY 3@100 rem=7 maker=#1 o2 rem=0",
            "CANCELLED #4 o1 BUY 7@101 rem=0 STP",
        ]
    );
    assert_eq!(h.queue(Sell), [2, 3]);
}

#[test]
fn cancel_oldest_cancels_the_maker_and_continues() {
    let mut h = book_with_own_order_second();
    assert_eq!(
        h.submit(taker(StpMode::CancelOldest)),
        [
            "ACCEPTED #4 o1 BUY 10@101 rem=10",
            "TRADE #4 o1 BUY 3@100 rem=7 maker=#1 o2 rem=0",
            "CANCELLED #2 o1 SELL 5@100 rem=0 STP",
            "TRADE #4 o1 BUY 5@101 rem=2 maker=#3 o3 rem=0",
        ]
    );
    assert_eq!(h.depth(), (vec![(101, 2, 1)], vec![]));
}

#[test]
fn cancel_both_cancels_the_maker_then_the_taker() {
    let mut h = book_with_own_order_second();
    assert_eq!(
        h.submit(taker(StpMode::CancelBoth)),
        [
            "ACCEPTED #4 o1 BUY 10@101 rem=10",
            "TRADE #4 o1 BUY 3@100 rem=7 maker=#1 o2 rem=0",
            "CANCELLED #2 o1 SELL 5@100 rem=0 STP",
            "CANCELLED #4 o1 BUY 7@101 rem=0 STP",
        ]
    );
    assert_eq!(h.queue(Sell), [3]);
}

#[test]
fn decrement_and_cancel_shrinks_both_without_trading() {
    let mut h = book_with_own_order_second();
    assert_eq!(
        h.submit(taker(StpMode::DecrementAndCancel)),
        [
            "ACCEPTED #4 o1 BUY 10@101 rem=10",
            "TRADE #4 o1 BUY 3@100 rem=7 maker=#1 o2 rem=0",
            "CANCELLED #2 o1 SELL 5@100 rem=0 STP",
            "CANCELLED #4 o1 BUY 5@101 rem=2 STP",
            "TRADE #4 o1 BUY 2@101 rem=0 maker=#3 o3 rem=3",
        ]
    );
    assert_eq!(h.depth(), (vec![], vec![(101, 3, 1)]));
}

#[test]
fn decrement_and_cancel_leaves_a_larger_maker_resting() {
    let mut h = Harness::new();
    h.rest(1, Sell, 100, 10);
    h.rest(2, Sell, 100, 10);
    assert_eq!(
        h.submit(NewOrder::limit(1, Buy, 100, 4).stp(StpMode::DecrementAndCancel)),
        [
            "ACCEPTED #3 o1 BUY 4@100 rem=4",
            "CANCELLED #1 o1 SELL 4@100 rem=6 STP",
            "CANCELLED #3 o1 BUY 4@100 rem=0 STP",
        ]
    );
    // The maker keeps its place and its total quantity; its open quantity shrank.
    assert_eq!(h.queue(Sell), [1, 2]);
    let maker = h.book.get_order(1).unwrap();
    assert_eq!((maker.quantity, maker.remaining), (10, 6));
    assert_eq!(h.depth().1, vec![(100, 16, 2)]);
}

#[test]
fn decrement_and_cancel_remainder_rests() {
    let mut h = Harness::new();
    h.rest(1, Sell, 100, 3);
    assert_eq!(
        h.submit(NewOrder::limit(1, Buy, 100, 5).stp(StpMode::DecrementAndCancel)),
        [
            "ACCEPTED #2 o1 BUY 5@100 rem=5",
            "CANCELLED #1 o1 SELL 3@100 rem=0 STP",
            "CANCELLED #2 o1 BUY 3@100 rem=2 STP",
        ]
    );
    let rested = h.book.get_order(2).unwrap();
    assert_eq!((rested.quantity, rested.remaining), (5, 2));
    assert_eq!(h.depth(), (vec![(100, 2, 1)], vec![]));
}

#[test]
fn the_takers_mode_decides_not_the_makers() {
    let mut h = Harness::new();
    h.rest_order(NewOrder::limit(1, Sell, 100, 5).stp(StpMode::CancelOldest));
    assert_eq!(
        h.submit(NewOrder::limit(1, Buy, 100, 5).stp(StpMode::CancelNewest)),
        [
            "ACCEPTED #2 o1 BUY 5@100 rem=5",
            "CANCELLED #2 o1 BUY 5@100 rem=0 STP",
        ]
    );
    assert_eq!(h.queue(Sell), [1]);
}

#[test]
fn a_self_trade_stop_cancels_market_and_ioc_takers_with_reason_stp() {
    let mut h = Harness::new();
    h.rest(1, Sell, 100, 5);
    assert_eq!(
        h.submit(NewOrder::market(1, Buy, 2)),
        [
            "ACCEPTED #2 o1 BUY 2@0 rem=2",
            "CANCELLED #2 o1 BUY 2@0 rem=0 STP",
        ]
    );
    assert_eq!(
        h.submit(NewOrder::limit(1, Buy, 100, 2).tif(TimeInForce::Ioc)),
        [
            "ACCEPTED #3 o1 BUY 2@100 rem=2",
            "CANCELLED #3 o1 BUY 2@100 rem=0 STP",
        ]
    );
    // Cancel-oldest lets a market order sweep its own order away, then cancel for liquidity.
    assert_eq!(
        h.submit(NewOrder::market(1, Buy, 2).stp(StpMode::CancelOldest)),
        [
            "ACCEPTED #4 o1 BUY 2@0 rem=2",
            "CANCELLED #1 o1 SELL 5@100 rem=0 STP",
            "CANCELLED #4 o1 BUY 2@0 rem=0 NO_LIQUIDITY",
        ]
    );
}

#[test]
fn fok_walk_skips_own_orders_under_cancel_oldest() {
    let mut h = book_with_own_order_second();
    assert_eq!(
        h.submit(
            NewOrder::limit(1, Buy, 101, 8)
                .tif(TimeInForce::Fok)
                .stp(StpMode::CancelOldest)
        ),
        [
            "ACCEPTED #4 o1 BUY 8@101 rem=8",
            "TRADE #4 o1 BUY 3@100 rem=5 maker=#1 o2 rem=0",
            "CANCELLED #2 o1 SELL 5@100 rem=0 STP",
            "TRADE #4 o1 BUY 5@101 rem=0 maker=#3 o3 rem=0",
        ]
    );
    assert!(h.book.is_empty());
}

#[test]
fn fok_walk_stops_at_own_orders_under_every_other_mode() {
    for stp in [
        StpMode::CancelNewest,
        StpMode::CancelBoth,
        StpMode::DecrementAndCancel,
    ] {
        let mut h = book_with_own_order_second();
        let before = h.book.orders();
        assert_eq!(
            h.submit(
                NewOrder::limit(1, Buy, 101, 4)
                    .tif(TimeInForce::Fok)
                    .stp(stp)
            ),
            [
                "ACCEPTED #4 o1 BUY 4@101 rem=4",
                "CANCELLED #4 o1 BUY 4@101 rem=0 FOK",
            ],
            "{stp:?}"
        );
        assert_eq!(h.book.orders(), before);
        // Enough before the own order: fillable, and fills without reaching it.
        assert_eq!(
            h.submit(
                NewOrder::limit(1, Buy, 101, 3)
                    .tif(TimeInForce::Fok)
                    .stp(stp)
            ),
            [
                "ACCEPTED #5 o1 BUY 3@101 rem=3",
                "TRADE #5 o1 BUY 3@100 rem=0 maker=#1 o2 rem=0",
            ]
        );
    }
}
