//! Submit and matching: price-time priority, maker prices, market / IOC / FOK / DAY orders,
//! post-only, cancel and the event sequence.

mod common;

use common::*;
use tradepit_engine::TimeInForce;
use tradepit_engine::{Command, EventKind, NewOrder};

#[test]
fn resting_order_is_accepted_and_shows_in_the_book() {
    let mut h = Harness::new();
    assert_eq!(
        h.submit(NewOrder::limit(1, Buy, 100, 10).at(5)),
        ["ACCEPTED #1 o1 BUY 10@100 rem=10"]
    );
    assert_eq!(h.book.best_bid(), Some((100, 10)));
    assert_eq!(h.book.best_ask(), None);
    assert_eq!(h.book.len(), 1);
    let order = h.book.get_order(1).unwrap();
    assert_eq!(order.words(), [1, 1, 1, 100, 10, 10, 1, 1, 0, 1, 5]);
}

#[test]
fn trades_happen_at_the_makers_price() {
    let mut h = Harness::new();
    h.rest(1, Sell, 101, 10);
    assert_eq!(
        h.submit(NewOrder::limit(2, Buy, 105, 4)),
        [
            "ACCEPTED #2 o2 BUY 4@105 rem=4",
            "TRADE #2 o2 BUY 4@101 rem=0 maker=#1 o1 rem=6",
        ]
    );
    assert_eq!(h.book.best_ask(), Some((101, 6)));
    assert_eq!(h.book.best_bid(), None);
    // The maker keeps its total quantity; only the open quantity drops.
    let maker = h.book.get_order(1).unwrap();
    assert_eq!((maker.quantity, maker.remaining), (10, 6));
}

#[test]
fn better_price_first_then_earlier_time() {
    let mut h = Harness::new();
    let a = h.rest(1, Sell, 102, 5);
    let b = h.rest(2, Sell, 101, 5);
    let c = h.rest(3, Sell, 101, 5);
    assert_eq!(h.queue(Sell), [b, c, a]);
    assert_eq!(
        h.submit(NewOrder::limit(4, Buy, 102, 12)),
        [
            "ACCEPTED #4 o4 BUY 12@102 rem=12",
            "TRADE #4 o4 BUY 5@101 rem=7 maker=#2 o2 rem=0",
            "TRADE #4 o4 BUY 5@101 rem=2 maker=#3 o3 rem=0",
            "TRADE #4 o4 BUY 2@102 rem=0 maker=#1 o1 rem=3",
        ]
    );
    assert_eq!(h.depth(), (vec![], vec![(102, 3, 1)]));
}

#[test]
fn bids_are_best_highest_first() {
    let mut h = Harness::new();
    let a = h.rest(1, Buy, 99, 1);
    let b = h.rest(1, Buy, 101, 2);
    let c = h.rest(1, Buy, 100, 3);
    let d = h.rest(1, Buy, 101, 4);
    assert_eq!(h.queue(Buy), [b, d, c, a]);
    assert_eq!(h.depth().0, vec![(101, 6, 2), (100, 3, 1), (99, 1, 1)]);
    assert_eq!(h.book.best_bid(), Some((101, 6)));
    let (bids, asks) = h.book.depth(2);
    assert_eq!(bids.len(), 2);
    assert!(asks.is_empty());
    assert_eq!(h.book.depth(0), (vec![], vec![]));
    assert_eq!(h.book.depth(-3), (vec![], vec![]));
}

#[test]
fn a_limit_taker_stops_at_its_limit_and_rests_the_rest() {
    let mut h = Harness::new();
    h.rest(1, Buy, 100, 5);
    h.rest(1, Buy, 99, 5);
    assert_eq!(
        h.submit(NewOrder::limit(2, Sell, 100, 8).at(3)),
        [
            "ACCEPTED #3 o2 SELL 8@100 rem=8",
            "TRADE #3 o2 SELL 5@100 rem=3 maker=#1 o1 rem=0",
        ]
    );
    assert_eq!(h.depth(), (vec![(99, 5, 1)], vec![(100, 3, 1)]));
    let rested = h.book.get_order(3).unwrap();
    assert_eq!(
        (rested.quantity, rested.remaining, rested.timestamp),
        (8, 3, 3)
    );
}

#[test]
fn market_orders_walk_the_book_and_never_rest() {
    let mut h = Harness::new();
    h.rest(1, Sell, 101, 3);
    h.rest(1, Sell, 150, 3);
    assert_eq!(
        h.submit(NewOrder::market(2, Buy, 10)),
        [
            "ACCEPTED #3 o2 BUY 10@0 rem=10",
            "TRADE #3 o2 BUY 3@101 rem=7 maker=#1 o1 rem=0",
            "TRADE #3 o2 BUY 3@150 rem=4 maker=#2 o1 rem=0",
            "CANCELLED #3 o2 BUY 4@0 rem=0 NO_LIQUIDITY",
        ]
    );
    assert!(h.book.is_empty());
    // Into an empty side, and with DAY or IOC: still never rests.
    assert_eq!(
        h.submit(NewOrder::market(2, Sell, 5).tif(TimeInForce::Day)),
        [
            "ACCEPTED #4 o2 SELL 5@0 rem=5",
            "CANCELLED #4 o2 SELL 5@0 rem=0 NO_LIQUIDITY",
        ]
    );
    assert_eq!(
        h.submit(NewOrder::market(2, Sell, 5).tif(TimeInForce::Ioc)),
        [
            "ACCEPTED #5 o2 SELL 5@0 rem=5",
            "CANCELLED #5 o2 SELL 5@0 rem=0 NO_LIQUIDITY",
        ]
    );
    assert!(h.book.is_empty());
}

#[test]
fn a_filled_market_order_emits_no_cancel() {
    let mut h = Harness::new();
    h.rest(1, Buy, 100, 10);
    assert_eq!(
        h.submit(NewOrder::market(2, Sell, 10)),
        [
            "ACCEPTED #2 o2 SELL 10@0 rem=10",
            "TRADE #2 o2 SELL 10@100 rem=0 maker=#1 o1 rem=0",
        ]
    );
    assert!(h.book.is_empty());
}

#[test]
fn ioc_trades_what_it_can_and_never_rests() {
    let mut h = Harness::new();
    h.rest(1, Sell, 100, 4);
    h.rest(1, Sell, 103, 4);
    assert_eq!(
        h.submit(NewOrder::limit(2, Buy, 101, 10).tif(TimeInForce::Ioc)),
        [
            "ACCEPTED #3 o2 BUY 10@101 rem=10",
            "TRADE #3 o2 BUY 4@100 rem=6 maker=#1 o1 rem=0",
            "CANCELLED #3 o2 BUY 6@101 rem=0 IOC_REMAINDER",
        ]
    );
    assert_eq!(h.depth(), (vec![], vec![(103, 4, 1)]));
    assert_eq!(
        h.submit(NewOrder::limit(2, Buy, 99, 1).tif(TimeInForce::Ioc)),
        [
            "ACCEPTED #4 o2 BUY 1@99 rem=1",
            "CANCELLED #4 o2 BUY 1@99 rem=0 IOC_REMAINDER",
        ]
    );
    assert_eq!(h.book.len(), 1);
}

#[test]
fn fok_that_cannot_fill_leaves_the_book_untouched() {
    let mut h = Harness::new();
    h.rest(1, Sell, 100, 4);
    h.rest(1, Sell, 101, 4);
    h.rest(1, Sell, 105, 4);
    let before = h.book.orders();
    assert_eq!(
        h.submit(NewOrder::limit(2, Buy, 101, 9).tif(TimeInForce::Fok)),
        [
            "ACCEPTED #4 o2 BUY 9@101 rem=9",
            "CANCELLED #4 o2 BUY 9@101 rem=0 FOK",
        ]
    );
    assert_eq!(h.book.orders(), before);
    assert_eq!(h.book.next_order_id(), 5);
}

#[test]
fn fok_that_can_fill_fills_completely() {
    let mut h = Harness::new();
    h.rest(1, Sell, 100, 4);
    h.rest(1, Sell, 101, 4);
    assert_eq!(
        h.submit(NewOrder::limit(2, Buy, 101, 8).tif(TimeInForce::Fok)),
        [
            "ACCEPTED #3 o2 BUY 8@101 rem=8",
            "TRADE #3 o2 BUY 4@100 rem=4 maker=#1 o1 rem=0",
            "TRADE #3 o2 BUY 4@101 rem=0 maker=#2 o1 rem=0",
        ]
    );
    assert!(h.book.is_empty());
}

#[test]
fn market_fok_checks_the_whole_side() {
    let mut h = Harness::new();
    h.rest(1, Buy, 100, 4);
    h.rest(1, Buy, 1, 4);
    assert_eq!(
        h.submit(NewOrder::market(2, Sell, 9).tif(TimeInForce::Fok)),
        [
            "ACCEPTED #3 o2 SELL 9@0 rem=9",
            "CANCELLED #3 o2 SELL 9@0 rem=0 FOK",
        ]
    );
    assert_eq!(
        h.submit(NewOrder::market(2, Sell, 8).tif(TimeInForce::Fok)),
        [
            "ACCEPTED #4 o2 SELL 8@0 rem=8",
            "TRADE #4 o2 SELL 4@100 rem=4 maker=#1 o1 rem=0",
            "TRADE #4 o2 SELL 4@1 rem=0 maker=#2 o1 rem=0",
        ]
    );
}

#[test]
fn post_only_that_would_cross_is_rejected_whoever_owns_the_other_side() {
    let mut h = Harness::new();
    h.rest(1, Sell, 101, 5);
    for owner in [1, 2] {
        let id = h.book.next_order_id();
        assert_eq!(
            h.submit(NewOrder::limit(owner, Buy, 101, 3).post_only()),
            [format!(
                "REJECTED #{id} o{owner} BUY 3@101 rem=0 POST_ONLY_WOULD_CROSS"
            )]
        );
    }
    // The rejected orders consumed ids and sequence numbers but left the book alone.
    assert_eq!(h.book.next_order_id(), 4);
    assert_eq!(h.book.sequence(), 3);
    assert_eq!(h.depth(), (vec![], vec![(101, 5, 1)]));
    // One tick better does not cross: it rests.
    assert_eq!(
        h.submit(NewOrder::limit(2, Buy, 100, 3).post_only()),
        ["ACCEPTED #4 o2 BUY 3@100 rem=3"]
    );
    assert!(h.book.get_order(4).unwrap().post_only);
    // And on the sell side.
    assert_eq!(
        h.submit(NewOrder::limit(3, Sell, 99, 1).post_only()),
        ["REJECTED #5 o3 SELL 1@99 rem=0 POST_ONLY_WOULD_CROSS"]
    );
}

#[test]
fn post_only_into_an_empty_side_rests() {
    let mut h = Harness::new();
    assert_eq!(
        h.submit(NewOrder::limit(1, Sell, 1, 1).post_only()),
        ["ACCEPTED #1 o1 SELL 1@1 rem=1"]
    );
}

#[test]
fn post_only_fok_rejection_comes_first() {
    let mut h = Harness::new();
    h.rest(1, Sell, 100, 5);
    assert_eq!(
        h.submit(
            NewOrder::limit(2, Buy, 100, 5)
                .post_only()
                .tif(TimeInForce::Fok)
        ),
        ["REJECTED #2 o2 BUY 5@100 rem=0 POST_ONLY_WOULD_CROSS"]
    );
}

#[test]
fn cancel_removes_the_order_and_reports_its_open_quantity() {
    let mut h = Harness::new();
    let a = h.rest(1, Buy, 100, 10);
    let b = h.rest(2, Buy, 100, 7);
    let c = h.rest(3, Buy, 100, 1);
    h.submit(NewOrder::limit(4, Sell, 100, 3));
    assert_eq!(h.cancel(a), ["CANCELLED #1 o1 BUY 7@100 rem=0 USER"]);
    // Cancelling from the middle of a queue keeps the others in order.
    h.rest(5, Buy, 100, 2);
    assert_eq!(h.cancel(c), ["CANCELLED #3 o3 BUY 1@100 rem=0 USER"]);
    assert_eq!(h.queue(Buy), [b, 5]);
    assert_eq!(h.depth().0, vec![(100, 9, 2)]);
    assert_eq!(h.book.get_order(a), None);
    h.cancel(b);
    h.cancel(5);
    assert!(h.book.is_empty());
    assert_eq!(h.depth(), (vec![], vec![]));
}

#[test]
fn day_orders_expire_at_session_end_in_ascending_id() {
    let mut h = Harness::new();
    let day = |owner, side, price| NewOrder::limit(owner, side, price, 5).tif(TimeInForce::Day);
    let d1 = h.rest_order(day(1, Sell, 110));
    let g = h.rest(1, Buy, 90, 5);
    let d2 = h.rest_order(day(2, Buy, 95));
    let d3 = h.rest_order(day(3, Buy, 96));
    let d4 = h.rest_order(day(4, Sell, 109));
    h.cancel(d3);
    // d4 is filled, d1 partly filled.
    h.submit(NewOrder::limit(9, Buy, 111, 7));
    assert_eq!(h.book.get_order(d1).unwrap().remaining, 3);
    assert_eq!(h.book.get_order(d4), None);
    assert_eq!(
        h.apply(Command::EndSession { timestamp: 42 }),
        [
            "CANCELLED #1 o1 SELL 3@110 rem=0 SESSION_END",
            format!("CANCELLED #{d2} o2 BUY 5@95 rem=0 SESSION_END").as_str(),
        ]
    );
    assert_eq!(h.queue(Buy), [g]);
    assert!(h.end_session().is_empty());
    // New DAY orders after a session end expire at the next one.
    let d5 = h.rest_order(day(5, Buy, 80));
    assert_eq!(
        h.end_session(),
        [format!("CANCELLED #{d5} o5 BUY 5@80 rem=0 SESSION_END")]
    );
}

#[test]
fn many_day_orders_that_come_and_go_are_tracked_exactly() {
    // Enough churn to trigger the DAY index's compaction several times.
    let mut h = Harness::new();
    let mut live = Vec::new();
    for round in 0..400 {
        let id = h.rest_order(NewOrder::limit(1, Buy, 100 + round % 7, 1).tif(TimeInForce::Day));
        if round % 5 == 0 {
            live.push(id);
        } else {
            h.cancel(id);
        }
    }
    let expected: Vec<String> = live
        .iter()
        .map(|id| {
            let price = h.book.get_order(*id).unwrap().price;
            format!("CANCELLED #{id} o1 BUY 1@{price} rem=0 SESSION_END")
        })
        .collect();
    assert_eq!(h.end_session(), expected);
    assert!(h.book.is_empty());
}

#[test]
fn the_sequence_is_gapless_across_commands() {
    let mut h = Harness::new();
    assert_eq!(h.book.sequence(), 0);
    assert_eq!(h.book.next_order_id(), 1);
    let mut seqs = Vec::new();
    let mut collect = |h: &mut Harness, command| {
        seqs.extend(h.try_apply(command).unwrap().iter().map(|e| e.seq));
    };
    collect(&mut h, Command::Submit(NewOrder::limit(1, Sell, 100, 5)));
    collect(&mut h, Command::Submit(NewOrder::limit(2, Buy, 101, 8)));
    collect(
        &mut h,
        Command::Cancel {
            order_id: 2,
            timestamp: 0,
        },
    );
    collect(&mut h, Command::Submit(NewOrder::market(2, Sell, 1)));
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(h.book.sequence(), seqs.len() as i64);
}

#[test]
fn events_carry_the_command_timestamp() {
    let mut h = Harness::new();
    h.submit(NewOrder::limit(1, Sell, 100, 5).at(10));
    let events = h
        .try_submit(NewOrder::limit(2, Buy, 100, 5).at(20))
        .unwrap();
    assert!(events.iter().all(|e| e.timestamp == 20));
    assert_eq!(events[1].kind, EventKind::Trade);
}

#[test]
fn ticks_and_lots_other_than_one() {
    let mut h = Harness::with(5, 100);
    h.rest(1, Sell, 1005, 300);
    assert_eq!(
        h.submit(NewOrder::limit(2, Buy, 1010, 200)),
        [
            "ACCEPTED #2 o2 BUY 200@1010 rem=200",
            "TRADE #2 o2 BUY 200@1005 rem=0 maker=#1 o1 rem=100",
        ]
    );
    assert_eq!((h.book.tick_size(), h.book.lot_size()), (5, 100));
}

#[test]
fn orders_lists_both_sides_in_priority_order() {
    let mut h = Harness::new();
    h.rest(1, Buy, 99, 1);
    h.rest(1, Sell, 102, 1);
    h.rest(1, Buy, 100, 1);
    h.rest(1, Sell, 101, 1);
    h.rest(1, Sell, 101, 1);
    let (bids, asks) = h.book.orders();
    let ids =
        |orders: Vec<tradepit_engine::Order>| orders.iter().map(|o| o.order_id).collect::<Vec<_>>();
    assert_eq!(ids(bids), [3, 1]);
    assert_eq!(ids(asks), [4, 5, 2]);
}

#[test]
fn extreme_prices_and_quantities() {
    let max = tradepit_engine::MAX_PRICE;
    let mut h = Harness::new();
    h.rest(1, Sell, max, max);
    h.rest(1, Sell, max, max);
    assert_eq!(h.book.best_ask(), Some((max, 2 * max)));
    assert_eq!(
        h.submit(NewOrder::limit(2, Buy, max, max).tif(TimeInForce::Fok)),
        [
            format!("ACCEPTED #3 o2 BUY {max}@{max} rem={max}"),
            format!("TRADE #3 o2 BUY {max}@{max} rem=0 maker=#1 o1 rem=0"),
        ]
    );
    h.rest(3, Buy, 1, 1);
}
