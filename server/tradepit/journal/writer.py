"""The journal's database writes, in a process of their own.

Writing a batch (binding tens of thousands of parameters, SQLAlchemy's bookkeeping) is
Python work that holds the GIL: in a thread of the server it took turns with the event
loop, and the loop waited about as long as the writes ran. So the server starts
`python -m tradepit.journal.writer` beside it; the loop hands each batch over a socket
pair, pickled as plain tuples, and awaits the answer without blocking (asyncio streams,
no thread). The child does what a `Journal` would (`append`, `write_snapshot`, `close`), one
request at a time, and answers with the result or the error's message.

The child dies with the server (PR_SET_PDEATHSIG, and at the end of its input): a
writer must never outlive its server and commit behind the back of the next one. It
ignores SIGINT, SIGTERM and SIGXFSZ: the server drains on a signal and then closes it,
and a full disk is an error to report, not a death. If it dies anyway, the request in
flight fails like a failed commit, and the next one starts a new child.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import pickle
import signal
import socket
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from tradepit.journal.children import die_with_parent
from tradepit.journal.pending import Batch, journal_rows_of

if TYPE_CHECKING:
    from tradepit.store.projection import Rows

_LENGTH = struct.Struct(">Q")
# The server end's send buffer: the kernel allows what is set (Linux doubles it) up to
# net.core.wmem_max. 4 MiB holds a batch of a few thousand orders with their store rows.
SEND_BUFFER = 4 << 20
_PARENT = "TRADEPIT_JOURNAL_WRITER_PARENT"  # the server's pid, as the child checks it
# Where `tradepit` is imported from, so the child finds the same code as the server.
_SOURCE = str(Path(__file__).resolve().parents[2])


class JournalWriteError(Exception):
    """A request the writer process could not carry out; the message is its error's."""


def _frame(message: Any) -> tuple[bytes, bytes]:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)), data


class JournalWriter:
    """The server's side: `append`, `write_snapshot` and `close` as awaitables."""

    def __init__(self, url: str, busy_timeout_ms: int) -> None:
        self.url = url
        self._busy_timeout_ms = busy_timeout_ms
        self._child: _Child | None = None
        self._lock = asyncio.Lock()  # one request at a time, in the order asked

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (tests stop and limit it)."""
        return None if self._child is None else self._child.process.pid

    async def start(self) -> None:
        async with self._lock:
            await self._started()

    async def append(self, batch: Batch, rows: Rows | None, retrying: bool = False) -> None:
        """`Journal.append` of the batch's entries (journal/pending.py), made in the
        child."""
        await self._call("append", batch, rows, retrying)

    async def write_snapshot(self, row: Any) -> None:
        await self._call("write_snapshot", tuple(row))

    async def close(self) -> None:
        """Close the child's database and wait for it to exit."""
        async with self._lock:
            child, self._child = self._child, None
            if child is None:
                return
            if child.process.returncode is None:
                with contextlib.suppress(JournalWriteError):
                    await self._exchange(child, ("close", ()))
            child.writer.close()
            await child.process.wait()

    async def _started(self) -> _Child:
        child = self._child
        if child is not None and child.process.returncode is None:
            return child
        path = os.environ.get("PYTHONPATH")
        ours, theirs = socket.socketpair()
        # A batch is handed over in one write, while the loop is here: asyncio moves what
        # does not fit only when the loop next polls, which an order stream applying a
        # message does not do, and the child cannot start on a batch it has not read whole.
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        with theirs:  # the child's end, from here on only in the child
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tradepit.journal.writer",
                stdin=theirs.fileno(), stdout=theirs.fileno(),
                env={**os.environ, _PARENT: str(os.getpid()),
                     "PYTHONPATH": _SOURCE if not path else _SOURCE + os.pathsep + path})
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        child = self._child = _Child(process, reader, writer)
        # The URL goes through the socket, not the command line: it may hold a password.
        await self._exchange(child, ("open", (self.url, self._busy_timeout_ms)))
        return child

    async def _call(self, operation: str, *arguments: Any) -> Any:
        async with self._lock:
            return await self._exchange(await self._started(), (operation, arguments))

    async def _exchange(self, child: _Child, request: tuple[str, tuple[Any, ...]]) -> Any:
        """Send one request and read its answer. Interrupted halfway (the child died, or
        the caller was cancelled), the socket is out of step: the child is killed, and
        the next request starts a new one."""
        answered = False
        try:
            child.writer.writelines(_frame(request))
            await child.writer.drain()
            size = _LENGTH.unpack(await child.reader.readexactly(_LENGTH.size))[0]
            status, result = pickle.loads(await child.reader.readexactly(size))
            answered = True
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            raise JournalWriteError("the journal writer process exited "
                                    f"(code {await _kill(child)})") from error
        finally:
            if not answered and child.process.returncode is None:
                await _kill(child)
        if status != "ok":
            raise JournalWriteError(result)
        return result


class _Child(NamedTuple):
    """The writer process, and the server's end of the socket it reads and answers on."""

    process: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter


async def _kill(child: _Child) -> int:
    if child.process.returncode is None:
        child.process.kill()
    child.writer.close()
    return await child.process.wait()


# ---------------------------------------------------------------- the child


def _read(stream: BinaryIO) -> Any:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None  # the server is gone
    (size,) = _LENGTH.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None  # cut short: the server died while writing it
    return pickle.loads(data)


def _answer(sink: BinaryIO, answer: tuple[str, Any]) -> None:
    sink.writelines(_frame(answer))
    sink.flush()


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    """Answer requests until `close` or the end of the input."""
    from tradepit.journal.store import Journal, SnapshotRow

    journal: Journal | None = None
    while True:
        request = _read(source)
        if request is None:
            break
        operation, arguments = request
        try:
            if operation == "open":
                journal = Journal(*arguments)
            elif journal is None:
                raise RuntimeError("the journal writer was not opened")
            elif operation == "append":
                batch, rows, retrying = arguments
                journal.append(journal_rows_of(batch), rows, retrying)
            elif operation == "write_snapshot":
                journal.write_snapshot(SnapshotRow._make(arguments[0]))
            elif operation == "close":
                journal.close()
                _answer(sink, ("ok", None))
                return
            else:
                raise RuntimeError(f"unknown journal writer request {operation!r}")
            answer: tuple[str, Any] = ("ok", None)
        except Exception as error:
            answer = ("error", str(error))
        _answer(sink, answer)
    if journal is not None:
        journal.close()


# Young collections every 100,000 allocations rather than 700: a batch's rows and entries
# are thousands of tuples that live until it is written, which the default thresholds
# scan over and over. In process, the writer's CPU per entry went from 6.02 to 5.86 us
# (bench/RESULTS.md, durability notes).
GC_THRESHOLDS = (100_000, 50, 100)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    die_with_parent()  # elsewhere than Linux, the end of its input stops it
    if os.getppid() != int(os.environ.get(_PARENT, os.getppid())):
        return  # the server died before the signal was armed
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGXFSZ):
        signal.signal(signum, signal.SIG_IGN)
    # Answers only on the socket: anything printed goes to the server's output instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
