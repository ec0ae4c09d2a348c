//! What a command reports: flat, fixed-shape events stamped with the book's gapless sequence.

use crate::types::{AmendKind, CancelReason, EventKind, Order, RejectReason, Side};

/// One thing that happened in the book. Every event has the same thirteen fields; those that
/// do not apply to its kind are 0 (see the table in `core_rs/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Event {
    pub kind: EventKind,
    /// The book's sequence number: the previous event's plus one.
    pub seq: i64,
    /// The timestamp of the command that caused the event.
    pub timestamp: i64,
    /// The order the event is about (the taker, for a trade).
    pub order_id: i64,
    pub owner: i64,
    pub side: Side,
    pub price: i64,
    pub quantity: i64,
    /// Open quantity of `order_id` after the event.
    pub remaining: i64,
    /// A `CancelReason`, `RejectReason` or `AmendKind` code, depending on `kind`; 0 otherwise.
    pub reason: i64,
    pub maker_id: i64,
    pub maker_owner: i64,
    /// Open quantity of the maker after a trade.
    pub maker_remaining: i64,
}

impl Event {
    /// The thirteen fields as integers, in the contract's `astuple()` order.
    pub const fn words(&self) -> [i64; 13] {
        [
            self.kind.code(),
            self.seq,
            self.timestamp,
            self.order_id,
            self.owner,
            self.side.code(),
            self.price,
            self.quantity,
            self.remaining,
            self.reason,
            self.maker_id,
            self.maker_owner,
            self.maker_remaining,
        ]
    }
}

/// Appends one command's events, numbering them from the book's sequence.
///
/// Callers update an order *before* emitting about it, so `remaining` always reads the open
/// quantity after the event, as the contract requires.
pub(crate) struct Emitter<'a> {
    seq: &'a mut i64,
    timestamp: i64,
    out: &'a mut Vec<Event>,
}

impl<'a> Emitter<'a> {
    pub(crate) fn new(seq: &'a mut i64, timestamp: i64, out: &'a mut Vec<Event>) -> Self {
        Emitter {
            seq,
            timestamp,
            out,
        }
    }

    #[inline]
    fn push(&mut self, kind: EventKind, order: &Order, price: i64, quantity: i64, reason: i64) {
        *self.seq += 1;
        self.out.push(Event {
            kind,
            seq: *self.seq,
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

    #[inline]
    pub(crate) fn accepted(&mut self, order: &Order) {
        self.push(EventKind::Accepted, order, order.price, order.quantity, 0);
    }

    /// `taker` and `maker` already hold their open quantities after the trade.
    #[inline]
    pub(crate) fn trade(&mut self, taker: &Order, maker: &Order, quantity: i64) {
        self.push(EventKind::Trade, taker, maker.price, quantity, 0);
        let event = self.out.last_mut().expect("just pushed");
        event.maker_id = maker.order_id;
        event.maker_owner = maker.owner;
        event.maker_remaining = maker.remaining;
    }

    #[inline]
    pub(crate) fn cancelled(&mut self, order: &Order, quantity: i64, reason: CancelReason) {
        self.push(
            EventKind::Cancelled,
            order,
            order.price,
            quantity,
            reason.code(),
        );
    }

    /// `price` and `quantity` are the requested ones, which differ from the order's on amend.
    #[inline]
    pub(crate) fn rejected(&mut self, order: &Order, price: i64, quantity: i64) {
        self.push(
            EventKind::Rejected,
            order,
            price,
            quantity,
            RejectReason::PostOnlyWouldCross.code(),
        );
    }

    #[inline]
    pub(crate) fn amended(&mut self, order: &Order, kind: AmendKind) {
        self.push(
            EventKind::Amended,
            order,
            order.price,
            order.quantity,
            kind.code(),
        );
    }
}
