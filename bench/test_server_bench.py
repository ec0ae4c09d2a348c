"""Smoke of the end-to-end gRPC benchmark: every scenario runs, in every round, at every
server, and every order is answered; the summary divides round by round.

`make bench` runs `python -m bench.server.run` with full counts and records the
figures; here nothing is timed, only completeness and the arithmetic are checked.
"""

import statistics

import pytest

from bench.server.breakdown import per_order_us
from bench.server.load import Result
from bench.server.run import (
    COMMAND,
    CONFIGS,
    DEFAULT,
    EXCHANGES,
    figures,
    markdown,
    median_ratio,
    per_round_ratios,
    rotation,
    run,
)

SCENARIOS = ["unary x16", "stream 1/msg", "stream 100/msg", "unary x1"]


def test_every_configuration_answers_every_order_in_every_round():
    reports: list[str] = []
    rounds = run(count=200, latency_count=50, profile=None, rounds=2, report=reports.append)
    assert len(rounds) == 2 and len(reports) == 2
    assert CONFIGS == ("echo", "tradepit-rust", "tradepit-python") and DEFAULT == "tradepit-rust"
    assert EXCHANGES == {"tradepit-rust": "rust", "tradepit-python": "python"}
    # Every configuration in every round, the order rotated by one each round.
    assert [list(results) for results in rounds] == [
        ["echo", "tradepit-rust", "tradepit-python"], ["tradepit-rust", "tradepit-python", "echo"]]
    for number, results in enumerate(rounds):
        for name, rows in results.items():
            assert [r.scenario for r in rows] == SCENARIOS, (number, name)
            assert all(r.rejected == 0 and r.orders > 0 for r in rows), (number, name, rows)
    # Each ratio is this round's Tradepit figure over this round's echo figure.
    rows = figures(rounds)
    assert set(rows) == {*SCENARIOS, "p50", "p99"}
    for number, results in enumerate(rounds):
        echo = results["echo"][2].orders_per_second
        mine = results[DEFAULT][2].orders_per_second
        assert per_round_ratios(rows["stream 100/msg"].values[DEFAULT],
                                rows["stream 100/msg"].values["echo"])[number] \
            == pytest.approx(mine / echo)
        assert rows["p99"].values["echo"][number] == results["echo"][3].p99_us > 0


def test_rotation_puts_each_configuration_first_in_turn():
    assert [rotation(n)[0] for n in range(4)] == [*CONFIGS, CONFIGS[0]]
    assert all(sorted(rotation(n)) == sorted(CONFIGS) for n in range(4))


def test_the_ratio_is_the_median_of_per_round_ratios_not_the_ratio_of_medians():
    echo, mine = [100.0, 200.0, 400.0], [100.0, 100.0, 400.0]
    assert per_round_ratios(mine, echo) == [1.0, 0.5, 1.0]
    assert median_ratio(mine, echo) == (1.0, 0.5, 1.0)
    assert statistics.median(mine) / statistics.median(echo) == 0.5  # what it would be


def _result(scenario: str, seconds: float, latency: float = 0.0) -> Result:
    return Result(scenario, 100, seconds, 0, latency, latency)


def _rounds() -> list[dict[str, list[Result]]]:
    """Three rounds: the echo at 100, 200 and 400 orders/s; the Rust exchange at 50, 50
    and 200 (ratios 50%, 25%, 50%: median 50%, while its median over the echo's is 25%);
    the Python one at a quarter of the echo throughout."""
    rounds = []
    for number, (echo, rust) in enumerate(((1.0, 2.0), (0.5, 2.0), (0.25, 0.5))):
        results = {
            "echo": [_result(s, echo) for s in SCENARIOS[:3]]
            + [_result("unary x1", echo, 100.0 * (number + 1))],
            "tradepit-rust": [_result(s, rust) for s in SCENARIOS[:3]]
            + [_result("unary x1", rust, 300.0 * (number + 1) if number else 150.0)],
            "tradepit-python": [_result(s, echo * 4) for s in SCENARIOS[:3]]
            + [_result("unary x1", echo * 4, 150.0 * (number + 1))],
        }
        rounds.append({name: results[name] for name in rotation(number)})
    return rounds


def test_the_section_judges_the_default_on_the_median_of_per_round_ratios():
    section = markdown(_rounds(), {"decode request": 0.1}, 200, 50)
    assert COMMAND.format(orders=200, latency=50, rounds=3) in section
    assert "--rounds 3" in section and "3 rounds" in section
    assert "Rust exchange (default)" in section and "Python exchange (reference)" in section
    assert section.index("Rust exchange (default)") < section.index(
        "Python exchange (reference)")
    for scenario in SCENARIOS:  # a row per scenario, in order
        assert f"| {scenario} | 200 | 50 | 50% (25%-50%) | 50 | 25% (25%-25%) |" in section
    assert section.index("| unary x16 |") < section.index("| stream 100/msg |")
    # The verdict is the default's alone: 50% meets 50%, 50% misses 70%.
    assert "| stream 100/msg | 200 | 50 | 50% (25%-50%) | 50 | 25% (25%-25%) | " \
           "orders/s >= 50% of echo | yes |" in section
    assert "| stream 1/msg | 200 | 50 | 50% (25%-50%) | 50 | 25% (25%-25%) | " \
           "orders/s >= 70% of echo | **no** |" in section
    # p99: echo 100, 200, 300; Rust 150, 600, 900 (1.5x, 3x, 3x); Python 1.5x each round.
    assert "| p99 | 200 us | 600 us | 3.00x (1.50-3.00x) | 300 us | 1.50x (1.50-1.50x) " \
           "| <= 2x echo | **no** |" in section
    assert "| 2 | tradepit-rust, tradepit-python, echo | 25% | 25% | 25% | 25% | 3.00x |" \
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
