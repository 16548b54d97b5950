"""Group commit: events saved at the same time by different threads are stored in one transaction, and each caller still returns only once its own events are committed.

Classic leader and followers. A thread with events to store queues them as a batch;
if no thread is committing, it becomes the leader: it takes every batch queued so far
(its own among them), stores them all in one transaction, in queue order, and wakes the
others with their results. Batches queued while it commits wait for the next leader,
one of their own threads. Nothing waits on a timer: a group is whatever arrived while
the previous transaction was committing, so a lone writer commits at once.

If the group's transaction fails (a batch's optimistic-concurrency conflict, a new
personal key another writer stored first, a lock timeout), each of its batches is
committed again on its own, in the same order: only the batch at fault gets its error,
the others are stored as if they had come alone.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import StoredEvent

Positions = Sequence[int] | None
"""What a recorder's insert_events returns: the events' notification ids."""


class GroupCommitInterrupted(RuntimeError):
    """The leader stopped (KeyboardInterrupt, SystemExit) before this batch's outcome
    was known: it may or may not be stored."""


@dataclass(eq=False)
class Batch:
    """One caller's events and, once committed, its outcome."""

    events: Sequence[StoredEvent]
    positions: Positions = None
    error: BaseException | None = None
    settled: bool = False
    """Its outcome is known: stored (positions) or not (error)."""
    done: bool = False
    """Its caller may return: the leader has finished with it."""
    parked: threading.Lock = field(default_factory=threading.Lock)
    """Held while its caller waits; released to wake the caller, done or to lead."""

    def outcome(self) -> Positions:
        if self.error is not None:
            raise self.error
        return self.positions


@dataclass(eq=False)
class GroupCommit:
    """Stores concurrent callers' batches together (see the module's description).

    commit_together stores several batches in one transaction, in order, and returns
    each one's positions; commit_alone stores one batch in a transaction of its own."""

    commit_together: Callable[[list[Sequence[StoredEvent]]], list[Positions]]
    commit_alone: Callable[[Sequence[StoredEvent]], Positions]
    transactions: int = 0
    """Transactions committed or tried so far (groups and batches alone)."""
    grouped: int = 0
    """Batches stored as part of a group of two or more."""
    observers: list[Callable[[int], None]] = field(default_factory=list)
    """Told the number of batches in each transaction tried (fourpi.operations.observability)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _queue: list[Batch] = field(default_factory=list)
    _leading: bool = False
    """A thread is committing: batches queue for the next group."""

    def submit(self, events: Sequence[StoredEvent]) -> Positions:
        """Store the events, with whatever other threads are storing meanwhile; returns
        once their transaction has committed (or raises what storing them raised)."""
        batch = Batch(events)
        batch.parked.acquire()
        with self._lock:
            self._queue.append(batch)
            follow, self._leading = self._leading, True
        if follow:
            # Woken once a leader has stored the batch, or to lead the next group.
            batch.parked.acquire()
            if batch.done:
                return batch.outcome()
        with self._lock:
            group, self._queue = self._queue, []
        try:
            self._commit(group)
        finally:
            with self._lock:
                if self._queue:
                    # The first batch queued meanwhile leads the next group.
                    self._queue[0].parked.release()
                else:
                    self._leading = False
            for each in group:
                if not each.settled:
                    each.error = GroupCommitInterrupted(
                        "the thread committing these events stopped first"
                    )
                each.done = True
                if each is not batch:
                    each.parked.release()
        return batch.outcome()

    def queued(self) -> int:
        """Batches waiting for the next group."""
        with self._lock:
            return len(self._queue)

    def _commit(self, group: list[Batch]) -> None:
        for observer in self.observers:
            observer(len(group))
        if len(group) > 1:
            self.transactions += 1
            try:
                results = self.commit_together([batch.events for batch in group])
            except Exception:
                pass  # each batch again on its own, so only the culprit fails
            else:
                for batch, positions in zip(group, results, strict=True):
                    batch.positions, batch.settled = positions, True
                self.grouped += len(group)
                return
        for batch in group:
            self.transactions += 1
            try:
                batch.positions = self.commit_alone(batch.events)
            except Exception as error:
                batch.error = error
            batch.settled = True
