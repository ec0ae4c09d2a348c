"""One market-data stream's bounded queue: conflate what may be, never drop what may not.

Updates arrive already encoded (shared by every subscriber of a feed). When the queue is
full, the queued L1 and L2 updates are dropped and their feeds marked for a fresh
snapshot flagged `conflated`, built from the latest state when the writer next runs.
Trades and L3 are never dropped: if they do not fit even then, the stream is marked
overflowed, and its writer ends it with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)


class Subscriber(Generic[Key]):
    """A plain list plus one Event: the writer wakes once for everything that arrived,
    which is what lets many updates leave in one message."""

    def __init__(self, keys: Iterable[Key], size: int) -> None:
        self.keys = tuple(keys)
        self._size = size
        self._queue: list[tuple[Key, bytes, bool]] = []  # (feed key, update, conflatable)
        # Feeds owed a snapshot, with its `conflated` flag. Each stream starts with one per
        # feed; while one is owed, that feed's updates are dropped (the snapshot covers them).
        self._owed: dict[Key, bool] = dict.fromkeys(self.keys, False)
        self._ready = asyncio.Event()
        self._ready.set()
        self.overflowed = False  # trades or L3 did not fit: end the stream
        self.failed = False      # market data itself failed: end the stream
        self._closed = False     # either: take nothing more

    def put(self, key: Key, update: bytes, conflatable: bool) -> None:
        """Queue one encoded update of feed `key` (runs per subscriber per update: keep
        the common path short)."""
        if key in self._owed or self._closed:
            return
        queue = self._queue
        if len(queue) < self._size:
            queue.append((key, update, conflatable))
            self._ready.set()
        else:
            self._put_when_full(key, update, conflatable)

    def _put_when_full(self, key: Key, update: bytes, conflatable: bool) -> None:
        self._conflate()
        if conflatable:
            self._owed[key] = True
        elif len(self._queue) < self._size:
            self._queue.append((key, update, conflatable))
        else:
            self.overflowed = self._closed = True
            self._queue.clear()
        self._ready.set()

    def fail(self) -> None:
        self.failed = self._closed = True
        self._queue.clear()
        self._ready.set()

    def _conflate(self) -> None:
        """Drop every queued L1/L2 update; their feeds owe this reader a conflated snapshot."""
        kept = []
        for item in self._queue:
            if item[2]:
                self._owed[item[0]] = True
            else:
                kept.append(item)
        self._queue = kept

    def __len__(self) -> int:
        return len(self._queue)

    async def wait(self) -> None:
        await self._ready.wait()
        self._ready.clear()

    def take(self) -> tuple[dict[Key, bool], list[bytes]]:
        """The snapshots owed (feed key -> conflated) and the queued updates, in order.

        Snapshots go first: their feeds have nothing queued, and whatever they publish
        from now on comes after the state the snapshots show.
        """
        owed, self._owed = self._owed, {}
        queue, self._queue = self._queue, []
        return owed, [update for _key, update, _conflatable in queue]
