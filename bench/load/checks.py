"""The rules a load run must pass, as plain functions over what the users recorded.

Each returns a list of failures, each a sentence a person can act on; empty means pass.
`correctness` holds for every run, the smoke included; `timing` compares the run without
the flooder to its budget and the run with it to the run without.
"""

from __future__ import annotations

import math
from typing import Any

from bench.load.plan import RATE_LIMIT_BURST

WELL_BEHAVED = ("trader", "reader")
SUBMITS = ("trader SubmitOrder", "trader OrderStream new")  # unary and stream new orders
MIN_SAMPLES = 200  # fewer submits than this make a p99 meaningless


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least q% of them at or below."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def submit_latencies(summary: dict[str, Any]) -> list[float]:
    """Send-to-acknowledgement of every new order, unary and streamed, in microseconds."""
    return [s for name in SUBMITS for s in summary["latency_us"].get(name, [])]


def correctness(summary: dict[str, Any]) -> list[str]:
    plan, counts = summary["plan"], summary["counts"]
    failures = []
    for role in WELL_BEHAVED:
        errors = summary["error_counts"].get(role, 0)
        if errors:
            examples = "; ".join(summary["errors"].get(role, [])[:3])
            failures.append(f"well-behaved {role}s saw {errors} errors, e.g. {examples}")
    if plan["traders"] and not counts.get("trader.orders"):
        failures.append("the trading agents sent no orders")
    if plan["readers"] and not counts.get("reader.updates"):
        failures.append("the market-data readers received no updates")
    if counts.get("reader.unrecovered"):
        failures.append(f"market-data readers saw {counts['reader.unrecovered']} sequence "
                        f"gaps that they did not recover from")
    if "Flooder" in summary["kinds"]:
        failures += _flooder(summary)
    return failures


def _flooder(summary: dict[str, Any]) -> list[str]:
    plan, counts = summary["plan"], summary["counts"]
    failures = []
    throttled = counts.get("flooder.throttled", 0)
    if not throttled:
        failures.append(f"the flooder sent {counts.get('flooder.sent', 0)} orders at 10x its "
                        f"rate limit and never got RESOURCE_EXHAUSTED")
    elif counts.get("flooder.retry_after", 0) < throttled:
        failures.append("some RESOURCE_EXHAUSTED answers to the flooder had no retry-after-ms")
    errors = summary["error_counts"].get("flooder", 0)
    if errors:
        failures.append(f"the flooder got {errors} errors other than RESOURCE_EXHAUSTED, e.g. "
                        + "; ".join(summary["errors"].get("flooder", [])[:3]))
    seconds = summary["values"].get("flooder.seconds", plan["seconds"])
    allowed = plan["rate_limit"] * (seconds + 1) + RATE_LIMIT_BURST
    if counts.get("flooder.accepted", 0) > allowed:
        failures.append(f"the rate limiter let {counts['flooder.accepted']} of the flooder's "
                        f"orders through in {seconds:.1f} s; at most {allowed:.0f} may pass")
    return failures


def timing(quiet: dict[str, Any], flooded: dict[str, Any], budget_ms: float,
           ratio: float) -> list[str]:
    failures = []
    for name, summary in (("without the flooder", quiet), ("with the flooder", flooded)):
        count = len(submit_latencies(summary))
        if count < MIN_SAMPLES:
            failures.append(f"only {count} submits measured {name}: too few for a p99 "
                            f"(at least {MIN_SAMPLES})")
    if failures:
        return failures
    quiet_p99 = percentile(submit_latencies(quiet), 99) / 1000
    flooded_p99 = percentile(submit_latencies(flooded), 99) / 1000
    if quiet_p99 > budget_ms:
        failures.append(f"submit p99 {quiet_p99:.2f} ms at the configured load exceeds its "
                        f"budget of {budget_ms:g} ms")
    if flooded_p99 > ratio * quiet_p99:
        failures.append(f"with the flooder the well-behaved submit p99 is {flooded_p99:.2f} ms, "
                        f"more than {ratio:g}x the {quiet_p99:.2f} ms without it")
    return failures
