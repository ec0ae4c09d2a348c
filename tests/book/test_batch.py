"""The batch call: compact commands in, compact events out, same results as one call each."""

import threading

import pytest
from tradepit.book import (
    Command,
    ErrorCode,
    EventKind,
    InvalidOrder,
    OrderType,
    Side,
    decode_events,
    encode_commands,
)

BUY, SELL = Side.BUY, Side.SELL

COMMANDS = [
    Command.submit(1, SELL, 100, 5),
    Command.submit(2, SELL, 101, 5, timestamp=7),
    Command.submit(3, BUY, 0, 7, order_type=OrderType.MARKET),
    Command.submit(3, BUY, 100, 0),                  # refused: zero quantity
    Command.amend(2, 102, 3),
    Command.cancel(1),                               # refused: already filled
    Command(kind=9),                                 # refused: unknown kind
    Command.end_session(timestamp=99),
    Command.cancel(2),
]


def _one_by_one(book, commands):
    records = []
    for index, c in enumerate(commands):
        try:
            if c.kind == 1:
                events = book.submit(c.owner, c.side, c.price, c.quantity, c.order_type, c.tif,
                                     bool(c.post_only), c.stp, c.timestamp)
            elif c.kind == 2:
                events = book.cancel(c.order_id, c.timestamp)
            elif c.kind == 3:
                events = book.amend(c.order_id, c.price, c.quantity, c.timestamp)
            elif c.kind == 4:
                events = book.end_session(c.timestamp)
            else:
                raise InvalidOrder("unknown", ErrorCode.INVALID_COMMAND)
        except InvalidOrder as error:
            records.append((index, 0, 0, 0, c.order_id, 0, 0, 0, 0, 0, error.code, 0, 0, 0))
        except LookupError as error:
            records.append((index, 0, 0, 0, c.order_id, 0, 0, 0, 0, 0, error.code, 0, 0, 0))
        else:
            records.extend((index, *e.astuple()) for e in events)
    return records


def test_batch_gives_the_same_events_as_one_call_per_command(make_book):
    batched, single = make_book(), make_book()
    records = decode_events(batched.apply_batch(encode_commands(COMMANDS)))
    assert [tuple(r) for r in records] == _one_by_one(single, COMMANDS)
    assert batched.state_hash() == single.state_hash()


def test_refused_commands_become_error_records_and_the_batch_goes_on(book):
    records = decode_events(book.apply_batch(encode_commands(COMMANDS)))
    errors = [(r.command_index, ErrorCode(r.reason)) for r in records if r.kind == EventKind.ERROR]
    assert errors == [(3, ErrorCode.NON_POSITIVE_QUANTITY), (5, ErrorCode.UNKNOWN_ORDER),
                      (6, ErrorCode.INVALID_COMMAND)]
    assert records[-1].kind == EventKind.CANCELLED and records[-1].command_index == 8
    seqs = [r.seq for r in records if r.kind != EventKind.ERROR]
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_torn_batch_is_refused_whole(book):
    data = encode_commands(COMMANDS)
    with pytest.raises(InvalidOrder) as raised:
        book.apply_batch(data[:-1])
    assert raised.value.code == ErrorCode.INVALID_BATCH
    assert book.sequence == 0 and book.next_order_id == 1


def test_empty_batch_is_a_no_op(book):
    assert book.apply_batch(b"") == b""


def test_rust_batch_releases_the_gil_while_matching(backend):
    """Another Python thread keeps running while a large batch is matched."""
    if backend.__name__ != "tradepit._native":
        pytest.skip("only the Rust backend can release the GIL")
    commands = []
    for i in range(300_000):
        side = BUY if i % 2 else SELL
        commands.append(Command.submit(i % 50, side, 1000 + (i % 7) - 3 * (side == BUY), 1))
    data = encode_commands(commands)
    book = backend.Book(1, 1)
    ticks = 0
    stop = threading.Event()

    def spin():
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        before = ticks
        book.apply_batch(data)
        progress = ticks - before
    finally:
        stop.set()
        thread.join()
    assert progress > 1000, f"the other thread advanced only {progress} times during the batch"
