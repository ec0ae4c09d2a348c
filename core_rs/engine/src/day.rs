//! The DAY orders that `end_session` must cancel, kept in ascending id without a sorted set.

/// Ids of resting DAY orders, ascending, plus some that have since left the book.
///
/// A DAY order is added when it first rests, and at that moment its id is the largest ever
/// assigned, so appending keeps the list sorted. Removal is lazy: leaving the book only
/// decrements `live`; stale ids are skipped at session end and dropped by [`compact`] once
/// they outnumber the live ones, which keeps memory proportional to the resting DAY orders
/// and every operation amortised O(1).
///
/// [`compact`]: DayOrders::compact
#[derive(Debug, Default)]
pub(crate) struct DayOrders {
    ids: Vec<i64>,
    live: usize,
}

impl DayOrders {
    /// Records a DAY order that has just come to rest for the first time.
    #[inline]
    pub(crate) fn add(&mut self, order_id: i64) {
        debug_assert!(self.ids.last().is_none_or(|&last| last < order_id));
        self.ids.push(order_id);
        self.live += 1;
    }

    /// Notes that one of the recorded orders has left the book.
    #[inline]
    pub(crate) fn forget(&mut self) {
        self.live -= 1;
    }

    /// Whether stale ids have piled up enough to be worth dropping.
    #[inline]
    pub(crate) fn needs_compaction(&self) -> bool {
        self.ids.len() > 2 * self.live + 64
    }

    /// Keeps only the ids for which `is_resting` holds.
    pub(crate) fn compact(&mut self, is_resting: impl FnMut(&i64) -> bool) {
        self.ids.retain(is_resting);
        debug_assert_eq!(self.ids.len(), self.live);
    }

    /// Hands the candidate ids (ascending, possibly stale) to session end. The caller still
    /// calls [`forget`](DayOrders::forget) for each order it removes, bringing `live` to 0.
    pub(crate) fn take_ids(&mut self) -> Vec<i64> {
        std::mem::take(&mut self.ids)
    }

    /// Number of DAY orders resting in the book.
    pub(crate) fn live(&self) -> usize {
        self.live
    }

    /// The recorded ids, ascending, possibly including stale ones.
    pub(crate) fn ids(&self) -> &[i64] {
        &self.ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_keeps_resting_ids_in_order() {
        let mut day = DayOrders::default();
        for id in 1..=200 {
            day.add(id);
        }
        for _ in 0..150 {
            day.forget();
        }
        assert!(day.needs_compaction());
        day.compact(|id| id % 4 == 0);
        assert_eq!(day.live(), 50);
        assert!(day.ids().windows(2).all(|w| w[0] < w[1]));
        assert!(!day.needs_compaction());
    }
}
