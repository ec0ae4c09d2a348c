"""The market activity both servers deliver: makers post, takers cross, one marker ends it.

Tradepit receives these orders over order streams; the echo turns the same script into
the updates it would cause (echo_server.py), so both fan out the same kind of messages.
Every order is 10 shares, so each taker order fills exactly one resting order; the last
order of a run is a taker buy of MARKER shares, the only trade of that size, which tells
a subscriber that it has seen everything.
"""

from __future__ import annotations

from tradepit_client.v1 import common_pb2, order_pb2

SYMBOL = "ACME"
DEPTH = 10
LOT = 10
MARKER = 3
BIDS = tuple(range(9_999, 9_989, -1))   # the ten bid levels, best first
ASKS = tuple(range(10_001, 10_011))     # the ten ask levels, best first
SEED_PER_LEVEL = 10                     # resting orders per level before the clock starts
PER_MESSAGE = 50                        # orders in one order-stream message
PAIRS = 2                               # maker/taker pairs; each agent has its own stream

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL


def _order(name: str, side: int, price: int, quantity: int = LOT,
           tif: int = common_pb2.TIME_IN_FORCE_GTC) -> order_pb2.NewOrder:
    return order_pb2.NewOrder(client_order_id=name, symbol=SYMBOL, side=side,
                              type=common_pb2.ORDER_TYPE_LIMIT, time_in_force=tif,
                              price=price, quantity=quantity)


def rounds_for(orders: int) -> int:
    """Rounds in which every agent sends one message; at least one."""
    return max(1, orders // (2 * PAIRS * PER_MESSAGE))


def seed_orders() -> list[order_pb2.NewOrder]:
    """SEED_PER_LEVEL resting orders on each of the ten levels of each side."""
    return [_order(f"seed-{side}-{price}-{i}", side, price)
            for side, prices in ((BUY, BIDS), (SELL, ASKS))
            for price in prices for i in range(SEED_PER_LEVEL)]


def maker_message(round_: int, pair: int) -> list[order_pb2.NewOrder]:
    """Passive orders alternating bid and ask, walking the ten levels of each side."""
    return [_order(f"m{pair}-{round_}-{i}", BUY if i % 2 == 0 else SELL,
                   BIDS[(round_ + i // 2) % 10] if i % 2 == 0 else ASKS[(round_ + i // 2) % 10])
            for i in range(PER_MESSAGE)]


def taker_message(round_: int, pair: int) -> list[order_pb2.NewOrder]:
    """Immediate-or-cancel orders alternating a buy and a sell that cross the whole book."""
    return [_order(f"t{pair}-{round_}-{i}", BUY if i % 2 == 0 else SELL,
                   ASKS[-1] if i % 2 == 0 else BIDS[-1], tif=common_pb2.TIME_IN_FORCE_IOC)
            for i in range(PER_MESSAGE)]


def marker_order() -> order_pb2.NewOrder:
    return _order("marker", BUY, ASKS[-1], MARKER, common_pb2.TIME_IN_FORCE_IOC)


def trade_prints(rounds: int) -> int:
    """Trades a run prints: one per taker order (half buy, half sell), plus the marker."""
    return rounds * PAIRS * PER_MESSAGE + 1
