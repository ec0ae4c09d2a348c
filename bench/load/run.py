"""Proof under load: run the locust scenarios against a server this command starts.

    python -m bench.load.run --budget-ms 25 [--seconds 30] [--record]   # make load
    python -m bench.load.run --smoke --out DIR                          # tests/load

The full run makes two runs, each against a fresh server (SQLite journal in a temporary
directory, durability and market makers on): trading agents and market-data readers
alone, then the same with the flooder. It exits non-zero, saying why, if any check in
bench/load/checks.py fails. Locust's CSV and HTML reports go to `--out`; with `--record`
the summary also goes to bench/results/load.json and bench/RESULTS.md.

The smoke is one short run with every kind of user, and checks correctness only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench.load.checks import correctness, timing
from bench.load.plan import Plan
from bench.load.report import figures, markdown
from bench.load.server import ADMIN_TOKEN, running_server
from bench.report import write_section

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"
RESULTS = ROOT / "bench" / "results"
REPORTS = RESULTS / "load"  # locust's CSV and HTML reports
ROUNDS = 2
QUIET = {"agents": ["TradingAgent", "MarketDataReader"]}
FLOODED = {**QUIET, "flooder": ["Flooder"]}
SMOKE = Plan(traders=3, readers=2, flooders=1, seconds=8, trader_rate=5.0, warmup=0.0)


class LoadFailed(Exception):
    """Locust itself failed; the message holds the end of its output."""


def run_locust(plan: Plan, groups: dict[str, list[str]], name: str, out: Path,
               work: Path) -> dict[str, Any]:
    """A fresh server, and one locust process per group of user kinds, all at once.

    The flooder runs in a process of its own: sharing the agents' gevent loop, its 200
    calls a second would delay the agents' own greenlets, and that client-side wait
    would be measured as the server's latency. Returns what all the users recorded."""
    directory = work / name
    directory.mkdir()
    runs: dict[str, tuple[subprocess.Popen[bytes], Path, Path]] = {}
    with running_server(directory, plan.rate_limit, plan.seed) as port:
        for group, kinds in groups.items():
            label = name if len(groups) == 1 else f"{name}_{group}"
            summary_path, log_path = work / f"{label}.summary.json", work / f"{label}.log"
            with log_path.open("wb") as log:
                runs[label] = (subprocess.Popen(
                    _command(port, plan, kinds, out / f"load_{label}", summary_path),
                    cwd=ROOT, env=_environment(), stdout=log, stderr=subprocess.STDOUT),
                    summary_path, log_path)
        for label, (process, summary_path, log_path) in runs.items():
            try:
                code = process.wait(plan.seconds + 180)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            if code != 0 or not summary_path.exists():
                raise LoadFailed(f"locust exited with {code} ({label}):\n"
                                 f"{log_path.read_text()[-6000:]}")
    summary = _merge([json.loads(path.read_text()) for _, path, _ in runs.values()])
    summary.update(plan=asdict(plan), kinds=[k for kinds in groups.values() for k in kinds],
                   name=name, rounds=1)
    return summary


def _command(port: int, plan: Plan, kinds: list[str], report: Path,
             summary_path: Path) -> list[str]:
    users = {"TradingAgent": plan.traders, "MarketDataReader": plan.readers,
             "Flooder": plan.flooders}
    kinds = [kind for kind in kinds if users[kind]]
    count = sum(users[kind] for kind in kinds)
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", f"127.0.0.1:{port}", "--users", str(count), "--spawn-rate", str(count),
        "--run-time", f"{plan.seconds}s", "--stop-timeout", "20", "--only-summary",
        "--exit-code-on-error", "0", "--loglevel", "WARNING",
        "--csv", str(report), "--html", f"{report}.html",
        "--admin-token", ADMIN_TOKEN, "--summary", str(summary_path),
        *plan.arguments(), *kinds,
    ]


def _environment() -> dict[str, str]:
    """gRPC's fork handlers off, as in the Makefile; `bench` importable from the root."""
    return {**os.environ, "GRPC_ENABLE_FORK_SUPPORT": "false",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")]))}


def _merge(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary out of several processes' (their users never share a name)."""
    merged: dict[str, Any] = {"measured_seconds": max(s["measured_seconds"] for s in summaries),
                              "latency_us": {}, "counts": {}, "values": {}, "errors": {},
                              "error_counts": {}}
    for summary in summaries:
        for key in ("latency_us", "errors"):
            for name, items in summary[key].items():
                merged[key].setdefault(name, []).extend(items)
        for key in ("counts", "values", "error_counts"):
            for name, amount in summary[key].items():
                merged[key][name] = merged[key].get(name, 0) + amount
    return merged


def smoke(out: Path) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="tradepit-load-") as work:
        summary = run_locust(SMOKE, FLOODED, "smoke", out, Path(work))
    (out / "smoke.summary.json").write_text(json.dumps(summary))
    return [f"smoke: {failure}" for failure in correctness(summary)]


def full(plan: Plan, rounds: int, out: Path, budget_ms: float, ratio: float,
         record: bool) -> list[str]:
    """`rounds` pairs of runs, without then with the flooder; each kind's samples pooled.

    Alternating keeps a change in the machine's other load from landing on one side
    of the comparison only."""
    runs: dict[str, list[dict[str, Any]]] = {"quiet": [], "flooded": []}
    with tempfile.TemporaryDirectory(prefix="tradepit-load-") as work:
        for number in range(1, rounds + 1):
            for name, groups, flooders in (("quiet", QUIET, 0), ("flooded", FLOODED, 1)):
                summary = run_locust(replace(plan, flooders=flooders), groups,
                                     f"{name}_{number}", out, Path(work))
                runs[name].append(summary)
                print(f"{summary['name']}: {json.dumps(figures(summary)['submit'])}")
    failures = [f"{s['name']} run: {f}" for each in runs.values() for s in each
                for f in correctness(s)]
    quiet, flooded = (pooled(runs[name], name) for name in ("quiet", "flooded"))
    failures += timing(quiet, flooded, budget_ms, ratio)
    if record:
        (RESULTS / "load.json").write_text(json.dumps(
            {"budget_ms": budget_ms, "ratio": ratio, "rounds": rounds, "failures": failures,
             "quiet": figures(quiet), "flooded": figures(flooded)}, indent=2) + "\n")
        write_section(ROOT / "bench" / "RESULTS.md",
                      markdown(quiet, flooded, budget_ms, ratio, failures), "load")
    return failures


def pooled(summaries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """Several runs of one kind as one: samples and counts added up."""
    summary = _merge(summaries)
    summary["measured_seconds"] = sum(s["measured_seconds"] for s in summaries)
    summary.update(plan=summaries[0]["plan"], kinds=summaries[0]["kinds"], name=name,
                   rounds=len(summaries))
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = Plan()
    parser.add_argument("--smoke", action="store_true", help="a short correctness-only run")
    parser.add_argument("--budget-ms", type=float, default=0.0,
                        help="the submit p99 budget at the configured load (full run)")
    parser.add_argument("--ratio", type=float, default=1.5,
                        help="the largest p99 with the flooder, over the p99 without it")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="pairs of runs (without, then with the flooder) to pool")
    parser.add_argument("--seconds", type=int, default=defaults.seconds)
    parser.add_argument("--traders", type=int, default=defaults.traders)
    parser.add_argument("--readers", type=int, default=defaults.readers)
    parser.add_argument("--trader-rate", type=float, default=defaults.trader_rate)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", type=Path, default=REPORTS,
                        help="where locust's CSV and HTML reports go")
    parser.add_argument("--record", action="store_true",
                        help="also write bench/results/load.json and bench/RESULTS.md")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        if args.smoke:
            failures = smoke(args.out)
        else:
            if args.budget_ms <= 0:
                parser.error("--budget-ms is required for a full run")
            plan = replace(defaults, seconds=args.seconds, traders=args.traders,
                           readers=args.readers, trader_rate=args.trader_rate, seed=args.seed)
            failures = full(plan, args.rounds, args.out, args.budget_ms, args.ratio,
                            args.record)
    except LoadFailed as error:
        failures = [str(error)]
    for failure in failures:
        print(f"LOAD CHECK FAILED: {failure}", file=sys.stderr)
    if not failures:
        print("load checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
