"""Deterministic order-book workloads A and B, shared by the Python and Rust benchmarks.

Order ids are assigned by the engine (1, 2, 3... one per submit), so a generator cannot
know which orders are still resting without a book. Each generator therefore drives a
reference book while it writes commands and tracks resting ids from the events: every
cancel and amend targets an order that is resting at that moment, on every backend.

Workload A: one symbol; 60% passive limit orders within 50 ticks of mid on the side
that does not cross, 30% cancels of random resting orders, 10% market orders of 1-300
lots. Takers use owners the makers never use, so self-trade prevention never fires and
a book without it (bourse) does exactly the same matching.

Workload B: a steady state in the style of exchange-core's benchmark: about 1,000
resting orders, new GTC orders, IOC orders and GTC orders priced through the spread,
cancels and amends (reduce in place, or move the price passively); about 6% of the
commands trade.

    python bench/workloads.py [--ops N] [--out bench/data]

writes workload_a.bin and workload_b.bin (88-byte command records, see
core_rs/README.md; tick 1, lot 1) with a JSON sidecar each. Files whose sidecar
matches the version, seed and operation count are reused.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tradepit.book import load_backend
from tradepit.book.codec import COMMAND_RECORD, Command, encode_commands
from tradepit.book.constants import CommandKind, EventKind, OrderType, Side, TimeInForce

FORMAT_VERSION = 1
DEFAULT_OPS = 1_000_000
DATA_DIR = Path(__file__).resolve().parent / "data"
SEEDS = {"a": 20_240_601, "b": 20_240_602}
TICK_SIZE = LOT_SIZE = 1
START_PRICE = 100_000
PASSIVE_SPREAD_TICKS = 50
MAKER_OWNERS = range(1, 1001)
TAKER_OWNERS = range(1001, 1101)
B_TARGET_RESTING = 1_000

BUY, SELL = int(Side.BUY), int(Side.SELL)
MARKET = int(OrderType.MARKET)
IOC = int(TimeInForce.IOC)
TRADE, CANCELLED = int(EventKind.TRADE), int(EventKind.CANCELLED)
SUBMIT, AMEND = int(CommandKind.SUBMIT), int(CommandKind.AMEND)


@dataclass(frozen=True)
class WorkloadStats:
    """What the generator measured on the reference book; the report quotes it."""

    name: str
    seed: int
    ops: int
    version: int
    trading_fraction: float  # commands that produced at least one TRADE
    mean_resting: float  # resting orders after each command, averaged
    final_resting: int
    state_hash: str  # of the reference book after the last command


class RestingSet:
    """Resting order ids with O(1) add, remove and uniform random choice."""

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._position: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, order_id: int) -> None:
        self._position[order_id] = len(self._ids)
        self._ids.append(order_id)

    def discard(self, order_id: int) -> None:
        """Swap-remove: move the last id into the hole so the list stays dense."""
        position = self._position.pop(order_id, None)
        if position is None:
            return
        last = self._ids.pop()
        if last != order_id:
            self._ids[position] = last
            self._position[last] = position

    def choice(self, rng: random.Random) -> int:
        return self._ids[rng.randrange(len(self._ids))]


class ReferenceBook:
    """A book plus the bookkeeping the generators need: resting ids, mid, trade count."""

    def __init__(self) -> None:
        self.book = _reference_backend().Book(TICK_SIZE, LOT_SIZE)
        self.resting = RestingSet()
        self.commands: list[Command] = []
        self.trading_commands = 0
        self._resting_sum = 0
        self._last_mid = START_PRICE

    def mid(self) -> int:
        """A price with best bid <= mid < best ask; one side empty: just beyond the other's best."""
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid and ask:
            self._last_mid = (bid[0] + ask[0]) // 2
        elif bid:
            self._last_mid = bid[0] + 1
        elif ask:
            self._last_mid = ask[0] - 1
        return self._last_mid

    def passive_price(self, rng: random.Random, side: int) -> int:
        """A price 1-50 ticks below (buy) or above (sell) mid, so it never crosses the book."""
        offset = rng.randint(1, PASSIVE_SPREAD_TICKS)
        return self.mid() - offset if side == BUY else self.mid() + offset

    def apply(self, command: Command) -> None:
        """Apply and record `command`, keeping the resting set in step with the events."""
        book = self.book
        if command.kind == SUBMIT:
            events = book.submit(
                command.owner, command.side, command.price, command.quantity,
                command.order_type, command.tif, bool(command.post_only), command.stp,
                command.timestamp,
            )
            new_id = book.next_order_id - 1
        elif command.kind == AMEND:
            events = book.amend(command.order_id, command.price, command.quantity,
                                command.timestamp)
            new_id = 0
        else:
            events = book.cancel(command.order_id, command.timestamp)
            new_id = 0
        traded = False
        for event in events:
            if event.kind == TRADE:
                traded = True
                if event.maker_remaining == 0:
                    self.resting.discard(event.maker_id)
                if event.remaining == 0:  # an amended order can be filled as a taker
                    self.resting.discard(event.order_id)
            elif event.kind == CANCELLED and event.remaining == 0:
                self.resting.discard(event.order_id)
        if new_id and book.get_order(new_id) is not None:
            self.resting.add(new_id)
        self.trading_commands += traded
        self._resting_sum += len(self.resting)
        self.commands.append(command)

    def stats(self, name: str, seed: int) -> WorkloadStats:
        ops = len(self.commands)
        return WorkloadStats(
            name=name, seed=seed, ops=ops, version=FORMAT_VERSION,
            trading_fraction=self.trading_commands / ops,
            mean_resting=self._resting_sum / ops,
            final_resting=len(self.resting),
            state_hash=self.book.state_hash(),
        )


def _reference_backend() -> Any:
    """The Rust book when it is built (faster); both backends give identical events."""
    try:
        return load_backend("rust")
    except ImportError:
        return load_backend("python")


def generate_a(ops: int, seed: int = SEEDS["a"]) -> tuple[list[Command], WorkloadStats]:
    rng = random.Random(seed)
    ref = ReferenceBook()
    for timestamp in range(ops):
        roll = rng.random()
        if roll < 0.6 or (roll < 0.9 and not len(ref.resting)):
            side = rng.choice((BUY, SELL))
            command = Command.submit(
                rng.choice(MAKER_OWNERS), side, ref.passive_price(rng, side),
                LOT_SIZE * rng.randint(1, 100), timestamp=timestamp,
            )
        elif roll < 0.9:
            command = Command.cancel(ref.resting.choice(rng), timestamp)
        else:
            command = Command.submit(
                rng.choice(TAKER_OWNERS), rng.choice((BUY, SELL)), 0,
                LOT_SIZE * rng.randint(1, 300), MARKET, timestamp=timestamp,
            )
        ref.apply(command)
    return ref.commands, ref.stats("a", seed)


def generate_b(ops: int, seed: int = SEEDS["b"]) -> tuple[list[Command], WorkloadStats]:
    """3% IOC and 3% GTC orders through the spread (the trading 6%), 10% reduces,
    10% passive price moves; the other 74% new passive GTC orders or cancels, leaning
    towards whichever brings the book back to about 1,000 resting orders."""
    rng = random.Random(seed)
    ref = ReferenceBook()
    book = ref.book
    for timestamp in range(ops):
        roll = rng.random()
        resting = len(ref.resting)
        command = None
        if roll < 0.06:
            command = _through_spread(rng, ref, timestamp, ioc=roll < 0.03)
        elif roll < 0.26 and resting:
            order = book.get_order(ref.resting.choice(rng))
            if roll < 0.16 and order.remaining > LOT_SIZE:
                quantity = LOT_SIZE * rng.randint(1, order.remaining // LOT_SIZE - 1)
                command = Command.amend(order.order_id, order.price, quantity, timestamp)
            else:
                price = ref.passive_price(rng, order.side)
                command = Command.amend(order.order_id, price, order.remaining, timestamp)
        if command is None:
            lean = (B_TARGET_RESTING - resting) / 400
            if not resting or rng.random() < min(0.95, max(0.05, 0.5 + lean)):
                side = rng.choice((BUY, SELL))
                command = Command.submit(
                    rng.choice(MAKER_OWNERS), side, ref.passive_price(rng, side),
                    LOT_SIZE * rng.randint(1, 100), timestamp=timestamp,
                )
            else:
                command = Command.cancel(ref.resting.choice(rng), timestamp)
        ref.apply(command)
    return ref.commands, ref.stats("b", seed)


def _through_spread(
    rng: random.Random, ref: ReferenceBook, timestamp: int, *, ioc: bool
) -> Command | None:
    """A limit order priced 0-3 ticks through the opposite best, or None if that side is empty."""
    side = rng.choice((BUY, SELL))
    opposite = ref.book.best_ask() if side == BUY else ref.book.best_bid()
    if opposite is None:
        return None
    through = TICK_SIZE * rng.randint(0, 3)
    price = opposite[0] + through if side == BUY else opposite[0] - through
    return Command.submit(
        rng.choice(TAKER_OWNERS), side, price, LOT_SIZE * rng.randint(1, 200),
        tif=IOC if ioc else int(TimeInForce.GTC), timestamp=timestamp,
    )


GENERATORS: dict[str, Callable[[int, int], tuple[list[Command], WorkloadStats]]] = {
    "a": generate_a,
    "b": generate_b,
}


def paths(name: str, data_dir: Path = DATA_DIR) -> tuple[Path, Path]:
    """The command file and its JSON sidecar for a workload."""
    return data_dir / f"workload_{name}.bin", data_dir / f"workload_{name}.json"


def cached_stats(name: str, ops: int, data_dir: Path = DATA_DIR) -> WorkloadStats | None:
    """The sidecar's stats if the files on disk are this version, seed and size."""
    data_path, meta_path = paths(name, data_dir)
    try:
        meta = json.loads(meta_path.read_text())
        stats = WorkloadStats(**meta)
        size = data_path.stat().st_size
    except (OSError, ValueError, TypeError):
        return None
    wanted = (FORMAT_VERSION, SEEDS[name], ops, ops * COMMAND_RECORD.size)
    if (stats.version, stats.seed, stats.ops, size) != wanted:
        return None
    return stats


def ensure(name: str, ops: int, data_dir: Path = DATA_DIR) -> tuple[bytes, WorkloadStats]:
    """The workload's packed commands and stats, generated and written unless cached."""
    data_path, meta_path = paths(name, data_dir)
    stats = cached_stats(name, ops, data_dir)
    if stats is not None:
        return data_path.read_bytes(), stats
    commands, stats = GENERATORS[name](ops, SEEDS[name])
    data = encode_commands(commands)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_path.write_bytes(data)
    meta_path.write_text(json.dumps(asdict(stats), indent=2) + "\n")
    return data, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=DEFAULT_OPS, help="commands per workload")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output directory")
    args = parser.parse_args(argv)
    for name in GENERATORS:
        was_cached = cached_stats(name, args.ops, args.out) is not None
        _, stats = ensure(name, args.ops, args.out)
        print(
            f"workload {name.upper()}: {stats.ops} commands "
            f"({'cached' if was_cached else 'generated'}) in {paths(name, args.out)[0]}; "
            f"trading {stats.trading_fraction:.2%}, mean resting {stats.mean_resting:.0f}, "
            f"final resting {stats.final_resting}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
