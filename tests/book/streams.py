"""Seeded random command streams that exercise every command kind and many STP collisions.

The stream does not look at any book: order ids are drawn from recently issued ones,
so some cancels and amends hit closed orders on purpose. The same seed always gives
the same commands, which lets both backends (and the batch path) replay one stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from tradepit.book import BookError, Command, CommandKind

TICK, LOT = 5, 10


def random_commands(seed: int, count: int) -> Iterator[Command]:
    rng = random.Random(seed)
    mid = 200  # in ticks
    issued = 0
    for _ in range(count):
        if rng.random() < 0.01:
            mid = max(20, mid + rng.choice((-1, 1)))
        roll = rng.random()
        timestamp = issued * 1_000
        if roll < 0.58:
            issued += 1
            side = rng.choice((1, 2))
            market = rng.random() < 0.07
            tif = rng.choices((1, 2, 3, 4), weights=(45, 20, 15, 20))[0]
            post_only = not market and rng.random() < 0.15
            owner = rng.choice((1, 2, 3)) if rng.random() < 0.4 else rng.randint(4, 40)
            # Mostly passive (a book worth cancelling), sometimes crossing (trades, STP).
            offset = rng.randint(-3, 12) * (1 if side == 2 else -1)
            price = 0 if market else TICK * (mid + offset)
            yield Command.submit(owner, side, price, LOT * rng.randint(1, 30), 2 if market else 1,
                                 tif, post_only, rng.randint(1, 4), timestamp)
        elif roll < 0.78:
            yield Command.cancel(_some_id(rng, issued), timestamp)
        elif roll < 0.93:
            yield Command.amend(_some_id(rng, issued), TICK * (mid + rng.randint(-8, 8)),
                                LOT * rng.randint(1, 30), timestamp)
        elif roll < 0.935:
            yield Command.end_session(timestamp)
        else:
            yield _bad_command(rng, mid, issued, timestamp)


def _some_id(rng: random.Random, issued: int) -> int:
    return rng.randint(max(1, issued - 400), issued + 1)


def _bad_command(rng: random.Random, mid: int, issued: int, timestamp: int) -> Command:
    good = Command.submit(5, 1, TICK * mid, LOT, timestamp=timestamp)
    return rng.choice([
        good._replace(side=3),
        good._replace(order_type=0),
        good._replace(tif=9),
        good._replace(stp=5),
        good._replace(quantity=0),
        good._replace(quantity=-LOT),
        good._replace(quantity=LOT + 1),
        good._replace(price=TICK * mid + 1),
        good._replace(price=-TICK),
        good._replace(order_type=2),                    # market with a price
        good._replace(order_type=2, price=0, post_only=1),
        Command.amend(_some_id(rng, issued), TICK * mid, 0, timestamp),
        Command(kind=7, timestamp=timestamp),
    ])


def apply(book: Any, command: Command) -> tuple[Any, ...]:
    """Apply one command through the per-call API; return its events or its error, comparably."""
    c = command
    try:
        if c.kind == CommandKind.SUBMIT:
            events = book.submit(c.owner, c.side, c.price, c.quantity, c.order_type, c.tif,
                                 bool(c.post_only), c.stp, c.timestamp)
        elif c.kind == CommandKind.CANCEL:
            events = book.cancel(c.order_id, c.timestamp)
        elif c.kind == CommandKind.AMEND:
            events = book.amend(c.order_id, c.price, c.quantity, c.timestamp)
        elif c.kind == CommandKind.END_SESSION:
            events = book.end_session(c.timestamp)
        else:
            return ("unknown kind",)
    except BookError as error:
        return ("error", type(error).__name__, int(error.code), str(error))
    return ("events", *(e.astuple() for e in events))
