"""The integer codes shared by both book backends, the wire format and the server.

Values are part of the contract (see core_rs/README.md): never renumber them.
"""

from enum import IntEnum

MAX_PRICE = 1_000_000_000_000
MAX_QUANTITY = 1_000_000_000_000


class Side(IntEnum):
    BUY = 1
    SELL = 2


class OrderType(IntEnum):
    LIMIT = 1
    MARKET = 2


class TimeInForce(IntEnum):
    GTC = 1
    IOC = 2
    FOK = 3
    DAY = 4


class StpMode(IntEnum):
    """What happens when a taker meets a resting order of the same owner."""

    CANCEL_NEWEST = 1
    CANCEL_OLDEST = 2
    CANCEL_BOTH = 3
    DECREMENT_AND_CANCEL = 4


class EventKind(IntEnum):
    ERROR = 0  # only in the compact batch output
    ACCEPTED = 1
    TRADE = 2
    CANCELLED = 3
    REJECTED = 4
    AMENDED = 5


class CancelReason(IntEnum):
    USER = 1
    IOC_REMAINDER = 2
    FOK = 3
    STP = 4
    SESSION_END = 5
    NO_LIQUIDITY = 6


class RejectReason(IntEnum):
    POST_ONLY_WOULD_CROSS = 1


class AmendKind(IntEnum):
    PRIORITY_KEPT = 1
    PRIORITY_LOST = 2


class CommandKind(IntEnum):
    SUBMIT = 1
    CANCEL = 2
    AMEND = 3
    END_SESSION = 4


class ErrorCode(IntEnum):
    INVALID_SIDE = 1
    INVALID_ORDER_TYPE = 2
    INVALID_TIME_IN_FORCE = 3
    INVALID_STP_MODE = 4
    NON_POSITIVE_QUANTITY = 5
    QUANTITY_TOO_LARGE = 6
    QUANTITY_OFF_LOT = 7
    MARKET_ORDER_WITH_PRICE = 8
    POST_ONLY_MARKET_ORDER = 9
    NON_POSITIVE_PRICE = 10
    PRICE_TOO_LARGE = 11
    PRICE_OFF_TICK = 12
    UNKNOWN_ORDER = 13
    AMEND_TO_ZERO = 14
    INVALID_COMMAND = 15
    INVALID_INSTRUMENT = 16
    INVALID_BATCH = 17
    INVARIANT_VIOLATION = 18
    INVALID_SNAPSHOT = 19
