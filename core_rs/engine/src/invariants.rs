//! `Book::validate`: a full consistency check of the book's internal structures.
//!
//! It is O(n) and meant for tests and debugging; a failure is always a bug in the engine.

use crate::book::Book;
use crate::error::BookError;
use crate::side::BookSide;
use crate::store::{OrderStore, NIL};
use crate::types::{OrderType, TimeInForce};

impl Book {
    /// Checks that the book is not crossed, every level is non-empty and its cached total and
    /// count match its orders, every order sits at its own side and price with open quantity
    /// above zero, and the id and DAY indexes hold exactly the orders in the levels.
    pub fn validate(&self) -> Result<(), BookError> {
        let (bids, asks, store) = self.parts();
        if let (Some((bid, _)), Some((ask, _))) = (bids.best(), asks.best()) {
            if bid >= ask {
                return violation(format!("book is crossed: best bid {bid} >= best ask {ask}"));
            }
        }
        let mut orders = 0;
        let mut day_orders = 0;
        for side in [bids, asks] {
            let (count, day) = check_side(side, store)?;
            orders += count;
            day_orders += day;
        }
        if orders != store.len() {
            return violation(format!(
                "id index holds {} orders but the levels hold {orders}",
                store.len()
            ));
        }
        if store.occupied_slots() != orders {
            return violation(format!(
                "{} slots are occupied but the levels hold {orders} orders",
                store.occupied_slots()
            ));
        }
        let day = store.day();
        if day_orders != day.live() {
            return violation(format!(
                "DAY index counts {} orders but the levels hold {day_orders}",
                day.live()
            ));
        }
        if !day.ids().windows(2).all(|pair| pair[0] < pair[1]) {
            return violation("DAY index is not in ascending id order".to_string());
        }
        let indexed_day = day
            .ids()
            .iter()
            .filter(|&&id| store.slot_of(id).is_some())
            .count();
        if indexed_day != day_orders {
            return violation(format!(
                "DAY index lists {indexed_day} resting orders but the levels hold {day_orders}"
            ));
        }
        Ok(())
    }
}

/// Checks one side's levels and returns (orders, DAY orders) found in them.
fn check_side(side: &BookSide, store: &OrderStore) -> Result<(usize, usize), BookError> {
    let name = side.side().name();
    let mut orders = 0;
    let mut day_orders = 0;
    for (price, level) in side.levels() {
        if level.is_empty() {
            return violation(format!("{name} level {price} is empty"));
        }
        let mut count = 0;
        let mut total = 0i64;
        let mut previous = NIL;
        for (slot, order) in store.queue(level) {
            let id = order.order_id;
            if store.prev(slot) != previous {
                return violation(format!("order {id} has a broken back link"));
            }
            if order.side != side.side() || order.price != price {
                return violation(format!(
                    "order {id} ({} at {}) sits in the {name} level {price}",
                    order.side.name(),
                    order.price
                ));
            }
            if order.remaining <= 0 {
                return violation(format!(
                    "order {id} rests with open quantity {}",
                    order.remaining
                ));
            }
            if order.order_type != OrderType::Limit
                || !matches!(order.tif, TimeInForce::Gtc | TimeInForce::Day)
            {
                return violation(format!("order {id} is not a GTC or DAY limit order"));
            }
            if store.slot_of(id) != Some(slot) {
                return violation(format!("id index does not point at order {id}"));
            }
            if order.tif == TimeInForce::Day {
                if store.day().ids().binary_search(&id).is_err() {
                    return violation(format!("DAY order {id} is missing from the DAY index"));
                }
                day_orders += 1;
            }
            count += 1;
            total += order.remaining;
            previous = slot;
        }
        if level.tail != previous {
            return violation(format!("{name} level {price} has a stale tail"));
        }
        if count != level.count || total != level.total {
            return violation(format!(
                "{name} level {price} caches {} orders / {} open but holds {count} / {total}",
                level.count, level.total
            ));
        }
        orders += count as usize;
    }
    Ok((orders, day_orders))
}

fn violation<T>(message: String) -> Result<T, BookError> {
    Err(BookError::InvariantViolation(message))
}
