"""End-to-end gRPC benchmarks: Tradepit against a bare echo server (the ceiling)."""
