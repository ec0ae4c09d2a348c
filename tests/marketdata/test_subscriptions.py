"""A stream's bounded queue: snapshots first, L1/L2 conflate, trades and L3 never drop."""

import asyncio

from tradepit.marketdata.subscriptions import Subscriber

L2, TRADES, L3 = ("ACME", 2), ("ACME", 4), ("ACME", 3)


def test_every_feed_starts_owing_a_snapshot_and_updates_wait_for_it():
    subscriber = Subscriber([L2, TRADES], size=10)
    subscriber.put(L2, b"l2-before", True)  # the snapshot will cover it
    owed, queued = subscriber.take()
    assert owed == {L2: False, TRADES: False} and queued == []
    subscriber.put(L2, b"l2", True)
    subscriber.put(TRADES, b"t", False)
    assert subscriber.take() == ({}, [b"l2", b"t"])
    assert subscriber.take() == ({}, [])


def test_a_full_queue_drops_l1_l2_for_a_conflated_snapshot_and_keeps_trades():
    subscriber = Subscriber([L2, TRADES], size=4)
    subscriber.take()
    for i in range(3):
        subscriber.put(L2, b"l2-%d" % i, True)
    subscriber.put(TRADES, b"t0", False)
    subscriber.put(TRADES, b"t1", False)  # full: the L2 updates go, the trade fits
    subscriber.put(L2, b"l2-late", True)  # owed a snapshot already: dropped
    assert not subscriber.overflowed
    assert subscriber.take() == ({L2: True}, [b"t0", b"t1"])
    subscriber.put(L2, b"l2-next", True)  # after the snapshot, updates flow again
    assert subscriber.take() == ({}, [b"l2-next"])


def test_an_l2_update_meeting_a_full_queue_of_trades_conflates_itself():
    subscriber = Subscriber([L2, TRADES], size=2)
    subscriber.take()
    subscriber.put(TRADES, b"t0", False)
    subscriber.put(TRADES, b"t1", False)
    subscriber.put(L2, b"l2", True)
    assert not subscriber.overflowed
    assert subscriber.take() == ({L2: True}, [b"t0", b"t1"])


def test_trades_or_l3_that_do_not_fit_overflow_the_stream():
    subscriber = Subscriber([L3, TRADES], size=3)
    subscriber.take()
    for i in range(3):
        subscriber.put(L3, b"o%d" % i, False)
    assert not subscriber.overflowed
    subscriber.put(TRADES, b"t", False)
    assert subscriber.overflowed
    assert len(subscriber) == 0  # memory goes at once; the writer ends the stream
    subscriber.put(TRADES, b"t2", False)
    assert len(subscriber) == 0


async def test_the_writer_wakes_once_for_everything_ready():
    subscriber = Subscriber([L2], size=10)
    await asyncio.wait_for(subscriber.wait(), 1)  # the snapshots are ready at once
    subscriber.take()
    waiter = asyncio.ensure_future(subscriber.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    subscriber.put(L2, b"a", True)
    subscriber.put(L2, b"b", True)
    await asyncio.wait_for(waiter, 1)
    assert subscriber.take() == ({}, [b"a", b"b"])
    subscriber.fail()
    assert subscriber.failed
    await asyncio.wait_for(subscriber.wait(), 1)
