"""A real `python -m tradepit.server` in a subprocess, on 127.0.0.1 with a free port."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from .conftest import ADMIN_TOKEN, INSTRUMENTS, MAKER_FEE_BPS, TAKER_FEE_BPS, sqlite_url

OPEN = re.compile(r"Tradepit is open on [\d.]+:(\d+)")
RECOVERED = re.compile(r"recovered (\d+) journal entries in [\d.]+ s; audit (.*); "
                       r"state digest ([0-9a-f]+)")


def children(pid: int) -> list[int]:
    """The processes `pid` started that are still running."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def writer_of(pid: int) -> int:
    """The journal writer of the server process `pid`: its only child."""
    [writer] = children(pid)
    return writer


class ServerProcess:
    """Start on construction; the output is collected by a thread so the pipe never fills."""

    def __init__(self, database: Path, backend: str = "native", url: str = "",
                 **env: str) -> None:
        """`database`: a SQLite file (its directory is the working directory), unless a
        `url` names another database. `backend`: "native", the Rust exchange (the
        default server); "rust" or "python", the Python exchange on that book backend."""
        self.lines: list[str] = []
        exchange = "rust" if backend == "native" else "python"
        environment = {
            **os.environ, "PYTHONUNBUFFERED": "1", "TRADEPIT_EXCHANGE": exchange,
            "TRADEPIT_BOOK": "rust" if backend == "native" else backend,
            "TRADEPIT_ADDRESS": "127.0.0.1:0", "TRADEPIT_ADMIN_TOKEN": ADMIN_TOKEN,
            "TRADEPIT_DATABASE_URL": url or sqlite_url(database), "TRADEPIT_DURABILITY": "on",
            "TRADEPIT_INSTRUMENTS": INSTRUMENTS, "TRADEPIT_STARTING_CASH": "1000000",
            "TRADEPIT_MAKER_FEE_BPS": str(MAKER_FEE_BPS),
            "TRADEPIT_TAKER_FEE_BPS": str(TAKER_FEE_BPS),
            "TRADEPIT_RATE_LIMIT_PER_SECOND": "1000000", "TRADEPIT_RATE_LIMIT_BURST": "1000000",
            "TRADEPIT_MAKERS_ENABLED": "false",  # only the load's orders: its ledger is exact
            **env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tradepit.server"], env=environment, cwd=database.parent,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._opened = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._opened.wait(60) or self.port == 0:
            self.kill()
            raise RuntimeError("the server did not start:\n" + self.output)

    port = 0

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            match = OPEN.search(line)
            if match:
                self.port = int(match.group(1))
                self._opened.set()
        self._opened.set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def writer_pid(self) -> int:
        """The journal writer process (tradepit/journal/writer.py) the server started."""
        return writer_of(self.process.pid)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def recovered(self) -> tuple[int, str, str]:
        """(entries, audit, state digest) from the server's recovery line."""
        for line in self.lines:
            match = RECOVERED.search(line)
            if match:
                return int(match.group(1)), match.group(2), match.group(3)
        raise AssertionError("no recovery line in:\n" + self.output)

    def send(self, sig: int) -> None:
        """Send a signal and return at once (a load running on this loop carries on)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)

    def kill(self) -> None:
        """kill -9: no drain, no last commit."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self._reader.join(10)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, as a supervisor stops it; returns the exit code."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        started = time.monotonic()
        code = self.process.wait(timeout)
        self._reader.join(max(1.0, timeout - (time.monotonic() - started)))
        return code
