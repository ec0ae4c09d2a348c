"""Where the order stream's CPU goes over gRPC, with the journal off and on.

    python -m bench.durability.cpu_split [--orders N] [--rounds N]

Each run starts Tradepit as bench.durability.run does (its own process, a fresh SQLite
file, no market makers) and drives one order stream of N resting orders, 100 to a
message, from this process, after a warm-up; the messages are built before anything is
measured. Per order, while the stream runs: the CPU of the server's event-loop thread, of
its other threads (gRPC's), of the journal's writer process, and of this client; and how
busy the event loop was (its CPU over the stream's wall time) and how long it was ready to
run but waited for a CPU (the second figure of its `schedstat`). Off and on alternate,
`--rounds` times; the medians are printed.

What it tells: whether the stream is bound by the event loop (busy near 100% in both
modes: on / off then follows the loop's CPU per order, off over on) or by the machine's
two cores (the processes' CPU per order times orders/s near 2).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import grpc
import uvloop

from bench.durability.loop_cost import cpu_seconds, waited_seconds
from bench.durability.paired import WARM_UP
from bench.durability.run import MODES, server
from bench.server.breakdown import PER_MESSAGE
from bench.server.load import stream_messages, stream_sent
from bench.server.run import funded_key

PERCENT = frozenset({"event loop busy", "event loop waiting for a CPU"})
FIGURES = ("orders/s", "event loop us/order", "server's other threads us/order",
           "writer us/order", "client us/order", "event loop busy",
           "event loop waiting for a CPU")


def _children(pid: int) -> list[int]:
    return [int(child) for child in
            Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def _measure(port: int, pid: int, orders: int) -> dict[str, float]:
    key = await funded_key(port)
    metadata = (("authorization", f"Bearer {key}"),)
    warm_up = stream_messages(WARM_UP, PER_MESSAGE)
    measured = stream_messages(orders, PER_MESSAGE, start=WARM_UP)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await stream_sent(channel, metadata, warm_up, PER_MESSAGE)
        writers = _children(pid)  # the journal's writer, started with the journal on

        def now() -> tuple[float, ...]:
            loop = cpu_seconds(pid, pid)
            return (loop, cpu_seconds(pid) - loop, sum(map(cpu_seconds, writers)),
                    time.process_time(), waited_seconds(pid, pid))

        before = now()
        result = await stream_sent(channel, metadata, measured, PER_MESSAGE)
        after = now()
    if result.rejected:
        raise RuntimeError(f"{result.rejected} of {orders} orders refused")
    loop, others, writer, client, waited = (
        (a - b) / orders * 1e6 for a, b in zip(after, before, strict=True))
    share = orders / 1e6 / result.seconds  # us per order to a share of the stream's time
    return dict(zip(FIGURES, (result.orders_per_second, loop, others, writer, client,
                              loop * share, waited * share), strict=True))


def split(orders: int, rounds: int) -> dict[str, list[dict[str, float]]]:
    """Every round's figures, by journal mode."""
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="tradepit-cpu-split-") as directory:
        workdir = Path(directory)
        for round_number in range(rounds):
            for mode in MODES:
                database = workdir / f"{mode}-{round_number}.db"
                with server(workdir, TRADEPIT_DURABILITY=mode, TRADEPIT_MAKERS_ENABLED="false",
                            TRADEPIT_DATABASE_URL=f"sqlite:///{database}") as running:
                    runs[mode].append(uvloop.run(
                        _measure(running.port, running.process.pid, orders)))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50_000, help="per run, measured")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runs = split(args.orders, args.rounds)
    print(f"{'median of ' + str(args.rounds) + ' rounds':34}" + "".join(
        f"{mode:>12}" for mode in MODES))
    for figure in FIGURES:
        medians = [statistics.median(run[figure] for run in runs[mode]) for mode in MODES]
        print(f"{figure:34}" + "".join(
            f"{value:>12.0%}" if figure in PERCENT
            else f"{value:>12,.0f}" if figure == "orders/s" else f"{value:>12.2f}"
            for value in medians))
    by_round = [on["orders/s"] / off["orders/s"] for off, on in zip(*runs.values(), strict=True)]
    print(f"on / off orders/s, round by round: {', '.join(f'{r:.2f}' for r in by_round)}; "
          f"median {statistics.median(by_round):.3f}")


if __name__ == "__main__":
    main()
