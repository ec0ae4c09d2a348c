"""Generated gRPC stubs for the tradepit.v1 package (see generate.py)."""
