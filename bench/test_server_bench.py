"""Smoke of the end-to-end gRPC benchmark: every scenario runs and every order is answered.

`make bench` runs `python -m bench.server.run` with full counts and records the
figures; here nothing is timed, only completeness is checked.
"""

from bench.server.breakdown import per_order_us
from bench.server.run import run


def test_every_scenario_answers_every_order_on_both_servers():
    results = run(count=200, latency_count=50, profile=None)
    assert set(results) == {"echo", "tradepit"}
    for name, rows in results.items():
        assert [r.scenario for r in rows] == ["unary x16", "stream 1/msg", "stream 100/msg",
                                              "unary x1"], name
        assert all(r.rejected == 0 and r.orders > 0 for r in rows), (name, rows)


def test_the_breakdown_times_every_stage():
    stages = per_order_us(500, rounds=1)
    assert len(stages) == 4
    # "around it" is the server's whole path less the exchange timed apart: on a noisy
    # host it is only indicative, so only the stages timed directly must be positive.
    timed = [micros for name, micros in stages.items() if not name.startswith("around")]
    assert len(timed) == 3 and all(micros > 0 for micros in timed), stages
