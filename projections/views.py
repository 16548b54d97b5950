"""The impact views: keep the fact tables caught up with the log, exactly once, and answer from them live or as of any moment."""

import threading
import time
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory, Notification
from eventsourcing.utils import Environment

from fourpi.collection import collection_paused
from fourpi.config import Database
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.record import position_or_time
from fourpi.local_time import local, local_date
from fourpi.memo import Memo
from fourpi.projections.answers import (
    DEFAULT_PAYMENT_TARGET_DAYS,
    ImpactReport,
    Slice,
)
from fourpi.projections.evaluate import REPORT_TABLES, evaluate, leaves_as_it_was
from fourpi.projections.facts import Fact, facts_of
from fourpi.projections.schema import Facts, Row
from fourpi.projections.store import (
    VIEW_NAME,
    FactStore,
    SQLiteFactStore,
    ViewsMovedOn,
)

DEFAULT_BATCH_SIZE = 2000
DEFAULT_CACHED_ORGANISATIONS = 8
DEFAULT_CACHED_REPORTS = 256
LATEST_REPORTS_KEPT = 64
"""Questions whose last report is kept to be moved on (see `ImpactViews._evaluated`):
fewer than the reports kept, as each may outlive them."""
DEFAULT_POLL_SECONDS = 0.2

Progress = Callable[[int, int], None]
"""Told (position reached, log head) after every batch."""


class FactsCache:
    """Recently read facts, one organisation at a time.

    The views only ever append facts, in log order, so one organisation's facts up
    to its newest position answer any earlier position by a prefix, and a later one
    by reading only the rows that are new since. The one exception is an erasure,
    which deletes a person's personal rows at every position: an entry older than
    the organisation's latest erasure is dropped and read afresh, whichever process
    applied the erasure.
    """

    def __init__(self, store: Any, organisations: int = DEFAULT_CACHED_ORGANISATIONS):
        self.store = store
        self.capacity = organisations
        self.entries: OrderedDict[UUID, tuple[int, Facts]] = OrderedDict()
        self.lock = threading.Lock()

    def facts(
        self, organisation_id: UUID, position: int, erasure: int | None = None
    ) -> Facts:
        """The organisation's facts up to the position; `erasure`, when the caller has
        just read it, is the position of the organisation's latest erasure."""
        reached, facts = self._entry(organisation_id, position, erasure)
        if reached == position:
            return facts
        return {name: up_to(rows, position) for name, rows in facts.items()}

    def between(
        self, organisation_id: UUID, low: int, high: int, erasure: int | None = None
    ) -> Facts:
        """The organisation's rows above `low` and at or below `high`, by table:
        what was recorded between two positions, found without copying the rest."""
        _, facts = self._entry(organisation_id, high, erasure)
        return {
            name: rows[
                bisect_right(rows, low, key=position_of) : bisect_right(
                    rows, high, key=position_of
                )
            ]
            for name, rows in facts.items()
        }

    def _entry(
        self, organisation_id: UUID, position: int, erasure: int | None
    ) -> tuple[int, Facts]:
        """The organisation's facts up to the position or further (never to be
        changed: they may be kept), reading only what is new since those kept."""
        facts: Facts
        with self.lock:
            entry = self.entries.get(organisation_id)
            if entry is not None:
                self.entries.move_to_end(organisation_id)
        newer = None
        if erasure is None and entry is not None:
            if entry[0] < position:
                # The rows new since the entry and the latest erasure, asked together
                # (one round trip on PostgreSQL): an erasure since the entry, even
                # beyond the position, drops them both.
                newer, erasure = self.store.facts_since(
                    organisation_id, position, entry[0]
                )
            else:
                erasure = self.store.last_erasure(organisation_id)
        if entry is not None and erasure is not None and erasure > entry[0]:
            self.forget(organisation_id)
            entry = None
        if entry is not None and entry[0] >= position:
            return entry
        if entry is None:
            facts = self.store.read_facts(organisation_id, position)
        else:
            if newer is None:
                newer = self.store.read_facts(organisation_id, position, after=entry[0])
            if newer["erasures"]:
                # An erasure since the entry deleted rows it holds: read them afresh.
                facts = self.store.read_facts(organisation_id, position)
            else:
                # A table with no new row is the entry's own list (never changed),
                # not a copy: a write costs the tables it adds to.
                facts = {
                    name: rows + newer[name] if newer[name] else rows
                    for name, rows in entry[1].items()
                }
        with self.lock:
            current = self.entries.get(organisation_id)
            if current is None or current[0] < position:
                self.entries[organisation_id] = (position, facts)
                self.entries.move_to_end(organisation_id)
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)
        return position, facts

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()

    def forget(self, organisation_id: UUID) -> None:
        with self.lock:
            self.entries.pop(organisation_id, None)


V = TypeVar("V")


class LastWorkedOut(Generic[V]):
    """The value last worked out for each question about an organisation, with the
    position it holds at: what the reports and the suppression patterns keep from
    one write to the next.

    Asked at another position, the last value is the value there when every row
    recorded between the two is of a table it is not worked out from (see
    `leaves_as_it_was`): finding that out costs a bisection of each kept table,
    not the organisation's size."""

    def __init__(self, cache: FactsCache, tables: frozenset[str], capacity: int):
        self.cache = cache
        self.tables = tables
        self.capacity = capacity
        self.entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.lock = threading.Lock()
        self.moved = 0
        """Values taken as they were, as nothing they are worked out from changed."""

    def get(
        self,
        question: Hashable,
        organisation_id: UUID,
        position: int,
        work_out: Callable[[V | None], V],
        erasure: int | None = None,
    ) -> tuple[V, bool]:
        """The value at the position, and whether it is the last one moved on;
        otherwise `work_out` makes it, given the last value (None if there is
        none)."""
        with self.lock:
            last = self.entries.get(question)
        if last is not None:
            value, at = last
            low, high = sorted((at, position))
            if leaves_as_it_was(
                self.cache.between(organisation_id, low, high, erasure), self.tables
            ):
                self._keep(question, value, position, moved=True)
                return value, True
        value = work_out(None if last is None else last[0])
        self._keep(question, value, position, moved=False)
        return value, False

    def _keep(self, question: Hashable, value: V, position: int, moved: bool) -> None:
        with self.lock:
            self.moved += moved
            kept = self.entries.get(question)
            if kept is None or kept[1] <= position:
                self.entries[question] = (value, position)
                self.entries.move_to_end(question)
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


def up_to(rows: list[Row], position: int) -> list[Row]:
    """The rows at or below a position: a prefix, as rows are in log order."""
    return rows[: bisect_right(rows, position, key=position_of)]


def position_of(row: Row) -> int:
    return row["position"]  # type: ignore[return-value]


class InvalidMoment(ValueError):
    """An as-of moment that names no point of the log (a time without its zone, a
    negative position): the caller's mistake, never a fault in the answers. `part`
    (time or position) and `rule` let each caller name its own field."""

    def __init__(self, part: str, rule: str) -> None:
        super().__init__(f"as_of: {rule}")
        self.part = part
        self.rule = rule


def utc_of(time: datetime) -> datetime:
    """An as-of time in UTC: InvalidMoment for one without its zone, or one whose
    UTC or local time falls outside the calendar (0001-01-01T00:00:00+14:00; in
    London, 0001-01-01T00:00:00+00:00, whose date is taken there)."""
    if time.tzinfo is None:
        raise InvalidMoment("time", "a time must carry its time zone, such as +00:00")
    try:
        in_utc = time.astimezone(UTC)
        local(in_utc)
    except OverflowError:
        raise InvalidMoment(
            "time",
            "must be within years 1 to 9999 once in UTC and in the organisation's "
            "time zone",
        ) from None
    return in_utc


LAST_POSITION = 2**31 - 1
"""The furthest log position a moment may name: the API's Int holds no more, and no
log of involvement will reach it."""

MOMENT_RULE = "must be a log position or a time such as 2024-05-01T12:00:00+00:00"


def moment_of(text: str | None) -> int | datetime | None:
    """The as-of moment a person typed (a page's as_of, a command's --as-of or
    --until): a log position in digits or a time with its zone, within the calendar
    once in UTC; None for now. InvalidMoment otherwise, whose rule each caller shows
    against its own field. Whether a position has been reached is the views'
    question, asked when the answers are worked out."""
    if text is None:
        return None
    moment = position_or_time(text)
    if moment is None:
        raise InvalidMoment("moment", MOMENT_RULE)
    if isinstance(moment, datetime):
        utc_of(moment)
    elif moment > LAST_POSITION:
        raise InvalidMoment(
            "position",
            f"{moment} is beyond any log position (at most {LAST_POSITION})",
        )
    return moment


class ViewsNotReady(Exception):
    """The views have not reached the position asked for within the time allowed."""

    def __init__(self, wanted: int, reached: int, timeout: float) -> None:
        super().__init__(
            f"the views reached log position {reached}, not {wanted}, "
            f"within {timeout:g} seconds"
            if timeout
            else f"the views are at log position {reached}; {wanted} is beyond it"
        )
        self.wanted = wanted
        self.reached = reached


@dataclass(frozen=True)
class ViewStatus:
    position: int
    head: int
    fact_rows: dict[str, int]

    @property
    def lag(self) -> int:
        return self.head - self.position


class ImpactViews:
    """The read side of one event store."""

    def __init__(
        self,
        database: Database,
        records: InvolvementRecords,
        *,
        owns_records: bool = False,
    ) -> None:
        self.database = database
        self.records = records
        self.owns_records = owns_records
        """Whether `close` closes `records` too (opened for these views alone)."""
        factory = InfrastructureFactory.construct(
            Environment("fourpi_views", database.eventsourcing_env())
        )
        store_class: type[FactStore] = SQLiteFactStore
        if database.backend != "sqlite":
            from fourpi.projections.postgres_store import PostgresFactStore

            store_class = PostgresFactStore
        self.store: Any = factory.tracking_recorder(store_class)  # type: ignore[arg-type]
        self.cache = FactsCache(self.store)
        self.reports: Memo[ImpactReport] = Memo(DEFAULT_CACHED_REPORTS)
        """Reports already computed: the same facts always give the same report."""
        self.erasures: Memo[int] = Memo(DEFAULT_CACHED_REPORTS)
        self.latest_reports: LastWorkedOut[ImpactReport] = LastWorkedOut(
            self.cache, REPORT_TABLES, LATEST_REPORTS_KEPT
        )
        """The report last worked out for each question (slice, moment, target days
        and latest erasure), at whatever position: see `_evaluated`."""
        self._stopping = threading.Event()
        """Set by stop(), and never cleared: a stop asked for before a run begins
        still stops it (see `run`)."""
        self._run_stopping = self._stopping
        """What stops the run going on now: the views' own, or the runner's."""
        self._behind = threading.Event()
        """Set by a reader that found the views behind the log (see `nudge`)."""

    # Keeping up with the log

    def position(self) -> int:
        """The log position the views have applied up to."""
        return int(self.store.max_tracking_id(VIEW_NAME) or 0)

    def head(self) -> int:
        return int(self.records.recorder.max_notification_id() or 0)

    def catch_up(
        self, *, batch_size: int = DEFAULT_BATCH_SIZE, progress: Progress | None = None
    ) -> int:
        """Apply every event not yet applied, a batch per transaction; returns the position.

        Each person's key is read once for a run of batches (up to 50,000 events, so
        what is remembered stays bounded), not once a batch: the same people recur
        all through the log. An erasure applied in the run forgets the person's key
        there and then (after_erasures destroys it); a run ends early when another
        worker has moved the views on, so nothing it read is held on to.
        """
        position = self.position()
        head = self.head() if progress else 0
        remembered_events = 50_000
        while True:
            with self.records.keys.remembered():
                decoded = 0
                while decoded < remembered_events:
                    notifications = self.records.recorder.select_notifications(
                        start=position + 1, limit=batch_size
                    )
                    if not notifications:
                        return position
                    batch = self.batch_of(notifications)
                    decoded += len(notifications)
                    try:
                        erased = self.store.record_batch(batch, after=position)
                    except ViewsMovedOn:
                        # Another worker applied these first: carry on from where it
                        # got to.
                        position = self.position()
                        break
                    if erased:
                        self.after_erasures(erased)
                    position = notifications[-1].id
                    if progress:
                        head = max(head, position)
                        progress(position, head)

    def after_erasures(self, erased: Sequence[tuple[UUID, UUID]]) -> None:
        """The views have deleted erased people's rows: make sure their keys are
        destroyed too (should the erasing command have stopped between recording the
        erasure and destroying the key), forget cached facts, and scrub the files."""
        for organisation_id, participant_id in erased:
            self.records.keys.destroy(participant_id, organisation_id)
            self.cache.forget(organisation_id)
        self.store.scrub()

    def batch_of(
        self, notifications: Sequence[Notification]
    ) -> Iterator[tuple[int, UUID, list[Fact]]]:
        """The facts of each stored event, led by its row in the views' log.

        Lazily, one event at a time: the store turns each event's facts into columns
        as they come, so the decoded events never pile up (keeping a whole batch of
        them alive made the garbage collector walk them over and over)."""
        to_domain_event = self.records.mapper.to_domain_event
        for notification in notifications:
            event: Any = to_domain_event(notification)
            log_row = {
                "recorded_at": event.timestamp,
                "topic": notification.topic,
                "record_id": notification.originator_id,
                "version": notification.originator_version,
            }
            yield (
                notification.id,
                event.organisation_id,
                [("log", log_row), *facts_of(event)],
            )

    def run(
        self,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        progress: Progress | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        """Keep the views caught up until stop() is called, telling `progress` of
        every batch applied (fourpi.operations.worker logs them).

        stopping: what ends this run, set by stop() too; by default the views' own,
        which stop() sets for good. A stop asked for before the run began is kept,
        so the run returns at once: a server shut down as it starts, or a worker
        stopped before its thread got here, leaves no run behind it. A runner that
        stops and starts again (a worker, one after another) brings its own.

        On PostgreSQL the library's subscription (LISTEN/NOTIFY) wakes the worker as
        soon as events are recorded; SQLite cannot notify, so the worker polls, and
        a reader that finds the views behind wakes it at once (`nudge`).
        """
        if stopping is None:
            stopping = self._stopping
        self._run_stopping = stopping
        if stopping.is_set():
            return
        catch_up = partial(self.catch_up, progress=progress)
        catch_up()
        if self.database.backend == "postgresql":
            with self.records.recorder.subscribe(gt=self.position()) as subscription:
                watcher = threading.Thread(
                    target=self._stop_on_request,
                    args=(subscription, stopping),
                    daemon=True,
                )
                watcher.start()
                for notification in subscription:
                    if notification.id > self.position():
                        catch_up()
                    if stopping.is_set():
                        break
            return
        while True:
            self._behind.wait(poll_seconds)
            self._behind.clear()
            if stopping.is_set():
                return
            catch_up()

    @staticmethod
    def _stop_on_request(subscription: Any, stopping: threading.Event) -> None:
        stopping.wait()
        subscription.stop()

    def stop(self) -> None:
        """End the run going on now, and any later run that brings no `stopping`
        of its own."""
        self._stopping.set()
        self._run_stopping.set()
        self._behind.set()

    def nudge(self) -> None:
        """A reader has found the views behind the log: a worker polling in this
        process (SQLite) catches up now rather than at its next poll. Nothing else
        changes: a worker elsewhere, or one woken by PostgreSQL, is not affected."""
        self._behind.set()

    def wait(self, position: int, *, timeout: float = 5.0) -> int:
        """Block until the views have applied the log up to `position` (read your writes)."""
        deadline = time.monotonic() + timeout
        while True:
            reached = self.position()
            if reached >= position:
                return reached
            if time.monotonic() >= deadline:
                raise ViewsNotReady(position, reached, timeout)
            time.sleep(0.01)

    def status(self) -> ViewStatus:
        return ViewStatus(self.position(), self.head(), self.store.counts())

    def rebuild(
        self, *, batch_size: int = DEFAULT_BATCH_SIZE, progress: Progress | None = None
    ) -> int:
        """Empty every view and apply the whole log again, streaming it in batches."""
        self.store.clear()
        self.cache.clear()
        self.reports.clear()
        self.erasures.clear()
        self.latest_reports.clear()
        return self.catch_up(batch_size=batch_size, progress=progress)

    # Answering

    def report(
        self,
        slice: Slice,
        *,
        as_of: int | datetime | None = None,
        moment: date | None = None,
        target_days: int = DEFAULT_PAYMENT_TARGET_DAYS,
        live: int | None = None,
    ) -> ImpactReport:
        """Every answer for the slice, live or as the views stood at a past moment.

        as_of: a log position, or a time (the longest prefix of the log recorded by
        then). The same facts and the same code answer both: rows are never changed,
        so the rows at or below a position are the views as they stood there.
        moment: the date that decides whether a review is overdue; by default the
        as_of time's date, else the date the position was recorded, else today,
        each where the organisation works (fourpi.local_time).
        live: the views' position, when the caller has just read it (the views only
        move forward, so a live answer is then as of that position).
        """
        if live is None:
            live = self.position()
        if isinstance(as_of, datetime):
            in_utc = utc_of(as_of)
            position = min(self.store.position_at(in_utc), live)
            moment = moment or local_date(in_utc)
        elif as_of is not None:
            if as_of < 0:
                raise InvalidMoment("position", "a log position is 0 or more")
            if as_of > live:
                raise ViewsNotReady(as_of, live, 0)
            position = as_of
        else:
            position = live
        if moment is None:
            recorded = self.store.recorded_at(position) if as_of is not None else None
            moment = local_date(recorded)
        # A report is a function of the facts up to the position, which never change
        # except when an erasure deletes a person's rows at every position: the
        # organisation's latest erasure is part of the key.
        erasure = self.last_erasure(slice.organisation_id, live)
        return self.reports.get(
            (slice, position, moment, target_days, erasure),
            lambda: self._evaluated(slice, position, moment, target_days, erasure),
        )

    def _evaluated(
        self, slice: Slice, position: int, moment: date, target_days: int, erasure: int
    ) -> ImpactReport:
        """The report at a position: the last one worked out for the same question,
        moved to the position, when nothing recorded between the two is read by any
        answer (a person registered who takes no part yet, another organisation's
        writes, an account's); else evaluated from the facts, but for the parts of
        the last one that read nothing recorded between (see `evaluate`)."""
        organisation_id = slice.organisation_id

        def evaluated(last: ImpactReport | None) -> ImpactReport:
            facts = self.cache.facts(organisation_id, position, erasure)
            between = None
            if last is not None:
                low, high = sorted((last.position, position))
                between = self.cache.between(organisation_id, low, high, erasure)
            with collection_paused():
                return evaluate(
                    facts,
                    slice,
                    position=position,
                    moment=moment,
                    target_days=target_days,
                    last=last,
                    between=between,
                )

        report, moved = self.latest_reports.get(
            (slice, moment, target_days, erasure),
            organisation_id,
            position,
            evaluated,
            erasure,
        )
        return replace(report, position=position) if moved else report

    @property
    def moved(self) -> int:
        """Reports taken from another position, as nothing they read had changed."""
        return self.latest_reports.moved

    def last_erasure(self, organisation_id: UUID, live: int) -> int:
        """The position of the organisation's latest erasure, with the views at `live`.

        The views record an erasure in the same transaction as the position they
        reach, so it is a function of that position: read once per position.
        """
        return self.erasures.get(
            (organisation_id, live), lambda: self.store.last_erasure(organisation_id)
        )

    def close(self) -> None:
        self.stop()
        self.store.datastore.close()
        if self.owns_records:
            self.records.close()
