"""The L2 checksum as marketdata.proto defines it, and the batch framing."""

import struct
import zlib

from tradepit.marketdata.checksum import depth_checksum
from tradepit.marketdata.messages import batches, frame
from tradepit_client.v1 import marketdata_pb2


def by_the_definition(bids, asks):
    crc = 0
    for price, quantity, _count in [*bids, *asks]:
        crc = zlib.crc32(price.to_bytes(8, "little", signed=True), crc)
        crc = zlib.crc32(quantity.to_bytes(8, "little", signed=True), crc)
    return crc


def test_an_empty_book_gives_zero():
    assert depth_checksum([], []) == 0


def test_bids_best_first_then_asks_price_then_quantity_little_endian():
    bids = [(10_000, 5, 1), (9_999, 12, 3)]
    asks = [(10_001, 7, 2)]
    expected = zlib.crc32(struct.pack("<6q", 10_000, 5, 9_999, 12, 10_001, 7))
    assert depth_checksum(bids, asks) == expected == by_the_definition(bids, asks)


def test_order_counts_are_not_part_of_it():
    assert depth_checksum([(5, 1, 1)], []) == depth_checksum([(5, 1, 9)], [])
    assert depth_checksum([(5, 1, 1)], []) != depth_checksum([(5, 2, 1)], [])
    assert depth_checksum([(10**12, 10**12, 1)], []) == by_the_definition([(10**12, 10**12, 1)],
                                                                             [])


def test_frames_concatenate_into_a_batch():
    updates = [marketdata_pb2.MarketDataUpdate(symbol="ACME", sequence=i, snapshot=i == 0,
                                               quote=marketdata_pb2.Quote(bid_price=i))
               for i in range(300)]
    frames = [frame(u) for u in updates]
    batch = marketdata_pb2.MarketDataBatch.FromString(b"".join(frames))
    assert list(batch.updates) == updates
    assert b"".join(frames) == marketdata_pb2.MarketDataBatch(updates=updates).SerializeToString()


def test_batches_split_at_the_budget_and_keep_the_order():
    frames = [frame(marketdata_pb2.MarketDataUpdate(symbol="X" * n)) for n in range(1, 200)]
    messages = batches(frames, 1_000)
    assert len(messages) > 1
    assert all(len(m) <= 1_000 for m in messages)
    assert b"".join(messages) == b"".join(frames)
    big = frame(marketdata_pb2.MarketDataUpdate(symbol="Y" * 5_000))
    assert batches([big], 1_000) == [big]  # a larger update still goes, alone
    assert batches([], 1_000) == []
