"""Tamper evidence: every stored event is sealed into a hash chain in log order, in the same transaction that stores it.

The same transaction also stores the new personal keys the events are encrypted under
(fourpi.privacy.shredding.NewKeyStoredEvent), and, with group commit (fourpi.storage.group_commit), the
events, seals and keys of every caller saving at the same time.
"""

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import chain
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from fourpi.privacy.keystore import (
    KEYS_TABLE,
    check_new_keys_inserted,
    keys_table_statement,
    new_keys_statements,
)
from fourpi.privacy.shredding import RecordChanged, new_keys_of, unchanged_of
from fourpi.storage.group_commit import GroupCommit, Positions

GENESIS = bytes(32)
"""The chain value before the first event."""
SEALS_TABLE = "fourpi_seals"
HEX_DIGITS = "0123456789abcdef"


@dataclass(frozen=True)
class Seal:
    """One event's place in the chain.

    digest: a hash of the event as stored (position, topic, record, version, bytes);
    a changed event no longer matches it.
    previous_position: the position of the event sealed just before; a removed or
    inserted event breaks it.
    chain: a hash of the previous seal's chain, that position and this digest; a seal
    rewritten to match a changed event no longer leads to the next one.
    """

    position: int
    previous_position: int
    digest: str
    chain: str


def digest_of(
    position: int, topic: str, originator_id: UUID | str, version: int, state: bytes
) -> str:
    h = hashlib.sha256()
    for part in (str(position), topic, str(originator_id), str(version)):
        encoded = part.encode()
        # Length-prefixed, so no two different events can run together alike.
        h.update(len(encoded).to_bytes(4, "big"))
        h.update(encoded)
    h.update(bytes(state))
    return h.hexdigest()


def chain_of(previous_chain: str | None, previous_position: int, digest: str) -> str:
    h = hashlib.sha256()
    h.update(bytes.fromhex(previous_chain) if previous_chain else GENESIS)
    h.update(previous_position.to_bytes(8, "big"))
    h.update(bytes.fromhex(digest))
    return h.hexdigest()


def seals_for(
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
    previous: Seal | None,
) -> list[Seal]:
    """Seals for newly stored events, continuing the chain from the last seal."""
    seals = []
    previous_position = previous.position if previous else 0
    previous_chain = previous.chain if previous else None
    for event, position in zip(stored_events, positions, strict=True):
        digest = digest_of(
            position,
            event.topic,
            event.originator_id,
            event.originator_version,
            event.state,
        )
        chain = chain_of(previous_chain, previous_position, digest)
        seals.append(Seal(position, previous_position, digest, chain))
        previous_position, previous_chain = position, chain
    return seals


HeadCheck = Callable[[Seal | None], None]
"""Shown the log's last seal under the write lock, before an import writes; raises
when the log is no longer where the import was checked to continue it."""
EventRow = tuple[int, str, str, int, bytes]
"""An event as the audit reads it: position, topic, record id as text, version, state."""
SealRow = tuple[int, int, str, str]
"""A seal as the audit reads it: position, previous position, digest, chain."""


def seal_from_row(row: Any) -> Seal:
    position, previous_position, digest, chain = tuple(row)[:4]
    return Seal(int(position), int(previous_position), str(digest), str(chain))


def split(
    positions: Sequence[int] | None, batches: Sequence[Sequence[StoredEvent]]
) -> list[Positions]:
    """The positions of events stored together, batch by batch."""
    found = list(positions or ())
    assert len(found) == sum(len(batch) for batch in batches)
    result: list[Positions] = []
    start = 0
    for batch in batches:
        result.append(found[start : start + len(batch)])
        start += len(batch)
    return result


def read_ahead(batches: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """The batches, the first read now: an import reads its file's first batch
    before it takes the write lock, which writers then wait for no longer than the
    import's own writing."""
    them = iter(batches)
    first = next(them, None)
    return them if first is None else chain([first], them)


@dataclass(eq=False)
class Queue:
    """Threads served one at a time in the order they came (threading.Lock promises
    no order: a thread could wait while later ones went first)."""

    _changed: threading.Condition = field(default_factory=threading.Condition)
    _issued: int = 0
    _serving: int = 0
    _given_up: set[int] = field(default_factory=set)
    """Tickets whose threads stopped waiting (interrupted, or an error raised in
    them): passed over when their turn comes, else every later turn waits for
    ever."""

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._changed:
            ticket = self._issued
            self._issued += 1
            try:
                while ticket != self._serving:
                    self._changed.wait()
            except BaseException:
                # The wait holds the lock again as anything it raises leaves it.
                if ticket == self._serving:
                    self._next()
                else:
                    self._given_up.add(ticket)
                raise
        try:
            yield
        finally:
            with self._changed:
                self._next()

    def _next(self) -> None:
        """The next turn served: the one after this, but for turns given up."""
        self._serving += 1
        while self._serving in self._given_up:
            self._given_up.remove(self._serving)
            self._serving += 1
        self._changed.notify_all()


StoreInHeld = Callable[[Sequence[StoredEvent]], Positions]
"""Stores events in the transaction a turn holds, and commits it."""


class GroupCommitting:
    """What both recorders share: insert_events goes through group commit once it is
    enabled (InvolvementRecords does, unless FOURPI_GROUP_COMMIT is off), and a
    thread may take its turn at the store (`turn`)."""

    group_commit: GroupCommit | None = None
    stores_new_keys = True
    """Inserts the key rows NewKeyStoredEvents carry in the events' transaction."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turns = Queue()
        self._held = threading.local()
        """The store in the transaction this thread's turn holds, if any."""

    def enable_group_commit(self) -> GroupCommit:
        self.group_commit = GroupCommit(self.commit_together, self.commit_alone)
        return self.group_commit

    @contextmanager
    def turn(self) -> Iterator[None]:
        """This thread's turn at the store: the store's write lock (SQLite's one
        lock on the file, PostgreSQL's on the events table, which every writer in
        every process takes to store anything) is held from here until this
        thread's next insert_events, which is stored and committed under it. What
        the thread decides meanwhile is decided on the records as they are, and
        nothing can be stored between that and its own save: a command that lost a
        race on a record no longer races again (InvolvementRecords._run). Turns
        within a process are served in the order asked, each holding one
        connection. A decision that fails, or saves nothing, leaves the store as it
        was."""
        with self._turns.turn():
            lock = self._write_lock()
            cursor = lock.__enter__()
            held = True

            def release(error: BaseException | None) -> None:
                nonlocal held
                if not held:
                    return
                held = False
                self._held.store = None
                if error is None:
                    lock.__exit__(None, None, None)
                # Rolled back; what the driver raised comes out as the library's
                # error (an event's version taken: IntegrityError).
                elif not lock.__exit__(type(error), error, error.__traceback__):
                    raise error

            def store(stored_events: Sequence[StoredEvent]) -> Positions:
                try:
                    positions = self._insert_held(cursor, stored_events)
                except BaseException as error:
                    release(error)
                    raise
                # Committed at once: the save's snapshot is stored after it.
                release(None)
                return positions

            try:
                if cursor is not None:
                    self._hold_write_lock(cursor)
                    self._held.store = store
                yield
            except BaseException as error:
                release(error)
                raise
            release(None)

    def _write_lock(self) -> Any:
        """A transaction for a turn to hold the store's write lock in: a context
        manager giving its cursor (None: the store cannot be held so)."""
        raise NotImplementedError

    def _hold_write_lock(self, cursor: Any) -> None:
        raise NotImplementedError

    def _insert_held(
        self, cursor: Any, stored_events: Sequence[StoredEvent]
    ) -> Positions:
        raise NotImplementedError

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # An application recorder takes no other argument than tracking (None here:
        # InvolvementRecords is no process application), so batches differ only in
        # their events.
        if not stored_events:
            return []
        held: StoreInHeld | None = getattr(self._held, "store", None)
        if held is not None:
            return held(stored_events)
        if self.group_commit is not None:
            return self.group_commit.submit(stored_events)
        return self.commit_alone(stored_events)

    def commit_together(self, batches: list[Sequence[StoredEvent]]) -> list[Positions]:
        """Store the batches in one transaction, in order, each batch's events
        consecutive in the log; each batch's positions."""
        raise NotImplementedError

    def commit_alone(self, stored_events: Sequence[StoredEvent]) -> Positions:
        raise NotImplementedError


class SealingSQLiteRecorder(GroupCommitting, SQLiteApplicationRecorder):
    """Stores events, their seals and their new personal keys in one SQLite
    transaction."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {SEALS_TABLE} (position INTEGER PRIMARY KEY, "
            "previous_position INTEGER NOT NULL, digest TEXT NOT NULL, chain TEXT NOT NULL)",
            keys_table_statement(KEYS_TABLE, "BLOB"),
        ]

    def commit_alone(self, stored_events: Sequence[StoredEvent]) -> Positions:
        with self.datastore.transaction(commit=True) as c:
            return self._insert_events(c, stored_events)

    def _write_lock(self) -> Any:
        if self.datastore.pool.is_sqlite_memory_mode:
            # The pool shuts out every reader while its connection for writing is
            # lent, and the turn's decision reads: decided and saved as ever.
            return nullcontext()
        # The pool's one connection for writing: this process's other writers wait
        # for it, and its readers do not (SecureSQLiteConnectionPool).
        return self.datastore.transaction(commit=True)

    def _hold_write_lock(self, cursor: Any) -> None:
        # A write that changes nothing takes SQLite's one write lock.
        cursor.execute(f"DELETE FROM {SEALS_TABLE} WHERE position < 0")

    def _insert_held(
        self, cursor: Any, stored_events: Sequence[StoredEvent]
    ) -> Positions:
        return self._insert_events(cursor, stored_events)

    def commit_together(self, batches: list[Sequence[StoredEvent]]) -> list[Positions]:
        events = [event for batch in batches for event in batch]
        return split(self.commit_alone(events), batches)

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        for statement, parameters, count in new_keys_statements(
            KEYS_TABLE, "?", new_keys_of(stored_events)
        ):
            c.execute(statement, parameters)
            check_new_keys_inserted(c.sqlite_cursor.rowcount, count)
        positions = super()._insert_events(c, stored_events, **kwargs)
        # After the inserts, which hold SQLite's one write lock: nothing can be
        # stored between this look and the commit.
        for record_id, version in unchanged_of(stored_events):
            c.execute(self.has_events_after_statement, (record_id.hex, version))
            if c.fetchone() is not None:
                raise RecordChanged(f"record {record_id} changed after it was read")
        if stored_events and positions:
            # SQLite writes one transaction at a time, so the last seal cannot move.
            self._write_seals(
                c, seals_for(stored_events, positions, self._last_seal(c))
            )
        return positions

    @staticmethod
    def _last_seal(c: Any) -> Seal | None:
        c.execute(
            f"SELECT position, previous_position, digest, chain FROM {SEALS_TABLE} "
            "ORDER BY position DESC LIMIT 1"
        )
        row = c.fetchone()
        return None if row is None else seal_from_row(row)

    @staticmethod
    def _write_seals(c: Any, seals: Sequence[Seal]) -> None:
        c.executemany(
            f"INSERT INTO {SEALS_TABLE} VALUES (?, ?, ?, ?)",
            [(s.position, s.previous_position, s.digest, s.chain) for s in seals],
        )

    def last_seal(self) -> Seal | None:
        with self.datastore.transaction(commit=False) as c:
            return self._last_seal(c)

    def import_events(
        self, batches: Iterable[Sequence[Any]], still_at_head: HeadCheck
    ) -> None:
        """Store exported events at their own positions with their own seals: all in
        one transaction, so an import that stops halfway leaves nothing behind. The
        log's last seal is shown to still_at_head once the write lock is held, so no
        writer can store anything between that look and the commit."""
        batches = read_ahead(batches)
        with self.datastore.transaction(commit=True) as c:
            self._hold_write_lock(c)
            still_at_head(self._last_seal(c))
            for items in batches:
                c.executemany(
                    f"INSERT INTO {self.events_table_name} "
                    "(rowid, originator_id, originator_version, topic, state) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            i.seal.position,
                            i.stored.originator_id.hex,
                            i.stored.originator_version,
                            i.stored.topic,
                            i.stored.state,
                        )
                        for i in items
                    ],
                )
                self._write_seals(c, [i.seal for i in items])

    def has_events_after(self, originator_id: UUID, version: int) -> bool:
        """Whether the record has an event after this version: one statement on its
        own (the library's select_events also begins and rolls back a transaction,
        and builds the events it finds)."""
        with self.datastore.get_connection(commit=False) as connection:
            cursor = connection.cursor()
            cursor.execute(
                self.has_events_after_statement, (originator_id.hex, version)
            )
            return cursor.fetchone() is not None

    @property
    def has_events_after_statement(self) -> str:
        return (
            f"SELECT 1 FROM {self.events_table_name} "
            "WHERE originator_id = ? AND originator_version > ? LIMIT 1"
        )

    def select_seals(self, after: int, limit: int) -> list[Seal]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position, previous_position, digest, chain FROM {SEALS_TABLE} "
                "WHERE position > ? ORDER BY position LIMIT ?",
                (after, limit),
            )
            return [seal_from_row(row) for row in c.fetchall()]

    def select_seal_rows(self, after: int, limit: int) -> list[SealRow]:
        """Seals after a position as plain tuples, for the audit's fast scan."""
        with self.datastore.transaction(commit=False) as c:
            cursor = c.sqlite_cursor
            cursor.row_factory = None
            cursor.execute(
                f"SELECT position, previous_position, digest, chain FROM {SEALS_TABLE} "
                "WHERE position > ? ORDER BY position LIMIT ?",
                (after, limit),
            )
            return cursor.fetchall()

    def select_event_rows(self, after: int, limit: int) -> list[EventRow]:
        """Events after a position as plain tuples, the record id as the text the
        library's reading of it prints (what digests hash), without building
        library objects."""
        with self.datastore.transaction(commit=False) as c:
            cursor = c.sqlite_cursor
            cursor.row_factory = None
            cursor.execute(
                "SELECT rowid, topic, originator_id, originator_version, state "
                f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, limit),
            )
            rows = cursor.fetchall()
        text = self.convert_originator_id
        if self.datastore.originator_id_type != "uuid":
            return [(p, t, str(text(o)), v, s) for p, t, o, v, s in rows]
        # The hex the library stores, dashed as a UUID prints it; anything else (a
        # tampered row) goes through the library's own reading.
        return [
            (
                p,
                t,
                f"{o[:8]}-{o[8:12]}-{o[12:16]}-{o[16:20]}-{o[20:]}"
                if type(o) is str and len(o) == 32 and not o.strip(HEX_DIGITS)
                else str(text(o)),
                v,
                s,
            )
            for p, t, o, v, s in rows
        ]
