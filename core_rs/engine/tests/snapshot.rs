//! Snapshots: a restored book is indistinguishable from the original, and bad bytes are
//! refused with the specification's reasons.

use tradepit_engine::{
    Book, BookError, Command, ErrorCode, Event, NewOrder, Side, TimeInForce, SNAPSHOT_VERSION,
};

/// xorshift64*: a tiny deterministic generator, so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> i64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n) as i64
    }
}

/// Submits of every kind (some crossing, some self-trading), cancels, amends and session ends,
/// aimed at ids near the last one handed out.
fn random_command(rng: &mut Rng, book: &Book, step: i64) -> Command {
    let timestamp = step * 7;
    let target = (book.next_order_id() - 1 - rng.below(30)).max(1);
    match rng.below(100) {
        0..=59 => {
            let side = 1 + rng.below(2);
            let market = rng.below(10) == 0;
            let price = if side == 1 { 90 } else { 98 } + rng.below(14);
            Command::Submit(NewOrder {
                owner: 1 + rng.below(5),
                side,
                price: if market { 0 } else { price * 5 },
                quantity: (1 + rng.below(9)) * 10,
                order_type: if market { 2 } else { 1 },
                tif: [1, 1, 2, 3, 4, 4][rng.below(6) as usize],
                post_only: !market && rng.below(8) == 0,
                stp: 1 + rng.below(4),
                timestamp,
            })
        }
        60..=74 => Command::Cancel {
            order_id: target,
            timestamp,
        },
        75..=97 => Command::Amend {
            order_id: target,
            price: (90 + rng.below(22)) * 5,
            quantity: (1 + rng.below(9)) * 10,
            timestamp,
        },
        _ => Command::EndSession { timestamp },
    }
}

fn apply(book: &mut Book, command: &Command) -> Result<Vec<Event>, BookError> {
    let mut events = Vec::new();
    book.apply(command, &mut events).map(|()| events)
}

#[test]
fn a_restored_book_behaves_exactly_like_the_original() {
    for seed in 1..=5u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut book = Book::new(5, 10).unwrap();
        for step in 0..3_000 {
            let command = random_command(&mut rng, &book, step);
            let _ = apply(&mut book, &command);
        }
        assert!(book.len() > 10, "the stream should leave a deep book");
        let snapshot = book.snapshot();
        let mut restored = Book::restore(&snapshot).unwrap();
        restored.validate().unwrap();
        assert_eq!(restored.state_hash(), book.state_hash());
        assert_eq!(restored.orders(), book.orders());
        assert_eq!(restored.snapshot(), snapshot);
        for step in 3_000..6_000 {
            let command = random_command(&mut rng, &book, step);
            assert_eq!(
                apply(&mut restored, &command),
                apply(&mut book, &command),
                "seed {seed} step {step}: {command:?}"
            );
        }
        restored.validate().unwrap();
        assert_eq!(restored.state_hash(), book.state_hash());
    }
}

#[test]
fn the_words_after_the_version_are_the_state_hash_input() {
    let mut book = Book::new(1, 1).unwrap();
    let mut events = Vec::new();
    book.submit(
        &NewOrder::limit(1, Side::Buy, 99, 3).tif(TimeInForce::Day),
        &mut events,
    )
    .unwrap();
    book.submit(
        &NewOrder::limit(2, Side::Sell, 101, 4).post_only(),
        &mut events,
    )
    .unwrap();
    let snapshot = book.snapshot();
    assert_eq!(snapshot[..8], SNAPSHOT_VERSION.to_le_bytes());
    // Header (4 words), bid count, one bid, ask count, one ask.
    assert_eq!(snapshot.len(), 8 * (1 + 4 + 1 + 11 + 1 + 11));
    let bid_words: Vec<i64> = snapshot[48..136]
        .chunks_exact(8)
        .map(|w| i64::from_le_bytes(w.try_into().unwrap()))
        .collect();
    assert_eq!(bid_words, book.get_order(1).unwrap().words());
}

/// A valid snapshot of one bid (id 1, 99 x 3) and one ask (id 2, 101 x 4), as words.
fn sample_words() -> Vec<i64> {
    let mut words = vec![1, 1, 1, 2, 3, 1];
    words.extend([1, 7, 1, 99, 5, 3, 1, 1, 0, 1, 10]);
    words.push(1);
    words.extend([2, 8, 2, 101, 4, 4, 1, 4, 1, 2, 11]);
    words
}

fn restore_words(words: &[i64]) -> Result<Book, BookError> {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    Book::restore(&bytes)
}

fn refusal(words: &[i64]) -> String {
    let error = restore_words(words).expect_err("refused");
    assert_eq!(error.code(), ErrorCode::InvalidSnapshot);
    error.to_string()
}

#[test]
fn the_sample_snapshot_restores() {
    let book = restore_words(&sample_words()).unwrap();
    assert_eq!(
        (book.best_bid(), book.best_ask()),
        (Some((99, 3)), Some((101, 4)))
    );
    assert_eq!((book.sequence(), book.next_order_id()), (2, 3));
}

#[test]
fn malformed_snapshots_are_refused_with_the_first_broken_rule() {
    let edit = |at: usize, value: i64| {
        let mut words = sample_words();
        words[at] = value;
        words
    };
    let bytes: Vec<u8> = sample_words()
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    let short = Book::restore(&bytes[..bytes.len() - 3]).unwrap_err();
    assert_eq!(
        short.to_string(),
        "invalid snapshot: 229 bytes is not a whole snapshot"
    );
    let whole = "invalid snapshot: 232 bytes is not a whole snapshot";
    let cases: Vec<(Vec<i64>, &str)> =
        vec![
        (edit(0, 2), "invalid snapshot: version 2 is not supported"),
        (
            edit(2, 0),
            "invalid snapshot: tick size and lot size must be positive, got 1 and 0",
        ),
        (edit(3, -1), "invalid snapshot: sequence -1 is negative"),
        (edit(4, 0), "invalid snapshot: next order id 0 is not positive"),
        (edit(5, 2), whole),
        (edit(5, -1), whole),
        (edit(17, 0), whole),
        (edit(8, 2), "invalid snapshot: order 1 is on the wrong side"),
        (edit(12, 2), "invalid snapshot: order 1 is not a GTC or DAY limit order"),
        (edit(13, 2), "invalid snapshot: order 1 is not a GTC or DAY limit order"),
        (
            edit(14, 2),
            "invalid snapshot: order 1 has an invalid post-only flag or self-trade prevention mode",
        ),
        (
            edit(15, 5),
            "invalid snapshot: order 1 has an invalid post-only flag or self-trade prevention mode",
        ),
        (edit(6, 3), "invalid snapshot: order 3 was never handed out"),
        (edit(18, 1), "invalid snapshot: order 1 appears twice"),
        (edit(9, 0), "invalid snapshot: order 1 has an invalid price 0"),
        (
            edit(11, 6),
            "invalid snapshot: order 1 has an invalid open quantity 6 of 5",
        ),
        (
            edit(21, 99),
            "invalid snapshot: book is crossed: best bid 99 >= best ask 99",
        ),
    ];
    for (words, message) in cases {
        assert_eq!(refusal(&words), message, "{words:?}");
    }
    let mut two_bids = vec![1, 1, 1, 2, 4, 2];
    two_bids.extend([1, 7, 1, 99, 5, 3, 1, 1, 0, 1, 10]);
    two_bids.extend([2, 7, 1, 100, 5, 3, 1, 1, 0, 1, 10]);
    two_bids.push(0);
    assert_eq!(
        refusal(&two_bids),
        "invalid snapshot: order 2 is out of price priority"
    );
}
