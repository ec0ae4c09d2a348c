"""Order-book throughput on workloads A and B, per backend and calling style.

Full run (1,000,000 commands per workload, read from or written to bench/data):

    pytest bench/ --benchmark-json=bench/results/book.json

Smoke run (10,000 commands generated in memory, each benchmark once, nothing judged
on time; the final state of every book is still checked):

    TRADEPIT_BENCH_SMOKE=1 pytest bench/ --benchmark-disable

Each timed round applies the whole workload to a fresh book; building the book and
decoding the input happen in `setup`, outside the timed region. Per-operation latency
percentiles come from a separate pass after the rounds and land in `extra_info`.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from tradepit.book import load_backend
from tradepit.book.codec import COMMAND_RECORD, encode_commands
from tradepit.book.constants import CommandKind, OrderType, Side

from bench import workloads

SMOKE = os.environ.get("TRADEPIT_BENCH_SMOKE", "") not in ("", "0")
SMOKE_OPS = 10_000
OPS = SMOKE_OPS if SMOKE else int(os.environ.get("TRADEPIT_BENCH_OPS", workloads.DEFAULT_OPS))
ROUNDS, WARMUP_ROUNDS = (1, 0) if SMOKE else (5, 1)
BATCH_COMMANDS = 1_000  # commands per apply_batch call, in the timed rounds and latency pass

SUBMIT, CANCEL, AMEND = int(CommandKind.SUBMIT), int(CommandKind.CANCEL), int(CommandKind.AMEND)
MARKET = int(OrderType.MARKET)
BUY = int(Side.BUY)

Plan = list[tuple[int, tuple[Any, ...]]]  # (command kind, positional arguments)


@dataclass(frozen=True)
class Prepared:
    """One workload in every input shape the benchmarks use."""

    name: str
    stats: workloads.WorkloadStats
    plan: Plan  # for Book.submit / cancel / amend
    batches: list[bytes]  # BATCH_COMMANDS records each, for Book.apply_batch


@functools.cache
def prepared(name: str) -> Prepared:
    if SMOKE:
        commands, stats = workloads.GENERATORS[name](OPS, workloads.SEEDS[name])
        data = encode_commands(commands)
    else:
        data, stats = workloads.ensure(name, OPS)
    size = BATCH_COMMANDS * COMMAND_RECORD.size
    batches = [data[start:start + size] for start in range(0, len(data), size)]
    return Prepared(name, stats, plan_from_records(data), batches)


def plan_from_records(data: bytes) -> Plan:
    """Positional arguments per command: every field, so per-call and batch do the same work."""
    plan: Plan = []
    for (kind, timestamp, order_id, owner, side, price, quantity,
         order_type, tif, post_only, stp) in COMMAND_RECORD.iter_unpack(data):
        if kind == SUBMIT:
            args = (owner, side, price, quantity, order_type, tif, post_only != 0, stp, timestamp)
        elif kind == CANCEL:
            args = (order_id, timestamp)
        elif kind == AMEND:
            args = (order_id, price, quantity, timestamp)
        else:
            raise ValueError(f"the benchmark workloads hold no command of kind {kind}")
        plan.append((kind, args))
    return plan


# ----------------------------------------------------------------- timed bodies


def run_per_call(book: Any, plan: Plan) -> Any:
    """One Python call per command: the loop a client sending single orders would run."""
    submit, cancel, amend = book.submit, book.cancel, book.amend
    for kind, args in plan:
        if kind == SUBMIT:
            submit(*args)
        elif kind == CANCEL:
            cancel(*args)
        else:
            amend(*args)
    return book


def run_batches(book: Any, batches: list[bytes]) -> Any:
    apply_batch = book.apply_batch
    for batch in batches:
        apply_batch(batch)
    return book


def run_bourse(book: Any, plan: Plan) -> Any:
    """Workload A on bourse: place_order for submits, cancel_order for cancels."""
    place, cancel = book.place_order, book.cancel_order
    for kind, args in plan:
        if kind == SUBMIT:
            place(*args)
        else:
            cancel(*args)
    return book


# ------------------------------------------------------------------- latencies


def percentiles_ns(samples: Sequence[float], offset: float = 0.0) -> dict[str, float]:
    ordered = sorted(samples)
    last = len(ordered) - 1
    return {
        f"p{q}_ns": max(0.0, ordered[round(last * q / 100)] - offset) for q in (50, 99)
    }


def timer_overhead_ns(rounds: int = 100_000) -> float:
    """Median cost of the timing itself, subtracted from per-call samples."""
    clock = time.perf_counter_ns
    samples = [0] * rounds
    for i in range(rounds):
        start = clock()
        samples[i] = clock() - start
    return float(sorted(samples)[rounds // 2])


def per_call_latencies(methods: dict[int, Callable[..., Any]], plan: Plan) -> dict[str, float]:
    clock = time.perf_counter_ns
    samples = [0] * len(plan)
    for i, (kind, args) in enumerate(plan):
        method = methods[kind]
        start = clock()
        method(*args)
        samples[i] = clock() - start
    overhead = timer_overhead_ns()
    return {**percentiles_ns(samples, overhead), "timer_overhead_ns": overhead}


def batch_latencies(book: Any, batches: list[bytes]) -> dict[str, float]:
    """Time whole batches and spread each over its commands: p50/p99 of batch means."""
    clock = time.perf_counter_ns
    apply_batch = book.apply_batch
    samples = []
    for batch in batches:
        start = clock()
        apply_batch(batch)
        samples.append((clock() - start) / (len(batch) // COMMAND_RECORD.size))
    return percentiles_ns(samples)


# ----------------------------------------------------------------------- modes


def rust() -> Any:
    """The Rust extension; its absence fails the run (never a silent skip)."""
    try:
        return load_backend("rust")
    except ImportError as error:
        pytest.fail(str(error), pytrace=False)


def bench_per_call(benchmark: Any, backend: Any, work: Prepared) -> tuple[Any, dict[str, float]]:
    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (backend.Book(workloads.TICK_SIZE, workloads.LOT_SIZE), work.plan), {}

    book = benchmark.pedantic(run_per_call, setup=setup, rounds=ROUNDS,
                              warmup_rounds=WARMUP_ROUNDS, iterations=1)
    fresh = backend.Book(workloads.TICK_SIZE, workloads.LOT_SIZE)
    methods = {SUBMIT: fresh.submit, CANCEL: fresh.cancel, AMEND: fresh.amend}
    return book, per_call_latencies(methods, work.plan)


def bench_batch(benchmark: Any, backend: Any, work: Prepared) -> tuple[Any, dict[str, float]]:
    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (backend.Book(workloads.TICK_SIZE, workloads.LOT_SIZE), work.batches), {}

    book = benchmark.pedantic(run_batches, setup=setup, rounds=ROUNDS,
                              warmup_rounds=WARMUP_ROUNDS, iterations=1)
    fresh = backend.Book(workloads.TICK_SIZE, workloads.LOT_SIZE)
    return book, {**batch_latencies(fresh, work.batches), "batch_commands": BATCH_COMMANDS}


MODES = ("rust-per-call", "rust-batch", "python-per-call", "bourse-per-call")
CASES = [(name, mode) for name in ("a", "b") for mode in MODES
         if not (mode == "bourse-per-call" and name != "a")]


@pytest.mark.parametrize(("name", "mode"), CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_book(benchmark: Any, name: str, mode: str) -> None:
    work = prepared(name)
    benchmark.group = f"workload {name.upper()}"
    if mode == "bourse-per-call":
        _, latency = bench_bourse(benchmark, work)
    else:
        backend = load_backend("python") if mode == "python-per-call" else rust()
        bench = bench_batch if mode == "rust-batch" else bench_per_call
        book, latency = bench(benchmark, backend, work)
        assert book.state_hash() == work.stats.state_hash, f"{mode} diverged from the reference"
    benchmark.extra_info.update(
        workload=name, mode=mode, ops=work.stats.ops, rounds=ROUNDS, smoke=SMOKE,
        trading_fraction=work.stats.trading_fraction, mean_resting=work.stats.mean_resting,
        **latency,
    )


# ---------------------------------------------------------------------- bourse


@dataclass(frozen=True)
class BourseWorkload:
    plan: Plan
    final: tuple[Any, ...]  # bid_ask, bid_vol, ask_vol after the whole plan


@functools.cache
def bourse_workload(name: str) -> BourseWorkload:
    """Translate a workload to bourse calls, mapping our engine's ids to the ones bourse returns.

    Ids are assigned at run time by each engine, so one untimed replay records bourse's id
    for each of our submits; bourse is deterministic, so timed rounds reuse the same ids.
    """
    from bourse.core import OrderBook

    book = OrderBook(0, workloads.TICK_SIZE, True)
    bourse_ids: list[int] = [-1]  # our ids start at 1
    plan: Plan = []
    for kind, args in prepared(name).plan:
        if kind == SUBMIT:
            owner, side, price, quantity, order_type = args[:5]
            call = (side == BUY, quantity, owner) + (() if order_type == MARKET else (price,))
            bourse_ids.append(book.place_order(*call))
        elif kind == CANCEL:
            call = (bourse_ids[args[0]],)
            book.cancel_order(*call)
        else:
            raise ValueError("the bourse comparison covers submits and cancels only")
        plan.append((kind, call))
    return BourseWorkload(plan, bourse_state(book))


def bourse_state(book: Any) -> tuple[Any, ...]:
    return (book.bid_ask(), book.bid_vol(), book.ask_vol())


def bench_bourse(benchmark: Any, work: Prepared) -> tuple[Any, dict[str, float]]:
    bourse_core = pytest.importorskip("bourse.core")
    translated = bourse_workload(work.name)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (bourse_core.OrderBook(0, workloads.TICK_SIZE, True), translated.plan), {}

    book = benchmark.pedantic(run_bourse, setup=setup, rounds=ROUNDS,
                              warmup_rounds=WARMUP_ROUNDS, iterations=1)
    # Only determinism is checked: bourse 0.4.0 matches a market order against one resting
    # order per price level (the newest), so its book legitimately ends up unlike ours.
    assert bourse_state(book) == translated.final, "bourse replay diverged from its translation"
    fresh = bourse_core.OrderBook(0, workloads.TICK_SIZE, True)
    methods = {SUBMIT: fresh.place_order, CANCEL: fresh.cancel_order}
    return book, per_call_latencies(methods, translated.plan)

