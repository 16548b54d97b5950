"""Group commit: saves made at the same time by different threads commit in one transaction, each caller returning only once its own events are committed, with its own positions; a conflict fails only its own save, and the seals still chain in log order."""

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, Recording, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.audit import verify
from fourpi.bootstrap import open_records
from fourpi.config import group_commit_enabled
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.organisation import Organisation
from fourpi.domain.participant import MonitoringData, Participant
from fourpi.domain.vocabulary import ParticipantKind
from fourpi.storage.group_commit import GroupCommit, Positions
from tests.conftest import needs_postgres
from tests.helpers import ACTOR, Store, log_position

WAIT = 60.0
"""How long a test waits for threads to get where it needs them (never asserted on)."""


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.001)


def event_count(records: InvolvementRecords) -> int:
    """How many events the log holds (PostgreSQL numbers them with gaps where a
    transaction failed, so the last position is no count)."""
    return len(records.recorder.select_notifications(start=1, limit=100_000))


def group_of(records: InvolvementRecords) -> GroupCommit:
    group: GroupCommit | None = getattr(records.recorder, "group_commit", None)
    assert group is not None
    return group


@dataclass
class Transactions:
    """The group commit's transactions, the first held until released."""

    group: GroupCommit
    together: list[int] = field(default_factory=list)
    """The number of batches in each transaction tried for a group."""
    alone: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    holding: threading.Event = field(default_factory=threading.Event)
    fail_together: BaseException | None = None

    def commit_together(
        self, original: Callable[[list[Sequence[StoredEvent]]], list[Positions]]
    ) -> Callable[[list[Sequence[StoredEvent]]], list[Positions]]:
        def commit(batches: list[Sequence[StoredEvent]]) -> list[Positions]:
            self.hold()
            self.together.append(len(batches))
            if self.fail_together is not None:
                raise self.fail_together
            return original(batches)

        return commit

    def commit_alone(
        self, original: Callable[[Sequence[StoredEvent]], Positions]
    ) -> Callable[[Sequence[StoredEvent]], Positions]:
        def commit(batch: Sequence[StoredEvent]) -> Positions:
            self.hold()
            self.alone += 1
            return original(batch)

        return commit

    def hold(self) -> None:
        if not self.holding.is_set():
            self.holding.set()
            assert self.release.wait(WAIT)


@contextmanager
def first_transaction_held(records: InvolvementRecords) -> Iterator[Transactions]:
    """Holds the first transaction of the application's group commit until
    `release` is set, and counts the transactions."""
    group = group_of(records)
    seen = Transactions(group)
    together, alone = group.commit_together, group.commit_alone
    group.commit_together = seen.commit_together(together)
    group.commit_alone = seen.commit_alone(alone)
    try:
        yield seen
    finally:
        seen.release.set()
        group.commit_together, group.commit_alone = together, alone


def new_person(organisation_id: UUID, name: str) -> Participant:
    person = Participant.register(
        participant_id=uuid4(),
        organisation_id=organisation_id,
        pseudonym=name,
        participant_kind=ParticipantKind.CARER,
        recorded_by=ACTOR,
    )
    person.declare_monitoring_data(
        monitoring=MonitoringData.checked(age_band="25_34"), recorded_by=ACTOR
    )
    return person


def assert_recorded_as_returned(
    records: InvolvementRecords, recordings: list[Recording[UUID]]
) -> None:
    """Each returned position holds the very event the caller saved."""
    for recording in recordings:
        position = recording.notification.id
        (stored,) = records.recorder.select_notifications(start=position, limit=1)
        assert stored.id == position
        assert stored.originator_id == recording.domain_event.originator_id
        assert stored.originator_version == recording.domain_event.originator_version
        assert stored.state == recording.notification.state


def test_saves_queued_behind_a_transaction_commit_together_and_return_only_then(
    database_url: str, records: InvolvementRecords, organisation_id: UUID
) -> None:
    other = open_records(database_url)  # another process, reading what is committed
    head = log_position(other)
    callers = 6
    people = [new_person(organisation_id, f"Person {i}") for i in range(callers)]
    with (
        first_transaction_held(records) as transactions,
        ThreadPoolExecutor(callers + 1) as pool,
    ):
        first = pool.submit(records.save, new_person(organisation_id, "First"))
        assert transactions.holding.wait(WAIT)
        saves = [pool.submit(records.save, person) for person in people]
        wait_until(lambda: transactions.group.queued() == callers, "all queued")
        # Queued, not committed: nobody has returned, nothing of theirs is readable.
        assert not any(save.done() for save in [first, *saves])
        assert log_position(other) == head
        transactions.release.set()
        results = [save.result(WAIT) for save in saves]
        first.result(WAIT)
    # The six were committed in one transaction, after the first.
    assert transactions.together == [callers]
    assert transactions.alone == 1
    for person, recordings in zip(people, results, strict=True):
        assert [r.domain_event.originator_id for r in recordings] == [person.id] * 2
        assert_recorded_as_returned(other, recordings)
        assert other.repository.get(person.id).pseudonym == person.pseudonym
    # Each caller's events are consecutive, in the order the callers queued.
    positions = [r.notification.id for recordings in results for r in recordings]
    assert sorted(positions) == list(range(min(positions), min(positions) + 12))
    assert verify(other.recorder).intact
    other.close()


def test_a_conflict_in_a_group_fails_only_its_own_save(
    records: InvolvementRecords, organisation_id: UUID
) -> None:
    count = event_count(records)
    # Two callers change the organisation from the same version: one must lose.
    copies: list[Any] = [records.repository.get(organisation_id) for _ in range(2)]
    for threshold, copy in enumerate(copies, start=3):
        assert isinstance(copy, Organisation)
        copy.set_suppression_threshold(threshold=threshold, recorded_by=ACTOR)
    people = [new_person(organisation_id, f"Person {i}") for i in range(4)]
    batches: list[Any] = [people[0], copies[0], people[1], copies[1], *people[2:]]
    with (
        first_transaction_held(records) as transactions,
        ThreadPoolExecutor(len(batches) + 1) as pool,
    ):
        first = pool.submit(records.save, new_person(organisation_id, "First"))
        assert transactions.holding.wait(WAIT)
        saves: list[Future[Any]] = []
        for batch in batches:
            saves.append(pool.submit(records.save, batch))
            # Queued one after the other, so the first copy is the one to land.
            wait_until(
                lambda: transactions.group.queued() == len(saves), "queued in order"
            )
        transactions.release.set()
        first.result(WAIT)
        outcomes = [save.exception(WAIT) for save in saves]
    # The group's transaction was tried, failed, and each batch went alone.
    assert transactions.together == [len(batches)]
    assert transactions.alone == 1 + len(batches)
    assert [type(o) for o in outcomes] == [
        type(None),
        type(None),
        type(None),
        IntegrityError,
        type(None),
        type(None),
    ]
    organisation: Any = records.repository.get(organisation_id)
    assert organisation.version == 2
    assert organisation.suppression_threshold == 3
    for person in people:
        assert records.repository.get(person.id).pseudonym == person.pseudonym
    # Everything but the loser is in the log, once, and the chain verifies: the first
    # person's two events, the winning change, and the four people's two each.
    assert event_count(records) == count + 2 + 1 + 2 * len(people)
    assert verify(records.recorder).intact


def test_callers_of_a_group_whose_leader_stops_hear_so_and_later_saves_go_on(
    records: InvolvementRecords, organisation_id: UUID
) -> None:
    people = [new_person(organisation_id, f"Person {i}") for i in range(3)]
    with (
        first_transaction_held(records) as transactions,
        ThreadPoolExecutor(len(people) + 1) as pool,
    ):
        first = pool.submit(records.save, new_person(organisation_id, "First"))
        assert transactions.holding.wait(WAIT)
        saves = [pool.submit(records.save, person) for person in people]
        wait_until(lambda: transactions.group.queued() == len(people), "all queued")
        transactions.fail_together = KeyboardInterrupt()
        transactions.release.set()
        first.result(WAIT)
        outcomes = [save.exception(WAIT) for save in saves]
    # One of them led the group and was stopped; the others are told.
    assert sorted(type(o).__name__ for o in outcomes) == [
        "GroupCommitInterrupted",
        "GroupCommitInterrupted",
        "KeyboardInterrupt",
    ]
    # Nobody is left leading: the next saves are stored.
    after = new_person(organisation_id, "After")
    records.save(after)
    assert records.repository.get(after.id).pseudonym == "After"
    assert verify(records.recorder).intact


# Any interleaving: nothing lost, nothing doubled, positions as returned, chain intact


@dataclass
class Outcome:
    recordings: list[Recording[UUID]] | None = None
    error: BaseException | None = None


def concurrent_saves(backend: str, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        # Each save: a new person (two events), or a change to one of two shared
        # records, made from the version this writer last saw (so it may conflict).
        saves=st.lists(
            st.sampled_from(["person", "shared 0", "shared 1"]), max_size=24
        ),
        writers=st.integers(2, 8),
        hold_first=st.booleans(),
        group_commit=st.sampled_from(["on", "off"]),
    )
    def check(
        saves: list[str], writers: int, hold_first: bool, group_commit: str
    ) -> None:
        store = Store(backend)
        records = store.open(FOURPI_GROUP_COMMIT=group_commit)
        try:
            shared = [
                records.register_organisation(name=f"Shared {i}", actor="admin")
                for i in range(2)
            ]
            head = log_position(records)
            outcomes = [Outcome() for _ in saves]

            def save(index: int) -> None:
                kind = saves[index]
                if kind == "person":
                    thing: Any = new_person(shared[0], f"P{index}")
                else:
                    thing = records.repository.get(shared[int(kind[-1])])
                    now = thing.suppression_threshold
                    thing.set_suppression_threshold(
                        threshold=now + 1 if now < 100 else 2, recorded_by=ACTOR
                    )
                try:
                    outcomes[index].recordings = records.save(thing)
                except IntegrityError as error:
                    outcomes[index].error = error

            with ThreadPoolExecutor(writers) as pool:
                if hold_first and group_commit == "on" and saves:
                    with first_transaction_held(records) as transactions:
                        started = [pool.submit(save, 0)]
                        assert transactions.holding.wait(WAIT)
                        started += [pool.submit(save, i) for i in range(1, len(saves))]
                        wait_until(
                            lambda: (
                                transactions.group.queued()
                                >= min(writers - 1, len(saves) - 1)
                            ),
                            "writers queued",
                        )
                        transactions.release.set()
                        for future in started:
                            future.result(WAIT)
                else:
                    for future in [pool.submit(save, i) for i in range(len(saves))]:
                        future.result(WAIT)

            landed = [o.recordings for o in outcomes if o.recordings is not None]
            for outcome, kind in zip(outcomes, saves, strict=True):
                assert (outcome.recordings is None) != (outcome.error is None)
                if kind == "person":  # new records never conflict
                    assert outcome.error is None
            stored = records.recorder.select_notifications(start=head + 1, limit=1000)
            returned = {r.notification.id: r for rs in landed for r in rs}
            # Every stored event was returned to exactly one caller, at its position.
            assert sorted(returned) == [n.id for n in stored]
            for notification in stored:
                recording = returned[notification.id]
                assert (
                    notification.originator_id == recording.domain_event.originator_id
                )
                assert notification.state == recording.notification.state
            # Each shared record holds exactly its landed changes, one per version.
            for number, record_id in enumerate(shared):
                changes = sum(
                    1
                    for o, kind in zip(outcomes, saves, strict=True)
                    if kind == f"shared {number}" and o.recordings is not None
                )
                assert records.repository.get(record_id).version == 1 + changes
            assert verify(records.recorder).intact
        finally:
            records.close()
            store.remove()

    check()


def test_concurrent_saves_lose_and_double_nothing_on_sqlite() -> None:
    concurrent_saves("sqlite", examples=40)


def test_concurrent_saves_lose_and_double_nothing_on_postgresql() -> None:
    needs_postgres()
    concurrent_saves("postgresql", examples=12)


# The setting


def test_group_commit_is_on_unless_turned_off(database_url: str) -> None:
    assert group_commit_enabled({})
    assert group_commit_enabled({"FOURPI_GROUP_COMMIT": "on"})
    assert not group_commit_enabled({"FOURPI_GROUP_COMMIT": "off"})
    assert not group_commit_enabled({"FOURPI_GROUP_COMMIT": "0"})
    with pytest.raises(ValueError, match="FOURPI_GROUP_COMMIT"):
        group_commit_enabled({"FOURPI_GROUP_COMMIT": "sometimes"})
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    store = Store(backend)
    try:
        default = store.open()
        off = store.open(FOURPI_GROUP_COMMIT="off")
        assert getattr(default.recorder, "group_commit", None) is not None
        assert getattr(off.recorder, "group_commit", None) is None
        # Either way the same things are stored.
        organisation = off.register_organisation(name="Off", actor="admin")
        person = new_person(organisation, "Alone")
        off.save(person)
        assert default.repository.get(person.id).pseudonym == "Alone"
        default.close()
        off.close()
    finally:
        store.remove()
