"""The application service with every save held back: a workbook's rows run through the real use cases against the real store, and what they decided is saved at the end in one transaction, or not at all."""

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import ConcurrencyConflict


class HeldRepository(Repository[UUID]):
    """Records as the held-back saves left them, else as stored."""

    def __init__(self, staged: "StagedRecords", stored: Repository[UUID]) -> None:
        super().__init__(event_store=stored.event_store)
        self.staged = staged
        self.stored = stored

    def get(self, aggregate_id: UUID, **kwargs: Any) -> Any:
        return self.staged.held(aggregate_id)


class StagedRecords(InvolvementRecords):
    """The same records (store, keys, mapper), but each save is held back.

    A row's saves are kept with `keep_row()` or dropped with `drop_row()`; `commit()`
    stores every kept event, in the order the use cases made them, in one
    transaction. Nothing is stored before it."""

    saves_refuse_a_repeat = False
    """A held-back save refuses nothing, so a row already imported under its key is
    found by its receipt before its use case runs."""

    def __init__(self, records: InvolvementRecords) -> None:
        # Share everything the real application was built with; only saving and
        # reading records differ.
        self.__dict__.update(records.__dict__)
        self.real = records
        self._held_repository = HeldRepository(self, records.repository)
        self._records: dict[UUID, Aggregate] = {}
        self._kept: list[DomainEventProtocol[UUID]] = []
        self._kept_by_record: dict[UUID, list[DomainEventProtocol[UUID]]] = {}
        self._row: list[DomainEventProtocol[UUID]] = []
        self._row_touched: set[UUID] = set()

    def close(self) -> None:
        """The store is the real application's: only it closes the store."""

    def __del__(self) -> None:
        """Unlike the library's application, dropping this one closes nothing."""

    @property
    def repository(self) -> Repository[UUID]:
        return self._held_repository

    @property
    def kept(self) -> int:
        """How many events are held, ready to commit."""
        return len(self._kept)

    def held(self, record_id: UUID) -> Aggregate:
        self._row_touched.add(record_id)
        record = self._records.get(record_id)
        if record is None:
            record = self._rebuilt(record_id)
            self._records[record_id] = record
        return record

    def _rebuilt(self, record_id: UUID) -> Aggregate:
        record: Any
        try:
            record = self.real.repository.get(record_id)
        except AggregateNotFoundError:
            record = None
        for event in self._kept_by_record.get(record_id, ()):
            record = event.mutate(record)  # type: ignore[attr-defined]
        if record is None:
            raise AggregateNotFoundError(record_id)
        assert isinstance(record, Aggregate)
        return record

    def save(self, *objs: Any, **kwargs: Any) -> list[Any]:
        for record in objs:
            if record is None:
                continue
            self._row.extend(record.collect_events())
            self._records[record.id] = record
            self._row_touched.add(record.id)
        return []

    def keep_row(self) -> None:
        for event in self._row:
            self._kept.append(event)
            self._kept_by_record.setdefault(event.originator_id, []).append(event)
        self._row = []
        self._row_touched = set()

    def drop_row(self) -> None:
        """Forget what this row did: the records it touched are read again."""
        for record_id in self._row_touched:
            self._records.pop(record_id, None)
        self._row = []
        self._row_touched = set()

    def commit(self) -> int:
        """Store every kept event in one transaction; how many were stored."""
        events = self._kept
        if not events:
            return 0
        try:
            self.real.save(*events)
        except IntegrityError:
            raise ConcurrencyConflict(
                list(dict.fromkeys(e.originator_id for e in events))[:5]
            ) from None
        due = self.real.snapshots_due()
        for event in events:
            due.note(
                event.originator_id, get_topic(type(event)), event.originator_version
            )
        due.take()
        self._kept = []
        self._kept_by_record = {}
        self._records = {}
        return len(events)
