//! One side of the book: its price levels, best first.

use std::collections::btree_map::{BTreeMap, OccupiedEntry};

use crate::store::{Level, OrderStore, SlotId};
use crate::types::Side;

/// The price levels of one side, keyed so that ascending key order is priority order.
///
/// Asks are keyed by price and bids by the negated price (prices are positive and at most
/// 10^12, so negation is exact). Both sides then share one code path: the best level is
/// always the first entry and iteration is always forward.
#[derive(Debug)]
pub(crate) struct BookSide {
    side: Side,
    levels: BTreeMap<i64, Level>,
}

impl BookSide {
    pub(crate) fn new(side: Side) -> Self {
        BookSide {
            side,
            levels: BTreeMap::new(),
        }
    }

    pub(crate) fn side(&self) -> Side {
        self.side
    }

    /// Maps a price to its key, and a key back to its price (the map is an involution).
    #[inline]
    fn key(&self, price: i64) -> i64 {
        match self.side {
            Side::Buy => -price,
            Side::Sell => price,
        }
    }

    /// The best level's price and level.
    #[inline]
    pub(crate) fn best(&self) -> Option<(i64, &Level)> {
        self.levels
            .first_key_value()
            .map(|(&key, level)| (self.key(key), level))
    }

    /// The best level's price and a handle that can mutate or remove it (for matching).
    #[inline]
    pub(crate) fn best_entry(&mut self) -> Option<(i64, OccupiedEntry<'_, i64, Level>)> {
        let side = self.side;
        self.levels.first_entry().map(|entry| {
            let price = match side {
                Side::Buy => -*entry.key(),
                Side::Sell => *entry.key(),
            };
            (price, entry)
        })
    }

    /// Levels in priority order (best first), with their prices.
    pub(crate) fn levels(&self) -> impl Iterator<Item = (i64, &Level)> + '_ {
        self.levels
            .iter()
            .map(move |(&key, level)| (self.key(key), level))
    }

    /// The level at `price`, which must exist.
    #[inline]
    pub(crate) fn level_mut(&mut self, price: i64) -> &mut Level {
        let key = self.key(price);
        self.levels
            .get_mut(&key)
            .expect("a resting order's level exists")
    }

    /// Links a stored order at the back of the level at its price, creating the level.
    #[inline]
    pub(crate) fn push_back(&mut self, store: &mut OrderStore, slot: SlotId) {
        let key = self.key(store.get(slot).price);
        let level = self.levels.entry(key).or_default();
        store.push_back(level, slot);
    }

    /// Unlinks a stored order from its level, dropping the level if it empties.
    #[inline]
    pub(crate) fn unlink(&mut self, store: &mut OrderStore, slot: SlotId) {
        let key = self.key(store.get(slot).price);
        let level = self
            .levels
            .get_mut(&key)
            .expect("a resting order's level exists");
        store.unlink(level, slot);
        if level.is_empty() {
            self.levels.remove(&key);
        }
    }
}
