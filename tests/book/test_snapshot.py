"""Snapshots: a restored book is indistinguishable from the original, on and across backends."""

from __future__ import annotations

import struct
from hashlib import blake2b
from itertools import islice
from typing import Any

import pytest
from tradepit.book import ErrorCode, InvalidOrder, load_backend

from .streams import LOT, TICK, apply, random_commands


def _other(backend: Any) -> Any:
    name = "python" if backend.__name__.endswith("_native") else "rust"
    return load_backend(name)


@pytest.mark.parametrize("seed", [11, 12])
def test_restored_book_gives_the_same_events_for_the_same_commands(backend, seed):
    commands = random_commands(seed, 8_000)
    book = backend.Book(TICK, LOT)
    for command in islice(commands, 4_000):
        apply(book, command)
    assert len(book) > 10, "the stream should leave resting orders to carry over"
    data = book.snapshot()
    restored = backend.Book.restore(data)
    restored.validate()
    assert restored.state_hash() == book.state_hash()
    assert [[o.astuple() for o in side] for side in restored.orders()] == \
        [[o.astuple() for o in side] for side in book.orders()]
    assert (restored.sequence, restored.next_order_id) == (book.sequence, book.next_order_id)
    assert restored.snapshot() == data
    for index, command in enumerate(commands):  # the remaining 4,000, DAY expiry included
        assert apply(restored, command) == apply(book, command), f"command {index}: {command}"
    restored.validate()
    assert restored.state_hash() == book.state_hash()


def test_a_snapshot_from_one_backend_restores_in_the_other(backend):
    book = backend.Book(TICK, LOT)
    commands = random_commands(21, 6_000)
    for command in islice(commands, 3_000):
        apply(book, command)
    other = _other(backend)
    twin = other.Book.restore(book.snapshot())
    twin.validate()
    assert twin.state_hash() == book.state_hash()
    assert twin.snapshot() == book.snapshot()
    for command in commands:
        assert apply(twin, command) == apply(book, command)
    assert twin.state_hash() == book.state_hash()


def test_the_words_after_the_version_are_the_state_hash_input(book):
    book.submit(1, 1, 99, 3, tif=4, timestamp=5)
    book.submit(2, 2, 101, 4, post_only=True, timestamp=6)
    data = book.snapshot()
    assert struct.unpack_from("<q", data) == (1,)
    assert blake2b(data[8:], digest_size=16).hexdigest() == book.state_hash()
    assert len(data) == 8 * (1 + 4 + 1 + 11 + 1 + 11)


def test_an_empty_book_round_trips(make_book, backend):
    book = make_book(5, 10)
    restored = backend.Book.restore(book.snapshot())
    assert (restored.tick_size, restored.lot_size, len(restored)) == (5, 10, 0)
    assert restored.state_hash() == book.state_hash()
    assert restored.submit(1, 1, 100, 10)[0].order_id == 1


# One bid (id 1, 99 x 3, GTC) and one ask (id 2, 101 x 4, DAY, post-only); ids handed out: 2.
SAMPLE = [1, 1, 1, 2, 3, 1, 1, 7, 1, 99, 5, 3, 1, 1, 0, 1, 10,
          1, 2, 8, 2, 101, 4, 4, 1, 4, 1, 2, 11]


def _edit(at: int, value: int) -> list[int]:
    words = list(SAMPLE)
    words[at] = value
    return words


def _pack(words: list[int]) -> bytes:
    return struct.pack(f"<{len(words)}q", *words)


WHOLE = "232 bytes is not a whole snapshot"
REFUSALS = [
    (_pack(SAMPLE)[:-3], "229 bytes is not a whole snapshot"),
    (_pack(SAMPLE[:6]), "48 bytes is not a whole snapshot"),
    (_pack(_edit(0, 2)), "version 2 is not supported"),
    (_pack(_edit(2, 0)), "tick size and lot size must be positive, got 1 and 0"),
    (_pack(_edit(3, -1)), "sequence -1 is negative"),
    (_pack(_edit(4, 0)), "next order id 0 is not positive"),
    (_pack(_edit(5, 2)), WHOLE),
    (_pack(_edit(5, -1)), WHOLE),
    (_pack(_edit(17, 0)), WHOLE),
    (_pack(_edit(8, 2)), "order 1 is on the wrong side"),
    (_pack(_edit(12, 2)), "order 1 is not a GTC or DAY limit order"),
    (_pack(_edit(13, 3)), "order 1 is not a GTC or DAY limit order"),
    (_pack(_edit(14, 2)),
     "order 1 has an invalid post-only flag or self-trade prevention mode"),
    (_pack(_edit(15, 0)),
     "order 1 has an invalid post-only flag or self-trade prevention mode"),
    (_pack(_edit(6, 3)), "order 3 was never handed out"),
    (_pack(_edit(18, 1)), "order 1 appears twice"),
    (_pack(_edit(9, 0)), "order 1 has an invalid price 0"),
    (_pack(_edit(11, 6)), "order 1 has an invalid open quantity 6 of 5"),
    (_pack(_edit(21, 99)), "book is crossed: best bid 99 >= best ask 99"),
    (_pack([1, 1, 1, 2, 4, 2, 1, 7, 1, 99, 5, 3, 1, 1, 0, 1, 10,
            2, 7, 1, 100, 5, 3, 1, 1, 0, 1, 10, 0]), "order 2 is out of price priority"),
]


def test_the_sample_snapshot_restores(backend):
    book = backend.Book.restore(_pack(SAMPLE))
    assert (book.best_bid(), book.best_ask()) == ((99, 3), (101, 4))
    assert book.get_order(2).astuple() == (2, 8, 2, 101, 4, 4, 1, 4, True, 2, 11)
    assert book.end_session(20)[0].order_id == 2


@pytest.mark.parametrize(("data", "detail"), REFUSALS)
def test_bad_snapshots_are_refused_with_the_first_broken_rule(backend, data, detail):
    with pytest.raises(InvalidOrder) as refused:
        backend.Book.restore(data)
    assert str(refused.value) == f"invalid snapshot: {detail}"
    assert refused.value.code == ErrorCode.INVALID_SNAPSHOT


def test_restore_takes_bytes_only(backend):
    with pytest.raises(TypeError, match="'bytearray' object is not an instance of 'bytes'"):
        backend.Book.restore(bytearray(_pack(SAMPLE)))
