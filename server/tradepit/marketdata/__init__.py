"""Market data: what the books and trades look like to the public, shared by subscribers.

`hub.MarketDataHub` listens to the gateway after every command, keeps per-symbol trade
history and candles (`history`, `candles`), and keeps one feed per symbol and channel
that somebody follows (`feeds`). A feed computes and encodes each update once; the
readers of the same feeds share a fanout, which joins a loop round's updates into one
chunk that every one of them queues (`subscriptions`).
"""
