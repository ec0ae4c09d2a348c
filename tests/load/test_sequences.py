"""The market-data sequence rule the load's readers apply to trades (bench/load/sequences):
a gap is seen at once, and a fresh snapshot mends it."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from bench.load.sequences import SequenceChain, SequenceGap


class Update(NamedTuple):
    sequence: int
    previous_sequence: int
    snapshot: bool = False


def test_updates_that_chain_on_are_applied() -> None:
    chain = SequenceChain("ACME trades")
    assert chain.offer(Update(10, 0, snapshot=True))
    assert chain.offer(Update(12, 10))
    assert chain.offer(Update(15, 12))
    assert chain.sequence == 15 and chain.in_sync


def test_after_a_snapshot_what_it_covers_is_skipped_and_a_straddling_update_applies() -> None:
    chain = SequenceChain("ACME trades")
    chain.offer(Update(10, 0, snapshot=True))
    assert not chain.offer(Update(9, 7))    # already in the snapshot
    assert not chain.offer(Update(10, 9))
    assert chain.offer(Update(13, 8))       # began before the snapshot, ends after it
    assert chain.offer(Update(14, 13))


def test_a_missed_update_is_a_gap_until_the_next_snapshot() -> None:
    chain = SequenceChain("ACME trades")
    chain.offer(Update(10, 0, snapshot=True))
    chain.offer(Update(11, 10))
    with pytest.raises(SequenceGap, match="at 11, update follows 12"):
        chain.offer(Update(13, 12))
    assert not chain.in_sync
    with pytest.raises(SequenceGap, match="before any snapshot"):
        chain.offer(Update(14, 13))
    assert chain.offer(Update(14, 0, snapshot=True))
    assert chain.offer(Update(15, 14)) and chain.in_sync


def test_a_snapshot_followed_by_a_later_start_is_a_gap() -> None:
    chain = SequenceChain("ACME trades")
    chain.offer(Update(10, 0, snapshot=True))
    with pytest.raises(SequenceGap, match="snapshot at 10"):
        chain.offer(Update(13, 11))


def test_the_nearest_rank_percentile_used_by_the_checks() -> None:
    from bench.load.checks import percentile

    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 50) == 50.0
    assert percentile([3.0], 99) == 3.0
