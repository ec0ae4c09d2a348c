"""Smoke of the market-data benchmark: every scenario ends on both servers, nothing lost.

`make bench` runs `python -m bench.marketdata.run --record` with full counts; here a
single round of orders goes to 1, 10 and 100 subscribers of each server, and only
completeness is checked (every subscriber saw the marker, every trade print arrived,
no sequence gaps on the checked subscriber), never timing.
"""

from bench.marketdata import workload
from bench.marketdata.run import SUBSCRIBERS, run

ORDERS = 200


def test_every_subscriber_receives_the_whole_market_on_both_servers():
    results = run(orders=ORDERS)
    prints = workload.trade_prints(workload.rounds_for(ORDERS))
    assert set(results) == {"echo", "tradepit"}
    for name, rows in results.items():
        assert [r.subscribers for r in rows] == list(SUBSCRIBERS), name
        for row in rows:
            assert row.trade_prints == prints, (name, row)
            assert row.updates >= row.subscribers and row.seconds > 0, (name, row)
    for row in results["echo"]:   # an L2 update per order, a trades update per taker order
        assert row.updates == row.subscribers * (3 * (prints - 1) + 2), row
