"""Smoke of the end-to-end gRPC benchmark: every scenario runs and every order is answered.

`make bench` runs `python -m bench.server.run` with full counts and records the
figures; here nothing is timed, only completeness is checked.
"""

from bench.server.breakdown import per_order_us
from bench.server.load import Result
from bench.server.run import markdown, run

SCENARIOS = ["unary x16", "stream 1/msg", "stream 100/msg", "unary x1"]


def test_every_scenario_answers_every_order_on_both_servers():
    results = run(count=200, latency_count=50, profile=None)
    assert set(results) == {"echo", "tradepit", "tradepit-rust"}
    for name, rows in results.items():
        assert [r.scenario for r in rows] == ["unary x16", "stream 1/msg", "stream 100/msg",
                                              "unary x1"], name
        assert all(r.rejected == 0 and r.orders > 0 for r in rows), (name, rows)


def test_the_section_shows_both_exchanges_against_the_echo():
    rows = {name: [Result(scenario, 100, seconds) for scenario in SCENARIOS]
            for name, seconds in (("echo", 1.0), ("tradepit", 4.0), ("tradepit-rust", 2.0))}
    for name, latency in (("echo", 100.0), ("tradepit", 150.0), ("tradepit-rust", 300.0)):
        rows[name][-1] = Result("unary x1", 100, 1.0, 0, latency, latency)
    section = markdown(rows, {"decode request": 0.1}, 200, 50)
    assert "| stream 100/msg | 100 | 25 | 25% | 50 | 50% | orders/s >= 50% of echo | " \
           "**no** / yes |" in section
    assert "| p99 | 100 us | 150 us | 1.50x | 300 us | 3.00x | <= 2x echo | yes / **no** |" \
        in section


def test_the_breakdown_times_every_stage():
    stages = per_order_us(500, rounds=1)
    assert len(stages) == 4
    # "around it" is the server's whole path less the exchange timed apart: on a noisy
    # host it is only indicative, so only the stages timed directly must be positive.
    timed = [micros for name, micros in stages.items() if not name.startswith("around")]
    assert len(timed) == 3 and all(micros > 0 for micros in timed), stages


def test_the_exchange_cost_bench_applies_the_same_commands_to_both_exchanges():
    from tradepit._native import Exchange as NativeExchange
    from tradepit.exchange.exchange import Exchange

    from bench.server.exchange_cost import (
        native_exchange,
        per_command_us,
        resting_buys,
        stream_path_us,
        trading,
    )

    for commands in (resting_buys(300), trading(300)):
        python, native = Exchange(), native_exchange()
        assert isinstance(native, NativeExchange)
        for command in commands:
            assert native.execute(command) == _shape(python.execute(command))
            assert native.take_reports() == python.take_reports()
        assert native.audit() == python.audit() == []
        figures = per_command_us(commands, 1, {"python": Exchange, "native": native_exchange})
        assert set(figures) == {"python", "native"} and min(figures.values()) > 0
    stream = stream_path_us(300, rounds=1)
    assert set(stream) == {"python", "native"} and min(stream.values()) > 0


def _shape(result):
    """A Python exchange result as the native one gives it (orders: id and reports)."""
    order = getattr(result, "order", None)
    if order is not None:
        return order.order_id, result.reports
    return getattr(result, "account_id", getattr(result, "symbol", result))
