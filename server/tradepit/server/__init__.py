"""The gRPC edge of the exchange: services, interceptors and the process entry point.

It holds no trading state of its own: every change goes through `Gateway.execute` to
the single-writer `Exchange`.
"""

import os

# The server forks only children that do not use gRPC: a snapshot, and the journal's
# writer (which execs). gRPC's fork handlers are for children that do, and can stall or
# crash such a fork while gRPC's threads run, so they are off unless set explicitly
# (snapshots then run on the event loop: journal/snapshots.py). Before gRPC is imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
