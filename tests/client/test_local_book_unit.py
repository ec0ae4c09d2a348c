"""LocalBook against hand-built messages: the sequence rule, the L2 checksum, L3 events,
and resyncing, with no server. `Feed` (feed.py) plays the server for the random runs."""

import asyncio
import random
import struct
import zlib

import grpc
import pytest
from tradepit_client import BookOutOfSync, Level, LocalBook, RestingOrder, TradepitError
from tradepit_client import l2_checksum as checksum_of
from tradepit_client.v1 import marketdata_pb2

from .feed import BUY, L2, L3, SELL, SYMBOL, FakeStub, Feed, Kind, levels_of, reference_checksum

PriceLevel = marketdata_pb2.PriceLevel


def depth_update(sequence, previous=0, bids=(), asks=(), *, snapshot=False, checksum=None,
                 depth=3, symbol=SYMBOL):
    """An L2 update; `bids`/`asks` are (price, quantity, count). Give `checksum` to lie."""
    update = marketdata_pb2.MarketDataUpdate(symbol=symbol, channel=L2, sequence=sequence,
                                             previous_sequence=previous, snapshot=snapshot)
    update.depth.CopyFrom(marketdata_pb2.DepthUpdate(
        bids=[PriceLevel(price=p, quantity=q, order_count=c) for p, q, c in bids],
        asks=[PriceLevel(price=p, quantity=q, order_count=c) for p, q, c in asks],
        checksum=0 if checksum is None else checksum, depth=depth))
    return update


def with_checksum(update, book_bids, book_asks):
    """Stamp the checksum of the book the update should leave (levels best first)."""
    update.depth.checksum = reference_checksum(book_bids[:3], book_asks[:3])
    return update


def l2_book(bids=((100, 5, 1), (99, 3, 2)), asks=((101, 7, 1),), sequence=10):
    book = LocalBook(SYMBOL, L2, depth=3)
    book.apply(with_checksum(depth_update(sequence, bids=bids, asks=asks, snapshot=True),
                             list(bids), list(asks)))
    return book


def order_update(sequence, previous, *events, snapshot=False, bids=(), asks=()):
    update = marketdata_pb2.MarketDataUpdate(symbol=SYMBOL, channel=L3, sequence=sequence,
                                             previous_sequence=previous, snapshot=snapshot)
    update.orders.CopyFrom(marketdata_pb2.OrderUpdates(
        events=list(events),
        bids=[marketdata_pb2.BookOrder(order_id=i, side=BUY, price=p, quantity=q)
              for i, p, q in bids],
        asks=[marketdata_pb2.BookOrder(order_id=i, side=SELL, price=p, quantity=q)
              for i, p, q in asks]))
    return update


def event(kind, order_id, side, price, quantity, remaining, sequence=0):
    return Kind(kind=kind, order_id=order_id, side=side, price=price, quantity=quantity,
                remaining=remaining, sequence=sequence)


def l3_book(sequence=5):
    """Bids: #1 100x5, #2 100x3, #3 99x4. Asks: #4 101x6."""
    book = LocalBook(SYMBOL, L3)
    book.apply(order_update(sequence, 0, snapshot=True,
                            bids=[(1, 100, 5), (2, 100, 3), (3, 99, 4)], asks=[(4, 101, 6)]))
    return book


# --- the checksum ---------------------------------------------------------------------


def test_checksum_is_crc32_of_little_endian_price_quantity_pairs():
    bids, asks = [Level(100, 5, 1), Level(99, 3, 2)], [Level(101, 7, 1)]
    expected = zlib.crc32(struct.pack("<6q", 100, 5, 99, 3, 101, 7))
    assert checksum_of(bids, asks) == expected == reference_checksum(bids, asks)
    assert checksum_of([], []) == 0
    # signed: a (never expected) negative number packs as two's complement, not an error
    assert checksum_of([Level(-1, 1, 1)], []) == zlib.crc32(b"\xff" * 8 + (1).to_bytes(8, "little"))
    # protobuf PriceLevels work as they are
    assert checksum_of([PriceLevel(price=100, quantity=5)], []) == checksum_of([bids[0]], [])


def test_book_checksum_covers_only_the_top_depth_levels():
    book = l2_book(bids=((100, 5, 1), (99, 3, 2), (98, 1, 1)), asks=())
    assert book.checksum() == reference_checksum([(100, 5), (99, 3), (98, 1)], [])
    assert book.checksum(1) == reference_checksum([(100, 5)], [])


# --- L2 -------------------------------------------------------------------------------


def test_snapshot_then_deltas():
    book = l2_book()
    assert (book.sequence, book.in_sync) == (10, True)
    assert book.best_bid == Level(100, 5, 1) and book.best_ask == Level(101, 7, 1)
    # 99 changes, 100 goes, a new ask level appears
    bids, asks = [(99, 4, 3)], [(101, 7, 1), (102, 2, 1)]
    assert book.apply(with_checksum(depth_update(11, 10, [(99, 4, 3), (100, 0, 0)], [(102, 2, 1)]),
                                    bids, asks))
    assert book.bids == [Level(99, 4, 3)]
    assert book.asks == [Level(101, 7, 1), Level(102, 2, 1)]
    assert book.levels(SELL, 1) == [Level(101, 7, 1)]
    assert book.sequence == 11
    with pytest.raises(ValueError, match="not orders"):
        book.orders(BUY)


def test_levels_pushed_below_the_depth_are_dropped():
    book = l2_book(bids=((100, 5, 1), (99, 3, 2), (98, 1, 1)), asks=())
    bids = [(101, 1, 1), (100, 5, 1), (99, 3, 2)]
    book.apply(with_checksum(depth_update(11, 10, [(101, 1, 1)]), bids, []))
    assert [level.price for level in book.bids] == [101, 100, 99]
    # ...and one that comes back into the top is sent again by the server
    bids = [(100, 5, 1), (99, 3, 2), (98, 1, 1)]
    book.apply(with_checksum(depth_update(12, 11, [(101, 0, 0), (98, 1, 1)]), bids, []))
    assert [level.price for level in book.bids] == [100, 99, 98]


def test_an_empty_book_has_checksum_zero_and_no_best_prices():
    book = LocalBook(SYMBOL, L2, depth=3)
    book.apply(depth_update(1, snapshot=True, checksum=0))
    assert (book.best_bid, book.best_ask, book.bids, book.in_sync) == (None, None, [], True)


def test_a_checksum_mismatch_after_an_update_puts_the_book_out_of_sync():
    book = l2_book()
    with pytest.raises(BookOutOfSync) as raised:
        book.apply(depth_update(11, 10, [(100, 6, 1)], checksum=12345))
    assert raised.value.reason == BookOutOfSync.CHECKSUM
    assert not book.in_sync and book.last_error is raised.value
    with pytest.raises(BookOutOfSync) as again:
        book.apply(depth_update(12, 11, [(100, 7, 1)]))
    assert again.value.reason == BookOutOfSync.UNSYNCED


def test_a_snapshot_with_a_wrong_checksum_is_not_trusted():
    book = LocalBook(SYMBOL, L2, depth=3)
    with pytest.raises(BookOutOfSync, match="checksum"):
        book.apply(depth_update(5, bids=[(100, 1, 1)], snapshot=True, checksum=1))
    assert not book.in_sync


def test_updates_must_chain_on_previous_sequence():
    book = l2_book()
    bids, asks = [(100, 6, 1), (99, 3, 2)], [(101, 7, 1)]
    book.apply(with_checksum(depth_update(14, 10, [(100, 6, 1)]), bids, asks))
    with pytest.raises(BookOutOfSync) as raised:
        book.apply(with_checksum(depth_update(17, 15, [(100, 8, 1)]), bids, asks))
    assert raised.value.reason == BookOutOfSync.GAP
    assert book.sequence == 14  # nothing of the update was applied


def test_a_repeated_update_is_a_gap_once_the_snapshot_is_behind_us():
    book = l2_book()
    update = with_checksum(depth_update(11, 10, [(100, 6, 1)]),
                           [(100, 6, 1), (99, 3, 2)], [(101, 7, 1)])
    book.apply(update)
    with pytest.raises(BookOutOfSync, match="gap"):
        book.apply(update)


def test_after_a_snapshot_covered_updates_are_dropped_and_an_overlapping_one_applies():
    book = l2_book(sequence=10)
    assert book.apply(depth_update(9, 7, [(100, 1, 1)], checksum=1)) is False
    assert book.apply(depth_update(10, 9, [(100, 1, 1)], checksum=1)) is False
    # starts before the snapshot, ends after it: applied (levels are absolute)
    bids, asks = [(100, 6, 1), (99, 3, 2)], [(101, 7, 1)]
    assert book.apply(with_checksum(depth_update(12, 9, [(100, 6, 1)]), bids, asks)) is True
    assert book.sequence == 12
    # from now on the chain is strict
    with pytest.raises(BookOutOfSync, match="gap"):
        book.apply(depth_update(14, 11, checksum=0))


def test_the_first_update_after_a_snapshot_must_not_start_after_it():
    book = l2_book(sequence=10)
    with pytest.raises(BookOutOfSync) as raised:
        book.apply(depth_update(13, 11, [(100, 6, 1)], checksum=0))
    assert raised.value.reason == BookOutOfSync.GAP


def test_an_update_before_any_snapshot_is_refused():
    book = LocalBook(SYMBOL, L2)
    with pytest.raises(BookOutOfSync, match="unsynced"):
        book.apply(depth_update(3, 2, checksum=0))


def test_updates_of_other_symbols_or_channels_are_a_caller_error():
    book = l2_book()
    with pytest.raises(ValueError, match="LOTS"):
        book.apply(depth_update(11, 10, symbol="LOTS"))
    with pytest.raises(ValueError):
        book.apply(order_update(11, 10))
    assert book.in_sync


def test_bad_construction():
    with pytest.raises(ValueError):
        LocalBook(SYMBOL, marketdata_pb2.CHANNEL_L1)
    with pytest.raises(ValueError):
        LocalBook(SYMBOL, L2, depth=0)
    with pytest.raises(ValueError):
        LocalBook(SYMBOL, L2, depth=101)
    assert LocalBook(SYMBOL, L3, depth=1000).depth == 1000


def test_the_stream_snapshot_sets_the_depth_the_server_uses():
    book = LocalBook(SYMBOL, L2, depth=10)
    book.apply(depth_update(1, bids=[(100, 1, 1)], snapshot=True, depth=3,
                            checksum=reference_checksum([(100, 1)], [])))
    assert book.depth == 3


def test_subscription_asks_for_this_book():
    assert LocalBook(SYMBOL, L2, 7).subscription() == marketdata_pb2.Subscription(
        symbol=SYMBOL, channels=[L2], depth=7)
    assert LocalBook(SYMBOL, L3).subscription().channels == [L3]


# --- L3 -------------------------------------------------------------------------------


def test_l3_snapshot_gives_orders_in_priority_and_derived_levels():
    book = l3_book()
    assert [o.order_id for o in book.orders(BUY)] == [1, 2, 3]
    assert book.orders(SELL) == [RestingOrder(4, SELL, 101, 6)]
    assert book.bids == [Level(100, 8, 2), Level(99, 4, 1)]
    assert book.best_ask == Level(101, 6, 1)
    assert book.order(2) == RestingOrder(2, BUY, 100, 3) and book.order(99) is None


def test_l3_add_reduce_delete_execute():
    book = l3_book()
    book.apply(order_update(6, 5, event(Kind.KIND_ADD, 5, BUY, 100, 2, 2, 6)))
    assert [o.order_id for o in book.orders(BUY)] == [1, 2, 5, 3]
    book.apply(order_update(7, 6, event(Kind.KIND_REDUCE, 1, BUY, 100, 4, 1, 7)))
    assert book.orders(BUY)[0] == RestingOrder(1, BUY, 100, 1)  # priority kept
    book.apply(order_update(9, 7, event(Kind.KIND_EXECUTE, 1, BUY, 100, 1, 0, 8),
                            event(Kind.KIND_EXECUTE, 2, BUY, 100, 2, 1, 9)))
    assert book.orders(BUY)[:2] == [RestingOrder(2, BUY, 100, 1), RestingOrder(5, BUY, 100, 2)]
    book.apply(order_update(10, 9, event(Kind.KIND_DELETE, 4, SELL, 101, 6, 0, 10)))
    assert book.orders(SELL) == [] and book.best_ask is None
    assert book.bids == [Level(100, 3, 2), Level(99, 4, 1)]
    assert book.sequence == 10


def test_an_amendment_moves_the_order_to_the_back_of_its_level():
    book = l3_book()
    book.apply(order_update(7, 5, event(Kind.KIND_DELETE, 1, BUY, 100, 5, 0, 6),
                            event(Kind.KIND_ADD, 1, BUY, 100, 7, 7, 7)))
    assert book.orders(BUY) == [RestingOrder(2, BUY, 100, 3), RestingOrder(1, BUY, 100, 7),
                                RestingOrder(3, BUY, 99, 4)]
    # an ADD for an id we hold, without the DELETE, moves it as well
    book.apply(order_update(8, 7, event(Kind.KIND_ADD, 2, BUY, 99, 3, 3, 8)))
    assert [o.order_id for o in book.orders(BUY)] == [1, 3, 2]
    assert book.bids == [Level(100, 7, 1), Level(99, 7, 2)]


@pytest.mark.parametrize("bad", [
    event(Kind.KIND_REDUCE, 42, BUY, 100, 1, 1),         # unknown order
    event(Kind.KIND_REDUCE, 1, BUY, 100, 1, 3),          # 5 - 1 is not 3
    event(Kind.KIND_EXECUTE, 1, BUY, 100, 6, -1),        # more than it had
    event(Kind.KIND_DELETE, 1, BUY, 100, 2, 3),          # a delete leaves nothing
    event(Kind.KIND_ADD, 9, BUY, 100, 2, 1),             # an add is all open
    event(Kind.KIND_UNSPECIFIED, 1, BUY, 100, 0, 5),
])
def test_an_l3_event_that_does_not_fit_puts_the_book_out_of_sync(bad):
    book = l3_book()
    with pytest.raises(BookOutOfSync) as raised:
        book.apply(order_update(6, 5, bad))
    assert raised.value.reason == BookOutOfSync.INCONSISTENT and not book.in_sync


def test_l3_events_the_snapshot_already_holds_are_skipped():
    book = LocalBook(SYMBOL, L3)
    book.load_snapshot(Feed().get_book(orders=True))  # empty, sequence 0
    feed = Feed()
    feed.add(BUY, 100, 5)
    feed.add(BUY, 99, 1)
    feed.publish()
    book.load_snapshot(feed.get_book(orders=True))        # at 2
    feed.add(SELL, 105, 2)                                # 3
    feed.delete(1)                                        # 4
    [straddling] = [u for u in feed.publish() if u.channel == L3]
    straddling.previous_sequence = 1  # as if it started before the snapshot
    straddling.orders.events.insert(0, event(Kind.KIND_ADD, 2, BUY, 99, 1, 1, 2))
    assert book.apply(straddling)
    assert book.orders(BUY) == [RestingOrder(2, BUY, 99, 1)]
    assert book.orders(SELL) == [RestingOrder(3, SELL, 105, 2)]


# --- GetBook snapshots and resync ---------------------------------------------------


def test_load_snapshot_checks_the_checksum_for_l2_and_l3():
    feed = Feed(depth=3)
    for price in (100, 99, 98, 97):
        feed.add(BUY, price, 2)
    feed.add(SELL, 101, 1)
    l2, l3 = LocalBook(SYMBOL, L2, depth=3), LocalBook(SYMBOL, L3, depth=3)
    l2.load_snapshot(feed.get_book(3))
    l3.load_snapshot(feed.get_book(3, orders=True))
    assert l2.sequence == l3.sequence == 5
    assert [level.price for level in l2.bids] == [100, 99, 98]
    assert [level.price for level in l3.bids] == [100, 99, 98, 97]  # every order is there
    tampered = feed.get_book(3, orders=True)
    del tampered.bid_orders[0]
    with pytest.raises(BookOutOfSync, match="checksum"):
        l3.load_snapshot(tampered)
    with pytest.raises(ValueError, match="LOTS"):
        l2.load_snapshot(marketdata_pb2.BookSnapshot(symbol="LOTS"))


async def test_resync_loads_get_book_and_counts():
    feed = Feed(depth=3)
    feed.add(BUY, 100, 2)
    stub = FakeStub(feed)
    book = l2_book()
    with pytest.raises(BookOutOfSync):
        book.apply(depth_update(12, 11, checksum=0))
    await book.resync(stub)
    assert (book.in_sync, book.resyncs, book.sequence) == (True, 1, 1)
    assert book.bids == [Level(100, 2, 1)]
    l3 = LocalBook(SYMBOL, L3)
    await l3.resync(stub)
    assert l3.orders(BUY) == [RestingOrder(1, BUY, 100, 2)]


async def test_resync_errors_are_tradepit_errors():
    class Failing:
        async def GetBook(self, request, metadata=()):
            raise grpc.aio.AioRpcError(grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(),
                                       grpc.aio.Metadata(), "unknown symbol")

    with pytest.raises(TradepitError) as raised:
        await LocalBook(SYMBOL).resync(Failing())
    assert raised.value.code == grpc.StatusCode.NOT_FOUND


# --- following a stream, with a feed that plays the server --------------------------


async def session(feed, channels, commands, rng, drop=0.0, lag=0):
    """Batches as a stream would carry them: snapshots first, then each command's
    updates, a fraction `drop` of them lost. The feed runs `lag` commands ahead of the
    stream, so a GetBook taken during a resync is newer than the update being read."""
    yield marketdata_pb2.MarketDataBatch(updates=[feed.stream_snapshot(c) for c in channels])
    pending = []
    for index in range(commands + lag):
        if index < commands:
            feed.random_command(rng)
            pending.append([u for u in feed.publish() if u.channel in channels])
            feed.history[feed.sequence] = feed.get_book(feed.depth, orders=True)
        if index >= lag:
            kept = [u for u in pending.pop(0) if rng.random() >= drop]
            if kept:
                yield marketdata_pb2.MarketDataBatch(updates=kept)
        await asyncio.sleep(0)


def assert_equal_to_feed(book, feed):
    """The book equals the feed's GetBook at the book's own sequence (a lost update at
    the very end goes unnoticed until the next one, so the book may be behind)."""
    snapshot = feed.history.get(book.sequence) or feed.get_book(book.depth, orders=True)
    assert snapshot.sequence == book.sequence
    assert [tuple(level) for level in book.levels(BUY, book.depth)] == levels_of(snapshot.bids)
    assert [tuple(level) for level in book.levels(SELL, book.depth)] == levels_of(snapshot.asks)
    if book.channel == L3:
        assert [tuple(o) for o in book.orders(BUY) + book.orders(SELL)] == [
            (o.order_id, o.side, o.price, o.quantity)
            for o in [*snapshot.bid_orders, *snapshot.ask_orders]]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("channel", [L2, L3])
async def test_following_a_clean_stream_never_resyncs(seed, channel):
    feed = Feed(depth=4)
    stub = FakeStub(feed)
    book = LocalBook(SYMBOL, channel, depth=4)
    rng = random.Random(seed)
    for _ in range(30):  # start from a book that already has orders
        feed.random_command(rng)
    feed.publish()
    applied = [u async for u in book.follow(stub, session(feed, {channel}, 300, rng))]
    assert len(applied) > 100
    assert (book.resyncs, stub.get_book_calls, book.in_sync) == (0, 0, True)
    assert_equal_to_feed(book, feed)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("channel", [L2, L3])
@pytest.mark.parametrize("lag", [0, 3])
async def test_a_stream_that_loses_updates_is_repaired_by_resyncing(seed, channel, lag):
    feed = Feed(depth=4)
    stub = FakeStub(feed)
    book = LocalBook(SYMBOL, channel, depth=4)
    rng = random.Random(seed)
    async for _ in book.follow(stub, session(feed, {channel}, 300, rng, drop=0.05, lag=lag)):
        pass
    assert book.resyncs > 0 and book.resyncs == stub.get_book_calls
    assert book.last_error is not None and book.last_error.reason == BookOutOfSync.GAP
    assert book.in_sync
    assert_equal_to_feed(book, feed)


async def test_a_wrong_checksum_on_the_stream_is_repaired_by_resyncing():
    feed = Feed(depth=4)
    stub = FakeStub(feed)
    book = LocalBook(SYMBOL, L2, depth=4)
    rng = random.Random(7)

    async def corrupt(batches):
        count = 0
        async for batch in batches:
            for update in batch.updates:
                count += 1
                if count == 20 and not update.snapshot:
                    update.depth.checksum ^= 1
            yield batch

    async for _ in book.follow(stub, corrupt(session(feed, {L2}, 100, rng))):
        pass
    assert book.resyncs == 1 and book.last_error.reason == BookOutOfSync.CHECKSUM
    assert_equal_to_feed(book, feed)


async def test_follow_skips_other_symbols_and_channels_on_a_shared_stream():
    feed = Feed(depth=4)
    book = LocalBook(SYMBOL, L3, depth=4)
    rng = random.Random(3)
    other = marketdata_pb2.MarketDataUpdate(symbol="LOTS", channel=L3, sequence=99,
                                            previous_sequence=98)

    async def mixed():
        async for batch in session(feed, {L2, L3}, 50, rng):
            yield marketdata_pb2.MarketDataBatch(updates=[other, *batch.updates])

    applied = [u async for u in book.follow(FakeStub(feed), mixed())]
    assert {(u.symbol, u.channel) for u in applied} == {(SYMBOL, L3)}
    assert book.resyncs == 0
    assert_equal_to_feed(book, feed)


class StreamingStub(FakeStub):
    """Serves StreamMarketData from the feed; the first stream ends RESOURCE_EXHAUSTED."""

    def __init__(self, feed, rng):
        super().__init__(feed)
        self.rng = rng
        self.requests = []
        self.cancelled = 0

    def StreamMarketData(self, request):
        self.requests.append(request)
        first = len(self.requests) == 1
        stub = self

        class Call:
            def __aiter__(self):
                return self.batches()

            async def batches(self):
                async for batch in session(stub.feed, {L3}, 20, stub.rng):
                    yield batch
                if first:
                    raise grpc.aio.AioRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                               grpc.aio.Metadata(), grpc.aio.Metadata(), "slow")

            def cancel(self):
                stub.cancelled += 1

        return Call()


async def test_follow_opens_its_own_stream_and_resubscribes_when_it_is_ended():
    feed = Feed(depth=4)
    stub = StreamingStub(feed, random.Random(5))
    book = LocalBook(SYMBOL, L3, depth=4)
    snapshots = [u.sequence async for u in book.follow(stub) if u.snapshot]
    assert len(stub.requests) == 2 and stub.cancelled == 2
    assert stub.requests[0].subscriptions[0] == book.subscription()
    assert (book.resubscribes, book.resyncs, len(snapshots)) == (1, 0, 2)
    assert_equal_to_feed(book, feed)


async def test_other_stream_errors_are_raised_as_tradepit_errors():
    class Broken:
        async def __aiter__(self):
            raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(),
                                       grpc.aio.Metadata(), "gone")
            yield

    with pytest.raises(TradepitError) as raised:
        async for _ in LocalBook(SYMBOL).follow(FakeStub(Feed()), Broken()):
            pass
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE


async def test_wait_for_sequence():
    book = l2_book(sequence=10)
    await asyncio.wait_for(book.wait_for_sequence(10), 1)
    waiter = asyncio.create_task(book.wait_for_sequence(11))
    await asyncio.sleep(0)
    assert not waiter.done()
    book.apply(with_checksum(depth_update(11, 10, [(100, 6, 1)]),
                             [(100, 6, 1), (99, 3, 2)], [(101, 7, 1)]))
    await asyncio.wait_for(waiter, 1)
