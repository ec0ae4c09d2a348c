"""A private PostgreSQL cluster for the tests: a temporary directory, a free port on
127.0.0.1, trust authentication, stopped and removed afterwards.

Debian's `postgresql` package (installed by `make install`) keeps its programs in
/usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root, so as root the
cluster runs as the package's `postgres` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "tradepit"


def find_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresCluster:
    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.directory = Path(tempfile.mkdtemp(prefix="tradepit-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self._run_as = "postgres" if os.geteuid() == 0 else None
        if self._run_as:
            shutil.chown(self.directory, self._run_as)
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        self._databases = 0
        self.start()

    def _run(self, program: str, *args: str) -> None:
        # Through runuser, not subprocess's `user=`: that makes Python fork() instead of
        # vfork(), and gRPC's fork handlers can crash the child of a process serving gRPC.
        prefix = ["runuser", "-u", self._run_as, "--"] if self._run_as else []
        subprocess.run([*prefix, str(self.binaries / program), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                   "-c fsync=on -c synchronous_commit=on")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.directory / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self._databases += 1
        name = f"t{self._databases}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
