"""One market-data stream's bounded queue: conflate what may be, never drop what may not.

Updates arrive already encoded, in chunks: every update published while the event loop
ran one round of callbacks, joined once and shared by every subscriber that follows the
same feeds (a `Fanout`). So a subscriber costs one `put` per chunk, not one per update,
and its writer usually sends the chunk's bytes as they are.

The queue counts updates. When it is full, the queued L1 and L2 updates are dropped and
their feeds marked for a fresh snapshot flagged `conflated`, built from the latest state
when the writer next runs. Trades and L3 are never dropped: if they do not fit even
then, the stream is marked overflowed, and its writer ends it with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Entry = tuple[Key, int, bool]  # one update of a chunk: its feed, encoded size, conflatable


def _nothing() -> None:
    pass


class Chunk(Generic[Key]):
    """Encoded updates, in the order they were published, with what each one is: enough
    to take some out (conflation, a feed owed a snapshot) without decoding anything."""

    __slots__ = ("count", "data", "entries")

    def __init__(self, data: bytes, entries: tuple[Entry[Key], ...]) -> None:
        self.data = data
        self.entries = entries
        self.count = len(entries)

    def select(self, keep: Callable[[Key, bool], bool]) -> Chunk[Key]:
        """The updates for which `keep(feed, conflatable)` holds (itself if all do)."""
        kept: list[Entry[Key]] = []
        parts: list[memoryview] = []
        view = memoryview(self.data)
        offset = 0
        for entry in self.entries:
            key, size, conflatable = entry
            if keep(key, conflatable):
                kept.append(entry)
                parts.append(view[offset:offset + size])
            offset += size
        if len(kept) == self.count:
            return self
        return Chunk(b"".join(parts), tuple(kept))


class Fanout(Generic[Key]):
    """The subscribers that follow exactly the same feeds, and the updates published for
    them since the last flush. An update costs two appends here, whatever the number of
    subscribers; `seal` joins them once for all of them."""

    __slots__ = ("_entries", "_frames", "_size", "chunk_bytes", "keys", "sealed",
                 "subscribers")

    def __init__(self, keys: frozenset[Key], chunk_bytes: int) -> None:
        self.keys = keys
        self.chunk_bytes = chunk_bytes
        self.subscribers: set[Subscriber[Key]] = set()
        self.sealed: list[Chunk[Key]] = []
        self._frames: list[bytes] = []
        self._entries: list[Entry[Key]] = []
        self._size = 0

    def add(self, key: Key, data: bytes, conflatable: bool) -> bool:
        """Append one encoded update; True if it is the first since the last `take`."""
        first = not self._frames and not self.sealed
        size = len(data)
        if self._size + size > self.chunk_bytes and self._frames:
            self._seal()
        self._frames.append(data)
        self._entries.append((key, size, conflatable))
        self._size += size
        return first

    def _seal(self) -> None:
        self.sealed.append(Chunk(b"".join(self._frames), tuple(self._entries)))
        self._frames, self._entries, self._size = [], [], 0

    def take(self) -> list[Chunk[Key]]:
        """The chunks published since the last take, in order."""
        if self._frames:
            self._seal()
        chunks, self.sealed = self.sealed, []
        return chunks

    def clear(self) -> None:
        self.sealed, self._frames, self._entries, self._size = [], [], [], 0


class Subscriber(Generic[Key]):
    """A plain list plus one Event: the writer wakes once for everything that arrived,
    which is what lets many updates leave in one message.

    `before_take` runs first thing in `take`: the hub hands over what it has not
    delivered yet, so that snapshots taken now follow every update queued before them.
    """

    def __init__(self, keys: Iterable[Key], size: int,
                 before_take: Callable[[], None] = _nothing) -> None:
        self.keys = tuple(keys)
        self._size = size
        self._before_take = before_take
        self._queue: list[Chunk[Key]] = []
        self._count = 0  # updates queued
        # Feeds owed a snapshot, with its `conflated` flag. Each stream starts with one per
        # feed; while one is owed, that feed's updates are dropped (the snapshot covers them).
        self._owed: dict[Key, bool] = dict.fromkeys(self.keys, False)
        self._ready = asyncio.Event()
        self._ready.set()
        self.overflowed = False  # trades or L3 did not fit: end the stream
        self.failed = False      # market data itself failed: end the stream
        self._closed = False     # either: take nothing more

    def put(self, chunk: Chunk[Key]) -> None:
        """Queue a chunk of encoded updates (runs per subscriber per chunk: keep the
        common path short)."""
        if self._closed:
            return
        if self._owed:
            owed = self._owed
            chunk = chunk.select(lambda key, _conflatable: key not in owed)
            if not chunk.count:
                return
        count = self._count + chunk.count
        if count <= self._size:
            self._queue.append(chunk)
            self._count = count
            self._ready.set()
        else:
            self._put_when_full(chunk)

    def _put_when_full(self, chunk: Chunk[Key]) -> None:
        self._conflate()
        owed = self._owed
        chunk = chunk.select(lambda key, _conflatable: key not in owed)
        if self._count + chunk.count > self._size:  # its own L1/L2 go too
            for key, _size, conflatable in chunk.entries:
                if conflatable:
                    owed[key] = True
            chunk = chunk.select(lambda _key, conflatable: not conflatable)
        if self._count + chunk.count <= self._size:
            if chunk.count:
                self._queue.append(chunk)
                self._count += chunk.count
        else:
            self.overflowed = self._closed = True
            self._queue.clear()
            self._count = 0
        self._ready.set()

    def fail(self) -> None:
        self.failed = self._closed = True
        self._queue.clear()
        self._count = 0
        self._ready.set()

    def _conflate(self) -> None:
        """Drop every queued L1/L2 update; their feeds owe this reader a conflated snapshot."""
        owed = self._owed
        for chunk in self._queue:
            for key, _size, conflatable in chunk.entries:
                if conflatable:
                    owed[key] = True
        kept = [c for c in (chunk.select(lambda _key, conflatable: not conflatable)
                            for chunk in self._queue) if c.count]
        self._queue = kept
        self._count = sum(c.count for c in kept)

    def __len__(self) -> int:
        """Updates queued."""
        return self._count

    async def wait(self) -> None:
        await self._ready.wait()
        self._ready.clear()

    def take(self) -> tuple[dict[Key, bool], list[bytes]]:
        """The snapshots owed (feed key -> conflated) and the queued updates, in order, as
        encoded chunks (each a run of whole MarketDataBatch.updates elements).

        Snapshots go first: their feeds have nothing queued, and whatever they publish
        from now on comes after the state the snapshots show.
        """
        self._before_take()
        owed, self._owed = self._owed, {}
        queue, self._queue = self._queue, []
        self._count = 0
        self._ready.clear()  # what woke the writer is all in hand
        return owed, [chunk.data for chunk in queue]
