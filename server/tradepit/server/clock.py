"""Where command time comes from: the wall clock, or the engine's own count of commands.

The gateway stamps every command it applies. With the wall clock, a stamp is the time
of day (never going backwards). With the engine clock, a stamp is the previous command's
stamp plus a fixed step, and time moves only when a command is applied: replaying the
same commands gives the same stamps, so a seeded simulation driven by them repeats.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    deterministic: bool

    def stamp(self, last_ns: int) -> int:
        """The time of a command applied now, the last command having been at `last_ns`."""
        ...

    def now(self, last_ns: int) -> int:
        """What time it is for anyone who asks without applying a command."""
        ...


class WallClock:
    """Nanoseconds since the Unix epoch, never before the last command."""

    deterministic = False

    def __init__(self, source: Callable[[], int] = time.time_ns) -> None:
        self._source = source

    def stamp(self, last_ns: int) -> int:
        return max(last_ns, self._source())

    def now(self, last_ns: int) -> int:
        return max(last_ns, self._source())


class EngineClock:
    """Every command `step_ns` after the one before, starting at `start_ns`; between
    commands, time stands still."""

    deterministic = True

    def __init__(self, step_ns: int, start_ns: int = 0) -> None:
        if step_ns <= 0:
            raise ValueError("the engine clock's step must be a positive number of ns")
        self.step_ns = step_ns
        self.start_ns = start_ns

    def stamp(self, last_ns: int) -> int:
        return max(last_ns, self.start_ns) + self.step_ns

    def now(self, last_ns: int) -> int:
        return max(last_ns, self.start_ns)
