//! Differential test against an intentionally naive model of the specification (a flat list
//! of orders, re-sorted on every step), on seeded random command streams; plus determinism.
//!
//! The model shares no data structure with the engine, so slab, queue, level-total and
//! DAY-index bugs show up as a diverging event or order list.

use tradepit_engine::{
    AmendKind, Book, BookError, CancelReason, Command, Event, EventKind, NewOrder, Order,
    OrderType, RejectReason, Side, StpMode, TimeInForce, MAX_PRICE, MAX_QUANTITY,
};

/// A resting order and its arrival rank (lower = earlier in its level's queue).
#[derive(Clone, Copy)]
struct Resting {
    order: Order,
    rank: u64,
}

struct Model {
    tick: i64,
    lot: i64,
    seq: i64,
    next_id: i64,
    next_rank: u64,
    resting: Vec<Resting>,
    events: Vec<Event>,
    timestamp: i64,
}

impl Model {
    fn new(tick: i64, lot: i64) -> Self {
        Model {
            tick,
            lot,
            seq: 0,
            next_id: 1,
            next_rank: 0,
            resting: Vec::new(),
            events: Vec::new(),
            timestamp: 0,
        }
    }

    fn apply(&mut self, command: &Command) -> Result<Vec<Event>, BookError> {
        self.events.clear();
        match *command {
            Command::Submit(order) => {
                self.timestamp = order.timestamp;
                self.submit(order)?;
            }
            Command::Cancel {
                order_id,
                timestamp,
            } => {
                self.timestamp = timestamp;
                let mut order = self.take(order_id)?;
                self.cancel_open(&mut order, CancelReason::User);
            }
            Command::Amend {
                order_id,
                price,
                quantity,
                timestamp,
            } => {
                self.timestamp = timestamp;
                self.amend(order_id, price, quantity)?;
            }
            Command::EndSession { timestamp } => {
                self.timestamp = timestamp;
                let mut day: Vec<i64> = self
                    .resting
                    .iter()
                    .filter(|r| r.order.tif == TimeInForce::Day)
                    .map(|r| r.order.order_id)
                    .collect();
                day.sort_unstable();
                for id in day {
                    let mut order = self.take(id).unwrap();
                    self.cancel_open(&mut order, CancelReason::SessionEnd);
                }
            }
        }
        Ok(std::mem::take(&mut self.events))
    }

    fn check_quantity(&self, quantity: i64) -> Result<(), BookError> {
        if quantity <= 0 {
            return Err(BookError::NonPositiveQuantity { quantity });
        }
        if quantity > MAX_QUANTITY {
            return Err(BookError::QuantityTooLarge { quantity });
        }
        if quantity % self.lot != 0 {
            return Err(BookError::QuantityOffLot {
                quantity,
                lot_size: self.lot,
            });
        }
        Ok(())
    }

    fn check_price(&self, price: i64) -> Result<(), BookError> {
        if price <= 0 {
            return Err(BookError::NonPositivePrice { price });
        }
        if price > MAX_PRICE {
            return Err(BookError::PriceTooLarge { price });
        }
        if price % self.tick != 0 {
            return Err(BookError::PriceOffTick {
                price,
                tick_size: self.tick,
            });
        }
        Ok(())
    }

    fn submit(&mut self, r: NewOrder) -> Result<(), BookError> {
        let side = Side::from_code(r.side).ok_or(BookError::InvalidSide { side: r.side })?;
        let order_type = OrderType::from_code(r.order_type).ok_or(BookError::InvalidOrderType {
            order_type: r.order_type,
        })?;
        let tif =
            TimeInForce::from_code(r.tif).ok_or(BookError::InvalidTimeInForce { tif: r.tif })?;
        let stp = StpMode::from_code(r.stp).ok_or(BookError::InvalidStpMode { stp: r.stp })?;
        self.check_quantity(r.quantity)?;
        if order_type == OrderType::Market {
            if r.price != 0 {
                return Err(BookError::MarketOrderWithPrice { price: r.price });
            }
            if r.post_only {
                return Err(BookError::PostOnlyMarketOrder);
            }
        } else {
            self.check_price(r.price)?;
        }
        let mut order = Order {
            order_id: self.next_id,
            owner: r.owner,
            side,
            price: r.price,
            quantity: r.quantity,
            remaining: r.quantity,
            order_type,
            tif,
            post_only: r.post_only,
            stp,
            timestamp: r.timestamp,
        };
        self.next_id += 1;
        if order.post_only && self.would_cross(&order) {
            order.remaining = 0;
            self.emit(
                EventKind::Rejected,
                &order,
                order.price,
                order.quantity,
                RejectReason::PostOnlyWouldCross.code(),
            );
            return Ok(());
        }
        self.emit(EventKind::Accepted, &order, order.price, order.quantity, 0);
        if tif == TimeInForce::Fok && !self.fillable(&order) {
            order.remaining = 0;
            self.emit(
                EventKind::Cancelled,
                &order,
                order.price,
                order.quantity,
                CancelReason::Fok.code(),
            );
            return Ok(());
        }
        let stopped = self.match_order(&mut order);
        self.finish(order, stopped);
        Ok(())
    }

    fn amend(&mut self, id: i64, price: i64, quantity: i64) -> Result<(), BookError> {
        if quantity == 0 {
            return Err(BookError::AmendToZero { order_id: id });
        }
        self.check_quantity(quantity)?;
        self.check_price(price)?;
        let at = self
            .resting
            .iter()
            .position(|r| r.order.order_id == id)
            .ok_or(BookError::UnknownOrder { order_id: id })?;
        let current = self.resting[at].order;
        if price == current.price && quantity <= current.remaining {
            let order = &mut self.resting[at].order;
            order.quantity -= current.remaining - quantity;
            order.remaining = quantity;
            let order = *order;
            self.emit(
                EventKind::Amended,
                &order,
                order.price,
                order.quantity,
                AmendKind::PriorityKept.code(),
            );
            return Ok(());
        }
        let mut order = current;
        order.quantity += quantity - current.remaining;
        order.price = price;
        order.remaining = quantity;
        order.timestamp = self.timestamp;
        if order.post_only && self.would_cross(&order) {
            self.emit(
                EventKind::Rejected,
                &current,
                price,
                quantity,
                RejectReason::PostOnlyWouldCross.code(),
            );
            return Ok(());
        }
        self.resting.remove(at);
        self.emit(
            EventKind::Amended,
            &order,
            order.price,
            order.quantity,
            AmendKind::PriorityLost.code(),
        );
        let stopped = self.match_order(&mut order);
        self.finish(order, stopped);
        Ok(())
    }

    fn finish(&mut self, mut order: Order, stopped: bool) {
        if order.remaining == 0 {
            return;
        }
        let reason = if stopped {
            CancelReason::Stp
        } else if order.order_type == OrderType::Market {
            CancelReason::NoLiquidity
        } else if order.tif == TimeInForce::Ioc {
            CancelReason::IocRemainder
        } else {
            assert_ne!(order.tif, TimeInForce::Fok, "a fillable FOK fills");
            self.resting.push(Resting {
                order,
                rank: self.next_rank,
            });
            self.next_rank += 1;
            return;
        };
        self.cancel_open(&mut order, reason);
    }

    fn crosses(taker: &Order, price: i64) -> bool {
        match (taker.order_type, taker.side) {
            (OrderType::Market, _) => true,
            (_, Side::Buy) => price <= taker.price,
            (_, Side::Sell) => price >= taker.price,
        }
    }

    /// Indices of one side's resting orders, in priority order.
    fn queue(&self, side: Side) -> Vec<usize> {
        let mut at: Vec<usize> = (0..self.resting.len())
            .filter(|&i| self.resting[i].order.side == side)
            .collect();
        at.sort_by_key(|&i| {
            let r = &self.resting[i];
            let key = if side == Side::Buy {
                -r.order.price
            } else {
                r.order.price
            };
            (key, r.rank)
        });
        at
    }

    fn would_cross(&self, order: &Order) -> bool {
        self.queue(order.side.opposite())
            .first()
            .is_some_and(|&i| Self::crosses(order, self.resting[i].order.price))
    }

    fn fillable(&self, taker: &Order) -> bool {
        let mut sum = 0;
        for i in self.queue(taker.side.opposite()) {
            let maker = self.resting[i].order;
            if !Self::crosses(taker, maker.price) {
                break;
            }
            if maker.owner == taker.owner {
                if taker.stp == StpMode::CancelOldest {
                    continue;
                }
                break;
            }
            sum += maker.remaining;
        }
        sum >= taker.quantity
    }

    /// Returns whether self-trade prevention stopped matching.
    fn match_order(&mut self, taker: &mut Order) -> bool {
        while taker.remaining > 0 {
            let Some(&i) = self.queue(taker.side.opposite()).first() else {
                return false;
            };
            let mut maker = self.resting[i].order;
            if !Self::crosses(taker, maker.price) {
                return false;
            }
            if maker.owner != taker.owner {
                let q = taker.remaining.min(maker.remaining);
                taker.remaining -= q;
                maker.remaining -= q;
                self.seq += 1;
                self.events.push(Event {
                    kind: EventKind::Trade,
                    seq: self.seq,
                    timestamp: self.timestamp,
                    order_id: taker.order_id,
                    owner: taker.owner,
                    side: taker.side,
                    price: maker.price,
                    quantity: q,
                    remaining: taker.remaining,
                    reason: 0,
                    maker_id: maker.order_id,
                    maker_owner: maker.owner,
                    maker_remaining: maker.remaining,
                });
                self.store_maker(i, maker);
                continue;
            }
            match taker.stp {
                StpMode::CancelNewest => return true,
                StpMode::CancelOldest | StpMode::CancelBoth => {
                    self.resting.remove(i);
                    self.cancel_open(&mut maker, CancelReason::Stp);
                    if taker.stp == StpMode::CancelBoth {
                        return true;
                    }
                }
                StpMode::DecrementAndCancel => {
                    let d = taker.remaining.min(maker.remaining);
                    maker.remaining -= d;
                    self.emit(
                        EventKind::Cancelled,
                        &maker,
                        maker.price,
                        d,
                        CancelReason::Stp.code(),
                    );
                    self.store_maker(i, maker);
                    taker.remaining -= d;
                    let t = *taker;
                    self.emit(
                        EventKind::Cancelled,
                        &t,
                        t.price,
                        d,
                        CancelReason::Stp.code(),
                    );
                }
            }
        }
        false
    }

    fn store_maker(&mut self, i: usize, maker: Order) {
        if maker.remaining == 0 {
            self.resting.remove(i);
        } else {
            self.resting[i].order = maker;
        }
    }

    fn take(&mut self, id: i64) -> Result<Order, BookError> {
        let at = self
            .resting
            .iter()
            .position(|r| r.order.order_id == id)
            .ok_or(BookError::UnknownOrder { order_id: id })?;
        Ok(self.resting.remove(at).order)
    }

    fn cancel_open(&mut self, order: &mut Order, reason: CancelReason) {
        let open = order.remaining;
        order.remaining = 0;
        let o = *order;
        self.emit(EventKind::Cancelled, &o, o.price, open, reason.code());
    }

    fn emit(&mut self, kind: EventKind, order: &Order, price: i64, quantity: i64, reason: i64) {
        self.seq += 1;
        self.events.push(Event {
            kind,
            seq: self.seq,
            timestamp: self.timestamp,
            order_id: order.order_id,
            owner: order.owner,
            side: order.side,
            price,
            quantity,
            remaining: order.remaining,
            reason,
            maker_id: 0,
            maker_owner: 0,
            maker_remaining: 0,
        });
    }

    fn orders(&self) -> (Vec<Order>, Vec<Order>) {
        let list = |side| {
            self.queue(side)
                .into_iter()
                .map(|i| self.resting[i].order)
                .collect()
        };
        (list(Side::Buy), list(Side::Sell))
    }
}

/// xorshift64*: a tiny deterministic generator, so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A command stream dense in crossings, self-trades, amends and mistakes. A scratch book
/// runs alongside so that most cancels and amends aim at orders that are really resting.
fn random_commands(seed: u64, count: usize, tick: i64, lot: i64) -> Vec<Command> {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut scratch = Book::new(tick, lot).unwrap();
    let mut events = Vec::new();
    let mut commands = Vec::with_capacity(count);
    for step in 0..count {
        let timestamp = step as i64 * 10 + rng.below(10);
        // Buys mostly below sells, overlapping a little: deep books that still cross.
        let price =
            |rng: &mut Rng, side: i64| (if side == 1 { 88 } else { 98 } + rng.below(15)) * tick;
        let (bids, asks) = scratch.orders();
        let resting: Vec<Order> = bids.into_iter().chain(asks).collect();
        let target = |rng: &mut Rng| {
            if resting.is_empty() || rng.chance(10) {
                rng.below(scratch.next_order_id() as u64 + 2)
            } else {
                resting[rng.below(resting.len() as u64) as usize].order_id
            }
        };
        let roll = rng.below(100);
        let command = if roll < 55 {
            let market = rng.chance(10);
            let side = 1 + rng.below(2);
            let mut order = NewOrder {
                owner: 1 + rng.below(4),
                side,
                price: if market { 0 } else { price(&mut rng, side) },
                quantity: (1 + rng.below(12)) * lot,
                order_type: if market { 2 } else { 1 },
                tif: [1, 1, 1, 2, 3, 4, 4][rng.below(7) as usize],
                post_only: !market && rng.chance(15),
                stp: 1 + rng.below(4),
                timestamp,
            };
            if rng.chance(4) {
                match rng.below(8) {
                    0 => order.side = rng.below(4),
                    1 => order.order_type = 3,
                    2 => order.tif = 5,
                    3 => order.stp = 0,
                    4 => order.quantity = -order.quantity,
                    5 => order.quantity += 1,
                    6 => order.price += 1,
                    _ => order.post_only = true,
                }
            }
            Command::Submit(order)
        } else if roll < 70 {
            Command::Cancel {
                order_id: target(&mut rng),
                timestamp,
            }
        } else if roll < 99 {
            let mut quantity = rng.below(12) * lot;
            if rng.chance(3) {
                quantity = -lot;
            }
            let order_id = target(&mut rng);
            let side = scratch.get_order(order_id).map_or(1, |o| o.side.code());
            let mut price = price(&mut rng, side);
            if rng.chance(40) {
                // Same price: a reduction keeps priority, an increase loses it.
                price = scratch.get_order(order_id).map_or(price, |o| o.price);
            }
            if rng.chance(2) {
                price += 1;
            }
            Command::Amend {
                order_id,
                price,
                quantity,
                timestamp,
            }
        } else {
            Command::EndSession { timestamp }
        };
        let _ = scratch.apply(&command, &mut events);
        commands.push(command);
    }
    commands
}

fn compare_with_model(seed: u64, tick: i64, lot: i64) {
    let mut book = Book::new(tick, lot).unwrap();
    let mut model = Model::new(tick, lot);
    let mut events = Vec::new();
    for (step, command) in random_commands(seed, 4000, tick, lot).iter().enumerate() {
        events.clear();
        let engine = book.apply(command, &mut events).map(|()| events.clone());
        let expected = model.apply(command);
        assert_eq!(engine, expected, "seed {seed} step {step}: {command:?}");
        assert_eq!(book.orders(), model.orders(), "seed {seed} step {step}");
        assert_eq!(book.sequence(), model.seq);
        assert_eq!(book.next_order_id(), model.next_id);
        book.validate()
            .unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
    }
}

#[test]
fn the_engine_matches_the_naive_model() {
    for seed in 1..=12 {
        compare_with_model(seed, 1, 1);
    }
}

#[test]
fn the_engine_matches_the_naive_model_with_coarse_ticks_and_lots() {
    for seed in 100..=104 {
        compare_with_model(seed, 5, 10);
    }
}

#[test]
fn the_same_commands_give_the_same_events_and_hash() {
    let commands = random_commands(7, 5000, 1, 1);
    let run = || {
        let mut book = Book::new(1, 1).unwrap();
        let mut events = Vec::new();
        let mut errors = Vec::new();
        for command in &commands {
            if let Err(error) = book.apply(command, &mut events) {
                errors.push(error);
            }
        }
        (events, errors, book.state_hash())
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.0.len() > 5000 && !first.1.is_empty());

    // And the batch path agrees with the one-at-a-time path.
    let mut book = Book::new(1, 1).unwrap();
    let bytes = tradepit_engine::codec::encode_commands(&commands);
    let output = tradepit_engine::codec::apply_batch(&mut book, &bytes).unwrap();
    let records = tradepit_engine::codec::decode_output(&output);
    let trades: Vec<_> = records
        .iter()
        .filter(|r| r.fields[0] != 0)
        .map(|r| r.fields)
        .collect();
    let expected: Vec<_> = first.0.iter().map(Event::words).collect();
    assert_eq!(trades, expected);
    assert_eq!(records.len() - trades.len(), first.1.len());
    assert_eq!(book.state_hash(), first.2);
}
