"""Smoke of the living-market benchmark: both servers answer every order.

`make bench` runs `python -m bench.simulation.run` with full counts and records the
figures; here nothing is timed, only completeness is checked.
"""

from bench.simulation.run import ratios, run


def test_both_runs_answer_every_order_and_give_a_ratio_per_scenario():
    runs = run(count=200, rounds=1)
    assert set(runs) == {"off", "on"}
    for rounds in runs.values():
        [results] = rounds
        assert [r.scenario for r in results] == ["unary x16", "stream 1/msg"]
        assert all(r.rejected == 0 and r.orders == 200 for r in results)
    assert {scenario: len(values) for scenario, values in ratios(runs).items()} == {
        "unary x16": 1, "stream 1/msg": 1}
