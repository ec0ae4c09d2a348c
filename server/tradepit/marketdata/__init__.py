"""Market data: what the books and trades look like to the public, shared by subscribers.

`hub.MarketDataHub` listens to the gateway after every command, keeps per-symbol trade
history and candles (`history`, `candles`), and keeps one feed per symbol and channel
that somebody follows (`feeds`). A feed computes each update once and hands the
encoded bytes to every subscriber's bounded queue (`subscriptions`).
"""
