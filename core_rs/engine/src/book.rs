//! The order book: commands in, events out.
//!
//! Every command validates completely before it touches anything, so an `Err` leaves the book
//! exactly as it was (no sequence number, no order id consumed). Events are appended to a
//! caller-supplied vector so the hot path does not allocate.

use crate::error::BookError;
use crate::event::{Emitter, Event};
use crate::matching::{fillable, match_order, would_cross, MatchEnd};
use crate::side::BookSide;
use crate::store::{OrderStore, SlotId};
use crate::types::{
    AmendKind, CancelReason, Command, NewOrder, Order, OrderType, Side, StpMode, TimeInForce,
    MAX_PRICE, MAX_QUANTITY,
};

/// A limit order book for one instrument.
#[derive(Debug)]
pub struct Book {
    tick_size: i64,
    lot_size: i64,
    /// Sequence number of the last emitted event.
    seq: i64,
    next_order_id: i64,
    bids: BookSide,
    asks: BookSide,
    store: OrderStore,
}

/// One price level as reported by [`Book::depth`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthLevel {
    pub price: i64,
    /// Total open quantity at this price.
    pub quantity: i64,
    /// Number of resting orders at this price.
    pub count: i64,
}

impl Book {
    /// An empty book. Prices must be multiples of `tick_size`, quantities of `lot_size`.
    pub fn new(tick_size: i64, lot_size: i64) -> Result<Self, BookError> {
        if tick_size <= 0 || lot_size <= 0 {
            return Err(BookError::InvalidInstrument {
                tick_size,
                lot_size,
            });
        }
        Ok(Book {
            tick_size,
            lot_size,
            seq: 0,
            next_order_id: 1,
            bids: BookSide::new(Side::Buy),
            asks: BookSide::new(Side::Sell),
            store: OrderStore::default(),
        })
    }

    /// A book holding `orders` (checked by the caller: each side best price first, then
    /// time) with the given counters; the constructor behind [`Book::restore`].
    pub(crate) fn with_resting(
        tick_size: i64,
        lot_size: i64,
        seq: i64,
        next_order_id: i64,
        orders: &[Order],
    ) -> Book {
        let mut book = Book {
            tick_size,
            lot_size,
            seq,
            next_order_id,
            bids: BookSide::new(Side::Buy),
            asks: BookSide::new(Side::Sell),
            store: OrderStore::default(),
        };
        // Stored in id order, so the DAY index is ascending as it requires; then linked in
        // priority order, so each level's queue is the snapshot's.
        let mut by_id: Vec<&Order> = orders.iter().collect();
        by_id.sort_unstable_by_key(|order| order.order_id);
        for order in by_id {
            book.store.insert(*order);
        }
        for order in orders {
            let slot = book.store.slot_of(order.order_id).expect("just stored");
            match order.side {
                Side::Buy => book.bids.push_back(&mut book.store, slot),
                Side::Sell => book.asks.push_back(&mut book.store, slot),
            }
        }
        book
    }

    /// Applies any command, appending its events to `out`.
    pub fn apply(&mut self, command: &Command, out: &mut Vec<Event>) -> Result<(), BookError> {
        match *command {
            Command::Submit(ref order) => self.submit(order, out),
            Command::Cancel {
                order_id,
                timestamp,
            } => self.cancel(order_id, timestamp, out),
            Command::Amend {
                order_id,
                price,
                quantity,
                timestamp,
            } => self.amend(order_id, price, quantity, timestamp, out),
            Command::EndSession { timestamp } => {
                self.end_session(timestamp, out);
                Ok(())
            }
        }
    }

    /// Submits a new order: post-only check, FOK check, matching, then rest or cancel.
    pub fn submit(&mut self, request: &NewOrder, out: &mut Vec<Event>) -> Result<(), BookError> {
        let (side, order_type, tif, stp) = self.check_new(request)?;
        let mut order = Order {
            order_id: self.next_order_id,
            owner: request.owner,
            side,
            price: request.price,
            quantity: request.quantity,
            remaining: request.quantity,
            order_type,
            tif,
            post_only: request.post_only,
            stp,
            timestamp: request.timestamp,
        };
        self.next_order_id += 1;

        let Book {
            bids,
            asks,
            store,
            seq,
            ..
        } = self;
        let (own, opposite) = match side {
            Side::Buy => (bids, asks),
            Side::Sell => (asks, bids),
        };
        let mut emit = Emitter::new(seq, request.timestamp, out);

        if order.post_only && would_cross(&order, opposite) {
            order.remaining = 0;
            emit.rejected(&order, order.price, order.quantity);
            return Ok(());
        }
        emit.accepted(&order);
        if tif == TimeInForce::Fok && !fillable(&order, opposite, store) {
            order.remaining = 0;
            emit.cancelled(&order, order.quantity, CancelReason::Fok);
            return Ok(());
        }
        let end = match_order(&mut order, opposite, store, &mut emit);
        match leftover(&order, end) {
            Leftover::None => {}
            Leftover::Cancel(reason) => cancel_all(&mut order, reason, &mut emit),
            Leftover::Rest => {
                let slot = store.insert(order);
                own.push_back(store, slot);
            }
        }
        Ok(())
    }

    /// Cancels a resting order.
    pub fn cancel(
        &mut self,
        order_id: i64,
        timestamp: i64,
        out: &mut Vec<Event>,
    ) -> Result<(), BookError> {
        let slot = self.resting_slot(order_id)?;
        let mut order = self.take(slot);
        cancel_all(
            &mut order,
            CancelReason::User,
            &mut Emitter::new(&mut self.seq, timestamp, out),
        );
        Ok(())
    }

    /// Changes a resting order's price and/or open quantity (`quantity` is the new open
    /// quantity). A same-price reduction keeps priority; anything else re-enters the book as
    /// a fresh limit taker with the order's own id, owner, tif and self-trade mode.
    pub fn amend(
        &mut self,
        order_id: i64,
        price: i64,
        quantity: i64,
        timestamp: i64,
        out: &mut Vec<Event>,
    ) -> Result<(), BookError> {
        if quantity == 0 {
            return Err(BookError::AmendToZero { order_id });
        }
        self.check_quantity(quantity)?;
        self.check_price(price)?;
        let slot = self.resting_slot(order_id)?;

        let Book {
            bids,
            asks,
            store,
            seq,
            ..
        } = self;
        let current = *store.get(slot);
        let (own, opposite) = match current.side {
            Side::Buy => (bids, asks),
            Side::Sell => (asks, bids),
        };
        let mut emit = Emitter::new(seq, timestamp, out);

        if price == current.price && quantity <= current.remaining {
            let reduction = current.remaining - quantity;
            own.level_mut(price).total -= reduction;
            let order = store.get_mut(slot);
            order.quantity -= reduction;
            order.remaining = quantity;
            emit.amended(order, AmendKind::PriorityKept);
            return Ok(());
        }

        let mut order = Order {
            price,
            quantity: current.quantity + (quantity - current.remaining),
            remaining: quantity,
            timestamp,
            ..current
        };
        if order.post_only && would_cross(&order, opposite) {
            emit.rejected(&current, price, quantity);
            return Ok(());
        }
        // The order keeps its slot (and so its place in the id and DAY indexes) while it
        // matches out of any level; it is relinked at the back or freed afterwards.
        own.unlink(store, slot);
        emit.amended(&order, AmendKind::PriorityLost);
        let end = match_order(&mut order, opposite, store, &mut emit);
        match leftover(&order, end) {
            Leftover::Rest => {
                *store.get_mut(slot) = order;
                own.push_back(store, slot);
            }
            fate => {
                store.remove(slot);
                if let Leftover::Cancel(reason) = fate {
                    cancel_all(&mut order, reason, &mut emit);
                }
            }
        }
        Ok(())
    }

    /// Cancels every resting DAY order, in ascending order id.
    pub fn end_session(&mut self, timestamp: i64, out: &mut Vec<Event>) {
        for order_id in self.store.take_day_ids() {
            // Ids of DAY orders that already left the book are skipped.
            if let Some(slot) = self.store.slot_of(order_id) {
                let mut order = self.take(slot);
                cancel_all(
                    &mut order,
                    CancelReason::SessionEnd,
                    &mut Emitter::new(&mut self.seq, timestamp, out),
                );
            }
        }
        debug_assert_eq!(self.store.day().live(), 0);
    }

    /// Unlinks and frees a resting order, returning it.
    fn take(&mut self, slot: SlotId) -> Order {
        match self.store.get(slot).side {
            Side::Buy => self.bids.unlink(&mut self.store, slot),
            Side::Sell => self.asks.unlink(&mut self.store, slot),
        }
        self.store.remove(slot)
    }

    fn resting_slot(&self, order_id: i64) -> Result<SlotId, BookError> {
        self.store
            .slot_of(order_id)
            .ok_or(BookError::UnknownOrder { order_id })
    }

    /// Submit validation, first failing check wins (the order of the specification).
    fn check_new(
        &self,
        request: &NewOrder,
    ) -> Result<(Side, OrderType, TimeInForce, StpMode), BookError> {
        let side =
            Side::from_code(request.side).ok_or(BookError::InvalidSide { side: request.side })?;
        let order_type =
            OrderType::from_code(request.order_type).ok_or(BookError::InvalidOrderType {
                order_type: request.order_type,
            })?;
        let tif = TimeInForce::from_code(request.tif)
            .ok_or(BookError::InvalidTimeInForce { tif: request.tif })?;
        let stp = StpMode::from_code(request.stp)
            .ok_or(BookError::InvalidStpMode { stp: request.stp })?;
        self.check_quantity(request.quantity)?;
        match order_type {
            OrderType::Market if request.price != 0 => {
                return Err(BookError::MarketOrderWithPrice {
                    price: request.price,
                })
            }
            OrderType::Market if request.post_only => return Err(BookError::PostOnlyMarketOrder),
            OrderType::Market => {}
            OrderType::Limit => self.check_price(request.price)?,
        }
        Ok((side, order_type, tif, stp))
    }

    fn check_quantity(&self, quantity: i64) -> Result<(), BookError> {
        if quantity <= 0 {
            Err(BookError::NonPositiveQuantity { quantity })
        } else if quantity > MAX_QUANTITY {
            Err(BookError::QuantityTooLarge { quantity })
        } else if quantity % self.lot_size != 0 {
            Err(BookError::QuantityOffLot {
                quantity,
                lot_size: self.lot_size,
            })
        } else {
            Ok(())
        }
    }

    fn check_price(&self, price: i64) -> Result<(), BookError> {
        if price <= 0 {
            Err(BookError::NonPositivePrice { price })
        } else if price > MAX_PRICE {
            Err(BookError::PriceTooLarge { price })
        } else if price % self.tick_size != 0 {
            Err(BookError::PriceOffTick {
                price,
                tick_size: self.tick_size,
            })
        } else {
            Ok(())
        }
    }
}

/// Queries.
impl Book {
    pub fn tick_size(&self) -> i64 {
        self.tick_size
    }

    pub fn lot_size(&self) -> i64 {
        self.lot_size
    }

    /// Sequence number of the last emitted event (0 before the first).
    pub fn sequence(&self) -> i64 {
        self.seq
    }

    /// The id the next accepted or rejected submit will get.
    pub fn next_order_id(&self) -> i64 {
        self.next_order_id
    }

    /// Number of resting orders.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    /// `(price, total open quantity)` of the best bid.
    pub fn best_bid(&self) -> Option<(i64, i64)> {
        self.bids.best().map(|(price, level)| (price, level.total))
    }

    /// `(price, total open quantity)` of the best ask.
    pub fn best_ask(&self) -> Option<(i64, i64)> {
        self.asks.best().map(|(price, level)| (price, level.total))
    }

    /// Up to `levels` levels per side, best first: `(bids, asks)`. `levels <= 0` gives none.
    pub fn depth(&self, levels: i64) -> (Vec<DepthLevel>, Vec<DepthLevel>) {
        let take = usize::try_from(levels).unwrap_or(0);
        let summarise = |side: &BookSide| {
            side.levels()
                .take(take)
                .map(|(price, level)| DepthLevel {
                    price,
                    quantity: level.total,
                    count: i64::from(level.count),
                })
                .collect()
        };
        (summarise(&self.bids), summarise(&self.asks))
    }

    /// A snapshot of a resting order.
    pub fn get_order(&self, order_id: i64) -> Option<Order> {
        self.store
            .slot_of(order_id)
            .map(|slot| *self.store.get(slot))
    }

    /// Resting orders of one side in priority order: best price first, then time.
    pub fn side_orders(&self, side: Side) -> impl Iterator<Item = &Order> + '_ {
        let book_side = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        book_side
            .levels()
            .flat_map(move |(_, level)| self.store.queue(level).map(|(_, order)| order))
    }

    /// Every resting order, `(bids, asks)`, each in priority order.
    pub fn orders(&self) -> (Vec<Order>, Vec<Order>) {
        (
            self.side_orders(Side::Buy).copied().collect(),
            self.side_orders(Side::Sell).copied().collect(),
        )
    }

    pub(crate) fn parts(&self) -> (&BookSide, &BookSide, &OrderStore) {
        (&self.bids, &self.asks, &self.store)
    }
}

/// What step 6 of submit does with a taker's open quantity after matching.
enum Leftover {
    /// Fully filled: nothing to do.
    None,
    Cancel(CancelReason),
    /// A GTC or DAY limit order rests at the back of its level.
    Rest,
}

fn leftover(order: &Order, end: MatchEnd) -> Leftover {
    if order.remaining == 0 {
        return Leftover::None;
    }
    if end == MatchEnd::StoppedBySelfTrade {
        return Leftover::Cancel(CancelReason::Stp);
    }
    if order.order_type == OrderType::Market {
        return Leftover::Cancel(CancelReason::NoLiquidity);
    }
    match order.tif {
        TimeInForce::Gtc | TimeInForce::Day => Leftover::Rest,
        TimeInForce::Ioc => Leftover::Cancel(CancelReason::IocRemainder),
        // Unreachable in practice: a FOK order that passed `fillable` fills completely.
        TimeInForce::Fok => Leftover::Cancel(CancelReason::Fok),
    }
}

/// Cancels all of an order's open quantity (the order is already out of the book).
fn cancel_all(order: &mut Order, reason: CancelReason, emit: &mut Emitter<'_>) {
    let open = order.remaining;
    order.remaining = 0;
    emit.cancelled(order, open, reason);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn book_with_orders() -> Book {
        let mut book = Book::new(1, 1).unwrap();
        let mut events = Vec::new();
        for order in [
            NewOrder::limit(1, Side::Buy, 100, 5),
            NewOrder::limit(2, Side::Buy, 100, 5).tif(TimeInForce::Day),
            NewOrder::limit(3, Side::Sell, 101, 5),
        ] {
            book.submit(&order, &mut events).unwrap();
        }
        book.validate().unwrap();
        book
    }

    fn assert_broken(book: &Book, needle: &str) {
        let error = book.validate().unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvariantViolation);
        assert!(error.to_string().contains(needle), "{error}");
    }

    #[test]
    fn validate_detects_a_wrong_level_total() {
        let mut book = book_with_orders();
        book.bids.level_mut(100).total += 1;
        assert_broken(&book, "level 100 caches");
    }

    #[test]
    fn validate_detects_a_crossed_book() {
        let mut book = book_with_orders();
        let slot = book.store.slot_of(3).unwrap();
        book.asks.unlink(&mut book.store, slot);
        book.store.get_mut(slot).price = 99;
        book.asks.push_back(&mut book.store, slot);
        assert_broken(&book, "crossed");
    }

    #[test]
    fn validate_detects_an_order_on_the_wrong_side_or_price() {
        let mut book = book_with_orders();
        let slot = book.store.slot_of(1).unwrap();
        book.store.get_mut(slot).price = 98;
        assert_broken(&book, "sits in the BUY level 100");
    }

    #[test]
    fn validate_detects_an_order_missing_from_the_id_index() {
        let mut book = book_with_orders();
        let slot = book.store.slot_of(3).unwrap();
        book.asks.unlink(&mut book.store, slot);
        assert_broken(&book, "index");
    }

    #[test]
    fn validate_detects_a_day_order_the_day_index_lost() {
        let mut book = book_with_orders();
        let slot = book.store.slot_of(1).unwrap();
        book.store.get_mut(slot).tif = TimeInForce::Day;
        assert_broken(&book, "DAY");
    }
}
