//! A book rebuilt from its events alone: what market data publishes (L3, L2, L1).
//!
//! This is the Rust port of `server/tradepit/marketdata/view.py` (`PythonBookView`), which
//! stays the reference: both are fed the same events and compared in
//! `tests/marketdata/test_view_native.py`.
//!
//! Market data never reads the live book after it starts: effects are published once they
//! are durable, possibly after later commands were applied, so the live book can be ahead of
//! the events being published. Replaying the events gives exactly the state they describe:
//! resting orders per price level in time priority (L3), level totals and counts (L2) and
//! the best prices (L1), with the order-by-order changes of each command.
//!
//! A command's taker is never resting while it matches; it rests (an ADD) only if it has
//! open quantity left when the command's events end.
//!
//! ```
//! use tradepit_engine::mirror::BookMirror;
//! use tradepit_engine::{Book, NewOrder, Side};
//!
//! let mut book = Book::new(1, 1).unwrap();
//! let mut mirror = BookMirror::new(0);
//! let mut events = Vec::new();
//! book.submit(&NewOrder::limit(1, Side::Sell, 101, 10), &mut events).unwrap();
//! assert_eq!(mirror.replay(&events, None).unwrap(), (vec![], vec![101]));
//! events.clear();
//! book.submit(&NewOrder::limit(2, Side::Buy, 101, 4), &mut events).unwrap();
//! mirror.replay(&events, None).unwrap();
//! assert_eq!(mirror.best_ask(), book.best_ask());
//! assert_eq!(mirror.sequence(), book.sequence());
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Bound::{Excluded, Unbounded};

use crate::book::DepthLevel;
use crate::event::Event;
use crate::id_hash::BuildOrderIdHasher;
use crate::types::{AmendKind, EventKind, Side};

/// What an L3 reader sees happen to one order (`OrderEvent.Kind` in marketdata.proto).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderEventKind {
    /// The order starts resting with `quantity` (= `remaining`) open.
    Add = 1,
    /// The order's open quantity shrank by `quantity`; it still rests.
    Reduce = 2,
    /// The order left the book; `quantity` was its open quantity.
    Delete = 3,
    /// A taker traded `quantity` against the resting order.
    Execute = 4,
}

impl OrderEventKind {
    /// The protocol's integer code.
    #[inline]
    pub const fn code(self) -> i64 {
        self as i64
    }
}

/// One order-by-order change, as `view.py`'s `OrderEvent` named tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderEvent {
    pub kind: OrderEventKind,
    pub order_id: i64,
    pub side: Side,
    pub price: i64,
    /// ADD: its open quantity; otherwise the quantity removed.
    pub quantity: i64,
    /// Open quantity after the event.
    pub remaining: i64,
    /// The book sequence of the event that caused it.
    pub sequence: i64,
}

/// A resting order as the mirror holds it (`view.py`'s `RestingOrder`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RestingOrder {
    pub order_id: i64,
    pub side: Side,
    pub price: i64,
    pub remaining: i64,
}

/// Events that contradict the mirror: a trade against, or an amendment of, an order that
/// does not rest in it (the Python reference raises `KeyError` there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MirrorError {
    UnknownOrder(i64),
}

impl fmt::Display for MirrorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MirrorError::UnknownOrder(order_id) => {
                write!(f, "order {order_id} is not resting in the mirror")
            }
        }
    }
}

impl std::error::Error for MirrorError {}

/// The prices of the bid levels and of the ask levels a replay changed, one per L3 event.
pub type Touched = (Vec<i64>, Vec<i64>);

type SlotId = u32;

/// "No slot": the end of a level's queue.
const NIL: SlotId = SlotId::MAX;

/// A resting order and its links in its level's queue (oldest first).
#[derive(Clone, Copy, Debug)]
struct Slot {
    order_id: i64,
    side: Side,
    price: i64,
    remaining: i64,
    prev: SlotId,
    next: SlotId,
}

/// One price level: a FIFO queue of slots and its total.
///
/// As in the reference, `total` moves by the quantities the events report, not by
/// recomputing from the orders, so the two agree exactly when the events are consistent.
#[derive(Clone, Copy, Debug)]
struct Level {
    head: SlotId,
    tail: SlotId,
    count: u32,
    total: i64,
}

impl Level {
    const EMPTY: Level = Level {
        head: NIL,
        tail: NIL,
        count: 0,
        total: 0,
    };

    #[inline]
    fn summary(&self, price: i64) -> DepthLevel {
        DepthLevel {
            price,
            quantity: self.total,
            count: i64::from(self.count),
        }
    }
}

/// The levels of one side keyed so that ascending key order is priority order: asks by
/// price, bids by `!price` (bitwise not: order-reversing and exact for every `i64`, so any
/// price the events carry works, as in the reference).
type Ladder = BTreeMap<i64, Level>;

#[inline]
const fn key(side: Side, price: i64) -> i64 {
    match side {
        Side::Buy => !price,
        Side::Sell => price,
    }
}

/// `key` is an involution: the same map turns a key back into its price.
#[inline]
const fn price_of(side: Side, key: i64) -> i64 {
    match side {
        Side::Buy => !key,
        Side::Sell => key,
    }
}

/// Slab storage for the resting orders, with the index by id.
#[derive(Clone, Debug, Default)]
struct Store {
    slots: Vec<Slot>,
    free: Vec<SlotId>,
    index: HashMap<i64, SlotId, BuildOrderIdHasher>,
}

impl Store {
    #[inline]
    fn slot(&self, id: SlotId) -> &Slot {
        &self.slots[id as usize]
    }

    #[inline]
    fn slot_mut(&mut self, id: SlotId) -> &mut Slot {
        &mut self.slots[id as usize]
    }

    /// Stores an order at the back of `level`.
    #[inline]
    fn push_back(&mut self, level: &mut Level, order: RestingOrder) {
        let slot = Slot {
            order_id: order.order_id,
            side: order.side,
            price: order.price,
            remaining: order.remaining,
            prev: level.tail,
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
        if level.tail == NIL {
            level.head = id;
        } else {
            self.slots[level.tail as usize].next = id;
        }
        level.tail = id;
        level.count += 1;
        self.index.insert(order.order_id, id);
    }

    /// Takes a slot out of its level's queue and frees it (the level's total is the
    /// caller's business).
    #[inline]
    fn remove(&mut self, level: &mut Level, id: SlotId) {
        let Slot {
            order_id,
            prev,
            next,
            ..
        } = *self.slot(id);
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
        self.index.remove(&order_id);
        self.free.push(id);
    }

    fn queue<'a>(&'a self, level: &Level) -> impl Iterator<Item = &'a Slot> + 'a {
        let mut cursor = level.head;
        std::iter::from_fn(move || {
            (cursor != NIL).then(|| {
                let slot = self.slot(cursor);
                cursor = slot.next;
                slot
            })
        })
    }
}

/// One book as the public sees it, rebuilt from the book's events alone.
#[derive(Clone, Debug, Default)]
pub struct BookMirror {
    sequence: i64,
    bids: Ladder,
    asks: Ladder,
    store: Store,
}

impl BookMirror {
    /// An empty mirror at `sequence`.
    pub fn new(sequence: i64) -> Self {
        BookMirror {
            sequence,
            ..BookMirror::default()
        }
    }

    /// The mirror of a live book (for a start when none of its events is in flight): its
    /// sequence and its resting orders, each side in priority order (best price, then time).
    pub fn from_resting(sequence: i64, orders: impl IntoIterator<Item = RestingOrder>) -> Self {
        let mut mirror = BookMirror::new(sequence);
        for order in orders {
            mirror.rest(order);
        }
        mirror
    }

    /// Puts an order at the back of its level (creating the level) with `remaining` open.
    /// An id already resting at that price has `remaining` added to its level's total and
    /// becomes its open quantity in place, as a dict assignment does in the reference; one
    /// resting elsewhere leaves its old level first.
    pub fn rest(&mut self, order: RestingOrder) {
        if let Some(&id) = self.store.index.get(&order.order_id) {
            let slot = *self.store.slot(id);
            let (ladder, store) = self.parts(slot.side);
            let level = ladder
                .get_mut(&key(slot.side, slot.price))
                .expect("a resting order's level exists");
            if (slot.side, slot.price) == (order.side, order.price) {
                level.total += order.remaining;
                store.slot_mut(id).remaining = order.remaining;
                return;
            }
            level.total -= slot.remaining;
            store.remove(level, id);
            if level.count == 0 {
                ladder.remove(&key(slot.side, slot.price));
            }
        }
        let (ladder, store) = self.parts(order.side);
        let level = ladder
            .entry(key(order.side, order.price))
            .or_insert(Level::EMPTY);
        level.total += order.remaining;
        store.push_back(level, order);
    }

    #[inline]
    fn parts(&mut self, side: Side) -> (&mut Ladder, &mut Store) {
        match side {
            Side::Buy => (&mut self.bids, &mut self.store),
            Side::Sell => (&mut self.asks, &mut self.store),
        }
    }

    #[inline]
    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    // ------------------------------------------------------------ queries

    /// The sequence of the last event replayed (or the one the mirror started at).
    #[inline]
    pub fn sequence(&self) -> i64 {
        self.sequence
    }

    #[inline]
    pub fn set_sequence(&mut self, sequence: i64) {
        self.sequence = sequence;
    }

    /// Number of resting orders.
    #[inline]
    pub fn len(&self) -> usize {
        self.store.index.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.store.index.is_empty()
    }

    /// `(price, total open quantity)` of the best bid.
    pub fn best_bid(&self) -> Option<(i64, i64)> {
        self.best(Side::Buy)
    }

    /// `(price, total open quantity)` of the best ask.
    pub fn best_ask(&self) -> Option<(i64, i64)> {
        self.best(Side::Sell)
    }

    fn best(&self, side: Side) -> Option<(i64, i64)> {
        self.ladder(side)
            .first_key_value()
            .map(|(&key, level)| (price_of(side, key), level.total))
    }

    /// Up to `levels` levels per side, best first, as [`Book::depth`](crate::Book::depth):
    /// `(bids, asks)`. `levels <= 0` gives none.
    pub fn depth(&self, levels: i64) -> (Vec<DepthLevel>, Vec<DepthLevel>) {
        (self.bid_levels(levels), self.ask_levels(levels))
    }

    /// Up to `levels` bid levels, best first (one side of `depth`).
    pub fn bid_levels(&self, levels: i64) -> Vec<DepthLevel> {
        self.levels(Side::Buy, levels)
    }

    /// Up to `levels` ask levels, best first.
    pub fn ask_levels(&self, levels: i64) -> Vec<DepthLevel> {
        self.levels(Side::Sell, levels)
    }

    /// Up to `levels` levels of one side, best first.
    pub fn levels(&self, side: Side, levels: i64) -> Vec<DepthLevel> {
        self.ladder(side)
            .iter()
            .take(usize::try_from(levels).unwrap_or(0))
            .map(|(&key, level)| level.summary(price_of(side, key)))
            .collect()
    }

    /// Up to `levels` bid levels at prices below `price`, best first.
    pub fn bid_levels_below(&self, price: i64, levels: i64) -> Vec<DepthLevel> {
        self.levels_past(Side::Buy, price, levels)
    }

    /// Up to `levels` ask levels at prices above `price`, best first.
    pub fn ask_levels_above(&self, price: i64, levels: i64) -> Vec<DepthLevel> {
        self.levels_past(Side::Sell, price, levels)
    }

    /// Up to `levels` levels of one side worse than `price`, best first.
    pub fn levels_past(&self, side: Side, price: i64, levels: i64) -> Vec<DepthLevel> {
        self.ladder(side)
            .range((Excluded(key(side, price)), Unbounded))
            .take(usize::try_from(levels).unwrap_or(0))
            .map(|(&key, level)| level.summary(price_of(side, key)))
            .collect()
    }

    /// The bid level at `price`, if any order rests there.
    pub fn bid_level(&self, price: i64) -> Option<DepthLevel> {
        self.level(Side::Buy, price)
    }

    /// The ask level at `price`, if any order rests there.
    pub fn ask_level(&self, price: i64) -> Option<DepthLevel> {
        self.level(Side::Sell, price)
    }

    /// The level of one side at `price`, if any order rests there.
    pub fn level(&self, side: Side, price: i64) -> Option<DepthLevel> {
        self.ladder(side)
            .get(&key(side, price))
            .map(|level| level.summary(price))
    }

    /// Resting orders of one side in priority order: best price first, then time.
    pub fn side_orders(&self, side: Side) -> impl Iterator<Item = RestingOrder> + '_ {
        self.ladder(side).values().flat_map(move |level| {
            self.store.queue(level).map(|slot| RestingOrder {
                order_id: slot.order_id,
                side: slot.side,
                price: slot.price,
                remaining: slot.remaining,
            })
        })
    }

    /// Every resting order, `(bids, asks)`, each in priority order.
    pub fn orders(&self) -> (Vec<RestingOrder>, Vec<RestingOrder>) {
        (
            self.side_orders(Side::Buy).collect(),
            self.side_orders(Side::Sell).collect(),
        )
    }

    // ------------------------------------------------------------ changes

    /// Replays one command's events; returns the prices of the bid levels and of the ask
    /// levels they changed, one per L3 event (so a price may repeat). `orders`, when given,
    /// receives the L3 events themselves.
    ///
    /// On an error the events before the offending one stay applied and the sequence is
    /// not moved, as in the reference.
    pub fn replay(
        &mut self,
        events: &[Event],
        orders: Option<&mut Vec<OrderEvent>>,
    ) -> Result<Touched, MirrorError> {
        let mut touched = (Vec::new(), Vec::new());
        self.replay_into(events, &mut touched.0, &mut touched.1, orders)?;
        Ok(touched)
    }

    /// [`replay`](Self::replay) appending the touched prices to the caller's vectors (which
    /// it does not clear), so that a caller replaying many commands can reuse them.
    pub fn replay_into(
        &mut self,
        events: &[Event],
        touched_bids: &mut Vec<i64>,
        touched_asks: &mut Vec<i64>,
        mut orders: Option<&mut Vec<OrderEvent>>,
    ) -> Result<(), MirrorError> {
        // As in the reference, before any ACCEPTED or priority-losing AMENDED the taker is
        // order 0 on the sell side at price 0; real command streams never rest it.
        let (mut taker, mut taker_side, mut taker_price, mut taker_open) = (0, Side::Sell, 0, 0);
        for e in events {
            match e.kind {
                EventKind::Trade => {
                    let maker = e.maker_id;
                    let slot = self.slot_of(maker)?;
                    let (side, price) = (slot.side, slot.price);
                    self.take(slot.id, e.quantity, e.maker_remaining);
                    touched(side, touched_bids, touched_asks).push(price);
                    if let Some(orders) = orders.as_deref_mut() {
                        orders.push(OrderEvent {
                            kind: OrderEventKind::Execute,
                            order_id: maker,
                            side,
                            price,
                            quantity: e.quantity,
                            remaining: e.maker_remaining,
                            sequence: e.seq,
                        });
                    }
                    taker_open = e.remaining;
                }
                EventKind::Accepted => {
                    (taker, taker_side, taker_price, taker_open) =
                        (e.order_id, e.side, e.price, e.remaining);
                }
                EventKind::Cancelled => {
                    if let Ok(slot) = self.slot_of(e.order_id) {
                        let (side, price) = (slot.side, slot.price);
                        self.take(slot.id, e.quantity, e.remaining);
                        touched(side, touched_bids, touched_asks).push(price);
                        if let Some(orders) = orders.as_deref_mut() {
                            orders.push(OrderEvent {
                                kind: if e.remaining != 0 {
                                    OrderEventKind::Reduce
                                } else {
                                    OrderEventKind::Delete
                                },
                                order_id: e.order_id,
                                side,
                                price,
                                quantity: e.quantity,
                                remaining: e.remaining,
                                sequence: e.seq,
                            });
                        }
                    } else if e.order_id == taker {
                        taker_open = e.remaining; // the taker's remainder: it never rested
                    }
                }
                EventKind::Amended => {
                    let slot = self.slot_of(e.order_id)?;
                    let (side, price, before) = (slot.side, slot.price, slot.remaining);
                    if e.reason == AmendKind::PriorityKept.code() {
                        if before != e.remaining {
                            // The same quantity again changes nothing.
                            let removed = before - e.remaining;
                            self.take(slot.id, removed, e.remaining);
                            touched(side, touched_bids, touched_asks).push(price);
                            if let Some(orders) = orders.as_deref_mut() {
                                orders.push(OrderEvent {
                                    kind: OrderEventKind::Reduce,
                                    order_id: e.order_id,
                                    side,
                                    price,
                                    quantity: removed,
                                    remaining: e.remaining,
                                    sequence: e.seq,
                                });
                            }
                        }
                    } else {
                        // It leaves its level, then matches as a taker at its new price.
                        self.take(slot.id, before, 0);
                        touched(side, touched_bids, touched_asks).push(price);
                        if let Some(orders) = orders.as_deref_mut() {
                            orders.push(OrderEvent {
                                kind: OrderEventKind::Delete,
                                order_id: e.order_id,
                                side,
                                price,
                                quantity: before,
                                remaining: 0,
                                sequence: e.seq,
                            });
                        }
                        (taker, taker_side, taker_price, taker_open) =
                            (e.order_id, side, e.price, e.remaining);
                    }
                }
                // REJECTED (and the batch format's ERROR) changes no resting order.
                EventKind::Rejected | EventKind::Error => {}
            }
        }
        if let Some(last) = events.last() {
            self.sequence = last.seq;
        }
        if taker_open != 0 {
            self.rest(RestingOrder {
                order_id: taker,
                side: taker_side,
                price: taker_price,
                remaining: taker_open,
            });
            touched(taker_side, touched_bids, touched_asks).push(taker_price);
            if let Some(orders) = orders {
                orders.push(OrderEvent {
                    kind: OrderEventKind::Add,
                    order_id: taker,
                    side: taker_side,
                    price: taker_price,
                    quantity: taker_open,
                    remaining: taker_open,
                    sequence: self.sequence,
                });
            }
        }
        Ok(())
    }

    #[inline]
    fn slot_of(&self, order_id: i64) -> Result<Found, MirrorError> {
        match self.store.index.get(&order_id) {
            Some(&id) => {
                let slot = self.store.slot(id);
                Ok(Found {
                    id,
                    side: slot.side,
                    price: slot.price,
                    remaining: slot.remaining,
                })
            }
            None => Err(MirrorError::UnknownOrder(order_id)),
        }
    }

    /// Takes `removed` off a resting order's level total and leaves it `left` open; at 0 it
    /// leaves the book (and an emptied level goes too).
    #[inline]
    fn take(&mut self, id: SlotId, removed: i64, left: i64) {
        let (side, price) = {
            let slot = self.store.slot(id);
            (slot.side, slot.price)
        };
        let (ladder, store) = self.parts(side);
        let key = key(side, price);
        let level = ladder
            .get_mut(&key)
            .expect("a resting order's level exists");
        level.total -= removed;
        if left != 0 {
            store.slot_mut(id).remaining = left;
            return;
        }
        store.remove(level, id);
        if level.count == 0 {
            ladder.remove(&key);
        }
    }

    /// Checks the mirror's own consistency (for tests): links, counts, totals, index.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = 0;
        for side in [Side::Buy, Side::Sell] {
            for (&key, level) in self.ladder(side) {
                let price = price_of(side, key);
                let mut count = 0;
                let mut total = 0;
                let mut prev = NIL;
                let mut cursor = level.head;
                while cursor != NIL {
                    let slot = self.store.slot(cursor);
                    if slot.prev != prev || (slot.side, slot.price) != (side, price) {
                        return Err(format!("order {} is misplaced", slot.order_id));
                    }
                    if self.store.index.get(&slot.order_id) != Some(&cursor) {
                        return Err(format!("order {} is not indexed", slot.order_id));
                    }
                    count += 1;
                    total += slot.remaining;
                    prev = cursor;
                    cursor = slot.next;
                }
                if level.tail != prev || level.count != count || level.count == 0 {
                    return Err(format!("level {price} has a broken queue"));
                }
                if level.total != total {
                    return Err(format!("level {price} totals {}, not {total}", level.total));
                }
                seen += count as usize;
            }
        }
        if seen != self.len() {
            return Err(format!("{} orders indexed, {seen} linked", self.len()));
        }
        Ok(())
    }
}

/// A resting order found by id.
#[derive(Clone, Copy)]
struct Found {
    id: SlotId,
    side: Side,
    price: i64,
    remaining: i64,
}

#[inline]
fn touched<'a>(side: Side, bids: &'a mut Vec<i64>, asks: &'a mut Vec<i64>) -> &'a mut Vec<i64> {
    match side {
        Side::Buy => bids,
        Side::Sell => asks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Book, NewOrder, StpMode, TimeInForce};

    use OrderEventKind::{Add, Delete, Execute, Reduce};

    /// A small deterministic generator (xorshift64*), so the tests need no crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// Uniform in `low..=high`.
        fn range(&mut self, low: i64, high: i64) -> i64 {
            low + (self.next() % (high - low + 1) as u64) as i64
        }

        fn chance(&mut self, percent: i64) -> bool {
            self.range(0, 99) < percent
        }
    }

    /// One random command (every kind, STP, IOC/FOK/DAY, post-only, market orders), applied
    /// to `book`; its events, or none when the book refused it.
    fn random_command(rng: &mut Rng, book: &mut Book, issued: &mut i64) -> Vec<Event> {
        let mut events = Vec::new();
        let mid = 200;
        let some_id = |rng: &mut Rng, issued: i64| rng.range((issued - 300).max(1), issued + 1);
        let roll = rng.range(0, 99);
        let timestamp = *issued * 1_000;
        let result = if roll < 58 {
            *issued += 1;
            let side = rng.range(1, 2);
            let market = rng.chance(7);
            let offset = rng.range(-3, 12) * if side == 2 { 1 } else { -1 };
            let order = NewOrder {
                owner: if rng.chance(40) {
                    rng.range(1, 3)
                } else {
                    rng.range(4, 40)
                },
                side,
                price: if market { 0 } else { mid + offset },
                quantity: rng.range(1, 30),
                order_type: if market { 2 } else { 1 },
                tif: rng.range(1, 4),
                post_only: !market && rng.chance(15),
                stp: rng.range(1, 4),
                timestamp,
            };
            book.submit(&order, &mut events)
        } else if roll < 78 {
            book.cancel(some_id(rng, *issued), timestamp, &mut events)
        } else if roll < 94 {
            let id = some_id(rng, *issued);
            let (mut price, quantity) = (mid + rng.range(-8, 8), rng.range(1, 30));
            if let Some(order) = book.get_order(id).filter(|_| rng.chance(40)) {
                price = order.price; // a reduction keeps priority, an increase loses it
            }
            book.amend(id, price, quantity, timestamp, &mut events)
        } else {
            book.end_session(timestamp, &mut events);
            Ok(())
        };
        if result.is_err() {
            events.clear();
        }
        events
    }

    fn resting(book: &Book) -> (Vec<RestingOrder>, Vec<RestingOrder>) {
        let side = |side| {
            book.side_orders(side)
                .map(|o| RestingOrder {
                    order_id: o.order_id,
                    side: o.side,
                    price: o.price,
                    remaining: o.remaining,
                })
                .collect()
        };
        (side(Side::Buy), side(Side::Sell))
    }

    fn of(book: &Book) -> BookMirror {
        let (bids, asks) = resting(book);
        BookMirror::from_resting(book.sequence(), bids.into_iter().chain(asks))
    }

    fn assert_same(mirror: &BookMirror, book: &Book) {
        mirror.validate().unwrap();
        assert_eq!(mirror.sequence(), book.sequence());
        assert_eq!(mirror.depth(i64::MAX), book.depth(i64::MAX));
        assert_eq!(mirror.depth(3), book.depth(3));
        assert_eq!(mirror.best_bid(), book.best_bid());
        assert_eq!(mirror.best_ask(), book.best_ask());
        assert_eq!(mirror.orders(), resting(book));
        assert_eq!(mirror.len(), book.len());
        assert_eq!(mirror.is_empty(), book.is_empty());
    }

    /// What a client holds from L3 events alone, checked as it goes.
    fn follow(reader: &mut HashMap<i64, (Side, i64, i64)>, e: &OrderEvent) {
        if e.kind == Add {
            assert!(e.quantity == e.remaining && e.remaining > 0, "{e:?}");
            assert!(reader
                .insert(e.order_id, (e.side, e.price, e.remaining))
                .is_none());
            return;
        }
        let (side, price, remaining) = reader[&e.order_id];
        assert_eq!((e.side, e.price), (side, price), "{e:?}");
        assert!(
            e.quantity > 0 && remaining - e.quantity == e.remaining,
            "{e:?}"
        );
        assert!(
            e.kind == Execute || (e.kind == Delete) == (e.remaining == 0),
            "{e:?}"
        );
        if e.remaining == 0 {
            reader.remove(&e.order_id);
        } else {
            reader.insert(e.order_id, (side, price, e.remaining));
        }
    }

    #[test]
    fn the_mirror_follows_the_book_through_long_random_streams() {
        for seed in [1, 2, 3] {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
            let mut book = Book::new(1, 1).unwrap();
            let mut mirror = BookMirror::new(0);
            let mut reader = HashMap::new();
            let mut kinds = Vec::new();
            let mut issued = 0;
            for step in 0..4_000 {
                let events = random_command(&mut rng, &mut book, &mut issued);
                let mut orders = Vec::new();
                let (bids, asks) = mirror.replay(&events, Some(&mut orders)).unwrap();
                assert_eq!(bids.len() + asks.len(), orders.len());
                let mut touched = (Vec::new(), Vec::new());
                for e in &orders {
                    follow(&mut reader, e);
                    assert!(events.iter().any(|event| event.seq == e.sequence));
                    touched_side(e.side, &mut touched).push(e.price);
                    if !kinds.contains(&e.kind) {
                        kinds.push(e.kind);
                    }
                }
                assert_eq!((bids, asks), touched);
                assert!(orders.windows(2).all(|w| w[0].sequence <= w[1].sequence));
                assert_same(&mirror, &book);
                let mut held: Vec<_> = reader.iter().map(|(&id, &o)| (id, o)).collect();
                held.sort_unstable_by_key(|&(id, _)| id);
                let (b, a) = resting(&book);
                let mut live: Vec<_> = b
                    .iter()
                    .chain(&a)
                    .map(|o| (o.order_id, (o.side, o.price, o.remaining)))
                    .collect();
                live.sort_unstable_by_key(|&(id, _)| id);
                assert_eq!(held, live);
                if step % 500 == 250 {
                    let started = of(&book);
                    assert_same(&started, &book);
                    mirror = started; // and carry on from there
                }
            }
            assert_eq!(kinds.len(), 4, "{kinds:?}");
        }
    }

    fn touched_side(side: Side, both: &mut Touched) -> &mut Vec<i64> {
        touched(side, &mut both.0, &mut both.1)
    }

    /// `(kind, order id, quantity, remaining)` of each L3 event of one command.
    fn l3(mirror: &mut BookMirror, events: &[Event]) -> Vec<(OrderEventKind, i64, i64, i64)> {
        let mut orders = Vec::new();
        mirror.replay(events, Some(&mut orders)).unwrap();
        orders
            .iter()
            .map(|e| (e.kind, e.order_id, e.quantity, e.remaining))
            .collect()
    }

    /// Runs one command on the book and returns its events.
    fn run(
        book: &mut Book,
        command: impl FnOnce(&mut Book, &mut Vec<Event>) -> Result<(), crate::BookError>,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        command(book, &mut events).unwrap();
        events
    }

    fn submit(book: &mut Book, order: NewOrder) -> Vec<Event> {
        run(book, |book, out| book.submit(&order, out))
    }

    #[test]
    fn a_taker_that_partly_fills_executes_the_makers_then_rests() {
        let mut book = Book::new(1, 1).unwrap();
        let mut m = BookMirror::new(0);
        let e = submit(&mut book, NewOrder::limit(1, Side::Sell, 100, 5));
        assert_eq!(l3(&mut m, &e), [(Add, 1, 5, 5)]);
        let e = submit(&mut book, NewOrder::limit(1, Side::Sell, 101, 5));
        assert_eq!(l3(&mut m, &e), [(Add, 2, 5, 5)]);
        let e = submit(&mut book, NewOrder::limit(2, Side::Buy, 101, 12));
        let mut orders = Vec::new();
        let touched = m.replay(&e, Some(&mut orders)).unwrap();
        assert_eq!(touched, (vec![101], vec![100, 101]));
        let seen: Vec<_> = orders
            .iter()
            .map(|o| (o.kind, o.order_id, o.quantity))
            .collect();
        assert_eq!(seen, [(Execute, 1, 5), (Execute, 2, 5), (Add, 3, 2)]);
        assert_eq!(orders[2].sequence, book.sequence());
        assert_eq!(m.sequence(), book.sequence());
        assert_same(&m, &book);
    }

    #[test]
    fn remainders_that_never_rest_are_invisible() {
        let mut book = Book::new(1, 1).unwrap();
        let mut m = BookMirror::new(0);
        let e = submit(&mut book, NewOrder::limit(1, Side::Sell, 100, 5));
        m.replay(&e, None).unwrap();
        let ioc = NewOrder::limit(2, Side::Buy, 100, 8).tif(TimeInForce::Ioc);
        let e = submit(&mut book, ioc);
        assert_eq!(l3(&mut m, &e), [(Execute, 1, 5, 0)]);
        let fok = NewOrder::limit(2, Side::Buy, 100, 8).tif(TimeInForce::Fok);
        let e = submit(&mut book, fok);
        assert_eq!(l3(&mut m, &e), []);
        assert_eq!(m.sequence(), book.sequence());
        let e = submit(&mut book, NewOrder::limit(1, Side::Sell, 100, 5));
        m.replay(&e, None).unwrap();
        let e = submit(&mut book, NewOrder::limit(2, Side::Buy, 99, 3).post_only());
        assert_eq!(l3(&mut m, &e), [(Add, 5, 3, 3)]);
        let e = submit(&mut book, NewOrder::limit(2, Side::Buy, 100, 3).post_only());
        assert_eq!(e[0].kind, EventKind::Rejected);
        assert_eq!(m.replay(&e, None).unwrap(), (vec![], vec![]));
        let e = submit(&mut book, NewOrder::market(2, Side::Buy, 50));
        assert_eq!(l3(&mut m, &e), [(Execute, 4, 5, 0)]);
        assert_same(&m, &book);
    }

    #[test]
    fn amendments_reduce_in_place_or_move_to_the_back() {
        let mut book = Book::new(1, 1).unwrap();
        let mut m = BookMirror::new(0);
        for owner in [1, 2] {
            let e = submit(&mut book, NewOrder::limit(owner, Side::Buy, 100, 10));
            m.replay(&e, None).unwrap();
        }
        let e = run(&mut book, |b, out| b.amend(1, 100, 6, 0, out));
        assert_eq!(l3(&mut m, &e), [(Reduce, 1, 4, 6)]);
        let e = run(&mut book, |b, out| b.amend(1, 100, 6, 0, out));
        assert_eq!(m.replay(&e, None).unwrap(), (vec![], vec![]));
        let e = run(&mut book, |b, out| b.amend(1, 100, 8, 0, out));
        assert_eq!(l3(&mut m, &e), [(Delete, 1, 6, 0), (Add, 1, 8, 8)]);
        assert_eq!(m.orders().0[0].order_id, 2); // 1 lost its priority
        let e = submit(&mut book, NewOrder::limit(3, Side::Sell, 102, 5));
        m.replay(&e, None).unwrap();
        let e = run(&mut book, |b, out| b.amend(1, 102, 8, 0, out));
        let touched = m.replay(&e, None).unwrap();
        assert_eq!(touched, (vec![100, 102], vec![102]));
        assert_eq!(m.best_bid(), Some((102, 3)));
        assert_same(&m, &book);
    }

    #[test]
    fn cancels_stp_and_session_end() {
        let mut book = Book::new(1, 1).unwrap();
        let mut m = BookMirror::new(0);
        let e = submit(&mut book, NewOrder::limit(1, Side::Sell, 100, 10));
        m.replay(&e, None).unwrap();
        let day = NewOrder::limit(1, Side::Sell, 100, 4).tif(TimeInForce::Day);
        let e = submit(&mut book, day);
        m.replay(&e, None).unwrap();
        let dc = NewOrder::limit(1, Side::Buy, 100, 3).stp(StpMode::DecrementAndCancel);
        let e = submit(&mut book, dc);
        assert_eq!(l3(&mut m, &e), [(Reduce, 1, 3, 7)]);
        let co = NewOrder::limit(1, Side::Buy, 100, 1).stp(StpMode::CancelOldest);
        let e = submit(&mut book, co);
        assert_eq!(
            l3(&mut m, &e),
            [(Delete, 1, 7, 0), (Delete, 2, 4, 0), (Add, 4, 1, 1)]
        );
        let day = NewOrder::limit(2, Side::Sell, 105, 4).tif(TimeInForce::Day);
        let e = submit(&mut book, day);
        m.replay(&e, None).unwrap();
        let e = run(&mut book, |b, out| {
            b.end_session(0, out);
            Ok(())
        });
        assert_eq!(l3(&mut m, &e), [(Delete, 5, 4, 0)]);
        let e = run(&mut book, |b, out| b.cancel(4, 0, out));
        assert_eq!(l3(&mut m, &e), [(Delete, 4, 1, 0)]);
        assert_eq!(m.orders(), (vec![], vec![]));
        assert!(m.is_empty());
        assert_same(&m, &book);
    }

    fn resting_order(order_id: i64, side: Side, price: i64, remaining: i64) -> RestingOrder {
        RestingOrder {
            order_id,
            side,
            price,
            remaining,
        }
    }

    fn level(price: i64, quantity: i64, count: i64) -> DepthLevel {
        DepthLevel {
            price,
            quantity,
            count,
        }
    }

    #[test]
    fn level_queries_walk_each_side_from_the_best() {
        let mut orders = Vec::new();
        for (i, price) in [99, 98, 97, 96, 98].into_iter().enumerate() {
            orders.push(resting_order(i as i64 + 1, Side::Buy, price, 10));
        }
        for (i, price) in [101, 102, 103, 102].into_iter().enumerate() {
            orders.push(resting_order(i as i64 + 10, Side::Sell, price, 5));
        }
        let m = BookMirror::from_resting(7, orders);
        m.validate().unwrap();
        assert_eq!((m.sequence(), m.len()), (7, 9));
        assert_eq!(m.best_bid(), Some((99, 10)));
        assert_eq!(m.best_ask(), Some((101, 5)));
        assert_eq!(m.bid_levels(2), [level(99, 10, 1), level(98, 20, 2)]);
        assert_eq!(m.ask_levels(9).len(), 3);
        assert!(m.bid_levels(0).is_empty() && m.ask_levels(-1).is_empty());
        assert_eq!(
            m.bid_levels_below(99, 2),
            [level(98, 20, 2), level(97, 10, 1)]
        );
        assert_eq!(
            m.bid_levels_below(98, 9),
            [level(97, 10, 1), level(96, 10, 1)]
        );
        assert_eq!(m.bid_levels_below(1_000, 1), [level(99, 10, 1)]);
        assert!(m.bid_levels_below(96, 5).is_empty() && m.bid_levels_below(99, -2).is_empty());
        assert_eq!(m.ask_levels_above(101, 1), [level(102, 10, 2)]);
        assert_eq!(m.ask_levels_above(0, 5).len(), 3);
        assert!(m.ask_levels_above(103, 5).is_empty());
        assert_eq!(m.bid_level(98), Some(level(98, 20, 2)));
        assert_eq!((m.bid_level(101), m.ask_level(99)), (None, None));
        assert_eq!(m.ask_level(102), Some(level(102, 10, 2)));
        let ids = |orders: Vec<RestingOrder>| orders.iter().map(|o| o.order_id).collect::<Vec<_>>();
        let (bids, asks) = m.orders();
        assert_eq!(
            (ids(bids), ids(asks)),
            (vec![1, 2, 5, 3, 4], vec![10, 11, 13, 12])
        );
        // Extreme prices keep their order: the bid key is exact for every i64.
        let m = BookMirror::from_resting(
            0,
            [
                resting_order(1, Side::Buy, i64::MIN, 1),
                resting_order(2, Side::Buy, i64::MAX, 1),
                resting_order(3, Side::Sell, i64::MIN, 1),
            ],
        );
        assert_eq!(m.best_bid(), Some((i64::MAX, 1)));
        assert_eq!(m.bid_levels_below(0, 5), [level(i64::MIN, 1, 1)]);
        assert_eq!(m.ask_levels_above(i64::MIN, 5), []);
        assert_eq!(m.ask_levels_above(i64::MIN + 1, 5), []);
        assert_eq!(m.best_ask(), Some((i64::MIN, 1)));
    }

    #[test]
    fn events_about_orders_it_does_not_hold_are_errors() {
        let mut book = Book::new(1, 1).unwrap();
        let mut m = BookMirror::new(0);
        submit(&mut book, NewOrder::limit(1, Side::Sell, 100, 5));
        let e = submit(&mut book, NewOrder::limit(2, Side::Buy, 100, 8));
        assert_eq!(m.replay(&e, None), Err(MirrorError::UnknownOrder(1)));
        assert_eq!(m.sequence(), 0); // not moved
        assert!(m.is_empty());
        let e = run(&mut book, |b, out| b.amend(2, 100, 1, 0, out));
        let error = m.replay(&e, None).unwrap_err();
        assert_eq!(error.to_string(), "order 2 is not resting in the mirror");
        // A cancel of an unknown order that is not the taker changes nothing.
        let e = run(&mut book, |b, out| b.cancel(2, 0, out));
        assert_eq!(m.replay(&e, None), Ok((vec![], vec![])));
        assert_eq!(m.sequence(), book.sequence());
    }

    #[test]
    fn resting_an_id_again_replaces_it() {
        let mut m = BookMirror::new(0);
        m.rest(resting_order(1, Side::Buy, 100, 5));
        m.rest(resting_order(2, Side::Buy, 100, 5));
        m.rest(resting_order(1, Side::Buy, 100, 3)); // in place, total grows as a dict's
        assert_eq!(m.bid_level(100), Some(level(100, 13, 2)));
        assert_eq!(m.orders().0[0], resting_order(1, Side::Buy, 100, 3));
        m.rest(resting_order(2, Side::Sell, 101, 4)); // moves
        assert_eq!(m.bid_level(100), Some(level(100, 8, 1)));
        assert_eq!(m.ask_level(101), Some(level(101, 4, 1)));
        m.rest(resting_order(1, Side::Sell, 101, 4));
        assert_eq!(m.bid_level(100), None);
        assert_eq!(m.len(), 2);
        m.validate().unwrap();
        m.set_sequence(42);
        assert_eq!(m.sequence(), 42);
    }
}
