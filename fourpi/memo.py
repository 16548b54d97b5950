"""A small, thread-safe memo of values that never change once computed (a report at a log position, a suppression pattern), kept for the most recently used keys.

Concurrent callers asking for the same missing key share one computation: when 16
evaluators ask the same question right after a write, the answer is computed once and
the others wait for it rather than each computing it again.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity: must be 1 or more")
        self.capacity = capacity
        self.entries: OrderedDict[Hashable, V] = OrderedDict()
        self.pending: dict[Hashable, Future[V]] = {}
        self.lock = threading.Lock()
        self.hits = 0
        """Calls answered from what was kept (or from a computation already under way)."""
        self.misses = 0
        """Calls that computed the value."""

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """The value for the key, computing it (once, whoever else is asking) if absent.

        An error raised by `compute` reaches every caller waiting on it and nothing is
        kept, so the next call tries again.
        """
        with self.lock:
            if key in self.entries:
                self.hits += 1
                self.entries.move_to_end(key)
                return self.entries[key]
            waiting = self.pending.get(key)
            if waiting is None:
                self.misses += 1
                future: Future[V] = Future()
                self.pending[key] = future
            else:
                self.hits += 1
        if waiting is not None:
            return waiting.result()
        try:
            value = compute()
        except BaseException as error:
            with self.lock:
                del self.pending[key]
            future.set_exception(error)
            raise
        with self.lock:
            del self.pending[key]
            self.entries[key] = value
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)
        future.set_result(value)
        return value

    def drop(self, dropped: Callable[[Any], bool]) -> None:
        """Drop the values kept under keys for which `dropped` is true (a computation
        under way is kept when it ends)."""
        with self.lock:
            for key in [key for key in self.entries if dropped(key)]:
                del self.entries[key]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def __len__(self) -> int:
        with self.lock:
            return len(self.entries)
