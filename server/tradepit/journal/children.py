"""What every process the server starts for its journal does first: die with the server.

A journal writer or a snapshot child that outlived its server could commit behind the
back of the next one, or hold its memory for nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when the thread that started it exits (Linux;
    elsewhere the caller needs its own way, such as the end of its input)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
