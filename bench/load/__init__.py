"""Locust scenarios against a real Tradepit server: trading agents, market-data readers and
a flooding agent, each a locust user speaking gRPC.

`make load` (`python -m bench.load.run`) starts the server, runs the scenarios without and
with the flooder, and enforces the budgets; tests/load runs a short smoke of the same.
Only the modules named after locust (`locustfile`, `grpc_user`, `trader`, `reader`,
`flooder`) import gevent; the rest is plain Python, safe to import anywhere.
"""
