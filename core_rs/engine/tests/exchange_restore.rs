//! Restoring an exchange from its parts (`Exchange::to_parts`, `Exchange::restore`): a
//! restored exchange is the same and goes on the same, and parts that do not hold
//! together are refused with the first problem, in words.

mod exchange_stream;

use exchange_stream::{command, setup, Rng};
use tradepit_engine::exchange::{
    Command, Exchange, ExchangeParts, Limits, OrderStatus, Report, PARTS_VERSION,
};

/// Applies a command; what it returned and everything it published, comparable.
fn run(x: &mut Exchange, command: &Command) -> (String, Vec<Report>, String) {
    let result = format!("{:?}", x.execute(command));
    let reports = x.take_reports();
    let events = format!("{:?}", x.take_market_events());
    (result, reports, events)
}

/// An exchange after the setup and `count` seeded commands, its outboxes emptied.
fn after(seed: u64, count: usize) -> (Exchange, Rng, i64) {
    let mut x = Exchange::new(Limits {
        maker_fee_bps: 5,
        taker_fee_bps: 25,
        ..Limits::default()
    });
    for c in setup() {
        run(&mut x, &c);
    }
    let mut rng = Rng(seed);
    let mut now = 1;
    for _ in 0..count {
        now += 1 + rng.below(3);
        let c = command(&mut rng, &x, now);
        run(&mut x, &c);
    }
    (x, rng, now)
}

#[test]
fn a_restored_exchange_is_the_same_and_goes_on_the_same() {
    for seed in [0x9e37_79b9_7f4a_7c15, 7, 12_345] {
        let (mut original, mut rng, mut now) = after(seed, 400);
        let parts = original.to_parts();
        assert!(original.orders().any(|o| o.is_open()), "some orders rest");
        assert!(!parts.delisted.is_empty(), "some instrument was delisted");
        let mut restored = Exchange::restore(parts.clone()).expect("restores");
        assert_eq!(restored.to_parts(), parts);
        assert_eq!(restored.next_ids(), original.next_ids());
        assert_eq!(restored.fee_rates(), original.fee_rates());
        for step in 0..400 {
            now += 1 + rng.below(3);
            let c = command(&mut rng, &original, now);
            assert_eq!(
                run(&mut restored, &c),
                run(&mut original, &c),
                "seed {seed} step {step}: {c:?}"
            );
        }
        assert_eq!(restored.to_parts(), original.to_parts());
        assert!(restored.audit().is_empty());
    }
}

/// The parts of an exchange with resting orders and fills.
fn parts() -> ExchangeParts {
    let (x, _, _) = after(99, 300);
    x.to_parts()
}

fn refusal(parts: ExchangeParts) -> String {
    Exchange::restore(parts).expect_err("refused").0
}

fn first_open(parts: &ExchangeParts) -> usize {
    parts
        .orders
        .iter()
        .position(|o| o.is_open())
        .expect("an open order")
}

#[test]
fn parts_come_back_from_their_bytes_as_they_were() {
    let p = parts();
    assert!(p.accounts.iter().any(|a| !a.fills.is_empty()), "some fills");
    assert!(p.orders.iter().any(|o| o.acknowledged.is_some()));
    let bytes = p.to_bytes();
    assert_eq!(bytes[..4], PARTS_VERSION.to_le_bytes());
    let back = ExchangeParts::from_bytes(&bytes).expect("decodes");
    assert_eq!(back, p);
    let restored = Exchange::restore(back).expect("restores");
    assert_eq!(restored.to_parts(), p);
}

#[test]
fn bytes_that_are_not_whole_parts_of_this_version_are_refused() {
    let bytes = parts().to_bytes();
    let error = |b: &[u8]| ExchangeParts::from_bytes(b).expect_err("refused").0;
    assert_eq!(error(&bytes[..3]), "3 bytes cannot hold exchange parts");
    let mut other = bytes.clone();
    other[..4].copy_from_slice(&(PARTS_VERSION + 1).to_le_bytes());
    assert_eq!(
        error(&other),
        format!(
            "exchange parts of version {}; this engine reads version {PARTS_VERSION}",
            PARTS_VERSION + 1
        )
    );
    assert!(error(&bytes[..bytes.len() - 1]).starts_with("the exchange parts do not decode: "));
    let mut longer = bytes.clone();
    longer.extend_from_slice(b"xy");
    assert_eq!(error(&longer), "2 bytes follow the exchange parts");
}

#[test]
fn a_missing_or_unknown_book_is_refused() {
    let mut p = parts();
    let (symbol, _) = p.books.pop().unwrap();
    assert_eq!(
        refusal(p),
        format!("no book snapshot for listed symbol {symbol}")
    );
    let mut p = parts();
    let bytes = p.books[0].1.clone();
    p.books.push(("ZZZ".into(), bytes));
    assert_eq!(refusal(p), "book snapshot for ZZZ, which is not listed");
    let mut p = parts();
    p.books[0].1.truncate(12);
    assert!(refusal(p).contains("is not a whole snapshot"));
}

#[test]
fn open_orders_must_rest_in_their_book_as_they_are() {
    let mut p = parts();
    let i = first_open(&p);
    p.orders[i].book_id = 1_000_000;
    let id = p.orders[i].order_id;
    assert!(refusal(p).starts_with(&format!("open order {id} is not in the ")));

    let mut p = parts();
    let i = first_open(&p);
    p.orders[i].leaves += 1;
    assert!(refusal(p).contains("open, but the "));

    let mut p = parts();
    let i = first_open(&p);
    p.orders[i].status = OrderStatus::Canceled;
    let book_id = p.orders[i].book_id;
    assert!(refusal(p).ends_with(&format!(
        "book order {book_id} is not an open order of the exchange"
    )));
}

#[test]
fn ids_and_counters_must_fit() {
    let mut p = parts();
    p.next_ids.1 += 1;
    assert!(refusal(p).starts_with("next order id"));
    let mut p = parts();
    p.next_ids.0 -= 1;
    assert!(refusal(p).starts_with("next account id"));
    let mut p = parts();
    p.next_ids.2 = 1;
    assert!(refusal(p).contains("is not below the next trade id 1"));
    let mut p = parts();
    p.orders.swap(0, 1);
    assert!(refusal(p).contains("order ids must run 1, 2, 3"));
    let mut p = parts();
    p.accounts[0].order_ids.clear();
    p.accounts[0].client_order_ids.clear();
    assert!(refusal(p).contains("is not listed by its account 1"));
    let mut p = parts();
    p.accounts[0].order_ids.clear();
    assert!(refusal(p).contains("its client_order_ids do not match its orders"));
    let mut p = parts();
    p.accounts[0].cash += 1;
    assert!(refusal(p).starts_with("the restored state fails its audit: "));
}
