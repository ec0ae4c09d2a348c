"""Smoke of the durability benchmark: both modes answer every order, and a built journal
recovers completely to the builder's state.

`make bench` runs `python -m bench.durability.run --record` with full counts; here
nothing is timed, only completeness is checked.
"""

import argparse
import statistics

import pytest

from bench.durability.cpu_split import FIGURES, split
from bench.durability.loop_cost import STEPS, per_order_us
from bench.durability.paired import Config, compare, median_interval, ratios
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


def test_the_loop_cost_can_warm_up_and_run_one_mode_alone():
    cost = per_order_us(300, rounds=1, modes=("on",), warm_up=300)
    assert list(cost) == ["on"]
    assert cost["on"]["event loop CPU"] > 0 and cost["on"]["writer CPU"] > 0
    assert cost["on"]["release its effects"] > 0  # the measured orders' batches, released


def test_the_cpu_split_measures_each_process_and_the_writer_only_with_the_journal():
    runs = split(orders=300, rounds=1)
    assert list(runs) == list(MODES)
    for mode, (figures,) in runs.items():
        assert list(figures) == list(FIGURES)
        assert figures["orders/s"] > 0 and figures["event loop us/order"] > 0, mode
        assert figures["client us/order"] > 0, mode
        assert 0 < figures["event loop busy"] <= 1.05, mode  # CPU within the stream's time
        assert 0 <= figures["event loop waiting for a CPU"] < 1, mode
    assert runs["off"][0]["writer us/order"] == 0  # no writer process without the journal
    assert runs["on"][0]["writer us/order"] > 0


def test_paired_runs_every_configuration_each_round_against_the_first():
    configs = [Config.parse("off=off"), Config.parse(f"on=on@{ROOT}")]
    assert configs[1].tree == ROOT and configs[1].env(ROOT / "x.db")["PYTHONPATH"].startswith(
        str(ROOT / "server"))
    rates = compare(configs, "stream", orders=300, rounds=2, report=lambda _: None)
    assert list(rates) == ["off", "on"]
    assert all(len(rate) == 2 and min(rate) > 0 for rate in rates.values())
    by_round = ratios(rates)
    assert by_round["off"] == [1.0, 1.0]
    on_ratios = [on / off for on, off in zip(rates["on"], rates["off"], strict=True)]
    assert by_round["on"] == on_ratios
    low, high = median_interval(on_ratios)
    assert min(on_ratios) <= low <= statistics.median(on_ratios) <= high <= max(on_ratios)
    with pytest.raises(argparse.ArgumentTypeError):
        Config.parse("on=maybe")
    quick = Config.parse("quick=on,TRADEPIT_JOURNAL_FLUSH_MS=0.5")
    assert quick.tree is None and quick.env(ROOT / "x.db")["TRADEPIT_JOURNAL_FLUSH_MS"] == "0.5"
    for wrong in ("on=on,PATH=/tmp", "on=on,TRADEPIT_JOURNAL_FLUSH_MS"):  # not a setting
        with pytest.raises(argparse.ArgumentTypeError):
            Config.parse(wrong)


def test_the_interval_of_a_median_is_seeded_and_narrows_with_agreeing_rounds():
    spread = [0.5, 0.6, 0.7, 0.8, 0.9] * 4
    low, high = median_interval(spread)
    assert (low, high) == median_interval(spread)  # the same rounds, the same interval
    assert 0.5 <= low < 0.7 < high <= 0.9
    assert median_interval([0.7] * 20) == (0.7, 0.7)
    tighter = median_interval([0.65, 0.7, 0.75] * 20)
    assert low <= tighter[0] <= tighter[1] <= high
