"""The Python SDK and the example agent, against a live server."""

import importlib.util
import sys
from pathlib import Path

from tradepit_client import Client, TradepitError
from tradepit_client.v1 import common_pb2

EXAMPLE = Path(__file__).resolve().parents[2] / "clients" / "examples" / "spread_agent.py"


async def test_the_example_agent_quotes_and_cleans_up(server, capsys):
    spec = importlib.util.spec_from_file_location("spread_agent", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["spread_agent"] = module
    spec.loader.exec_module(module)
    counts = await module.run(server.address, None, "ACME", 10_000, 0.5)
    assert counts == {"EXEC_TYPE_NEW": 1}  # a bid only: a new account holds no shares
    output = capsys.readouterr().out
    assert "cancelled 1 open orders" in output
    assert all(not o.is_open for o in server.gateway.exchange.orders.values())


async def test_client_errors_carry_code_reason_and_message(server):
    async with Client(f"grpc://{server.address}") as client:
        await client.create_account("sdk")
        try:
            await client.submit("ACME", common_pb2.SIDE_BUY, 1, 10_001, type=999)
        except TradepitError as error:
            assert error.code.name == "INVALID_ARGUMENT"
            assert error.reason == "INVALID_ARGUMENT"
            assert "order type" in error.message
        else:
            raise AssertionError("a bad order type was accepted")


async def test_a_session_flushes_everything_queued_in_one_message(server):
    async with Client(server.address) as client:
        await client.create_account("batcher")
        async with client.session() as session:
            ids = [session.submit("ACME", common_pb2.SIDE_BUY, 1, 9_000 + i,
                                  type=common_pb2.ORDER_TYPE_LIMIT) for i in range(3)]
            assert await session.flush() == 3
            assert await session.flush() == 0
            seen = []
            async for report in session:
                seen.append(report.client_order_id)
                if len(seen) == 3:
                    break
        assert seen == ids
