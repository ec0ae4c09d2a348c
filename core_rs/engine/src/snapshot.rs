//! Snapshots: the whole book as little-endian integers, and a book rebuilt from them.
//!
//! Recovery loads a snapshot instead of replaying every command since the start, so the
//! rebuilt book must be indistinguishable from the original: same state hash, same ids, same
//! sequence, same events for any later command. The format is shared with the Python backend
//! (see "Snapshots" in `core_rs/README.md`): after the version word it is exactly the input
//! of the state hash.

use std::collections::HashSet;

use crate::book::Book;
use crate::error::BookError;
use crate::types::{Order, OrderType, Side, StpMode, TimeInForce, MAX_PRICE, MAX_QUANTITY};

/// The format version written as the first word.
pub const SNAPSHOT_VERSION: i64 = 1;
/// Words per resting order (the `Order` fields in `astuple()` order).
const ORDER_WORDS: usize = 11;
/// version, tick_size, lot_size, sequence, next_order_id, bid count, ask count.
const MIN_WORDS: usize = 7;

impl Book {
    /// The book as bytes: `version, tick_size, lot_size, sequence, next_order_id`, then per
    /// side (bids, then asks) the number of resting orders and each order's eleven fields in
    /// priority order. All words are little-endian `i64`.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 * (MIN_WORDS + ORDER_WORDS * self.len()));
        out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        self.state_words(|value| out.extend_from_slice(&value.to_le_bytes()));
        out
    }

    /// Rebuilds a book from [`Book::snapshot`] bytes, checking them first (the checks and
    /// their order are in the specification); any failure is `InvalidSnapshot`.
    pub fn restore(bytes: &[u8]) -> Result<Book, BookError> {
        let words = read_words(bytes)?;
        if words[0] != SNAPSHOT_VERSION {
            return invalid(format!("version {} is not supported", words[0]));
        }
        let (tick_size, lot_size, sequence, next_order_id) =
            (words[1], words[2], words[3], words[4]);
        if tick_size <= 0 || lot_size <= 0 {
            return invalid(format!(
                "tick size and lot size must be positive, got {tick_size} and {lot_size}"
            ));
        }
        if sequence < 0 {
            return invalid(format!("sequence {sequence} is negative"));
        }
        if next_order_id < 1 {
            return invalid(format!("next order id {next_order_id} is not positive"));
        }
        let (bids, asks) = split_sides(&words, bytes.len())?;
        let mut check = OrderCheck {
            tick_size,
            lot_size,
            next_order_id,
            seen: HashSet::with_capacity(bids.len() + asks.len()),
        };
        let mut orders = Vec::with_capacity(bids.len() + asks.len());
        for (side, records) in [(Side::Buy, bids), (Side::Sell, asks)] {
            let mut previous: Option<i64> = None;
            for record in records.chunks_exact(ORDER_WORDS) {
                let order = check.order(side, record)?;
                let out_of_order = previous.is_some_and(|price| match side {
                    Side::Buy => order.price > price,
                    Side::Sell => order.price < price,
                });
                if out_of_order {
                    return invalid(format!("order {} is out of price priority", order.order_id));
                }
                previous = Some(order.price);
                orders.push(order);
            }
        }
        let best = |side: Side| {
            orders
                .iter()
                .find(|order| order.side == side)
                .map(|o| o.price)
        };
        if let (Some(bid), Some(ask)) = (best(Side::Buy), best(Side::Sell)) {
            if bid >= ask {
                return invalid(format!("book is crossed: best bid {bid} >= best ask {ask}"));
            }
        }
        Ok(Book::with_resting(
            tick_size,
            lot_size,
            sequence,
            next_order_id,
            &orders,
        ))
    }
}

/// The bytes as words, if they can hold at least an empty snapshot.
fn read_words(bytes: &[u8]) -> Result<Vec<i64>, BookError> {
    if !bytes.len().is_multiple_of(8) || bytes.len() < 8 * MIN_WORDS {
        return not_whole(bytes.len());
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|chunk| i64::from_le_bytes(chunk.try_into().expect("8 bytes")))
        .collect())
}

/// The bid and ask order records, if the two counts account for every word exactly.
fn split_sides(words: &[i64], length: usize) -> Result<(&[i64], &[i64]), BookError> {
    let count_at = |at: usize| -> Option<usize> {
        let count = usize::try_from(*words.get(at)?).ok()?;
        let end = count.checked_mul(ORDER_WORDS)?.checked_add(at + 1)?;
        (end <= words.len()).then_some(count)
    };
    let Some(bid_count) = count_at(5) else {
        return not_whole(length);
    };
    let asks_at = 6 + bid_count * ORDER_WORDS;
    match count_at(asks_at) {
        Some(ask_count) if asks_at + 1 + ask_count * ORDER_WORDS == words.len() => {
            Ok((&words[6..asks_at], &words[asks_at + 1..]))
        }
        _ => not_whole(length),
    }
}

/// The per-order checks, with what they need from the header.
struct OrderCheck {
    tick_size: i64,
    lot_size: i64,
    next_order_id: i64,
    seen: HashSet<i64>,
}

impl OrderCheck {
    /// One order record, checked in the specification's order.
    fn order(&mut self, side: Side, record: &[i64]) -> Result<Order, BookError> {
        let [order_id, owner, side_code, price, quantity, remaining, order_type, tif, post_only, stp, timestamp] =
            <[i64; ORDER_WORDS]>::try_from(record).expect("an order record is eleven words");
        if side_code != side.code() {
            return invalid(format!("order {order_id} is on the wrong side"));
        }
        let tif = match (
            OrderType::from_code(order_type),
            TimeInForce::from_code(tif),
        ) {
            (Some(OrderType::Limit), Some(tif @ (TimeInForce::Gtc | TimeInForce::Day))) => tif,
            _ => return invalid(format!("order {order_id} is not a GTC or DAY limit order")),
        };
        let stp = match StpMode::from_code(stp) {
            Some(stp) if post_only == 0 || post_only == 1 => stp,
            _ => {
                return invalid(format!(
                    "order {order_id} has an invalid post-only flag or self-trade prevention mode"
                ))
            }
        };
        if order_id < 1 || order_id >= self.next_order_id {
            return invalid(format!("order {order_id} was never handed out"));
        }
        if !self.seen.insert(order_id) {
            return invalid(format!("order {order_id} appears twice"));
        }
        if price <= 0 || price > MAX_PRICE || price % self.tick_size != 0 {
            return invalid(format!("order {order_id} has an invalid price {price}"));
        }
        if remaining <= 0
            || remaining > MAX_QUANTITY
            || remaining % self.lot_size != 0
            || remaining > quantity
        {
            return invalid(format!(
                "order {order_id} has an invalid open quantity {remaining} of {quantity}"
            ));
        }
        Ok(Order {
            order_id,
            owner,
            side,
            price,
            quantity,
            remaining,
            order_type: OrderType::Limit,
            tif,
            post_only: post_only == 1,
            stp,
            timestamp,
        })
    }
}

fn not_whole<T>(length: usize) -> Result<T, BookError> {
    invalid(format!("{length} bytes is not a whole snapshot"))
}

fn invalid<T>(detail: String) -> Result<T, BookError> {
    Err(BookError::InvalidSnapshot(detail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::NewOrder;

    #[test]
    fn an_empty_book_is_seven_words() {
        let book = Book::new(5, 10).unwrap();
        let bytes = book.snapshot();
        let words: Vec<i64> = bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(words, [1, 5, 10, 0, 1, 0, 0]);
        assert_eq!(
            Book::restore(&bytes).unwrap().state_hash(),
            book.state_hash()
        );
    }

    #[test]
    fn restore_keeps_day_orders_for_session_end() {
        let mut book = Book::new(1, 1).unwrap();
        let mut events = Vec::new();
        for (owner, price) in [(1, 100), (2, 101), (3, 100)] {
            let order = NewOrder::limit(owner, Side::Buy, price, 5).tif(TimeInForce::Day);
            book.submit(&order, &mut events).unwrap();
        }
        let mut restored = Book::restore(&book.snapshot()).unwrap();
        restored.validate().unwrap();
        let (mut original_events, mut restored_events) = (Vec::new(), Vec::new());
        book.end_session(9, &mut original_events);
        restored.end_session(9, &mut restored_events);
        assert_eq!(restored_events, original_events);
        assert_eq!(restored_events.len(), 3);
        assert!(restored.is_empty());
    }
}
