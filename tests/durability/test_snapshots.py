"""Snapshots: a snapshot plus the journal after it recovers exactly what a full replay
does, on either book backend; a snapshot that does not check out, or one whose write
failed half-way, costs a longer replay and nothing else."""

from __future__ import annotations

import logging
import pickle
from functools import partial
from typing import Any

import pytest
from sqlalchemy import delete, event, update
from tradepit.book import load_backend
from tradepit.exchange.commands import CancelAll, CreateAccount, SubmitOrder
from tradepit.exchange.digest import state_digest
from tradepit.exchange.snapshot import Unusable, capture, load
from tradepit.journal.schema import snapshot
from tradepit.journal.snapshots import can_fork, open_snapshot
from tradepit.journal.store import Journal
from tradepit.server.app import start

from .conftest import durable_settings, fresh_digest
from .load import Ledger, run_load

EVERY = 60


async def _history(url: str, backend: str = "rust") -> str:
    """A mixed load with a snapshot every EVERY entries and one at stop; the final digest."""
    running = await start(durable_settings(url, snapshot_every=EVERY),
                          book_factory=load_backend(backend).Book)
    try:
        await run_load(running.address, Ledger(), seed=11, tag="n", accounts=3, duration=0.6)
    finally:
        await running.stop(None)
    assert running.gateway.exchange.audit() == []
    return state_digest(running.gateway.exchange)


def _journal_state(url: str) -> tuple[int, list[int]]:
    journal = Journal(url)
    try:
        return journal.last_sequence(), journal.snapshot_sequences()
    finally:
        journal.close()


def _broken_capture(_exchange: Any) -> bytes:
    raise RuntimeError("the capture broke")


def _edit_snapshots(url: str, statement: Any) -> None:
    journal = Journal(url)
    try:
        with journal.engine.begin() as connection:
            connection.execute(statement)
    finally:
        journal.close()


async def _restart(url: str, backend: str) -> tuple[Any, str, list[str]]:
    running = await start(durable_settings(url, snapshot_every=0),
                          book_factory=load_backend(backend).Book)
    try:
        exchange = running.gateway.exchange
        return running.recovered, state_digest(exchange), exchange.audit()
    finally:
        await running.stop(None)


async def test_a_snapshot_plus_the_journal_tail_recovers_a_full_replay(database_url: str,
                                                                      book_backend: str,
                                                                      caplog):
    with caplog.at_level(logging.INFO, logger="tradepit.journal.snapshots"):
        before = await _history(database_url, book_backend)
    last, snapshots = _journal_state(database_url)
    assert len(snapshots) == 2 and snapshots[0] == last, "the stop takes the newest"
    assert last > 2 * EVERY
    # those taken under load were captured and sealed by a forked child
    assert can_fork()
    assert f"snapshot at journal entry {snapshots[1]}: process" in caplog.text
    assert f"snapshot at journal entry {snapshots[1]} sealed by process" in caplog.text

    # the newest covers everything: nothing to replay
    other = "python" if book_backend == "rust" else "rust"
    recovered, digest, audit = await _restart(database_url, other)
    assert (recovered.snapshot_sequence, recovered.replayed, recovered.entries) == (last, 0, last)
    assert (digest, audit) == (before, [])

    # as if the process had died before the stop's snapshot: the older one plus the tail
    _edit_snapshots(database_url, delete(snapshot).where(snapshot.c.sequence == last))
    recovered, digest, audit = await _restart(database_url, other)
    assert recovered.snapshot_sequence == snapshots[1] < last
    assert recovered.replayed == last - snapshots[1] > 0
    assert (digest, audit) == (before, [])
    assert fresh_digest(database_url, book_backend) == before


async def test_a_snapshot_child_that_fails_costs_that_snapshot_only(database_url: str,
                                                                   monkeypatch, caplog):
    # A forked child has the broken capture too.
    monkeypatch.setattr("tradepit.journal.snapshots.capture", _broken_capture)
    running = await start(durable_settings(database_url, snapshot_every=EVERY))
    try:
        ledger = Ledger()
        with caplog.at_level(logging.INFO, logger="tradepit.journal"):
            # Until a snapshot has been due and its child has failed: a slow host may
            # journal fewer than EVERY entries in one round.
            for round_ in range(20):
                await run_load(running.address, ledger, seed=5 + round_, tag=f"f{round_}",
                               accounts=2, duration=0.4)
                if "the snapshot process exited" in caplog.text:
                    break
    finally:
        monkeypatch.undo()
        await running.stop(None)
    assert "the snapshot process exited with code 1" in caplog.text
    assert running.gateway.exchange.audit() == []
    last, snapshots = _journal_state(database_url)
    assert snapshots == [last], "only the one taken at the stop"
    assert fresh_digest(database_url, "rust") == state_digest(running.gateway.exchange)


async def test_a_snapshot_of_the_last_entry_that_failed_does_not_replace_the_one_at_stop(
        database_url: str, monkeypatch, caplog):
    """A stop snapshots the last entry unless a stored snapshot holds it already; one
    taken of it whose child failed is not stored, so the stop still takes its own."""
    running = await start(durable_settings(database_url, snapshot_every=0),
                          book_factory=load_backend("rust").Book)
    gateway = running.gateway
    assert gateway.journal is not None and gateway.journal.snapshots is not None
    # A forked child has the broken capture too.
    monkeypatch.setattr("tradepit.journal.snapshots.capture", _broken_capture)
    try:
        # Due at the third entry from here, which is the last one: each call below is
        # acknowledged, so its own commit, before the next.
        gateway.journal.snapshots.every = gateway.journal.committed_sequence + 3
        with caplog.at_level(logging.INFO, logger="tradepit.journal"):
            for n in range(3):
                await gateway.execute(partial(CreateAccount, f"agent-{n}", f"key-{n}"),
                                      lambda account: account)
    finally:
        monkeypatch.undo()
        await running.stop(None)
    last, snapshots = _journal_state(database_url)
    assert f"snapshot at journal entry {last}: process" in caplog.text
    assert "the snapshot process exited with code 1" in caplog.text
    assert snapshots == [last]
    recovered, digest, audit = await _restart(database_url, "rust")
    assert (recovered.snapshot_sequence, recovered.replayed) == (last, 0)
    assert (digest, audit) == (state_digest(running.gateway.exchange), [])


async def test_a_corrupted_snapshot_is_detected_and_skipped(database_url: str, caplog):
    before = await _history(database_url)
    last, (newest, older) = _journal_state(database_url)
    # one byte of the newest payload flipped
    journal = Journal(database_url)
    try:
        row = journal.read_snapshot(newest)
    finally:
        journal.close()
    middle = len(row.payload) // 2
    flipped = row.payload[:middle] + bytes([row.payload[middle] ^ 0x01]) + row.payload[middle + 1:]
    _edit_snapshots(database_url, update(snapshot).where(snapshot.c.sequence == newest)
                    .values(payload=flipped))
    with caplog.at_level(logging.ERROR, logger="tradepit.journal.recovery"):
        recovered, digest, audit = await _restart(database_url, "rust")
    assert recovered.snapshot_sequence == older and recovered.replayed == last - older
    assert (digest, audit) == (before, [])
    assert f"snapshot at journal entry {newest} does not check out" in caplog.text

    # and the older one's recorded digest wrong: neither checks out
    _edit_snapshots(database_url, update(snapshot).where(snapshot.c.sequence == older)
                    .values(state_digest="0" * 64))
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="tradepit.journal.recovery"):
        recovered, digest, audit = await _restart(database_url, "python")
    assert (recovered.snapshot_sequence, recovered.replayed) == (0, last)
    assert (digest, audit) == (before, [])
    assert "no snapshot checks out; replaying the whole journal" in caplog.text


async def test_a_snapshot_write_that_fails_half_way_leaves_the_previous_ones(
        database_url: str):
    before = await _history(database_url)
    last, snapshots = _journal_state(database_url)
    journal = Journal(database_url)
    try:
        free = next(s for s in range(last - 1, 0, -1) if s not in snapshots)
        row = journal.read_snapshot(snapshots[0])._replace(sequence=free)

        def fail_after_the_insert(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("DELETE FROM SNAPSHOT"):
                raise OSError("the disk filled up while the snapshot was written")

        event.listen(journal.engine, "before_cursor_execute", fail_after_the_insert)
        with pytest.raises(Exception, match="disk filled up"):
            journal.write_snapshot(row)  # the row was inserted, then the transaction failed
        event.remove(journal.engine, "before_cursor_execute", fail_after_the_insert)
        assert journal.snapshot_sequences() == snapshots
    finally:
        journal.close()
    recovered, digest, audit = await _restart(database_url, "rust")
    assert recovered.snapshot_sequence == snapshots[0]
    assert (digest, audit) == (before, [])


async def test_either_backend_loads_a_snapshot_to_the_same_state(database_url: str):
    before = await _history(database_url, "rust")
    journal = Journal(database_url)
    try:
        row = journal.read_snapshot(journal.snapshot_sequences()[0])
    finally:
        journal.close()
    rust, python = (open_snapshot(row, load_backend(name).Book) for name in ("rust", "python"))
    assert state_digest(rust) == state_digest(python) == before
    assert rust.audit() == python.audit() == []
    # ... and both go on alike: the same commands give the same state
    account = next(iter(rust.accounts))
    for exchange in (rust, python):
        for price in (9_990, 10_000, 10_010):
            for side in (1, 2):
                try:
                    exchange.execute(SubmitOrder(account, "", "ACME", side, 1, 1, price, 1,
                                                 False, 4, 10**18 + price))
                except Exception as error:  # a refusal must be the same on both
                    assert type(error).__name__ == "Reject"
        exchange.execute(CancelAll(account, "", 10**18 + 1))
    assert state_digest(rust) == state_digest(python)
    # a capture of the loaded state loads again to the same state
    assert state_digest(load(capture(python), load_backend("rust").Book)) == \
        state_digest(python)


def test_bytes_that_are_not_a_snapshot_are_refused():
    with pytest.raises(Unusable, match="does not decode"):
        load(b"not a snapshot")
    with pytest.raises(Unusable, match="may not hold"):
        load(pickle.dumps({"format": 1, "layout": {}, "run": print}))
