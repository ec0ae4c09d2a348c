"""Figures of a load run, and the `load` section of bench/RESULTS.md."""

from __future__ import annotations

import time
from typing import Any

from bench.load.checks import percentile, submit_latencies
from bench.load.plan import FLOOD_FACTOR
from bench.report import machine

COMMAND = "make load   # python -m bench.load.run --budget-ms {budget:g} --record"


def latency(samples: list[float]) -> dict[str, float]:
    """Count, p50, p99 and max of microsecond samples, in milliseconds."""
    return {"count": len(samples), "p50_ms": percentile(samples, 50) / 1000,
            "p99_ms": percentile(samples, 99) / 1000,
            "max_ms": max(samples, default=0.0) / 1000}


def figures(summary: dict[str, Any]) -> dict[str, Any]:
    """What a person reads of one run (no raw samples)."""
    samples, counts = summary["latency_us"], summary["counts"]
    seconds = summary["plan"]["seconds"] * summary.get("rounds", 1)

    def both(*names: str) -> list[float]:
        return [s for name in names for s in samples.get(name, [])]

    flood_seconds = summary["values"].get("flooder.seconds", 0.0)
    return {
        "plan": summary["plan"], "kinds": summary["kinds"],
        "measured_seconds": round(summary["measured_seconds"], 1),
        "orders_per_second": counts.get("trader.orders", 0) / seconds,
        "submit": latency(submit_latencies(summary)),
        "submit_unary": latency(both("trader SubmitOrder")),
        "submit_stream": latency(both("trader OrderStream new")),
        "cancel": latency(both("trader CancelOrder", "trader OrderStream cancel")),
        "amend": latency(both("trader AmendOrder", "trader OrderStream amend")),
        "fills": counts.get("trader.fills", 0), "too_late": counts.get("trader.late", 0),
        "flooder": {
            "sent": counts.get("flooder.sent", 0),
            "accepted": counts.get("flooder.accepted", 0),
            "resource_exhausted": counts.get("flooder.throttled", 0),
            "with_retry_after": counts.get("flooder.retry_after", 0),
            "offered_per_second": counts.get("flooder.sent", 0) / flood_seconds
            if flood_seconds else 0.0,
        },
        "readers": {key: counts.get(f"reader.{key}", 0) for key in (
            "updates", "trades", "conflated", "gaps", "resyncs", "resubscribes", "recovered",
            "unrecovered")},
        "errors": summary["error_counts"],
    }


def markdown(quiet: dict[str, Any], flooded: dict[str, Any], budget_ms: float, ratio: float,
             failures: list[str]) -> str:
    host = machine()
    plan = quiet["plan"]
    runs = [("without flooder", figures(quiet)), ("with flooder", figures(flooded))]
    lines = [
        "## Under load: locust scenarios with latency and rate-limit checks\n",
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {host['nproc']} CPUs "
        f"({host['cpu']}), Python {host['python']}. Each run starts its own server on "
        "127.0.0.1 (SQLite journal, durability on, market makers on, rate limit "
        f"{plan['rate_limit']} orders/s per account) and runs locust headless for "
        f"{plan['seconds']} s; {quiet.get('rounds', 1)} runs without the flooder alternate "
        f"with {flooded.get('rounds', 1)} with it, and each kind's samples are pooled. "
        f"Users: {plan['traders']} trading agents at {plan['trader_rate']:g} "
        f"actions/s each (unary and streamed submits, cancels, amends), {plan['readers']} "
        "market-data readers (L2 and trades of ACME and GLOBEX), and in the runs with it one "
        f"flooder at {plan['rate_limit'] * FLOOD_FACTOR} orders/s. Latencies are send to "
        f"acknowledgement, measured in the agents; the first {plan['warmup']:g} s are not "
        "counted. The flooder runs in a locust process of its own, so that its calls do not "
        "delay the agents' greenlets. Locust's own CSV reports are in `bench/results/load/` "
        "(its HTML reports too, not committed). "
        "Command:\n",
        f"```sh\n{COMMAND.format(budget=budget_ms)}\n```\n",
        "| run | orders/s | submits | submit p50 | submit p99 | unary p99 | stream p99 "
        "| cancel p99 | amend p99 | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, run in runs:
        errors = sum(run["errors"].get(role, 0) for role in ("trader", "reader"))
        lines.append(
            f"| {name} | {run['orders_per_second']:.0f} | {run['submit']['count']:,} "
            f"| {run['submit']['p50_ms']:.2f} ms | {run['submit']['p99_ms']:.2f} ms "
            f"| {run['submit_unary']['p99_ms']:.2f} ms | {run['submit_stream']['p99_ms']:.2f} ms "
            f"| {run['cancel']['p99_ms']:.2f} ms | {run['amend']['p99_ms']:.2f} ms | {errors} |")
    quiet_p99, flooded_p99 = (run["submit"]["p99_ms"] for _, run in runs)
    flood = runs[1][1]["flooder"]
    readers = [run["readers"] for _, run in runs]
    lines += [
        "",
        "| check | figure | limit | met? |",
        "| --- | ---: | ---: | :---: |",
        f"| submit p99 without the flooder | {quiet_p99:.2f} ms | {budget_ms:g} ms "
        f"| {_met(quiet_p99 <= budget_ms)} |",
        f"| submit p99 with / without the flooder | {flooded_p99 / quiet_p99:.2f}x | {ratio:g}x "
        f"| {_met(flooded_p99 <= ratio * quiet_p99)} |",
        f"| flooder refused RESOURCE_EXHAUSTED | {flood['resource_exhausted']:,} of "
        f"{flood['sent']:,} ({flood['offered_per_second']:.0f}/s offered, "
        f"{flood['accepted']:,} accepted) | > 0 | {_met(flood['resource_exhausted'] > 0)} |",
        f"| market-data gaps unrecovered | {sum(r['unrecovered'] for r in readers)} "
        f"(gaps {sum(r['gaps'] for r in readers)}, updates "
        f"{sum(r['updates'] for r in readers):,}) | 0 "
        f"| {_met(not any(r['unrecovered'] for r in readers))} |",
        "",
        "Result: " + ("all checks passed." if not failures else
                      "**failed**: " + "; ".join(failures)),
        "",
    ]
    return "\n".join(lines) + "\n"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"
