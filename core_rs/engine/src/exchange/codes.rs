//! The exchange layer's integer codes (codes.py): the values equal the proto enums of the
//! same names, and `name()` gives the Python member name that messages quote.

code_enum!(
    /// Why a command was refused. 1..=17 are order rejections; 101 and 102 refuse other
    /// commands.
    RejectCode {
        InvalidArgument = 1 => "INVALID_ARGUMENT",
        UnknownSymbol = 2 => "UNKNOWN_SYMBOL",
        TradingHalted = 3 => "TRADING_HALTED",
        PriceOffTick = 4 => "PRICE_OFF_TICK",
        QuantityOffLot = 5 => "QUANTITY_OFF_LOT",
        PriceOutsideBand = 6 => "PRICE_OUTSIDE_BAND",
        QuantityTooLarge = 7 => "QUANTITY_TOO_LARGE",
        NotionalTooLarge = 8 => "NOTIONAL_TOO_LARGE",
        InsufficientBuyingPower = 9 => "INSUFFICIENT_BUYING_POWER",
        InsufficientShares = 10 => "INSUFFICIENT_SHARES",
        DuplicateClientOrderId = 11 => "DUPLICATE_CLIENT_ORDER_ID",
        UnknownOrder = 12 => "UNKNOWN_ORDER",
        OrderNotOpen = 13 => "ORDER_NOT_OPEN",
        RateLimited = 14 => "RATE_LIMITED",
        PostOnlyWouldCross = 15 => "POST_ONLY_WOULD_CROSS",
        PermissionDenied = 16 => "PERMISSION_DENIED",
        /// The journal cannot commit; the command changed nothing.
        Unavailable = 17 => "UNAVAILABLE",
        UnknownAccount = 101 => "UNKNOWN_ACCOUNT",
        AlreadyExists = 102 => "ALREADY_EXISTS",
    }
);

code_enum!(
    /// What an execution report reports.
    ExecType {
        New = 1 => "NEW",
        Trade = 2 => "TRADE",
        Canceled = 3 => "CANCELED",
        Replaced = 4 => "REPLACED",
        Rejected = 5 => "REJECTED",
        Expired = 6 => "EXPIRED",
    }
);

code_enum!(
    /// Where an order stands.
    OrderStatus {
        New = 1 => "NEW",
        PartiallyFilled = 2 => "PARTIALLY_FILLED",
        Filled = 3 => "FILLED",
        Canceled = 4 => "CANCELED",
        Rejected = 5 => "REJECTED",
        Expired = 6 => "EXPIRED",
    }
);

impl OrderStatus {
    /// NEW or PARTIALLY_FILLED: the order rests (or may still trade) and holds escrow.
    #[inline]
    pub const fn is_open(self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::PartiallyFilled)
    }
}

code_enum!(
    /// Which side of a trade a fill was on.
    Liquidity { Maker = 1 => "MAKER", Taker = 2 => "TAKER" }
);

code_enum!(
    /// Whether an instrument trades.
    TradingStatus {
        Trading = 1 => "TRADING",
        Halted = 2 => "HALTED",
        /// Removed by the operator: never trades again (RemoveInstrument).
        Delisted = 3 => "DELISTED",
    }
);

code_enum!(
    /// What an AdjustBalance does: pay in (positive only) or correct (either sign).
    BalanceChange { Deposit = 1 => "DEPOSIT", Adjustment = 2 => "ADJUSTMENT" }
);
