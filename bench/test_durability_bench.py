"""Smoke of the durability benchmark: both modes answer every order, and a built journal
recovers completely to the builder's state.

`make bench` runs `python -m bench.durability.run --record` with full counts; here
nothing is timed, only completeness is checked.
"""

import argparse
import statistics

import pytest

from bench.durability.loop_cost import STEPS
from bench.durability.paired import Config, compare, median_ratios
from bench.durability.run import MODES, ROOT, markdown, run


def test_both_modes_answer_every_order_and_the_journal_recovers_whole():
    summary = run(orders=200, latency_orders=50, events=2_000, rounds=1, loop_orders=500)
    for mode in MODES:
        assert set(summary["throughput"][mode]) == {"stream 100/msg", "unary x16", "unary x1"}
        assert all(row["rejected"] == 0 and row["orders"] > 0
                   for row in summary["throughput"][mode].values()), mode
        assert summary["latency"][mode]["p99_us"] > 0
    recovery = summary["recovery"]
    assert recovery["events"] == recovery["recovered"] == 2_000
    assert recovery["digest_matches"]
    assert recovery["audit"] == "clean"
    assert "## Durability" in markdown(summary)
    cost = summary["loop_cost"]
    assert cost["off"]["event loop CPU"] > 0 and cost["on"]["event loop CPU"] > 0
    assert cost["off"]["writer CPU"] == 0  # no writer without the journal
    assert {label for label, _, _ in STEPS} <= set(cost["on"])
    assert cost["on"]["read its store rows"] > 0


def test_paired_runs_every_configuration_each_round_against_the_first():
    configs = [Config.parse("off=off"), Config.parse(f"on=on@{ROOT}")]
    assert configs[1].tree == ROOT and configs[1].env(ROOT / "x.db")["PYTHONPATH"].startswith(
        str(ROOT / "server"))
    rates = compare(configs, "stream", orders=300, rounds=2, report=lambda _: None)
    assert list(rates) == ["off", "on"]
    assert all(len(rate) == 2 and min(rate) > 0 for rate in rates.values())
    ratios = median_ratios(rates)
    assert ratios["off"] == 1.0
    assert ratios["on"] == statistics.median(
        on / off for on, off in zip(rates["on"], rates["off"], strict=True))
    with pytest.raises(argparse.ArgumentTypeError):
        Config.parse("on=maybe")
