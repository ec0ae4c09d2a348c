"""Market-data benchmark: updates per second delivered to 1, 10 and 100 subscribers.

Tradepit and a bare fan-out echo of the same kind of messages run in one command,
`python -m bench.marketdata.run`, so the ratio between them is measured on one machine.
"""
