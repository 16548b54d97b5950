"""Initiatives read from snapshots: a write reads the latest snapshot and the events after it, gets the very state a full replay gives, still meets every other writer's events, and no snapshot ever holds a person's data."""

import asyncio
import logging
import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import date
from pathlib import Path
from threading import Barrier
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner
from eventsourcing.application import project_aggregate
from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.audit import export_log
from fourpi.bootstrap import open_records
from fourpi.cli import main
from fourpi.config import parse_database_url
from fourpi.domain.access import Role
from fourpi.domain.application import SNAPSHOT_INTERVAL, InvolvementRecords
from fourpi.domain.errors import InvalidInput
from fourpi.domain.initiative import Cycle, Initiative, IntendedOutcome
from fourpi.domain.initiative import Role as RoleHeld
from fourpi.domain.personal import (
    PERSONAL_FIELDS,
    PERSONAL_RECORDS,
    PersonalRecordSnapshotted,
)
from fourpi.domain.vocabulary import OutcomeAssessment
from fourpi.workbook import import_path
from fourpi.workbook.writing import write_workbook
from tests.api import api_store, client, data_of, graphql
from tests.helpers import ACTOR, register
from tests.histories import (
    Known,
    assess,
    assign,
    cycle,
    end_role,
    erase,
    outcome,
    play_one,
)
from tests.histories import register as register_step
from tests.test_api_records import RECORD
from tests.test_concurrency import give_role
from tests.test_erasure import PSEUDONYM, found_in, storage_of, tell

INITIATIVE_STEPS = (
    register_step,
    erase,
    assign,
    assign,
    assign,
    end_role,
    outcome,
    assess,
    cycle,
    cycle,
)
"""Every use case that writes to an initiative, and the people they name."""


def replayed(records: InvolvementRecords, record_id: UUID, version: int) -> Any:
    """The record at that version from its first event, no snapshot read."""
    return project_aggregate(None, records.events.get(record_id, lte=version))


def state_of(record: Any) -> str:
    """Every attribute with its exact type (a tuple is not a list, a phase not its
    text), as repr shows them."""
    return repr(sorted(vars(record).items()))


def launch(records: InvolvementRecords, organisation: UUID, name: str) -> UUID:
    return records.launch_initiative(
        organisation_id=organisation,
        name=name,
        level="strategic",
        involvement_kind="co_production",
        methods=("workshop",),
        purpose="P",
        limits_of_influence="L",
        started_on=date(2021, 1, 4),
        actor=ACTOR,
    )


def record_outcomes(
    records: InvolvementRecords, organisation: UUID, initiative: UUID, count: int
) -> list[UUID]:
    """That many intended outcomes, one write each: the ids the writes answer."""
    return [
        records.record_intended_outcome(
            organisation_id=organisation,
            initiative_id=initiative,
            description=f"Outcome {number}",
            impact_areas=("delivery",),
            actor=ACTOR,
        )
        for number in range(count)
    ]


def snapshot_versions(records: InvolvementRecords, record_id: UUID) -> list[int]:
    assert records.snapshots is not None
    return [s.originator_version for s in records.snapshots.get(record_id)]


def test_only_records_without_personal_data_are_snapshotted() -> None:
    """Every event that carries personal data is one of a PERSONAL_RECORDS record,
    and no record snapshotted is one of them."""
    for event_class in PERSONAL_FIELDS:
        assert any(issubclass(event_class, r.Event) for r in PERSONAL_RECORDS)
    assert PERSONAL_RECORDS.isdisjoint(InvolvementRecords.snapshotting_intervals)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), interval=st.sampled_from([2, 3, 7]))
def test_a_write_after_any_history_reads_the_state_a_full_replay_gives(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, interval: int
) -> None:
    """Random histories of one organisation's initiatives (roles given and ended,
    outcomes recorded and assessed, cycles, people registered and erased), with a
    snapshot every few events: after every write, each initiative as a command reads
    it is the initiative its events give from the first, attribute for attribute
    with their types; so is every past version as an 'as of' read asks for it.
    Refused writes are refused alike, as they are decided on the same state."""
    url = f"sqlite:///{tmp_path_factory.mktemp('snapshots')}/fourpi.sqlite3"
    records = open_records(url)
    every = pytest.MonkeyPatch()
    every.setattr(records, "snapshotting_intervals", {Initiative: interval})
    try:
        organisation = records.register_organisation(name="Mind", actor=ACTOR)
        known = Known()
        known.add(organisation)
        for name in ("Peer review", "Crisis line"):
            known.initiatives[organisation].append(launch(records, organisation, name))
        for _ in range(data.draw(st.integers(10, 50))):
            play_one(records, data, known, INITIATIVE_STEPS)
            for initiative_id in known.initiatives[organisation]:
                read = records.load(Initiative, initiative_id, organisation)
                assert state_of(read) == state_of(
                    replayed(records, initiative_id, read.version)
                )
        for initiative_id in known.initiatives[organisation]:
            latest = records.load(Initiative, initiative_id, organisation)
            taken = snapshot_versions(records, initiative_id)
            assert taken == list(range(interval, latest.version + 1, interval))
            for version in range(1, latest.version + 1):
                as_of: Any = records.repository.get(initiative_id, version=version)
                assert state_of(as_of) == state_of(
                    replayed(records, initiative_id, version)
                )
    finally:
        every.undo()
        records.close()


def test_a_role_reads_no_more_than_an_interval_of_events_however_long_the_history(
    records, organisation_id: UUID, initiative_id: UUID, monkeypatch
) -> None:
    """Before, a role read its initiative from the first event: every role read
    every earlier one again (45.66M instructions a role after 200 of them,
    BENCHMARKS.md). Now it reads the latest snapshot and the events after it."""
    people = [
        register(records, organisation_id, pseudonym=f"P{i}")
        for i in range(3 * SNAPSHOT_INTERVAL + 5)
    ]
    for person in people[:-1]:
        give_role(records, organisation_id, initiative_id, person)
    decoded = Counter[str]()
    to_domain_event = records.mapper.to_domain_event

    def counting(stored: Any) -> Any:
        decoded[stored.topic.split(":")[-1].split(".")[-1]] += 1
        return to_domain_event(stored)

    monkeypatch.setattr(records.mapper, "to_domain_event", counting)
    give_role(records, organisation_id, initiative_id, people[-1])

    # The initiative (a snapshot and the events since) and the person.
    assert sum(decoded.values()) <= SNAPSHOT_INTERVAL + 1
    assert decoded["RoleAssigned"] < SNAPSHOT_INTERVAL
    assert decoded["Snapshot"] == 1
    initiative = records.load(Initiative, initiative_id, organisation_id)
    assert initiative.version == 1 + len(people)
    assert {r.participant_id for r in initiative.roles.values()} == set(people)
    assert state_of(initiative) == state_of(
        replayed(records, initiative_id, initiative.version)
    )


def test_writers_in_separate_processes_on_one_initiative_lose_nothing_past_snapshots(
    database_url: str, records, organisation_id: UUID, initiative_id: UUID
) -> None:
    """Eight processes' worth of application objects giving roles in one initiative
    at once, across several snapshots: every role lands once, the versions run on
    unbroken, and each snapshot is the state the events give. Then two of them give
    one person the same role at once: one lands, the other is refused by the rule
    (already holds it), decided on the initiative as the first left it, not on a
    snapshot or a state its process read before."""
    writers = 8
    per_writer = 6
    people = [
        register(records, organisation_id, pseudonym=f"P{i}")
        for i in range(writers * per_writer + 1)
    ]
    processes = [open_records(database_url) for _ in range(writers)]
    try:
        barrier = Barrier(writers)

        def give(index: int) -> list[UUID]:
            barrier.wait()
            mine = people[index * per_writer : (index + 1) * per_writer]
            return [
                give_role(processes[index], organisation_id, initiative_id, person)
                for person in mine
            ]

        with ThreadPoolExecutor(writers) as pool:
            roles = [r for given in pool.map(give, range(writers)) for r in given]

        initiative = records.load(Initiative, initiative_id, organisation_id)
        assert initiative.version == 1 + writers * per_writer
        assert {initiative.roles[r].participant_id for r in roles} == set(people[:-1])
        versions = [
            n.originator_version
            for n in records.recorder.select_notifications(start=1, limit=10_000)
            if n.originator_id == initiative_id
        ]
        assert versions == list(range(1, initiative.version + 1))
        taken = snapshot_versions(records, initiative_id)
        assert taken == list(
            range(SNAPSHOT_INTERVAL, initiative.version + 1, SNAPSHOT_INTERVAL)
        )
        for version in taken:
            assert state_of(
                records.repository.get(initiative_id, version=version)
            ) == state_of(replayed(records, initiative_id, version))

        # Both have read the initiative (from its snapshot) before either writes.
        for process in processes[:2]:
            process.load(Initiative, initiative_id, organisation_id)
        last = people[-1]
        pair = Barrier(2)

        def same_role(index: int) -> str:
            pair.wait()
            try:
                give_role(processes[index], organisation_id, initiative_id, last)
            except InvalidInput as refusal:
                return str(refusal)
            return "landed"

        with ThreadPoolExecutor(2) as pool:
            outcomes = Counter(pool.map(same_role, range(2)))
        assert outcomes == {
            "landed": 1,
            f"role: participant {last} already holds the advisor role here": 1,
        }
    finally:
        for process in processes:
            process.close()


def test_erased_data_is_in_no_snapshot_and_a_person_is_never_snapshotted(
    database_url: str,
) -> None:
    """An initiative a person took part in, snapshotted again and again, and then
    the person erased: no file or table holds their data, snapshots included. A
    person's own record is never snapshotted: its state holds their data read with
    their key, which a snapshot would keep after the key is destroyed."""
    records = open_records(database_url)
    try:
        story = tell(records)
        organisation = story.organisation_id
        record_outcomes(
            records, organisation, story.initiative_id, 2 * SNAPSHOT_INTERVAL
        )
        outcome_id = next(
            iter(
                records.load(
                    Initiative, story.initiative_id, organisation
                ).intended_outcomes
            )
        )
        records.assess_intended_outcome(
            organisation_id=organisation,
            initiative_id=story.initiative_id,
            outcome_id=outcome_id,
            assessment=OutcomeAssessment.ACHIEVED,
            involvement_difference="significant",
            evidence="E",
            assessed_on=date(2022, 6, 1),
            actor=ACTOR,
        )
        assert len(snapshot_versions(records, story.initiative_id)) == 2

        refused = []
        for personal in (story.erased, story.answer_id):
            try:
                records.take_snapshot(personal)
            except PersonalRecordSnapshotted:
                refused.append(personal)

        records.erase_participant(
            organisation_id=organisation, participant_id=story.erased, actor=ACTOR
        )
        for name, content in storage_of(database_url).items():
            assert found_in(content) == [], name
        assert refused == [story.erased, story.answer_id]
        assert snapshot_versions(records, story.erased) == []
        assert snapshot_versions(records, story.answer_id) == []
        assert PSEUDONYM not in state_of(
            records.load(Initiative, story.initiative_id, organisation)
        )
    finally:
        records.close()


def test_an_auditor_reads_a_record_from_its_events_whatever_a_snapshot_says(
    tmp_path,
) -> None:
    """The snapshots are not sealed: the log is the record, and what an auditor is
    shown of a record, now or at a version, is replayed from its events alone. A
    snapshot altered in the database changes neither (commands do read it: it is a
    shortcut the writers trust, as they trust the rest of the database)."""
    url = f"sqlite:///{tmp_path}/tampered.sqlite3"
    with api_store(url) as store:
        records = store.records
        organisation = records.register_organisation(name="Mind", actor=ACTOR)
        initiative = launch(records, organisation, "Peer review")
        record_outcomes(records, organisation, initiative, SNAPSHOT_INTERVAL)
        assert records.snapshots is not None
        (snapshot,) = records.snapshots.get(initiative)
        altered: Any = snapshot
        altered.state["name"] = "Tampered"
        stored = records.mapper.to_stored_event(altered)
        with sqlite3.connect(parse_database_url(url).sqlite_path) as connection:
            connection.execute(
                "UPDATE stored_snapshots SET state = ? WHERE originator_id = ?",
                (stored.state, initiative.hex),
            )
        assert records.load(Initiative, initiative, organisation).name == "Tampered"
        auditor = store.token(organisation, Role.AUDITOR)

        async def names() -> list[str]:
            async with client(store) as c:
                return [
                    data_of(
                        await graphql(
                            c, RECORD, {"id": str(initiative), "v": v}, auditor
                        )
                    )["record"]["state"]["name"]
                    for v in (None, SNAPSHOT_INTERVAL, SNAPSHOT_INTERVAL + 1)
                ]

        assert asyncio.run(names()) == ["Peer review"] * 3


class Unencodable(Snapshot):
    """A snapshot whose state holds a value the transcoder has no tag for."""

    @classmethod
    def take(cls, aggregate: Any) -> Any:
        snapshot = super().take(aggregate)
        snapshot.state["beside"] = object()
        return snapshot


def test_a_snapshot_that_cannot_be_encoded_is_logged_and_the_write_still_answers(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A snapshot is taken after the write's events are stored: one the transcoder
    cannot encode (a later state holding a value it has no tag for) is logged and
    not stored, and the write answers as stored, rather than with an error a client
    would send again, recording the outcome twice."""

    monkeypatch.setattr(Initiative, "Snapshot", Unencodable)
    records = open_records(database_url)
    try:
        organisation = records.register_organisation(name="Mind", actor=ACTOR)
        initiative = launch(records, organisation, "Peer review")
        with caplog.at_level(logging.WARNING, logger="fourpi.records"):
            answers = record_outcomes(
                records, organisation, initiative, SNAPSHOT_INTERVAL
            )
        read = records.load(Initiative, initiative, organisation)
        assert list(read.intended_outcomes) == answers
        assert read.version == SNAPSHOT_INTERVAL + 1
        assert snapshot_versions(records, initiative) == []
        assert f"no snapshot of record {initiative} at version {SNAPSHOT_INTERVAL}" in (
            caplog.text
        )
    finally:
        records.close()


INITIATIVE_SHAPES = {
    1: {
        "Initiative": (
            "_created_on: datetime",
            "_modified_on: datetime",
            "cycles: list",
            "intended_outcomes: dict",
            "involvement_kind: InvolvementKind",
            "level: InvolvementLevel",
            "limits_of_influence: str",
            "methods: tuple",
            "name: str",
            "organisation_id: UUID",
            "purpose: str",
            "roles: dict",
            "started_on: date",
        ),
        "Cycle": (
            "number: int",
            "focus_areas: tuple[fourpi.domain.vocabulary.ImpactArea, ...]",
            "phase: CyclePhase",
            "phase_dates: dict[fourpi.domain.vocabulary.CyclePhase, datetime.date]",
            "actions_taken_up: tuple[str, ...]",
            "findings: str",
            "reflections: str",
            "lessons: str",
            "planned_actions: tuple[str, ...]",
        ),
        "IntendedOutcome": (
            "outcome_id: UUID",
            "description: str",
            "impact_areas: tuple[fourpi.domain.vocabulary.ImpactArea, ...]",
            "assessment: fourpi.domain.vocabulary.OutcomeAssessment | None",
            "involvement_difference: fourpi.domain.vocabulary.InvolvementDifference "
            "| None",
            "assessed_on: datetime.date | None",
        ),
        "Role": (
            "role_id: UUID",
            "participant_id: UUID",
            "role: InvolvementRole",
            "paid: bool",
            "decision_making: bool",
            "started_on: date",
            "ended_on: datetime.date | None",
        ),
    }
}
"""The shape of an initiative's state at each class_version of Initiative: what a
snapshot of that version holds."""


def test_a_change_to_an_initiatives_state_raises_its_class_version(
    records: InvolvementRecords, organisation_id: UUID, initiative_id: UUID
) -> None:
    """A snapshot keeps the state as it was shaped when taken, and is read back
    with no event applied: an attribute an event's upcast and apply now set, or a
    field added to a role, an outcome or a cycle, would be missing from every
    initiative read from an older snapshot (AttributeError), though a replay has
    it. So a change of shape must raise Initiative.class_version with an
    upcast_v1_v2(state) that brings an old snapshot's state to the new shape (or the
    snapshots table be emptied on upgrade), and be pinned here."""
    taken = Snapshot.take(records.load(Initiative, initiative_id, organisation_id))

    def named(annotation: Any) -> str:
        return annotation.__name__ if isinstance(annotation, type) else str(annotation)

    shape = {
        "Initiative": tuple(
            sorted(f"{k}: {named(type(v))}" for k, v in taken.state.items())
        ),
        **{
            kind.__name__: tuple(f"{f.name}: {named(f.type)}" for f in fields(kind))
            for kind in (Cycle, IntendedOutcome, RoleHeld)
        },
    }
    version = getattr(Initiative, "class_version", 1)
    assert shape == INITIATIVE_SHAPES.get(version), (
        "Initiative's state changed shape at class_version "
        f"{version}: raise it, with an upcast for older snapshots, and pin the new "
        "shape in INITIATIVE_SHAPES"
    )


# Imports store their events apart from the records: the snapshots a save takes


def snapshot_matches_replay(records: InvolvementRecords, initiative: UUID) -> int:
    """The version of the initiative's latest snapshot, which holds the state its
    events give at that version."""
    assert records.snapshots is not None
    (latest,) = records.snapshots.get(initiative, desc=True, limit=1)
    version = latest.originator_version
    loaded: Any = records.repository.get(initiative, version=version)
    assert state_of(loaded) == state_of(replayed(records, initiative, version))
    return version


def test_an_initiative_imported_from_a_workbook_is_read_from_a_snapshot(
    database_url: str, tmp_path: Path
) -> None:
    """A workbook's events were stored together at its end, without their records,
    so no snapshot was taken: the next writes to an initiative it made long read
    its whole history again (about twice the time, for 400 roles) until one
    reached the next interval. Now the import takes the snapshot a save would."""
    roles = 2 * SNAPSHOT_INTERVAL + 5
    sheets = {
        "Initiatives": [
            {
                "Key": "big",
                "Name": "Many roles",
                "Level": "Strategic",
                "Kind of involvement": "Participation",
                "Methods": "Workshop",
                "Purpose": "P",
                "Limits of influence": "L",
                "Started on": "04/01/2021",
            }
        ],
        "People": [
            {"Key": f"p{n}", "Pseudonym": f"P{n}", "Kind of person": "Service user"}
            for n in range(roles)
        ],
        "Roles": [
            {
                "Key": f"r{n}",
                "Initiative": "big",
                "Person": f"p{n}",
                "Role": "Advisor",
                "Paid": "Yes",
                "Decision-making": "No",
                "Started on": "01/02/2021",
            }
            for n in range(roles)
        ],
    }
    path = tmp_path / "log.xlsx"
    write_workbook(path, sheets)
    records = open_records(database_url)
    try:
        organisation = records.register_organisation(name="Peer org", actor=ACTOR)
        report = import_path(records, organisation, path, actor=ACTOR)
        assert report.problems == []
        (initiative,) = initiatives_of(records)
        assert snapshot_matches_replay(records, initiative) == 2 * SNAPSHOT_INTERVAL
    finally:
        records.close()


def test_an_initiative_imported_from_a_log_is_read_from_a_snapshot(
    database_url: str, tmp_path: Path
) -> None:
    """`fourpi import` writes the log's events as stored, so it took no snapshot
    either: a restored store read every initiative's whole history at its next
    writes."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    try:
        organisation = source.register_organisation(name="Mind", actor=ACTOR)
        initiative = launch(source, organisation, "Long")
        record_outcomes(source, organisation, initiative, 2 * SNAPSHOT_INTERVAL + 5)
        with (tmp_path / "log.ndjson").open("wb") as out:
            export_log(source.recorder, out)
    finally:
        source.close()
    imported = CliRunner().invoke(
        main, ["import", "--database", database_url, str(tmp_path / "log.ndjson")]
    )
    assert imported.exit_code == 0, imported.output
    records = open_records(database_url)
    try:
        assert snapshot_matches_replay(records, initiative) == 2 * SNAPSHOT_INTERVAL
    finally:
        records.close()


def initiatives_of(records: InvolvementRecords) -> list[UUID]:
    launched = get_topic(Initiative.Launched)
    return [
        UUID(str(n.originator_id))
        for n in records.recorder.select_notifications(
            start=1, limit=10_000, topics=[launched]
        )
    ]
