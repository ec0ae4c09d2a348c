//! Tradepit's limit order book, in pure Rust.
//!
//! This crate implements the specification in `core_rs/README.md`: price-time priority,
//! trades at the maker's price, IOC / FOK / DAY orders, post-only, four self-trade prevention
//! modes, amend with priority rules, a gapless event sequence, a state hash and the compact
//! batch format. The Python binding (`core_rs/python`) only converts; the pure-Python backend
//! implements the same contract and is compared against this one event for event.
//! The [`exchange`] module builds the exchange on the book: accounts, escrow, pre-trade
//! checks and settlement, ported from the Python reference exchange.
//! The [`mirror`] module rebuilds a book from its events alone, as market data publishes it.
//!
//! ```
//! use tradepit_engine::{Book, EventKind, NewOrder, Side};
//!
//! let mut book = Book::new(1, 1).unwrap();
//! let mut events = Vec::new();
//! book.submit(&NewOrder::limit(1, Side::Sell, 101, 10), &mut events).unwrap();
//! book.submit(&NewOrder::limit(2, Side::Buy, 101, 4), &mut events).unwrap();
//! assert_eq!(events.last().unwrap().kind, EventKind::Trade);
//! assert_eq!(book.best_ask(), Some((101, 6)));
//! ```

#[macro_use]
mod types;

mod book;
pub mod codec;
mod day;
mod error;
mod event;
pub mod exchange;
mod hash;
mod id_hash;
mod invariants;
mod matching;
pub mod mirror;
mod side;
mod snapshot;
mod store;

pub use book::{Book, DepthLevel};
pub use error::{BookError, ErrorCode};
pub use event::Event;
pub use snapshot::SNAPSHOT_VERSION;
pub use types::{
    AmendKind, CancelReason, Command, CommandKind, EventKind, NewOrder, Order, OrderType,
    RejectReason, Side, StpMode, TimeInForce, MAX_PRICE, MAX_QUANTITY,
};
