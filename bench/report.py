"""Summarise the order-book benchmarks into bench/results/book_summary.json and bench/RESULTS.md.

Reads pytest-benchmark's JSON (bench/results/book.json) and the cargo bench output
(bench/results/native.json), then rewrites only the part of RESULTS.md between the
`<!-- book:start -->` and `<!-- book:end -->` markers, so other sections survive.

    python bench/report.py [--book PATH] [--native PATH] [--results PATH] [--summary PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
TITLE = "# Tradepit benchmark results\n"

COMMANDS = (
    ".venv/bin/python bench/workloads.py",
    "cargo bench -p tradepit-engine --bench workloads",
    ".venv/bin/pytest bench/ --benchmark-json=bench/results/book.json",
    ".venv/bin/python bench/report.py",
)

# Mode -> (label, target in ops/s or None); the order is the table's row order.
MODES: dict[str, tuple[str, float | None]] = {
    "native": ("Rust core, called directly (cargo bench)", 10_000_000),
    "rust-per-call": ("Rust, one Python call per command", 3_000_000),
    "rust-batch": ("Rust, `Book.apply_batch` batch call", 10_000_000),
    "python-per-call": ("pure Python, one call per command", 400_000),
    "bourse-per-call": ("bourse 0.4.0 (PyPI, Rust/PyO3), one call per command", None),
}
SHORT_NAMES = {"native": "native", "rust-per-call": "per call", "rust-batch": "batch"}
WORKLOAD_TITLES = {
    "a": "Workload A: 60% passive limits, 30% cancels, 10% market orders",
    "b": "Workload B: steady state of ~1,000 resting orders (GTC / IOC / cancel / amend)",
}


def load_book(path: Path) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, Any]]:
    """Per workload and mode: ops/s from the median round, latencies and workload facts."""
    report = json.loads(path.read_text())
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        ops = info["ops"]
        results.setdefault(info["workload"], {})[info["mode"]] = {
            "ops": ops,
            "ops_per_sec": ops / bench["stats"]["median"],
            "p50_ns": info["p50_ns"],
            "p99_ns": info["p99_ns"],
            "rounds": bench["stats"]["rounds"],
            "smoke": info.get("smoke", False),
            "trading_fraction": info.get("trading_fraction"),
            "mean_resting": info.get("mean_resting"),
            **({"batch_commands": info["batch_commands"]} if "batch_commands" in info else {}),
        }
    return results, report


def load_native(path: Path) -> dict[str, dict[str, Any]]:
    """The cargo bench figures, keyed "a"/"b" like the Python ones (its keys: "workload_a")."""
    if not path.exists():
        return {}
    native = json.loads(path.read_text())
    return {
        name.removeprefix("workload_"): {
            "ops": figures["ops"],
            "ops_per_sec": figures["ops_per_s_median"],
            "p50_ns": figures["p50_ns"],
            "p99_ns": figures["p99_ns"],
            "rounds": figures.get("rounds"),
        }
        for name, figures in native.items()
    }


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "rustc": _version("rustc", "--version"),
        "os": platform.platform(),
    }


def _version(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def summarise(
    book: dict[str, dict[str, dict[str, Any]]], native: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Add targets, whether they were met, and the ratios the issue asks for."""
    workloads: dict[str, Any] = {}
    for name in sorted(set(book) | set(native)):
        modes = dict(book.get(name, {}))
        if name in native:
            modes["native"] = native[name]
        rate = {mode: figures["ops_per_sec"] for mode, figures in modes.items()}
        for mode, figures in modes.items():
            target = MODES.get(mode, ("", None))[1]
            figures["target_ops_per_sec"] = target
            figures["target_met"] = None if target is None else figures["ops_per_sec"] >= target
            if "bourse-per-call" in rate:
                figures["vs_bourse"] = figures["ops_per_sec"] / rate["bourse-per-call"]
        facts = next(iter(book.get(name, {}).values()), {})
        workloads[name] = {
            "ops": facts.get("ops") or native.get(name, {}).get("ops"),
            "trading_fraction": facts.get("trading_fraction"),
            "mean_resting": facts.get("mean_resting"),
            "rust_vs_python": {
                mode: rate[mode] / rate["python-per-call"]
                for mode in ("native", "rust-per-call", "rust-batch")
                if mode in rate and "python-per-call" in rate
            },
            "modes": {mode: modes[mode] for mode in MODES if mode in modes},
        }
    return {"workloads": workloads}


def _run_date(stamp: str | None) -> str:
    """pytest-benchmark's run time (now if absent), to the minute, in UTC."""
    moment = datetime.fromisoformat(stamp) if stamp else datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _ns(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "## Order book",
        "",
        f"Run on {summary['date']}; {summary['machine']['nproc']} CPUs "
        f"({summary['machine']['cpu']}), Python {summary['machine']['python']}, "
        f"{summary['machine']['rustc']}.",
        "",
    ]
    if summary["smoke"]:
        lines += ["**Smoke run (10,000 commands, one round): not representative.**", ""]
    lines += ["Commands, from the repository root:", "", "```sh", *COMMANDS, "```", ""]
    for name, workload in summary["workloads"].items():
        modes = workload["modes"]
        with_bourse = "bourse-per-call" in modes
        lines += [f"### {WORKLOAD_TITLES.get(name, 'Workload ' + name.upper())}", ""]
        facts = [f"{workload['ops']:,} commands"]
        if workload["trading_fraction"] is not None:
            facts.append(f"{workload['trading_fraction']:.1%} of them trade")
        if workload["mean_resting"] is not None:
            facts.append(f"{workload['mean_resting']:,.0f} resting orders on average")
        lines += ["; ".join(facts) + ".", ""]
        header = "| mode | ops/s (median) | p50 ns/op | p99 ns/op | target ops/s | met? |"
        rule = "| --- | ---: | ---: | ---: | ---: | :---: |"
        if with_bourse:
            header += " vs bourse |"
            rule += " ---: |"
        lines += [header, rule]
        for mode, figures in modes.items():
            target = figures["target_ops_per_sec"]
            met = {True: "yes", False: "**no**", None: "-"}[figures["target_met"]]
            label = MODES[mode][0]
            if "batch_commands" in figures:
                label += f" ({figures['batch_commands']:,} commands per call)"
            row = (
                f"| {label} | {_count(figures['ops_per_sec'])} | {_ns(figures['p50_ns'])} "
                f"| {_ns(figures['p99_ns'])} | {_count(target) if target else '-'} | {met} |"
            )
            if with_bourse:
                row += f" {figures['vs_bourse']:.2f}x |"
            lines.append(row)
        if workload["rust_vs_python"]:
            ratios = ", ".join(
                f"{SHORT_NAMES[mode]} {ratio:.1f}x"
                for mode, ratio in workload["rust_vs_python"].items()
            )
            lines += ["", f"Rust vs pure Python (ops/s ratio): {ratios}."]
        lines.append("")
    lines += [
        "ops/s is the workload's command count over the median of the timed rounds, each"
        " round applying the whole workload to a fresh book. Per-call p50/p99 time each call"
        " with `time.perf_counter_ns` in a separate pass, minus the timer's own median cost;"
        " batch p50/p99 are per-command means of each timed batch; native figures come from"
        " the cargo bench.",
        "",
        "bourse gets the same workload A stream (our engine's order ids mapped to the ids"
        " bourse returns, no timestamps). bourse 0.4.0 matches a market order against at most"
        " one resting order per price level (the newest), so it does less matching work than"
        " our book on the same stream; the ratio flatters bourse if anything.",
    ]
    return "\n".join(lines) + "\n"


def paired_ratios(off: list[list[tuple[str, float]]],
                  on: list[list[tuple[str, float]]]) -> dict[str, list[float]]:
    """Per scenario, each round's on/off throughput ratio, from rounds of (scenario,
    orders per second) rows run alternately: a slow moment of the host weighs on both
    sides of a ratio."""
    table: dict[str, list[float]] = {}
    for off_rows, on_rows in zip(off, on, strict=True):
        for (scenario, quiet), (same, busy) in zip(off_rows, on_rows, strict=True):
            assert scenario == same, (scenario, same)
            table.setdefault(scenario, []).append(busy / quiet)
    return table


def write_section(path: Path, section: str, name: str = "book") -> None:
    """Replace the text between a section's markers, appending the block if it is absent."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else TITLE
    block = f"{start}\n{section}{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", type=Path, default=RESULTS_DIR / "book.json")
    parser.add_argument("--native", type=Path, default=RESULTS_DIR / "native.json")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--summary", type=Path, default=RESULTS_DIR / "book_summary.json")
    args = parser.parse_args(argv)

    book, raw = load_book(args.book)
    native = load_native(args.native)
    summary = {
        "date": _run_date(raw.get("datetime")),
        "commands": list(COMMANDS),
        "machine": machine(),
        "smoke": any(f["smoke"] for modes in book.values() for f in modes.values()),
        **summarise(book, native),
    }
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")
    write_section(args.results, markdown(summary))
    print(f"wrote {args.summary} and the book section of {args.results}")
    if not native:
        print(f"note: {args.native} is missing; no native figures", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
