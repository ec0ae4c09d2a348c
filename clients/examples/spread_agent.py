"""A small agent: quote around the current best prices and report what happened.

Run it against `make run`:

    python clients/examples/spread_agent.py --url 127.0.0.1:50051 --symbol ACME

It opens an account (or uses --api-key), places a bid, and an ask too if it holds
shares (there is no short selling), listens on its order stream for a few seconds,
then cancels what is left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from tradepit_client import Client
from tradepit_client.v1 import common_pb2

LIMIT = common_pb2.ORDER_TYPE_LIMIT


async def run(url: str, api_key: str | None, symbol: str, reference: int,
              seconds: float) -> dict[str, int]:
    """Quote one lot each side of `reference` and count the reports that come back."""
    counts: dict[str, int] = {}
    async with Client(url, api_key) as client:
        if api_key is None:
            account = await client.create_account("spread-agent")
            print(f"opened account {account.account_id} with {account.cash} cash")
        held = {p.symbol: p.quantity - p.reserved_quantity
                for p in (await client.portfolio()).positions}
        async with client.session() as session:
            session.submit(symbol, common_pb2.SIDE_BUY, 1, reference - 1, type=LIMIT)
            if held.get(symbol, 0) >= 1:
                session.submit(symbol, common_pb2.SIDE_SELL, 1, reference + 1, type=LIMIT)
            await session.flush()

            async def listen() -> None:
                async for report in session:
                    name = common_pb2.ExecType.Name(report.exec_type)
                    counts[name] = counts.get(name, 0) + 1
                    print(f"#{report.sequence} {name} order {report.order_id} "
                          f"{report.last_quantity}@{report.last_price} "
                          f"{report.reject_message}".rstrip())

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listen(), seconds)
        cancelled = await client.cancel_all(symbol)
        print(f"cancelled {len(cancelled)} open orders")
        portfolio = await client.portfolio()
        print(f"equity {portfolio.equity}, cash {portfolio.cash}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="127.0.0.1:50051")
    parser.add_argument("--api-key")
    parser.add_argument("--symbol", default="ACME")
    parser.add_argument("--reference", type=int, default=10_000, help="price to quote around")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.api_key, args.symbol, args.reference, args.seconds))


if __name__ == "__main__":
    main()
