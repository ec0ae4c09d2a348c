//! Amend: priority kept on a same-price reduction, lost otherwise (with re-matching).

mod common;

use common::*;
use tradepit_engine::{Command, NewOrder};
use tradepit_engine::{StpMode, TimeInForce};

#[test]
fn a_same_price_reduction_keeps_priority() {
    let mut h = Harness::new();
    let a = h.rest(1, Buy, 100, 10);
    let b = h.rest(2, Buy, 100, 5);
    assert_eq!(
        h.amend(a, 100, 6),
        ["AMENDED #1 o1 BUY 6@100 rem=6 PRIORITY_KEPT"]
    );
    assert_eq!(h.queue(Buy), [a, b]);
    assert_eq!(h.depth().0, vec![(100, 11, 2)]);
    let order = h.book.get_order(a).unwrap();
    assert_eq!((order.quantity, order.remaining), (6, 6));
}

#[test]
fn a_reduction_after_a_partial_fill_lowers_the_total_by_the_reduction() {
    let mut h = Harness::new();
    let a = h.rest(1, Sell, 100, 10);
    h.submit(NewOrder::limit(2, Buy, 100, 4));
    assert_eq!(
        h.amend(a, 100, 2),
        ["AMENDED #1 o1 SELL 6@100 rem=2 PRIORITY_KEPT"]
    );
    let order = h.book.get_order(a).unwrap();
    assert_eq!((order.quantity, order.remaining), (6, 2));
}

#[test]
fn an_unchanged_amend_still_emits_priority_kept() {
    let mut h = Harness::new();
    let a = h.rest_order(NewOrder::limit(1, Buy, 100, 10).at(7));
    let b = h.rest(2, Buy, 100, 5);
    assert_eq!(
        h.apply(Command::Amend {
            order_id: a,
            price: 100,
            quantity: 10,
            timestamp: 99,
        }),
        ["AMENDED #1 o1 BUY 10@100 rem=10 PRIORITY_KEPT"]
    );
    assert_eq!(h.queue(Buy), [a, b]);
    // Priority time is unchanged when priority is kept.
    assert_eq!(h.book.get_order(a).unwrap().timestamp, 7);
}

#[test]
fn a_larger_quantity_loses_priority() {
    let mut h = Harness::new();
    let a = h.rest(1, Sell, 100, 10);
    let b = h.rest(2, Sell, 100, 5);
    h.submit(NewOrder::limit(3, Buy, 100, 4));
    assert_eq!(
        h.apply(Command::Amend {
            order_id: a,
            price: 100,
            quantity: 8,
            timestamp: 50,
        }),
        ["AMENDED #1 o1 SELL 12@100 rem=8 PRIORITY_LOST"]
    );
    assert_eq!(h.queue(Sell), [b, a]);
    let order = h.book.get_order(a).unwrap();
    assert_eq!(
        (order.quantity, order.remaining, order.timestamp),
        (12, 8, 50)
    );
    assert_eq!(h.depth().1, vec![(100, 13, 2)]);
}

#[test]
fn a_price_change_moves_the_order_to_the_back_of_its_new_level() {
    let mut h = Harness::new();
    let a = h.rest(1, Buy, 99, 10);
    let b = h.rest(2, Buy, 100, 5);
    assert_eq!(
        h.amend(a, 100, 3),
        ["AMENDED #1 o1 BUY 3@100 rem=3 PRIORITY_LOST"]
    );
    assert_eq!(h.queue(Buy), [b, a]);
    assert_eq!(h.depth().0, vec![(100, 8, 2)]);
    let order = h.book.get_order(a).unwrap();
    assert_eq!((order.quantity, order.remaining), (3, 3));
}

#[test]
fn an_amend_that_crosses_trades_and_rests_the_rest() {
    let mut h = Harness::new();
    let a = h.rest(1, Buy, 100, 10);
    h.rest(2, Sell, 102, 4);
    h.rest(3, Sell, 103, 4);
    assert_eq!(
        h.amend(a, 102, 10),
        [
            "AMENDED #1 o1 BUY 10@102 rem=10 PRIORITY_LOST",
            "TRADE #1 o1 BUY 4@102 rem=6 maker=#2 o2 rem=0",
        ]
    );
    assert_eq!(h.depth(), (vec![(102, 6, 1)], vec![(103, 4, 1)]));
    assert_eq!(
        h.amend(a, 103, 4),
        [
            "AMENDED #1 o1 BUY 8@103 rem=4 PRIORITY_LOST",
            "TRADE #1 o1 BUY 4@103 rem=0 maker=#3 o3 rem=0",
        ]
    );
    assert!(h.book.is_empty());
    assert_eq!(h.book.get_order(a), None);
}

#[test]
fn a_post_only_amend_that_would_cross_is_rejected_and_changes_nothing() {
    let mut h = Harness::new();
    let a = h.rest_order(NewOrder::limit(1, Buy, 100, 10).post_only().at(3));
    h.rest(1, Sell, 102, 4);
    let before = h.book.orders();
    assert_eq!(
        h.amend(a, 102, 7),
        ["REJECTED #1 o1 BUY 7@102 rem=10 POST_ONLY_WOULD_CROSS"]
    );
    assert_eq!(h.book.orders(), before);
    // Below the ask it moves normally.
    assert_eq!(
        h.amend(a, 101, 7),
        ["AMENDED #1 o1 BUY 7@101 rem=7 PRIORITY_LOST"]
    );
    // A same-price reduction is never a cross.
    assert_eq!(
        h.amend(a, 101, 5),
        ["AMENDED #1 o1 BUY 5@101 rem=5 PRIORITY_KEPT"]
    );
}

#[test]
fn an_amend_stopped_by_self_trade_prevention_cancels_the_order() {
    let mut h = Harness::new();
    let a = h.rest(1, Sell, 105, 10);
    h.rest(2, Buy, 101, 3);
    h.rest(1, Buy, 100, 3);
    assert_eq!(
        h.amend(a, 100, 10),
        [
            "AMENDED #1 o1 SELL 10@100 rem=10 PRIORITY_LOST",
            "TRADE #1 o1 SELL 3@101 rem=7 maker=#2 o2 rem=0",
            "CANCELLED #1 o1 SELL 7@100 rem=0 STP",
        ]
    );
    assert_eq!(h.book.get_order(a), None);
    assert_eq!(h.queue(Buy), [3]);
}

#[test]
fn an_amend_uses_the_orders_own_stp_mode() {
    let mut h = Harness::new();
    let a = h.rest_order(NewOrder::limit(1, Sell, 105, 10).stp(StpMode::DecrementAndCancel));
    h.rest(1, Buy, 100, 3);
    assert_eq!(
        h.amend(a, 100, 10),
        [
            "AMENDED #1 o1 SELL 10@100 rem=10 PRIORITY_LOST",
            "CANCELLED #2 o1 BUY 3@100 rem=0 STP",
            "CANCELLED #1 o1 SELL 3@100 rem=7 STP",
        ]
    );
    let order = h.book.get_order(a).unwrap();
    assert_eq!((order.price, order.quantity, order.remaining), (100, 10, 7));
}

#[test]
fn amended_day_orders_still_expire_and_filled_ones_do_not() {
    let mut h = Harness::new();
    let day = |owner, side, price| NewOrder::limit(owner, side, price, 5).tif(TimeInForce::Day);
    let a = h.rest_order(day(1, Buy, 100));
    let b = h.rest_order(day(2, Buy, 99));
    let c = h.rest_order(day(3, Sell, 110));
    h.amend(a, 98, 6); // loses priority, keeps DAY
    h.amend(b, 110, 5); // fills completely against c
    assert_eq!(h.book.get_order(c), None);
    assert_eq!(
        h.end_session(),
        ["CANCELLED #1 o1 BUY 6@98 rem=0 SESSION_END"]
    );
    assert!(h.book.is_empty());
}
