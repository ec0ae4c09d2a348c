"""CPU per order spent in the market-data hub alone, on the market-data workload.

    python -m bench.marketdata.hub_cost [--orders N] [--repeat R] [--subscribers 0 1 100]
                                        [--backend rust|python]

The workload's orders (workload.py: makers rest lots on ten levels a side, takers cross
with IOC lots) are applied once to an Exchange, keeping each command's market events.
Each repetition then replays those events into a fresh MarketDataHub whose readers
follow what the fan-out benchmark's subscribers follow (L2 depth 10 and trades), and
times `on_market_events` plus a flush after every order-stream message's worth of
orders, with `time.process_time`: the view, candles, feeds, encoding and fan-out, and
nothing of matching, reports or the network. With 0 subscribers only the view and the
history run. Prints the median over the repetitions, in us of CPU per order.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any

from tradepit.book import load_backend
from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount, CreateInstrument
from tradepit.exchange.exchange import Exchange, Limits
from tradepit.exchange.model import MarketEvent
from tradepit.marketdata.feeds import L2, TRADES, FeedKey
from tradepit.marketdata.hub import MarketDataHub
from tradepit.server import convert
from tradepit_client.v1 import order_pb2

from bench.marketdata import workload

KEYS = [FeedKey(workload.SYMBOL, L2, workload.DEPTH), FeedKey(workload.SYMBOL, TRADES)]
SUBSCRIBERS = (0, 1, 100)
MAKER, TAKER = 1, 2  # account ids, in the order they are created


def _exchange(backend: Any) -> Exchange:
    """The workload's instrument and two funded accounts, the book still empty."""
    exchange = Exchange(Limits(max_order_quantity=10**6, max_order_notional=10**15),
                        book_factory=backend.Book)
    exchange.execute(CreateInstrument(workload.SYMBOL, 1, 1, 10_000, 1_000, 0))
    for name in ("maker", "taker"):
        account = exchange.execute(CreateAccount(name, name, 0)).account_id
        exchange.execute(AdjustBalance(account, 10**13, BalanceChange.DEPOSIT, 0))
        exchange.execute(AdjustBalance(account, 10**9, BalanceChange.DEPOSIT, 0,
                                       workload.SYMBOL))
    exchange.take_reports()
    exchange.take_market_events()
    return exchange


def market_events(backend: Any, orders: int) -> tuple[list[list[MarketEvent]],
                                                      list[list[MarketEvent]]]:
    """Each command's market events: the seed orders', then the timed orders' (round by
    round, each maker/taker pair's maker message and then its taker message)."""
    exchange = _exchange(backend)
    clock = iter(range(10**18, 2 * 10**18, 1_000))

    def apply(account: int, orders: list[order_pb2.NewOrder]) -> list[list[MarketEvent]]:
        applied = []
        for o in orders:
            exchange.execute(convert.submit_order(account, o, next(clock)))
            exchange.take_reports()
            applied.append(exchange.take_market_events())
        return applied

    seed = apply(MAKER, workload.seed_orders())
    timed: list[list[MarketEvent]] = []
    for round_ in range(workload.rounds_for(orders)):
        for pair in range(workload.PAIRS):
            timed += apply(MAKER, workload.maker_message(round_, pair))
            timed += apply(TAKER, workload.taker_message(round_, pair))
    return seed, timed


def hub_seconds(backend: Any, seed: list[list[MarketEvent]], timed: list[list[MarketEvent]],
                subscribers: int) -> float:
    """CPU seconds the hub spends on `timed`, after `seed`, with `subscribers` readers."""
    hub = MarketDataHub(_exchange(backend), lambda: 0)
    for events in seed:
        hub.on_market_events(events)
    readers = [hub.subscribe(KEYS, 1 << 40) for _ in range(subscribers)]
    for reader in readers:
        reader.take()  # their snapshots: from here on they queue every update
    on_market_events, flush, per_message = hub.on_market_events, hub.flush, workload.PER_MESSAGE
    gc.collect()
    gc.disable()
    try:
        began = time.process_time()
        for i, events in enumerate(timed, 1):
            on_market_events(events)
            if i % per_message == 0:
                flush()
        flush()
        return time.process_time() - began
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--subscribers", type=int, nargs="+", default=list(SUBSCRIBERS))
    parser.add_argument("--backend", choices=("rust", "python"), default="rust")
    args = parser.parse_args()
    backend = load_backend(args.backend)
    seed, timed = market_events(backend, args.orders)
    samples: dict[int, list[float]] = {count: [] for count in args.subscribers}
    for _ in range(args.repeat):  # interleaved, so a busy moment of the host hits all alike
        for count in args.subscribers:
            samples[count].append(hub_seconds(backend, seed, timed, count) / len(timed) * 1e6)
    print(f"{len(timed):,} orders, {args.backend} book, median of {args.repeat} "
          "(min - max), us of CPU per order in the hub:")
    for count, values in samples.items():
        print(f"  {count:>4} subscribers: {statistics.median(values):6.2f} "
              f"({min(values):.2f} - {max(values):.2f})")


if __name__ == "__main__":
    main()
