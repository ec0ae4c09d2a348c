"""Seeded streams of exchange commands: mostly sensible trading between a few accounts,
with every kind of bad input mixed in, so that two exchanges fed the same stream are held
to the same decisions on every path."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from tradepit.exchange.commands import (
    AdjustBalance,
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    CreateAccount,
    CreateInstrument,
    EndSession,
    OrderRef,
    RemoveInstrument,
    SetLimits,
    SetTradingStatus,
    SubmitOrder,
)

# symbol: (tick size, lot size, reference price)
LISTINGS = {"AAA": (1, 1, 100), "BBB": (5, 10, 1_000), "C.D-1": (2, 5, 50)}
ACCOUNTS = 6


def setup(now: int = 1) -> list[Command]:
    """Instruments, funded accounts and shares to sell."""
    commands: list[Command] = [CreateInstrument(symbol, tick, lot, price, 1_000, now)
                               for symbol, (tick, lot, price) in LISTINGS.items()]
    for account in range(1, ACCOUNTS + 1):
        commands.append(CreateAccount(f"agent {account}", f"key-{account}", now))
        commands.append(AdjustBalance(account, 10_000_000, 1, now))
        for symbol, (_, lot, _) in LISTINGS.items():
            commands.append(AdjustBalance(account, 1_000 * lot, 1, now, symbol))
    return commands


def random_commands(seed: int, count: int,
                    next_order_id: Callable[[], int]) -> Iterator[Command]:
    """`setup()`, then `count` commands; times rise by 1-3 ns per command. Cancels and
    amends mostly name recent orders: `next_order_id()` is the reference exchange's next
    order id, read as the stream is consumed."""
    draw = random.Random(seed)
    now = 1
    yield from setup(now)
    submitted: list[SubmitOrder] = []
    client_ids = 0

    def symbol() -> str:
        roll = draw.random()
        if roll < 0.02:
            return draw.choice(["ZZZ", "", "aaa", "x'y", 'q"r\n'])
        return draw.choice(list(LISTINGS))

    def account() -> int:
        return draw.randint(1, ACCOUNTS) if draw.random() > 0.01 else draw.choice([0, 99])

    def price_for(name: str, side: int) -> int:
        tick, _, reference = LISTINGS.get(name, (1, 1, 100))
        roll = draw.random()
        if roll < 0.01:
            return draw.choice([0, -tick, 10**13, 2**63 - 1])
        if roll < 0.03:
            return reference + 1 if tick > 1 else reference * 5  # off the tick, or the band
        ticks = draw.randint(-8, 8) + (2 if side == 1 else -2)
        return max(tick, reference + ticks * tick)

    def quantity_for(name: str) -> int:
        _, lot, _ = LISTINGS.get(name, (1, 1, 100))
        roll = draw.random()
        if roll < 0.01:
            return draw.choice([0, -lot, 10**7, 2**62])
        if roll < 0.02:
            return lot + 1 if lot > 1 else 3 * 10**6
        return lot * draw.randint(1, 40)

    def ref() -> OrderRef:
        if client_ids and draw.random() < 0.3:
            return OrderRef(client_order_id=f"c{draw.randint(1, client_ids + 1)}")
        newest = next_order_id() - 1
        return OrderRef(order_id=draw.randint(max(0, newest - 30), newest + 1))

    for index in range(count):
        now += draw.randint(1, 3)
        roll = draw.random()
        if roll < 0.60:
            if submitted and draw.random() < 0.03:  # a client_order_id again
                again = draw.choice(submitted)._replace(timestamp=now)
                if draw.random() < 0.5:  # with other parameters: refused
                    again = again._replace(quantity=again.quantity + 1)
                yield again
                continue
            name = symbol()
            side = draw.choice([1, 2]) if draw.random() > 0.01 else draw.choice([0, 3])
            order_type = draw.choice([0, 1, 1, 1, 2]) if draw.random() > 0.01 else 7
            tif = draw.choice([0, 1, 1, 2, 3, 4]) if draw.random() > 0.01 else 9
            stp = draw.choice([0, 1, 2, 3, 4]) if draw.random() > 0.01 else 6
            price = 0 if order_type == 2 and draw.random() > 0.05 else price_for(name, side)
            client_order_id = ""
            if draw.random() < 0.5:
                client_ids += 1
                client_order_id = f"c{client_ids}"
                if draw.random() < 0.01:
                    client_order_id = "x" * 65
            command = SubmitOrder(account(), client_order_id, name, side, order_type, tif,
                                  price, quantity_for(name), draw.random() < 0.1, stp, now)
            submitted.append(command)
            yield command
        elif roll < 0.75:
            yield CancelOrder(account(), ref(), now)
        elif roll < 0.86:
            name = draw.choice(list(LISTINGS))
            yield AmendOrder(account(), ref(), price_for(name, draw.choice([1, 2])),
                             quantity_for(name), now)
        elif roll < 0.87:
            yield CancelAll(account(), draw.choice(["", "", *LISTINGS, "ZZZ"]), now)
        elif roll < 0.875:
            yield EndSession(draw.choice(["", *LISTINGS, "ZZZ"]), now)
        elif roll < 0.885:
            status = draw.choice([1, 1, 1, 1, 2, 3, 0])
            yield SetTradingStatus(draw.choice(["", *LISTINGS, "ZZZ"]), status, now)
        elif roll < 0.888:
            yield SetLimits(draw.choice([0, 5, 25, 10_001]), draw.choice([0, 10, 30, -1]),
                            draw.choice([1_000_000, 1_000_000, 500, 0]),
                            draw.choice([10**13, 10**13, 10**13, 50_000, 10**9]), now)
        elif roll < 0.96:
            name = draw.choice(["", "", *LISTINGS, "ZZZ"])
            amount = draw.choice([1_000, 250_000, -5_000, -10**9, 0, 7])
            if name:
                amount = draw.choice([10, 50, -20, 3, -10**6])
            yield AdjustBalance(account(), amount, draw.choice([1, 1, 2, 2, 3]), now, name)
        elif roll < 0.97:
            name = draw.choice(["late", "  ", "", "n" * 70, "agent 1"])
            key = draw.choice(["key-1", f"key-{now}"])
            yield CreateAccount(name, key, now, draw.random() < 0.2)
        elif roll < 0.985:
            yield CreateInstrument(
                draw.choice(["NEW", "AAA", "bad sym", "N" * 17, f"L{now % 50}"]),
                draw.choice([1, 2, 0]), draw.choice([1, 5, -1]), draw.choice([100, 101, 0]),
                draw.choice([0, 500, 10_001]), now)
        else:
            # A listed symbol with its resting orders only near the end: it never returns.
            late = index > count * 9 // 10
            yield RemoveInstrument(draw.choice(["ZZZ", "NEW", f"L{draw.randint(0, 49)}",
                                                *(["BBB"] if late else [])]), now)
