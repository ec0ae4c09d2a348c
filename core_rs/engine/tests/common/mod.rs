//! A test harness around `Book`: runs commands, checks the invariants every command must
//! keep, and renders events as short readable lines.
#![allow(dead_code)] // each test file uses a different subset

use tradepit_engine::{
    AmendKind, Book, BookError, CancelReason, Command, Event, EventKind, NewOrder, RejectReason,
    Side,
};

pub use Side::{Buy, Sell};

/// `(price, total open quantity, order count)`.
pub type Level = (i64, i64, i64);

/// A book plus the checks that must hold after every command.
pub struct Harness {
    pub book: Book,
}

impl Harness {
    /// Tick 1, lot 1.
    pub fn new() -> Self {
        Self::with(1, 1)
    }

    pub fn with(tick_size: i64, lot_size: i64) -> Self {
        Harness {
            book: Book::new(tick_size, lot_size).unwrap(),
        }
    }

    /// Applies a command. On success checks the gapless sequence, the command timestamp on
    /// every event, the field rules of each event kind and `validate()`. On failure checks
    /// that nothing changed at all.
    pub fn try_apply(&mut self, command: Command) -> Result<Vec<Event>, BookError> {
        let hash = self.book.state_hash();
        let sequence = self.book.sequence();
        let next_id = self.book.next_order_id();
        let mut events = Vec::new();
        let result = self.book.apply(&command, &mut events);
        match result {
            Ok(()) => {
                let timestamp = timestamp_of(&command);
                for (offset, event) in events.iter().enumerate() {
                    assert_eq!(event.seq, sequence + 1 + offset as i64, "gapless seq");
                    assert_eq!(event.timestamp, timestamp, "command timestamp");
                    check_fields(event);
                }
                assert_eq!(self.book.sequence(), sequence + events.len() as i64);
                self.book.validate().unwrap();
                Ok(events)
            }
            Err(error) => {
                assert!(events.is_empty(), "an error emits nothing");
                assert_eq!(self.book.state_hash(), hash, "an error changes nothing");
                assert_eq!(self.book.sequence(), sequence);
                assert_eq!(self.book.next_order_id(), next_id);
                self.book.validate().unwrap();
                Err(error)
            }
        }
    }

    pub fn apply(&mut self, command: Command) -> Vec<String> {
        self.try_apply(command).unwrap().iter().map(brief).collect()
    }

    pub fn submit(&mut self, order: NewOrder) -> Vec<String> {
        self.apply(Command::Submit(order))
    }

    pub fn try_submit(&mut self, order: NewOrder) -> Result<Vec<Event>, BookError> {
        self.try_apply(Command::Submit(order))
    }

    pub fn cancel(&mut self, order_id: i64) -> Vec<String> {
        self.apply(Command::Cancel {
            order_id,
            timestamp: 0,
        })
    }

    pub fn amend(&mut self, order_id: i64, price: i64, quantity: i64) -> Vec<String> {
        self.apply(amend(order_id, price, quantity))
    }

    pub fn end_session(&mut self) -> Vec<String> {
        self.apply(Command::EndSession { timestamp: 0 })
    }

    /// Rests a GTC limit order that must not trade; returns its id.
    pub fn rest(&mut self, owner: i64, side: Side, price: i64, quantity: i64) -> i64 {
        self.rest_order(NewOrder::limit(owner, side, price, quantity))
    }

    pub fn rest_order(&mut self, order: NewOrder) -> i64 {
        let id = self.book.next_order_id();
        let events = self.try_submit(order).unwrap();
        assert_eq!(events.len(), 1, "resting order should only be accepted");
        assert_eq!(events[0].kind, EventKind::Accepted);
        assert!(self.book.get_order(id).is_some());
        id
    }

    /// The book as `(price, quantity, count)` per level, bids then asks.
    pub fn depth(&self) -> (Vec<Level>, Vec<Level>) {
        let (bids, asks) = self.book.depth(i64::MAX);
        let plain = |levels: Vec<tradepit_engine::DepthLevel>| {
            levels
                .into_iter()
                .map(|l| (l.price, l.quantity, l.count))
                .collect()
        };
        (plain(bids), plain(asks))
    }

    /// Ids of resting orders per side, in priority order.
    pub fn queue(&self, side: Side) -> Vec<i64> {
        self.book.side_orders(side).map(|o| o.order_id).collect()
    }
}

pub fn amend(order_id: i64, price: i64, quantity: i64) -> Command {
    Command::Amend {
        order_id,
        price,
        quantity,
        timestamp: 0,
    }
}

fn timestamp_of(command: &Command) -> i64 {
    match *command {
        Command::Submit(order) => order.timestamp,
        Command::Cancel { timestamp, .. }
        | Command::Amend { timestamp, .. }
        | Command::EndSession { timestamp } => timestamp,
    }
}

/// Fields that do not apply to a kind must be 0.
fn check_fields(event: &Event) {
    let maker = (event.maker_id, event.maker_owner, event.maker_remaining);
    match event.kind {
        EventKind::Trade => assert_eq!(event.reason, 0),
        EventKind::Accepted => {
            assert_eq!(event.reason, 0);
            assert_eq!(maker, (0, 0, 0));
            assert_eq!(event.remaining, event.quantity);
        }
        EventKind::Cancelled | EventKind::Rejected | EventKind::Amended => {
            assert_ne!(event.reason, 0);
            assert_eq!(maker, (0, 0, 0));
        }
        EventKind::Error => panic!("ERROR events exist only in batch output"),
    }
    assert!(event.remaining >= 0 && event.quantity >= 0);
}

/// One line per event, e.g. `TRADE #2 o2 BUY 4@101 rem=0 maker=#1 o1 rem=6`.
pub fn brief(event: &Event) -> String {
    let head = format!(
        "{} #{} o{} {} {}@{} rem={}",
        event.kind.name(),
        event.order_id,
        event.owner,
        event.side.name(),
        event.quantity,
        event.price,
        event.remaining
    );
    let reason = event.reason;
    match event.kind {
        EventKind::Trade => format!(
            "{head} maker=#{} o{} rem={}",
            event.maker_id, event.maker_owner, event.maker_remaining
        ),
        EventKind::Cancelled => {
            format!("{head} {}", CancelReason::from_code(reason).unwrap().name())
        }
        EventKind::Rejected => {
            format!("{head} {}", RejectReason::from_code(reason).unwrap().name())
        }
        EventKind::Amended => format!("{head} {}", AmendKind::from_code(reason).unwrap().name()),
        _ => head,
    }
}
