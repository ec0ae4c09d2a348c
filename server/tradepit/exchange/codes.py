"""Integer codes of the exchange layer. Values equal the proto enums of the same names."""

from enum import IntEnum


class RejectCode(IntEnum):
    INVALID_ARGUMENT = 1
    UNKNOWN_SYMBOL = 2
    TRADING_HALTED = 3
    PRICE_OFF_TICK = 4
    QUANTITY_OFF_LOT = 5
    PRICE_OUTSIDE_BAND = 6
    QUANTITY_TOO_LARGE = 7
    NOTIONAL_TOO_LARGE = 8
    INSUFFICIENT_BUYING_POWER = 9
    INSUFFICIENT_SHARES = 10
    DUPLICATE_CLIENT_ORDER_ID = 11
    UNKNOWN_ORDER = 12
    ORDER_NOT_OPEN = 13
    RATE_LIMITED = 14
    POST_ONLY_WOULD_CROSS = 15
    PERMISSION_DENIED = 16
    UNAVAILABLE = 17  # the journal cannot commit; the command changed nothing
    # Not order rejections, but refusals of other commands.
    UNKNOWN_ACCOUNT = 101
    ALREADY_EXISTS = 102


class ExecType(IntEnum):
    NEW = 1
    TRADE = 2
    CANCELED = 3
    REPLACED = 4
    REJECTED = 5
    EXPIRED = 6


class OrderStatus(IntEnum):
    NEW = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 4
    REJECTED = 5
    EXPIRED = 6


OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})


class Liquidity(IntEnum):
    MAKER = 1
    TAKER = 2


class TradingStatus(IntEnum):
    TRADING = 1
    HALTED = 2
    DELISTED = 3  # removed by the operator: never trades again (RemoveInstrument)


class BalanceChange(IntEnum):
    DEPOSIT = 1
    ADJUSTMENT = 2
