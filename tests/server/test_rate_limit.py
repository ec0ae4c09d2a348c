"""Per-account token buckets: the flooder is throttled, nobody else is."""

import contextlib
import random

import pytest
from tradepit.server.ratelimit import RateLimiter
from tradepit.server.status import RateLimited
from tradepit_client import TradepitError
from tradepit_client.v1 import common_pb2

from .conftest import settings
from .test_stream import collect

BUY = common_pb2.SIDE_BUY
LIMIT = common_pb2.ORDER_TYPE_LIMIT


@pytest.fixture
def server_settings():
    return settings(rate_limit_per_second=1, rate_limit_burst=5)


async def test_going_over_the_rate_is_resource_exhausted_with_a_retry_delay(agents, server):
    trader = await agents.new("trader")
    for _ in range(5):
        await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT)
    with pytest.raises(TradepitError) as raised:
        await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT)
    error = raised.value
    assert (error.code.name, error.reason) == ("RESOURCE_EXHAUSTED", "RATE_LIMITED")
    assert 0 < error.retry_after_ms <= 1_000
    assert len(server.gateway.exchange.orders) == 5


async def test_other_accounts_are_not_slowed_by_a_flooder(agents):
    flooder = await agents.new("flooder")
    calm = await agents.new("calm")
    for _ in range(8):
        with contextlib.suppress(TradepitError):
            await flooder.submit("ACME", BUY, 1, 9_000, type=LIMIT)
    for _ in range(5):
        response = await calm.submit("ACME", BUY, 1, 9_000, type=LIMIT)
        assert response.order.status == common_pb2.ORDER_STATUS_NEW


async def test_each_order_in_a_batch_counts(agents, server):
    trader = await agents.new("trader")
    async with trader.session() as session:
        for _ in range(8):
            session.submit("ACME", BUY, 1, 9_000, type=LIMIT)
        await session.flush()
        reports = await collect(session, 8)
    kinds = [(r.exec_type, r.reject_reason) for r in reports]
    assert kinds[:5] == [(common_pb2.EXEC_TYPE_NEW, 0)] * 5
    assert kinds[5:] == [(common_pb2.EXEC_TYPE_REJECTED, common_pb2.REJECT_REASON_RATE_LIMITED)] * 3
    assert len(server.gateway.exchange.orders) == 5


async def test_cancels_are_never_rate_limited(agents):
    trader = await agents.new("trader")
    ids = [(await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT)).order.order_id
           for _ in range(5)]
    for order_id in ids:
        await trader.cancel(order_id)
    assert (await trader.portfolio()).reserved_cash == 0


def test_a_batch_grant_lets_through_what_one_check_per_order_would():
    """An order stream asks once per message (`grant`); what it lets through, and the
    retry delay of the orders beyond, are what one `check` per order at the same moment
    gives."""
    draw = random.Random(7)
    now = [0.0]
    batched, single = (RateLimiter(3, 7, clock=lambda: now[0]) for _ in range(2))
    refused = 0
    for _ in range(2_000):
        now[0] += draw.choice((0.0, 0.0, 0.05, 0.3, 1.0, 4.0))
        wanted = draw.randrange(0, 10)
        passed, delays = [], set()
        for _ in range(wanted):
            try:
                single.check(1)
                passed.append(True)
            except RateLimited as error:
                passed.append(False)
                delays.add(error.retry_after_ms)
        allowed = passed.count(True)
        assert passed == [True] * allowed + [False] * (wanted - allowed)
        assert batched.grant(1, wanted) == allowed
        if delays:
            refused += wanted - allowed
            assert delays == {batched.refusal(1).retry_after_ms}
    assert refused > 1_000  # the scenario does go over the rate


async def test_a_message_over_the_rate_refuses_only_its_orders_beyond_it(agents, server):
    """One message: the orders the bucket covers go, a cancel among the later requests
    still goes (cancels take no token), and the orders after it are refused."""
    trader = await agents.new("trader")
    resting = await trader.submit("ACME", BUY, 1, 9_000, type=LIMIT, client_order_id="rest")
    async with trader.session() as session:
        for i in range(4):
            session.submit("ACME", BUY, 1, 9_000, type=LIMIT, client_order_id=f"in-{i}")
        session.cancel(resting.order.order_id)
        session.amend(resting.order.order_id, 9_001, 1)
        session.submit("ACME", BUY, 1, 9_000, type=LIMIT, client_order_id="beyond")
        await session.flush()
        reports = await collect(session, 7)
    kinds = [(r.exec_type, r.reject_reason) for r in reports]
    assert kinds[:5] == [(common_pb2.EXEC_TYPE_NEW, 0)] * 4 + [(common_pb2.EXEC_TYPE_CANCELED, 0)]
    assert kinds[5:] == [(common_pb2.EXEC_TYPE_REJECTED,
                          common_pb2.REJECT_REASON_RATE_LIMITED)] * 2
    assert reports[-1].client_order_id == "beyond"
    assert len(server.gateway.exchange.orders) == 5
