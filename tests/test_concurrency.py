"""Concurrent writers: optimistic concurrency on every record; losers get a conflict, no event is lost or doubled."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from threading import Barrier
from typing import Any
from uuid import UUID

from fourpi.bootstrap import open_records
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import ConcurrencyConflict
from fourpi.domain.meeting import Meeting
from fourpi.domain.vocabulary import ContributionNature, ImpactArea
from tests.helpers import ACTOR, register

WRITERS = 8


def stored_versions(records: InvolvementRecords) -> dict[Any, list[int]]:
    versions: dict[Any, list[int]] = {}
    for notification in records.recorder.select_notifications(start=1, limit=100_000):
        versions.setdefault(notification.originator_id, []).append(
            notification.originator_version
        )
    return versions


def test_writers_on_one_record_either_land_or_get_a_conflict(
    database_url: str, organisation_id: UUID, initiative_id: UUID, records
) -> None:
    meeting_id = records.schedule_meeting(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        title="Workshop",
        held_at=datetime(2021, 5, 4, 10, tzinfo=UTC),
        high_level=False,
        decision_making=False,
        actor=ACTOR,
    )
    people = [
        register(records, organisation_id, pseudonym=f"P{i}")
        for i in range(WRITERS * 3)
    ]
    # Each writer is a separate process's worth of state: its own application object.
    writers = [open_records(database_url) for _ in range(WRITERS)]
    barrier = Barrier(WRITERS)

    def attend(index: int) -> Counter[str]:
        outcome: Counter[str] = Counter()
        barrier.wait()
        for person in people[index * 3 : index * 3 + 3]:
            try:
                writers[index].record_attendance(
                    organisation_id=organisation_id,
                    meeting_id=meeting_id,
                    participant_ids=[person],
                    actor=ACTOR,
                )
                outcome["landed"] += 1
            except ConcurrencyConflict as conflict:
                assert meeting_id in conflict.record_ids
                assert "changed by someone else" in str(conflict)
                outcome["conflict"] += 1
        return outcome

    with ThreadPoolExecutor(WRITERS) as pool:
        totals = sum(pool.map(attend, range(WRITERS)), Counter())
    for writer in writers:
        writer.close()

    assert totals["landed"] + totals["conflict"] == WRITERS * 3
    assert totals["landed"] >= 1
    meeting = records.load(Meeting, meeting_id, organisation_id)
    # Every landed write is there once; no conflicted write left a trace.
    assert len(meeting.attendee_ids) == totals["landed"]
    assert len(set(meeting.attendee_ids)) == len(meeting.attendee_ids)
    assert meeting.version == 1 + totals["landed"]
    assert stored_versions(records)[meeting_id] == list(range(1, meeting.version + 1))


def test_writers_creating_records_never_lose_one(
    database_url: str, organisation_id: UUID, initiative_id: UUID, records
) -> None:
    advisor = register(records, organisation_id)
    before = records.recorder.max_notification_id() or 0
    per_writer = 10
    barrier = Barrier(WRITERS)

    def log_ideas(index: int) -> list[UUID]:
        barrier.wait()
        return [
            records.log_contribution(
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                contributor_ids=[advisor],
                nature=ContributionNature.IDEA,
                summary=f"Idea {index}-{n}",
                impact_areas=(ImpactArea.DELIVERY,),
                made_on=date(2021, 3, 1),
                actor=ACTOR,
            )
            for n in range(per_writer)
        ]

    with ThreadPoolExecutor(WRITERS) as pool:
        created = [i for ids in pool.map(log_ideas, range(WRITERS)) for i in ids]

    assert len(set(created)) == WRITERS * per_writer
    after = records.recorder.max_notification_id()
    assert after - before == WRITERS * per_writer
    versions = stored_versions(records)
    assert all(versions[i] == [1] for i in created)
