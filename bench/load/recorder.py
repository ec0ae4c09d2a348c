"""What the users saw, kept beside locust's own statistics and written out as JSON.

Locust rounds response times to whole milliseconds, and cannot tell an expected refusal
(a cancel that lost the race with a fill, the flooder's throttling) from an error. The
checks need exact sub-millisecond latencies and that distinction, so every user reports
here as well; the locustfile writes `summary()` to a file when locust quits.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

KEPT_MESSAGES = 20  # the first error messages of each role, for the report


class Recorder:
    def __init__(self) -> None:
        self.latency_us: dict[str, list[float]] = {}
        self.counts: Counter[str] = Counter()
        self.values: dict[str, float] = {}
        self.errors: dict[str, list[str]] = {}
        self.error_counts: Counter[str] = Counter()
        self._measure_from = 0.0
        self._started = 0.0

    def start(self, warmup: float) -> None:
        """The test starts now; latencies count once `warmup` seconds have passed."""
        self._started = time.monotonic()
        self._measure_from = self._started + warmup

    def latency(self, name: str, seconds: float) -> None:
        if time.monotonic() >= self._measure_from:
            self.latency_us.setdefault(name, []).append(seconds * 1e6)

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    def value(self, name: str, amount: float) -> None:
        self.values[name] = self.values.get(name, 0.0) + amount

    def error(self, role: str, message: str) -> None:
        self.error_counts[role] += 1
        kept = self.errors.setdefault(role, [])
        if len(kept) < KEPT_MESSAGES:
            kept.append(message)

    def summary(self) -> dict[str, Any]:
        return {
            "measured_seconds": max(0.0, time.monotonic() - self._measure_from),
            "latency_us": self.latency_us,
            "counts": dict(self.counts),
            "values": self.values,
            "errors": self.errors,
            "error_counts": dict(self.error_counts),
        }


RECORDER = Recorder()  # one per locust process: all users of a run report to it
