"""The exchange: a single-writer, deterministic state machine around the books.

Commands go in (each with its time), state changes and execution reports come out.
Nothing here knows about gRPC or reads a clock, so a journal of commands replays to
the same state.
"""
