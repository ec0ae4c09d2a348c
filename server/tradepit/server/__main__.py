"""`python -m tradepit.server`: run the exchange until interrupted."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

import uvloop

from tradepit.book import BACKEND
from tradepit.config import Settings
from tradepit.exchange.native import NativeExchange
from tradepit.server.app import Running, start

GC_THRESHOLDS = (100_000, 50, 100)  # generation 0, 1 and 2 (the defaults: 700, 10, 10)


def banner(running: Running) -> str:
    address = running.address
    symbols = ", ".join(sorted(running.gateway.exchange.instruments))
    engine = ("Rust exchange" if isinstance(running.gateway.exchange, NativeExchange)
              else f"book backend: {BACKEND}")
    simulation = running.simulation
    if simulation is not None:
        kinds = sorted({agent.kind for agent in simulation.traders})
        traders = f"background {' and '.join(kinds)} traders" if kinds else \
            "no background traders"
        makers = (f"The market is alive (seed {simulation.seed}): makers quote around a "
                  f"moving fair value, with {traders}.\n"
                  "  Turn everything off with TRADEPIT_MAKERS_ENABLED=false, or only the "
                  "traders with\n  TRADEPIT_NOISE_TRADERS_ENABLED=false and "
                  "TRADEPIT_MOMENTUM_TRADERS_ENABLED=false.\n"
                  "  TRADEPIT_SEED replays the same fair values; with TRADEPIT_CLOCK=engine, "
                  "the same client\n  commands then give the same trades.")
    else:
        makers = ("The simulation is off: no makers, no background traders "
                  "(TRADEPIT_MAKERS_ENABLED=true turns it on).")
    return f"""
Tradepit is open on {address}  ({engine}; instruments: {symbols})

  List the services (reflection is on, no proto files needed):
    grpcurl -plaintext {address} list
  Open an account (the reply holds your API key):
    grpcurl -plaintext -d '{{"name": "me"}}' {address} tradepit.v1.AccountService/CreateAccount
  Then send it with every call:  -H 'authorization: Bearer <api key>'

  {makers}

  Admin token: {running.admin_token}   (set TRADEPIT_ADMIN_TOKEN to choose it)
  Ctrl-C stops the server.
"""


async def serve() -> None:
    running = await start(Settings())
    # What recovery built lives as long as the process: keep the collector from
    # scanning it again and again (a full pass over a large state stalls the loop).
    gc.collect()
    gc.freeze()
    # The state that grows from here on (orders, fills, the journal's pending batches,
    # which live for a commit or two and so outlive young collections) holds no cycles:
    # refcounting frees it, and every full pass over it is pure overhead. With the
    # journal on, collections at the default thresholds cost a quarter of the order
    # stream's throughput (bench/RESULTS.md, durability). Young collections still run,
    # every 100,000 allocations, for the short-lived cycles gRPC's errors leave.
    gc.set_threshold(*GC_THRESHOLDS)
    print(banner(running), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop(grace=2.0)  # drain the calls in flight, then the last commit


def ignore_file_size_signal() -> None:
    """A file-size limit (RLIMIT_FSIZE) reached while journaling is a full disk: the write
    fails and the journal retries. By default the kernel would kill the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The journal logs its own migration; Alembic's plugin chatter only hides the banner.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ignore_file_size_signal()
    uvloop.run(serve())


if __name__ == "__main__":
    main()
