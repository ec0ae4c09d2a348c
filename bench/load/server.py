"""The server under load: `python -m tradepit.server` on 127.0.0.1 with a free port, its
journal in a SQLite file, durability and market makers on, as in production.

Its output goes to a log file rather than a pipe: nobody reads a pipe during the run,
and a full pipe would stall the server mid-measurement.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.load.plan import RATE_LIMIT_BURST

OPEN = re.compile(r"Tradepit is open on [\d.]+:(\d+)")
ADMIN_TOKEN = "load-admin"
START_TIMEOUT = 60.0


def environment(directory: Path, rate_limit: int, seed: int) -> dict[str, str]:
    return {
        **os.environ, "PYTHONUNBUFFERED": "1",
        "TRADEPIT_ADDRESS": "127.0.0.1:0", "TRADEPIT_ADMIN_TOKEN": ADMIN_TOKEN,
        "TRADEPIT_DATABASE_URL": f"sqlite:///{directory / 'journal.db'}",
        "TRADEPIT_DURABILITY": "on", "TRADEPIT_MAKERS_ENABLED": "true",
        "TRADEPIT_SEED": str(seed),
        "TRADEPIT_RATE_LIMIT_PER_SECOND": str(rate_limit),
        "TRADEPIT_RATE_LIMIT_BURST": str(RATE_LIMIT_BURST),
    }


@contextmanager
def running_server(directory: Path, rate_limit: int, seed: int) -> Iterator[int]:
    """Start a server whose files live in `directory`; yield its port; SIGTERM it."""
    log_path = directory / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "tradepit.server"],
                                   env=environment(directory, rate_limit, seed),
                                   stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    try:
        yield _wait_for_port(process, log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(process: subprocess.Popen[bytes], log_path: Path) -> int:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        match = OPEN.search(log_path.read_text())
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"the server did not start:\n{log_path.read_text()[-4000:]}")
