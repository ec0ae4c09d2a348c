"""Smoke of the durability benchmark: both modes answer every order, and a built journal
recovers completely to the builder's state.

`make bench` runs `python -m bench.durability.run --record` with full counts; here
nothing is timed, only completeness is checked.
"""

from bench.durability.run import MODES, markdown, run


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
    assert cost["on"]["cut a batch (entries, store notes)"] > 0
