"""What a request needs of a record (a token's caller, a signed-in account, whether a personal link is live), kept with the version it was read at and read again only once an event has followed that version.

A record changes only by an event on itself, so each use asks the store one
indexed question that finds nothing while the record is as it was
(InvolvementRecords.changed_since), rather than reading and rebuilding it from
its events, whose number only grows.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar
from uuid import UUID

V = TypeVar("V")

Read = tuple[V, UUID, int]
"""What was read: the value, the record it came from, and that record's version."""


class AsksForChanges(Protocol):
    def changed_since(self, record_id: UUID, version: int) -> bool: ...


class Kept(Generic[V]):
    """Values read from records, for the most recently used keys."""

    def __init__(self, records: AsksForChanges, capacity: int) -> None:
        self.records = records
        self.capacity = capacity
        self.entries: OrderedDict[Hashable, Read[V]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable, read: Callable[[], Read[V] | None]) -> V | None:
        """The value kept under the key while its record is unchanged; otherwise
        what `read` reads now, kept (None: nothing, and nothing kept)."""
        with self.lock:
            kept = self.entries.get(key)
        if kept is not None:
            value, record_id, version = kept
            if not self.records.changed_since(record_id, version):
                with self.lock:
                    if key in self.entries:
                        self.entries.move_to_end(key)
                return value
        found = read()
        with self.lock:
            if found is None:
                self.entries.pop(key, None)
                return None
            self.entries[key] = found
            self.entries.move_to_end(key)
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)
        return found[0]
