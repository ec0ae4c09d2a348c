"""What the journal costs the event loop per order, without the network.

    python -m bench.durability.loop_cost [--orders N] [--warm-up N] [--rounds N]
        [--modes off,on]

The order stream's own code in one process (OrderService, gateway, market data), as
bench/server/breakdown.py runs it, on messages of 100 resting buy orders, with the
server's garbage-collector settings; once with the journal off, once on: the exchange
restored as the server restores it (`app.restore`: group commit, queryable store,
snapshots, the writer process on a SQLite file in a temporary directory). The stream's
loop waits for the journal as the server's does (`Gateway.throttle`).

Per order: the event loop's CPU (and how much of it was in the kernel: page faults, the
socket to the writer), the writer process's CPU and the wall time; with the
journal on, also the loop's CPU in the committer's per-batch steps, timed around each
call (per batch, so the timing costs nothing measurable): cutting a batch (taking the
pending lists, pickling the last chunk of entries, grouping the effects), reading its
store rows, handing it to the writer (pickling) and releasing its effects (reports and
market data, which the journal off releases per command). What the on run's loop spends
beyond those is per command (admission; the append, which numbers the entry, notes its
store rows and pickles entries a chunk at a time) or the price of sharing the machine
with the writer's CPU.

With `--warm-up N`, N orders go through the same exchange before the measured ones, as
bench.durability.paired sends 5,000 before it times a stream: the first orders of a run
also pay for growing the process's memory to what a batch in flight holds (with the
journal on, the page faults of 20,000 orders from a fresh start are twice those of
20,000 more).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import uvloop
from tradepit.config import Settings
from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount
from tradepit.journal import writer
from tradepit.journal.group_commit import GroupCommit
from tradepit.marketdata.hub import MarketDataHub
from tradepit.server import wire
from tradepit.server.__main__ import GC_THRESHOLDS
from tradepit.server.app import build_exchange, restore
from tradepit.server.gateway import Gateway, ReportQueue
from tradepit.server.order_service import OrderService
from tradepit.server.ratelimit import RateLimiter
from tradepit.store.projection import Projection
from tradepit_client.v1 import order_pb2

from bench.server.breakdown import PER_MESSAGE, UNLIMITED
from bench.server.load import stream_messages

INSTRUMENTS = "ACME:1:1:10000"  # what bench.server.load's orders trade
# The figures of every run, and with the journal on the committer's per-batch steps:
# (label, owner, attribute).
TOTALS = ("event loop CPU", "event loop CPU in the kernel", "writer CPU", "wall time")
STEPS: tuple[tuple[str, Any, str], ...] = (
    ("cut a batch", GroupCommit, "_cut"),
    ("read its store rows", Projection, "take"),
    ("hand it to the writer (pickle)", writer, "_frame"),
    ("release its effects", GroupCommit, "_release"),
)


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """A process's CPU time so far, all its threads' or one's, to the nanosecond
    (`schedstat`; /proc's `stat` counts clock ticks, 10 ms: a third of a microsecond per
    order in a run of 30,000)."""
    return _schedstat_seconds(pid, thread, 0)


def waited_seconds(pid: int, thread: int | None = None) -> float:
    """How long a process's threads, or one, were ready to run but waited for a CPU."""
    return _schedstat_seconds(pid, thread, 1)


def _schedstat_seconds(pid: int, thread: int | None, field: int) -> float:
    tasks = Path(f"/proc/{pid}/task")
    total = 0
    for task in [tasks / str(thread)] if thread is not None else tasks.iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that just ended
            total += int((task / "schedstat").read_text().split()[field])
    return total / 1e9


def _timing(label: str, original: Callable[..., Any],
            spent: dict[str, float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - began
    return timed


@contextmanager
def _timed_steps() -> Iterator[dict[str, float]]:
    """Add up the loop's CPU in each of STEPS while inside."""
    spent = {label: 0.0 for label, _, _ in STEPS}
    originals = [(owner, name, getattr(owner, name)) for _, owner, name in STEPS]
    for (label, _, _), (owner, name, original) in zip(STEPS, originals, strict=True):
        setattr(owner, name, _timing(label, original, spent))
    try:
        yield spent
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


async def _stream(service: OrderService, gateway: Gateway, queue: ReportQueue,
                  messages: list[order_pb2.OrderStreamRequest]) -> None:
    """The order stream's loop (OrderService.OrderStream) over `messages`, until every
    report has left, each message's reports encoded as the stream would send them."""
    for message in messages:
        service._apply_message(1, message.requests, queue)
        await gateway.throttle()
        reports = queue.drain()
        if reports:
            wire.stream_response(reports)
    await gateway.settled()
    reports = queue.drain()
    if reports:
        wire.stream_response(reports)


async def _run(mode: str, warm_up: list[order_pb2.OrderStreamRequest],
               messages: list[order_pb2.OrderStreamRequest], directory: str) -> dict[str, float]:
    settings = Settings(_env_file=None, durability=mode,  # type: ignore[call-arg]
                        database_url=f"sqlite:///{directory}/{mode}-{time.time_ns()}.db",
                        instruments=INSTRUMENTS, makers_enabled=False)
    gateway = build_exchange(settings)
    await restore(settings, gateway)
    gateway.apply(partial(CreateAccount, "bench", "key"))
    gateway.apply(partial(AdjustBalance, 1, 10**15, BalanceChange.DEPOSIT))
    await gateway.settled()
    hub = MarketDataHub(gateway.exchange, gateway.now, defer=gateway.after_pending)
    gateway.on_market_events(hub.on_market_events)
    service = OrderService(gateway, RateLimiter(UNLIMITED, UNLIMITED), UNLIMITED)
    queue = gateway.subscribe(1, UNLIMITED)
    await _stream(service, gateway, queue, warm_up)
    journal = gateway.journal
    writer_pid = None if journal is None else journal.journal.pid
    count = sum(len(m.requests) for m in messages)
    with _timed_steps() as steps:
        writer_began = 0.0 if writer_pid is None else cpu_seconds(writer_pid)
        began, wall_began = time.process_time(), time.perf_counter()
        kernel_began = resource.getrusage(resource.RUSAGE_THREAD).ru_stime
        await _stream(service, gateway, queue, messages)
        loop_seconds = time.process_time() - began
        kernel_seconds = resource.getrusage(resource.RUSAGE_THREAD).ru_stime - kernel_began
        wall_seconds = time.perf_counter() - wall_began
        writer_seconds = 0.0 if writer_pid is None else cpu_seconds(writer_pid) - writer_began
    if journal is not None:
        await journal.close()
    micros = dict(zip(TOTALS, (loop_seconds, kernel_seconds, writer_seconds, wall_seconds),
                      strict=True))
    if journal is not None:
        micros.update(steps)
    return {name: seconds / count * 1e6 for name, seconds in micros.items()}


def per_order_us(orders_count: int, rounds: int = 5, modes: tuple[str, ...] = ("off", "on"),
                 warm_up: int = 0) -> dict[str, dict[str, float]]:
    """Microseconds per order, journal off and on (`modes`) in turn for `rounds` rounds
    (each on a fresh exchange and database, `warm_up` orders before the measured ones):
    the median of each figure."""
    warm_up_messages = stream_messages(warm_up, PER_MESSAGE)
    messages = stream_messages(orders_count, PER_MESSAGE, start=warm_up)
    thresholds = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    try:
        with tempfile.TemporaryDirectory(prefix="tradepit-loop-cost-") as directory:
            for _ in range(rounds):
                for mode, done in runs.items():
                    done.append(uvloop.run(_run(mode, warm_up_messages, messages, directory)))
    finally:
        gc.set_threshold(*thresholds)
    return {mode: {name: statistics.median(run[name] for run in done) for name in done[0]}
            for mode, done in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=30_000, help="per run")
    parser.add_argument("--warm-up", type=int, default=0,
                        help="orders per run before the measured ones")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modes", default="off,on", help="journal modes to run, in turn: "
                        "one alone suits a run under valgrind")
    args = parser.parse_args()
    modes = tuple(args.modes.split(","))
    if not modes or not set(modes) <= {"off", "on"}:
        parser.error("--modes takes off, on or both, comma-separated")
    for mode, figures in per_order_us(args.orders, args.rounds, modes, args.warm_up).items():
        for name, micros in figures.items():
            print(f"journal {mode:3}  {name:40} {micros:6.2f} us/order")


if __name__ == "__main__":
    main()
