//! Where resting orders live: a slab of slots, threaded into per-level FIFO queues, and the
//! indexes that find them again (by id, and the DAY orders awaiting session end).

use std::collections::HashMap;

use crate::day::DayOrders;
use crate::id_hash::BuildOrderIdHasher;
use crate::types::{Order, TimeInForce};

/// Position of an order in the slab. `u32` keeps a slot (and a level) small.
pub(crate) type SlotId = u32;

/// "No slot": the end of a queue.
pub(crate) const NIL: SlotId = SlotId::MAX;

/// An order plus its links in its price level's queue (oldest first).
#[derive(Clone, Copy, Debug)]
struct Slot {
    order: Order,
    prev: SlotId,
    next: SlotId,
}

/// One price level: a FIFO queue of slots with its cached total open quantity.
///
/// Invariant: `total` is the sum of `remaining` over the linked orders. Whoever changes a
/// linked order's `remaining` adjusts `total` by the same amount; linking and unlinking add
/// and subtract the order's `remaining` at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    pub(crate) head: SlotId,
    pub(crate) tail: SlotId,
    pub(crate) count: u32,
    pub(crate) total: i64,
}

impl Default for Level {
    fn default() -> Self {
        Level {
            head: NIL,
            tail: NIL,
            count: 0,
            total: 0,
        }
    }
}

impl Level {
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Slab storage for resting orders. Freed slots are reused, so a cancel is O(1) and the hot
/// path allocates only when the book reaches a new peak size.
#[derive(Debug, Default)]
pub(crate) struct OrderStore {
    slots: Vec<Slot>,
    free: Vec<SlotId>,
    index: HashMap<i64, SlotId, BuildOrderIdHasher>,
    day: DayOrders,
}

impl OrderStore {
    /// Stores a newly resting order (not yet linked into a level).
    pub(crate) fn insert(&mut self, order: Order) -> SlotId {
        let slot = Slot {
            order,
            prev: NIL,
            next: NIL,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                let id = SlotId::try_from(self.slots.len())
                    .ok()
                    .filter(|&id| id != NIL)
                    .expect("more than 2^32 - 1 resting orders");
                self.slots.push(slot);
                id
            }
        };
        self.index.insert(order.order_id, id);
        if order.tif == TimeInForce::Day {
            self.day.add(order.order_id);
        }
        id
    }

    /// Frees an order's slot (it must already be unlinked from its level) and returns it.
    pub(crate) fn remove(&mut self, slot: SlotId) -> Order {
        let order = self.slots[slot as usize].order;
        self.index.remove(&order.order_id);
        self.free.push(slot);
        if order.tif == TimeInForce::Day {
            self.day.forget();
            if self.day.needs_compaction() {
                let index = &self.index;
                self.day.compact(|id| index.contains_key(id));
            }
        }
        order
    }

    /// The slot of a resting order.
    #[inline]
    pub(crate) fn slot_of(&self, order_id: i64) -> Option<SlotId> {
        self.index.get(&order_id).copied()
    }

    #[inline]
    pub(crate) fn get(&self, slot: SlotId) -> &Order {
        &self.slots[slot as usize].order
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, slot: SlotId) -> &mut Order {
        &mut self.slots[slot as usize].order
    }

    /// The slot after `slot` in its level's queue.
    #[inline]
    pub(crate) fn next(&self, slot: SlotId) -> SlotId {
        self.slots[slot as usize].next
    }

    /// The slot before `slot` in its level's queue.
    #[inline]
    pub(crate) fn prev(&self, slot: SlotId) -> SlotId {
        self.slots[slot as usize].prev
    }

    /// Number of resting orders.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Number of occupied slots (for the invariant check: must equal `len`).
    pub(crate) fn occupied_slots(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub(crate) fn day(&self) -> &DayOrders {
        &self.day
    }

    /// Hands the DAY candidates to session end; see [`DayOrders::take_ids`].
    pub(crate) fn take_day_ids(&mut self) -> Vec<i64> {
        self.day.take_ids()
    }

    /// Appends `slot` at the back of `level` (lowest priority).
    #[inline]
    pub(crate) fn push_back(&mut self, level: &mut Level, slot: SlotId) {
        let tail = level.tail;
        {
            let entry = &mut self.slots[slot as usize];
            entry.prev = tail;
            entry.next = NIL;
            level.total += entry.order.remaining;
        }
        if tail == NIL {
            level.head = slot;
        } else {
            self.slots[tail as usize].next = slot;
        }
        level.tail = slot;
        level.count += 1;
    }

    /// Takes `slot` out of `level` in O(1), wherever it sits in the queue.
    #[inline]
    pub(crate) fn unlink(&mut self, level: &mut Level, slot: SlotId) {
        let Slot {
            prev, next, order, ..
        } = self.slots[slot as usize];
        if prev == NIL {
            level.head = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next == NIL {
            level.tail = prev;
        } else {
            self.slots[next as usize].prev = prev;
        }
        level.count -= 1;
        level.total -= order.remaining;
    }

    /// The orders of one level, in time priority.
    pub(crate) fn queue(&self, level: &Level) -> Queue<'_> {
        Queue {
            store: self,
            cursor: level.head,
        }
    }
}

/// Iterator over a level's orders, oldest first.
pub(crate) struct Queue<'a> {
    store: &'a OrderStore,
    cursor: SlotId,
}

impl<'a> Iterator for Queue<'a> {
    type Item = (SlotId, &'a Order);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.cursor == NIL {
            return None;
        }
        let slot = self.cursor;
        let entry = &self.store.slots[slot as usize];
        self.cursor = entry.next;
        Some((slot, &entry.order))
    }
}
