"""A short smoke of the locust scenarios (bench/load) against a real server.

Locust runs in its own process: it monkey-patches the standard library with gevent,
which must never happen inside this test process. Only correctness is checked here
(`make load` holds the timings): the well-behaved users saw no error, the flooder was
throttled with RESOURCE_EXHAUSTED, and market data kept its sequence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_scenarios_run_clean_and_the_flooder_is_throttled(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.load.run", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "GRPC_ENABLE_FORK_SUPPORT": "false"})
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads((tmp_path / "smoke.summary.json").read_text())
    counts, errors = summary["counts"], summary["error_counts"]
    assert errors.get("trader", 0) == 0 and errors.get("reader", 0) == 0, summary["errors"]
    assert counts["trader.orders"] > 0 and counts["reader.updates"] > 0
    assert counts["flooder.throttled"] > 0
    assert counts["flooder.retry_after"] == counts["flooder.throttled"]
    assert counts.get("reader.unrecovered", 0) == 0
    assert (tmp_path / "load_smoke_agents_stats.csv").exists()
