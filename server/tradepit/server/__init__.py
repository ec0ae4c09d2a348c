"""The gRPC edge of the exchange: services, interceptors and the process entry point.

It holds no trading state of its own: every change goes through `Gateway.execute` to
the single-writer `Exchange`.
"""
