"""A stream's bounded queue: snapshots first, L1/L2 conflate, trades and L3 never drop.

Updates arrive in chunks (what one round of the event loop published, shared by every
reader of the same feeds); the queue counts updates, and conflation takes single
updates out of a chunk without touching the others.
"""

import asyncio

from tradepit.marketdata.subscriptions import Chunk, Fanout, Subscriber

L2, TRADES, L3 = ("ACME", 2), ("ACME", 4), ("ACME", 3)
CONFLATABLE = {L2}


def chunk(*updates: tuple[tuple[str, int], bytes]) -> Chunk[tuple[str, int]]:
    """A chunk as a fanout seals it: the updates joined, each with its feed and size."""
    return Chunk(b"".join(data for _key, data in updates),
                 tuple((key, len(data), key in CONFLATABLE) for key, data in updates))


def put(subscriber: Subscriber[tuple[str, int]], key: tuple[str, int], data: bytes) -> None:
    subscriber.put(chunk((key, data)))


def test_every_feed_starts_owing_a_snapshot_and_updates_wait_for_it():
    subscriber = Subscriber([L2, TRADES], size=10)
    put(subscriber, L2, b"l2-before")  # the snapshot will cover it
    owed, queued = subscriber.take()
    assert owed == {L2: False, TRADES: False} and queued == []
    put(subscriber, L2, b"l2")
    put(subscriber, TRADES, b"t")
    assert subscriber.take() == ({}, [b"l2", b"t"])
    assert subscriber.take() == ({}, [])


def test_a_chunk_loses_only_the_updates_of_feeds_owed_a_snapshot():
    subscriber = Subscriber([L2, TRADES], size=10)
    subscriber.take()  # the opening snapshots
    shared = chunk((L2, b"a"), (TRADES, b"t"), (L2, b"b"))
    subscriber.put(shared)
    assert subscriber.take() == ({}, [b"atb"])
    fresh = Subscriber([L2, TRADES], size=10)
    fresh.put(shared)  # a reader that joined in the middle: its snapshots cover it all
    assert fresh.take() == ({L2: False, TRADES: False}, [])


def test_readers_of_the_same_feeds_queue_the_same_chunk():
    first, second = Subscriber([L2, TRADES], size=10), Subscriber([L2, TRADES], size=10)
    first.take()
    second.take()
    shared = chunk((L2, b"a"), (TRADES, b"t"))
    first.put(shared)
    second.put(shared)
    [mine], [theirs] = first.take()[1], second.take()[1]
    assert mine is theirs is shared.data


def test_a_full_queue_drops_l1_l2_for_a_conflated_snapshot_and_keeps_trades():
    subscriber = Subscriber([L2, TRADES], size=4)
    subscriber.take()
    for i in range(3):
        put(subscriber, L2, b"l2-%d" % i)
    put(subscriber, TRADES, b"t0")
    put(subscriber, TRADES, b"t1")  # full: the L2 updates go, the trade fits
    put(subscriber, L2, b"l2-late")  # owed a snapshot already: dropped
    assert not subscriber.overflowed
    assert subscriber.take() == ({L2: True}, [b"t0", b"t1"])
    put(subscriber, L2, b"l2-next")  # after the snapshot, updates flow again
    assert subscriber.take() == ({}, [b"l2-next"])


def test_conflation_takes_l2_out_of_chunks_and_keeps_their_trades_in_order():
    subscriber = Subscriber([L2, TRADES], size=4)
    subscriber.take()
    subscriber.put(chunk((L2, b"a"), (TRADES, b"t0"), (L2, b"b")))
    subscriber.put(chunk((TRADES, b"t1"), (L2, b"c"), (TRADES, b"t2")))  # 6 > 4
    assert not subscriber.overflowed and len(subscriber) == 3
    assert subscriber.take() == ({L2: True}, [b"t0", b"t1t2"])


def test_an_l2_update_meeting_a_full_queue_of_trades_conflates_itself():
    subscriber = Subscriber([L2, TRADES], size=2)
    subscriber.take()
    put(subscriber, TRADES, b"t0")
    put(subscriber, TRADES, b"t1")
    put(subscriber, L2, b"l2")
    assert not subscriber.overflowed
    assert subscriber.take() == ({L2: True}, [b"t0", b"t1"])


def test_trades_or_l3_that_do_not_fit_overflow_the_stream():
    subscriber = Subscriber([L3, TRADES], size=3)
    subscriber.take()
    for i in range(3):
        put(subscriber, L3, b"o%d" % i)
    assert not subscriber.overflowed
    put(subscriber, TRADES, b"t")
    assert subscriber.overflowed
    assert len(subscriber) == 0  # memory goes at once; the writer ends the stream
    put(subscriber, TRADES, b"t2")
    assert len(subscriber) == 0


def test_a_chunk_of_trades_larger_than_the_queue_overflows_it():
    subscriber = Subscriber([L2, TRADES], size=2)
    subscriber.take()
    subscriber.put(chunk((L2, b"a"), (TRADES, b"t0"), (TRADES, b"t1"), (TRADES, b"t2")))
    assert subscriber.overflowed and len(subscriber) == 0


def test_a_fanout_seals_a_chunk_per_flush_and_splits_past_its_byte_budget():
    fanout: Fanout[tuple[str, int]] = Fanout(frozenset([L2, TRADES]), chunk_bytes=4)
    assert fanout.add(L2, b"ab", True)  # the first since the last take
    assert not fanout.add(TRADES, b"cd", False)
    fanout.add(L2, b"ef", True)  # past 4 bytes: a second chunk
    first, second = fanout.take()
    assert (first.data, first.entries) == (b"abcd", ((L2, 2, True), (TRADES, 2, False)))
    assert (second.data, second.count) == (b"ef", 1)
    assert fanout.take() == []
    assert fanout.add(TRADES, b"gh", False)


def test_take_first_runs_the_hook_that_delivers_what_is_pending():
    pending: list[Chunk[tuple[str, int]]] = []

    def deliver() -> None:
        while pending:
            subscriber.put(pending.pop(0))

    subscriber = Subscriber([L2], size=10, before_take=deliver)
    subscriber.take()
    pending.append(chunk((L2, b"late")))
    assert subscriber.take() == ({}, [b"late"])


async def test_the_writer_wakes_once_for_everything_ready():
    subscriber = Subscriber([L2], size=10)
    await asyncio.wait_for(subscriber.wait(), 1)  # the snapshots are ready at once
    subscriber.take()
    waiter = asyncio.ensure_future(subscriber.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    put(subscriber, L2, b"a")
    put(subscriber, L2, b"b")
    await asyncio.wait_for(waiter, 1)
    assert subscriber.take() == ({}, [b"a", b"b"])
    subscriber.fail()
    assert subscriber.failed
    await asyncio.wait_for(subscriber.wait(), 1)
