//! The book's vocabulary: integer-coded enums, order requests, resting orders and commands.
//!
//! Codes are part of the contract shared with the Python backend and the wire format
//! (see `core_rs/README.md`), so every enum carries its explicit `i64` value.

/// Declares a `Copy` enum whose variants map one-to-one onto fixed integer codes.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $code),+
        }

        impl $name {
            /// The contract's integer code.
            #[inline]
            pub const fn code(self) -> i64 {
                self as i64
            }

            /// The variant with this code, if any.
            #[inline]
            pub const fn from_code(code: i64) -> Option<Self> {
                match code {
                    $($code => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The upper-case name used by the Python constants (`"BUY"`, `"IOC"`, ...).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $label),+
                }
            }
        }
    };
}

code_enum!(
    /// Which side of the book an order is on.
    Side { Buy = 1 => "BUY", Sell = 2 => "SELL" }
);

impl Side {
    /// The side an order of this side trades against.
    #[inline]
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

code_enum!(
    /// Whether an order carries a limit price.
    OrderType { Limit = 1 => "LIMIT", Market = 2 => "MARKET" }
);

code_enum!(
    /// How long an order may stay in the book.
    TimeInForce {
        /// Rests until filled or cancelled.
        Gtc = 1 => "GTC",
        /// Trades what it can at once; the rest is cancelled.
        Ioc = 2 => "IOC",
        /// Trades its whole quantity at once or nothing at all.
        Fok = 3 => "FOK",
        /// Like GTC, but cancelled by `end_session`.
        Day = 4 => "DAY",
    }
);

code_enum!(
    /// Self-trade prevention: what happens when a taker meets a resting order of its own owner.
    StpMode {
        CancelNewest = 1 => "CANCEL_NEWEST",
        CancelOldest = 2 => "CANCEL_OLDEST",
        CancelBoth = 3 => "CANCEL_BOTH",
        DecrementAndCancel = 4 => "DECREMENT_AND_CANCEL",
    }
);

code_enum!(
    /// What an [`Event`](crate::Event) reports.
    EventKind {
        /// Only in the compact batch output: the command failed validation.
        Error = 0 => "ERROR",
        Accepted = 1 => "ACCEPTED",
        Trade = 2 => "TRADE",
        Cancelled = 3 => "CANCELLED",
        Rejected = 4 => "REJECTED",
        Amended = 5 => "AMENDED",
    }
);

code_enum!(
    /// Why a `CANCELLED` event happened.
    CancelReason {
        User = 1 => "USER",
        IocRemainder = 2 => "IOC_REMAINDER",
        Fok = 3 => "FOK",
        Stp = 4 => "STP",
        SessionEnd = 5 => "SESSION_END",
        NoLiquidity = 6 => "NO_LIQUIDITY",
    }
);

code_enum!(
    /// Why a `REJECTED` event happened.
    RejectReason { PostOnlyWouldCross = 1 => "POST_ONLY_WOULD_CROSS" }
);

code_enum!(
    /// Whether an `AMENDED` order kept its place in the queue.
    AmendKind { PriorityKept = 1 => "PRIORITY_KEPT", PriorityLost = 2 => "PRIORITY_LOST" }
);

code_enum!(
    /// The `kind` word of a compact command record.
    CommandKind { Submit = 1 => "SUBMIT", Cancel = 2 => "CANCEL", Amend = 3 => "AMEND", EndSession = 4 => "END_SESSION" }
);

/// Largest accepted price (10^12 smallest price units).
pub const MAX_PRICE: i64 = 1_000_000_000_000;
/// Largest accepted quantity (10^12 units).
pub const MAX_QUANTITY: i64 = 1_000_000_000_000;

/// A submit request exactly as it arrives from Python or the wire.
///
/// The enum fields stay raw `i64` codes on purpose: `Book::submit` validates them in the
/// specification's order, so an invalid side is reported before an invalid quantity.
/// The builder methods give typed callers (tests, benches) a readable way to fill it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub owner: i64,
    pub side: i64,
    /// Limit price; must be 0 for a market order.
    pub price: i64,
    pub quantity: i64,
    pub order_type: i64,
    pub tif: i64,
    pub post_only: bool,
    pub stp: i64,
    /// Command time in nanoseconds; the engine never reads a clock.
    pub timestamp: i64,
}

impl NewOrder {
    /// A GTC limit order with the default self-trade prevention (cancel newest).
    pub const fn limit(owner: i64, side: Side, price: i64, quantity: i64) -> Self {
        NewOrder {
            owner,
            side: side.code(),
            price,
            quantity,
            order_type: OrderType::Limit.code(),
            tif: TimeInForce::Gtc.code(),
            post_only: false,
            stp: StpMode::CancelNewest.code(),
            timestamp: 0,
        }
    }

    /// A market order (price 0) that cancels whatever it cannot fill at once.
    pub const fn market(owner: i64, side: Side, quantity: i64) -> Self {
        NewOrder {
            price: 0,
            order_type: OrderType::Market.code(),
            ..NewOrder::limit(owner, side, 0, quantity)
        }
    }

    /// Sets the time in force.
    pub const fn tif(mut self, tif: TimeInForce) -> Self {
        self.tif = tif.code();
        self
    }

    /// Sets the self-trade prevention mode.
    pub const fn stp(mut self, stp: StpMode) -> Self {
        self.stp = stp.code();
        self
    }

    /// Makes the order post-only (it must not take liquidity).
    pub const fn post_only(mut self) -> Self {
        self.post_only = true;
        self
    }

    /// Sets the command timestamp.
    pub const fn at(mut self, timestamp: i64) -> Self {
        self.timestamp = timestamp;
        self
    }
}

/// A snapshot of an order, as it rests in the book (or as it is while it takes liquidity).
///
/// `quantity` is the order's total size (traded + cancelled + open); `remaining` is its
/// open quantity. `timestamp` is its priority time: the command that last placed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Order {
    pub order_id: i64,
    pub owner: i64,
    pub side: Side,
    pub price: i64,
    pub quantity: i64,
    pub remaining: i64,
    pub order_type: OrderType,
    pub tif: TimeInForce,
    pub post_only: bool,
    pub stp: StpMode,
    pub timestamp: i64,
}

impl Order {
    /// The eleven fields as integers, in the contract's `astuple()` order (used by the state hash).
    pub const fn words(&self) -> [i64; 11] {
        [
            self.order_id,
            self.owner,
            self.side.code(),
            self.price,
            self.quantity,
            self.remaining,
            self.order_type.code(),
            self.tif.code(),
            self.post_only as i64,
            self.stp.code(),
            self.timestamp,
        ]
    }
}

/// One book command, the unit of `Book::apply` and of the compact batch format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Submit(NewOrder),
    Cancel {
        order_id: i64,
        timestamp: i64,
    },
    /// `quantity` is the new open quantity.
    Amend {
        order_id: i64,
        price: i64,
        quantity: i64,
        timestamp: i64,
    },
    EndSession {
        timestamp: i64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in 0..=6 {
            if let Some(kind) = EventKind::from_code(code) {
                assert_eq!(kind.code(), code);
            }
        }
        assert_eq!(Side::from_code(2), Some(Side::Sell));
        assert_eq!(Side::from_code(0), None);
        assert_eq!(TimeInForce::from_code(4), Some(TimeInForce::Day));
        assert_eq!(TimeInForce::from_code(5), None);
        assert_eq!(StpMode::DecrementAndCancel.name(), "DECREMENT_AND_CANCEL");
        assert_eq!(Side::Buy.opposite(), Side::Sell);
    }

    #[test]
    fn builders_set_codes() {
        let order = NewOrder::market(7, Side::Sell, 5)
            .tif(TimeInForce::Ioc)
            .stp(StpMode::CancelBoth)
            .at(9);
        assert_eq!(
            (
                order.order_type,
                order.tif,
                order.stp,
                order.price,
                order.timestamp
            ),
            (2, 2, 3, 0, 9)
        );
        assert!(NewOrder::limit(1, Side::Buy, 10, 1).post_only().post_only);
    }
}
