"""The gateway hands each execution report to its account's order streams, in order."""

from __future__ import annotations

from tradepit.exchange.codes import BalanceChange
from tradepit.exchange.commands import AdjustBalance, CreateAccount, CreateInstrument, SubmitOrder
from tradepit.exchange.exchange import Exchange
from tradepit.exchange.model import ExecutionReport
from tradepit.server.gateway import Gateway, ReportQueue

BUY, SELL, LIMIT = 1, 2, 1


def trading_reports() -> list[ExecutionReport]:
    """The reports of two accounts' orders, some crossing: what one durable batch
    releases at once, accounts interleaved."""
    exchange = Exchange()
    exchange.execute(CreateInstrument("ACME", 1, 1, 10_000, 0, 1))
    for account in (1, 2):
        exchange.execute(CreateAccount(f"a{account}", f"k{account}", 2))
        exchange.execute(AdjustBalance(account, 10**9, BalanceChange.DEPOSIT, 3))
        exchange.execute(AdjustBalance(account, 1_000, BalanceChange.DEPOSIT, 4, "ACME"))
    exchange.take_reports()
    reports = []
    for i in range(20):
        account, side = (1, BUY) if i % 3 else (2, SELL)
        exchange.execute(SubmitOrder(account, f"c{i}", "ACME", side, LIMIT, 0,
                                     10_000 + i % 4 - 2, 5, False, 0, 10 + i))
        reports += exchange.take_reports()
    return reports


def test_a_batch_of_reports_reaches_each_accounts_streams_in_order() -> None:
    reports = trading_reports()
    assert {r.account_id for r in reports} == {1, 2}
    assert any(r.exec_type == r.exec_type.TRADE for r in reports)
    gateway = Gateway(Exchange())
    first, second, other = (gateway.subscribe(1, 1_000), gateway.subscribe(1, 1_000),
                            gateway.subscribe(2, 1_000))
    ones = [r for r in reports if r.account_id == 1]
    gateway.release(reports, [])
    gateway.release(ones[:1], [])  # one report alone takes the short path
    assert first.drain() == second.drain() == ones + ones[:1]
    assert other.drain() == [r for r in reports if r.account_id == 2]
    assert not (first.overflowed or second.overflowed or other.overflowed)


def test_a_batch_that_overflows_a_stream_marks_it_and_keeps_what_fitted() -> None:
    reports = [r for r in trading_reports() if r.account_id == 1]
    roomy, tight = ReportQueue(len(reports)), ReportQueue(len(reports) - 3)
    for queue in (roomy, tight):
        queue.put(reports[0])
        queue.put_many(reports[1:])
    assert roomy.drain() == reports and not roomy.overflowed
    assert tight.drain() == reports[:-3] and tight.overflowed
