"""Concurrent writers: optimistic concurrency on every record; a command that lost the race is decided again, so none is lost, doubled or refused for a clash alone."""

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime
from itertools import repeat
from multiprocessing import get_context
from threading import Barrier
from typing import Any
from uuid import UUID

import psycopg
import pytest

from fourpi.accounts import Accounts
from fourpi.bootstrap import EVENTS_TABLE, open_records, postgres_connection
from fourpi.config import parse_database_url
from fourpi.domain.access import Role
from fourpi.domain.account import Account
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import InvalidInput
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.organisation import Organisation
from fourpi.domain.vocabulary import ContributionNature, ImpactArea, InvolvementRole
from fourpi.storage.group_commit import Batch, GroupCommit
from fourpi.storage.sealing import Queue
from tests.helpers import ACTOR, register
from tests.web import PASSWORD
from tests.web import person as joined_account

WRITERS = 8


def stored_versions(records: InvolvementRecords) -> dict[Any, list[int]]:
    versions: dict[Any, list[int]] = {}
    for notification in records.recorder.select_notifications(start=1, limit=100_000):
        versions.setdefault(notification.originator_id, []).append(
            notification.originator_version
        )
    return versions


def workshop(
    records: InvolvementRecords, organisation_id: UUID, initiative_id: UUID
) -> UUID:
    """A workshop of the initiative."""
    return records.schedule_meeting(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        title="Workshop",
        held_at=datetime(2021, 5, 4, 10, tzinfo=UTC),
        high_level=False,
        decision_making=False,
        actor=ACTOR,
    )


def give_role(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    person: UUID,
) -> UUID:
    """An advisor's role in the initiative."""
    return records.assign_role(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        participant_id=person,
        role=InvolvementRole.ADVISOR,
        paid=True,
        decision_making=False,
        started_on=date(2021, 2, 1),
        actor=ACTOR,
    )


def test_writers_on_one_record_all_land(
    database_url: str, organisation_id: UUID, initiative_id: UUID, records
) -> None:
    """Separate processes recording attendance at one meeting at once: each clash
    is decided again on the meeting as the other left it, so every write lands."""
    meeting_id = workshop(records, organisation_id, initiative_id)
    people = [
        register(records, organisation_id, pseudonym=f"P{i}")
        for i in range(WRITERS * 3)
    ]
    # Each writer is a separate process's worth of state: its own application object.
    writers = [open_records(database_url) for _ in range(WRITERS)]
    barrier = Barrier(WRITERS)

    def attend(index: int) -> None:
        barrier.wait()
        for person in people[index * 3 : index * 3 + 3]:
            writers[index].record_attendance(
                organisation_id=organisation_id,
                meeting_id=meeting_id,
                participant_ids=[person],
                actor=ACTOR,
            )

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(attend, range(WRITERS)))
    for writer in writers:
        writer.close()

    meeting = records.load(Meeting, meeting_id, organisation_id)
    # Every write is there once.
    assert sorted(meeting.attendee_ids) == sorted(people)
    assert meeting.version == 1 + WRITERS * 3
    assert stored_versions(records)[meeting_id] == list(range(1, meeting.version + 1))


def test_roles_assigned_in_one_initiative_at_once_all_land(
    organisation_id: UUID, initiative_id: UUID, records
) -> None:
    """As a server does: one application, a thread per request, sixteen managers
    giving sixteen people a role in one initiative at the same moment. Each role
    changes the initiative, so all but one clash, though none conflicts with
    another; every one is assigned (before, fourteen of sixteen got a conflict)."""
    writers = 16
    people = [
        register(records, organisation_id, pseudonym=f"P{i}") for i in range(writers)
    ]
    barrier = Barrier(writers)

    def assign(person: UUID) -> UUID:
        barrier.wait()
        return give_role(records, organisation_id, initiative_id, person)

    with ThreadPoolExecutor(writers) as pool:
        roles = list(pool.map(assign, people))

    initiative = records.load(Initiative, initiative_id, organisation_id)
    assert {initiative.roles[r].participant_id for r in roles} == set(people)
    assert initiative.version == 1 + writers
    assert stored_versions(records)[initiative_id] == list(range(1, 2 + writers))


def store_is_held(database_url: str) -> bool:
    """Whether some writer holds the store's write lock now: asked from a connection
    of its own that would take it, and will not wait for it."""
    database = parse_database_url(database_url)
    if database.backend == "sqlite":
        connection = sqlite3.connect(database.sqlite_path, timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return True
        finally:
            connection.close()
        return False
    with postgres_connection(database) as connection:
        try:
            with connection.transaction():
                connection.execute(
                    f'LOCK TABLE "{database.schema}".{EVENTS_TABLE} '
                    "IN EXCLUSIVE MODE NOWAIT"
                )
        except psycopg.errors.LockNotAvailable:
            return True
    return False


def test_a_command_that_lost_a_race_is_decided_again_in_its_turn(
    database_url: str,
    organisation_id: UUID,
    initiative_id: UUID,
    records,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Just before each save, another process gives someone a role in the same
    initiative, unless some writer holds the store. The first save clashes; the
    role, decided again in its turn, is saved under the store's write lock, taken
    before it was decided: no one can store anything between, and it lands. Before,
    it raced again each time (every save found the store free) and, under a steady
    stream of writers on one initiative, could lose 32 races and be refused after
    10 s while the others landed (14 of 600 writes, three processes of ten threads,
    on PostgreSQL)."""
    rival = open_records(database_url)
    people = [register(records, organisation_id, pseudonym=f"P{i}") for i in range(4)]
    others = iter(people[1:3])
    held_at_each_save = []
    save = records.save

    def save_after_another(*args: Any, **kwargs: Any) -> Any:
        held = store_is_held(database_url)
        held_at_each_save.append(held)
        other = None if held else next(others, None)
        if other is not None:
            give_role(rival, organisation_id, initiative_id, other)
        return save(*args, **kwargs)

    monkeypatch.setattr(records, "save", save_after_another)
    role = give_role(records, organisation_id, initiative_id, people[0])
    monkeypatch.undo()
    # Once its turn is over, the store is free again.
    give_role(rival, organisation_id, initiative_id, people[3])
    rival.close()

    assert held_at_each_save == [False, True]
    initiative = records.load(Initiative, initiative_id, organisation_id)
    assert initiative.roles[role].participant_id == people[0]
    assert sorted(r.participant_id for r in initiative.roles.values()) == sorted(
        [people[0], people[1], people[3]]
    )
    assert stored_versions(records)[initiative_id] == list(range(1, 5))


def give_roles_in_a_process(
    database_url: str, organisation_id: UUID, initiative_id: UUID, people: list[UUID]
) -> list[UUID]:
    """A server process's worth of writers: a thread per person, all at once."""
    records = open_records(database_url)
    barrier = Barrier(len(people))

    def give(person: UUID) -> UUID:
        barrier.wait()
        return give_role(records, organisation_id, initiative_id, person)

    try:
        with ThreadPoolExecutor(len(people)) as pool:
            return list(pool.map(give, people))
    finally:
        records.close()


def test_processes_of_threads_giving_roles_in_one_initiative_all_land(
    database_url: str, organisation_id: UUID, initiative_id: UUID, records
) -> None:
    """Three processes of six threads each, every thread giving a role in one
    initiative: every role lands once, none refused for a clash."""
    people = [register(records, organisation_id, pseudonym=f"P{i}") for i in range(18)]
    shares = [people[k::3] for k in range(3)]
    with ProcessPoolExecutor(3, mp_context=get_context("spawn")) as processes:
        given = list(
            processes.map(
                give_roles_in_a_process,
                repeat(database_url),
                repeat(organisation_id),
                repeat(initiative_id),
                shares,
            )
        )

    initiative = records.load(Initiative, initiative_id, organisation_id)
    roles = [role for share in given for role in share]
    assert sorted(initiative.roles) == sorted(roles)
    assert sorted(r.participant_id for r in initiative.roles.values()) == sorted(people)
    assert stored_versions(records)[initiative_id] == list(range(1, 20))


def test_a_command_that_does_conflict_is_refused_by_the_rule_it_breaks(
    organisation_id: UUID, initiative_id: UUID, records
) -> None:
    """Eight managers recording one person's attendance at one meeting at once: one
    lands, and the others, decided again once it has, are refused as they would be
    one after the other (already recorded), not with a clash to retry."""
    meeting_id = workshop(records, organisation_id, initiative_id)
    person = register(records, organisation_id)
    barrier = Barrier(WRITERS)

    def attend(_: int) -> str:
        barrier.wait()
        try:
            records.record_attendance(
                organisation_id=organisation_id,
                meeting_id=meeting_id,
                participant_ids=[person],
                actor=ACTOR,
            )
        except InvalidInput as refusal:
            return str(refusal)
        return "landed"

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = Counter(pool.map(attend, range(WRITERS)))

    assert outcomes == {
        "landed": 1,
        f"participant_ids: participant {person} is already recorded": WRITERS - 1,
    }
    assert records.load(Meeting, meeting_id, organisation_id).attendee_ids == [person]


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


def test_nothing_is_recorded_about_a_person_erased_as_the_write_is_decided(
    database_url: str, organisation_id: UUID, initiative_id: UUID, records
) -> None:
    """A person is erased, by another process, after a write naming them has read
    them and before it is stored: the write is decided again and refused, naming
    the person, as one sent after the erasure is. Before, the attendance and the role
    were recorded about the erased person (42 of 120 writes racing an erasure)."""
    meeting_id = workshop(records, organisation_id, initiative_id)
    eraser = open_records(database_url)
    save = records.save
    person: UUID

    def erased_first(*objs: Any, **kwargs: Any) -> Any:
        records.save = save
        eraser.erase_participant(
            organisation_id=organisation_id, participant_id=person, actor="admin"
        )
        return save(*objs, **kwargs)

    writes = {
        "attendance": lambda: records.record_attendance(
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            participant_ids=[person],
            actor=ACTOR,
        ),
        "role": lambda: give_role(records, organisation_id, initiative_id, person),
    }
    try:
        for write in writes.values():
            person = register(records, organisation_id)
            records.save = erased_first
            with pytest.raises(InvalidInput, match=f"participant {person} is erased"):
                write()
            assert records.save == save
    finally:
        eraser.close()

    meeting = records.load(Meeting, meeting_id, organisation_id)
    initiative = records.load(Initiative, initiative_id, organisation_id)
    assert meeting.attendee_ids == []
    assert initiative.roles == {}


def test_an_erasure_stored_in_one_group_commit_just_before_a_write_refuses_it(
    organisation_id: UUID, initiative_id: UUID, records
) -> None:
    """Writes saved at the same time in one process are stored in one transaction
    (group commit): an erasure queued just before an attendance naming the person
    is stored first, and the attendance, decided on the person as they were, is
    decided again and refused. On PostgreSQL the person was looked at before the
    group's events were inserted, so the attendance was stored after the erasure."""
    meeting_id = workshop(records, organisation_id, initiative_id)
    person = register(records, organisation_id)
    recorder = records.events.recorder

    def erased_in_the_same_group(stored_events: Any, **kwargs: Any) -> Any:
        del recorder.insert_events  # the next save is stored as usual
        participant = records.repository.get(person)
        participant.erase(recorded_by="admin")
        erasure = Batch(
            [
                records.events.mapper.to_stored_event(e)
                for e in participant.collect_events()
            ]
        )
        attendance = Batch(stored_events)
        GroupCommit(recorder.commit_together, recorder.commit_alone)._commit(
            [erasure, attendance]
        )
        erasure.outcome()
        return attendance.outcome()

    recorder.insert_events = erased_in_the_same_group
    with pytest.raises(InvalidInput, match=f"participant {person} is erased"):
        records.record_attendance(
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            participant_ids=[person],
            actor=ACTOR,
        )
    assert records.load(Meeting, meeting_id, organisation_id).attendee_ids == []


def next_commit_answer_lost(records: InvolvementRecords) -> None:
    """The next save's transaction commits, but its answer is lost, and the
    library's retry of it is refused: its events are there."""
    put = records.events.put

    def answer_lost(*args: Any, **kwargs: Any) -> Any:
        records.events.put = put  # type: ignore[method-assign]
        put(*args, **kwargs)
        return put(*args, **kwargs)

    records.events.put = answer_lost  # type: ignore[method-assign]


def test_a_write_whose_commit_answer_was_lost_is_stored_once_and_answered(
    organisation_id: UUID, initiative_id: UUID, records
) -> None:
    """The connection drops just as a write's transaction commits (PostgreSQL
    restarting): the store has the events but the answer is lost, and storing them
    again is refused as a clash. The write answers with its result, stored once. It
    was told of a conflict ('nothing was saved'; found live, the contribution was
    there), and, decided again, refused as a role the person already holds."""
    person = register(records, organisation_id)
    next_commit_answer_lost(records)
    role = give_role(records, organisation_id, initiative_id, person)

    initiative = records.load(Initiative, initiative_id, organisation_id)
    assert list(initiative.roles) == [role]
    assert stored_versions(records)[initiative_id] == [1, 2]


def test_two_admins_setting_the_suppression_threshold_at_once_both_land_in_turn(
    database_url: str, organisation_id: UUID, records
) -> None:
    """Two admins, in two processes, set the threshold at the same moment: both
    changes are recorded, one after the other, and the threshold is the one set
    last; none is lost or refused for the clash."""
    admins = [open_records(database_url) for _ in range(2)]
    barrier = Barrier(2)

    def set_threshold(index: int) -> None:
        barrier.wait()
        admins[index].set_suppression_threshold(
            organisation_id=organisation_id, threshold=6 + index, actor=f"admin{index}"
        )

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(set_threshold, range(2)))
    for admin in admins:
        admin.close()

    events = list(records.events.get(organisation_id))
    set_ = [e for e in events if isinstance(e, Organisation.SuppressionThresholdSet)]
    assert sorted(e.threshold for e in set_) == [6, 7]
    organisation = records.organisation(organisation_id)
    assert organisation.suppression_threshold == set_[-1].threshold


def test_one_address_invited_twice_at_once_gets_one_account(
    database_url: str, organisation_id: UUID, records
) -> None:
    """Two admins, in two processes, invite the same address at the same moment:
    one account is made, and the other invitation is refused in plain words."""
    admins = [Accounts(open_records(database_url)) for _ in range(2)]
    barrier = Barrier(2)

    def invite(index: int) -> str:
        barrier.wait()
        try:
            admins[index].invite(
                organisation_id=organisation_id,
                email="new@mind.example",
                role=Role.MANAGER,
                actor=f"admin{index}",
            )
        except InvalidInput as refusal:
            return str(refusal)
        return "invited"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(invite, range(2)))
    for admin in admins:
        admin.records.close()

    assert outcomes[1] == "invited"
    assert outcomes[0].startswith("email: already has an account")
    (account,) = Accounts(records).accounts_of(organisation_id)
    assert account.email == "new@mind.example" and account.version == 1


def test_a_token_revoked_twice_at_once_is_refused_as_already_revoked(
    database_url: str, organisation_id: UUID, records, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another admin, in another process, revokes the token just before this
    revocation is saved: it is refused as it would be one after the other (already
    revoked), not with a clash to retry (CONFLICT, as before)."""
    token_id, _ = records.issue_token(
        organisation_id=organisation_id, role=Role.EVALUATOR, actor="admin"
    )
    rival = open_records(database_url)
    save = records.save

    def revoked_meanwhile(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(records, "save", save)
        rival.revoke_token(token_id=token_id, actor="other admin")
        return save(*args, **kwargs)

    monkeypatch.setattr(records, "save", revoked_meanwhile)
    with pytest.raises(InvalidInput, match="the token is already revoked"):
        records.revoke_token(token_id=token_id, actor="admin")
    rival.close()
    assert [type(e).__name__ for e in records.events.get(token_id)] == [
        "Issued",
        "Revoked",
    ]


ACCOUNT_CHANGE = {
    "change_role": lambda accounts, organisation_id, account_id: accounts.change_role(
        organisation_id=organisation_id,
        account_id=account_id,
        role=Role.EVALUATOR,
        personal_data=False,
        actor="account:admin",
    ),
    "invite_again": lambda accounts, organisation_id, account_id: accounts.invite_again(
        organisation_id=organisation_id, account_id=account_id, actor="account:admin"
    ),
    "disable": lambda accounts, organisation_id, account_id: accounts.disable(
        organisation_id=organisation_id, account_id=account_id, actor="account:admin"
    ),
}


@pytest.mark.parametrize("command", list(ACCOUNT_CHANGE))
def test_an_account_change_that_lost_a_race_is_decided_again_in_its_turn(
    database_url: str,
    organisation_id: UUID,
    records,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    """Just before an admin's change to an account is saved, another admin, in
    another process, gives the account a new role. The change, decided again in
    its turn at the store, lands after it, as if the two had come one after the
    other. Before, it was refused as a clash (CONFLICT: "reload it and try
    again"), and an admin who did was refused again while others kept changing
    it."""
    accounts = Accounts(records)
    account_id = joined_account(
        accounts, organisation_id, "pm@mind.example", Role.MANAGER
    )
    rival = Accounts(open_records(database_url))
    held_at_each_save = []
    save = records.save

    def save_after_another(*args: Any, **kwargs: Any) -> Any:
        held = store_is_held(database_url)
        held_at_each_save.append(held)
        if not held:
            rival.change_role(
                organisation_id=organisation_id,
                account_id=account_id,
                role=Role.AUDITOR,
                personal_data=len(held_at_each_save) % 2 == 0,
                actor="account:rival",
            )
        return save(*args, **kwargs)

    monkeypatch.setattr(records, "save", save_after_another)
    ACCOUNT_CHANGE[command](accounts, organisation_id, account_id)
    monkeypatch.undo()
    rival.records.close()

    assert held_at_each_save == [False, True]
    events = list(records.events.get(account_id))
    assert [(type(e).__name__, e.recorded_by) for e in events[2:]] == [
        ("RoleChanged", "account:rival"),
        (
            {
                "change_role": "RoleChanged",
                "invite_again": "InvitedAgain",
                "disable": "Disabled",
            }[command],
            "account:admin",
        ),
    ]
    assert stored_versions(records)[account_id] == [1, 2, 3, 4]


ROLES_GIVEN = [
    (Role.MANAGER, True),
    (Role.EVALUATOR, False),
    (Role.AUDITOR, False),
    (Role.AUDITOR, True),
    (Role.ADMIN, False),
    (Role.ADMIN, True),
]
"""Roles and grants an account that starts as a manager without the grant is
given, each unlike the others, so none is refused in any order as the role the
account already has."""


def at_once(
    database_url: str, records, changes: list[Callable[[Accounts], Any]], servers: int
) -> list[Any]:
    """The changes made at the same moment, a thread each, in `servers` server
    processes' worth of applications (the first is `records`); what each answered."""
    opened = [open_records(database_url) for _ in range(servers - 1)]
    apps = [Accounts(r) for r in [records, *opened]]
    barrier = Barrier(len(changes))

    def change(index: int) -> Any:
        barrier.wait()
        return changes[index](apps[index % servers])

    try:
        with ThreadPoolExecutor(len(changes)) as pool:
            return list(pool.map(change, range(len(changes))))
    finally:
        for app in opened:
            app.close()


def roles_given_in(events: list[Any]) -> list[tuple[Role, bool]]:
    """The roles and grants the events gave, in order: each of ROLES_GIVEN once."""
    given = [
        (e.role, e.personal_data) for e in events if type(e).__name__ == "RoleChanged"
    ]
    assert sorted(given) == sorted(ROLES_GIVEN)
    return given


def role_given(organisation_id: UUID, account_id: UUID, role: Role, granted: bool):
    return lambda accounts: accounts.change_role(
        organisation_id=organisation_id,
        account_id=account_id,
        role=role,
        personal_data=granted,
        actor=f"account:admin {role} {granted}",
    )


@pytest.mark.parametrize("servers", [1, 2])
def test_admins_changing_one_account_at_once_all_land(
    database_url: str, organisation_id: UUID, records, servers: int
) -> None:
    """Eight admins change one account at the same moment, in one server or two:
    six give it a new role, one invites it again, one disables it. None is refused
    for the clash; each is decided again on the account as the others left it, so
    every change is recorded once and the account ends as the last one left it.
    Before, all but one or two were refused (CONFLICT)."""
    accounts = Accounts(records)
    joined_account(accounts, organisation_id, "boss@mind.example", Role.ADMIN)
    account_id = joined_account(
        accounts, organisation_id, "pm@mind.example", Role.MANAGER
    )
    changes = [
        *(role_given(organisation_id, account_id, *given) for given in ROLES_GIVEN),
        lambda a: a.invite_again(
            organisation_id=organisation_id, account_id=account_id, actor="again"
        ),
        lambda a: a.disable(
            organisation_id=organisation_id, account_id=account_id, actor="off"
        ),
    ]
    at_once(database_url, records, changes, servers)

    events = list(records.events.get(account_id))
    assert stored_versions(records)[account_id] == list(range(1, 3 + len(changes)))
    given = roles_given_in(events)
    account = accounts.account(account_id)
    assert (account.role, account.personal_data) == given[-1]
    enabling = [
        e for e in events if isinstance(e, Account.Disabled | Account.InvitedAgain)
    ]
    assert len(enabling) == 2
    assert account.disabled == isinstance(enabling[-1], Account.Disabled)


@pytest.mark.parametrize("servers", [1, 2])
def test_someone_joining_as_admins_change_their_account_joins_and_all_land(
    database_url: str, organisation_id: UUID, records, servers: int
) -> None:
    """A person joins from their invitation while six admins change their account's
    role at the same moment: they join, with their password, and every role is
    recorded once; the account has the role given last."""
    accounts = Accounts(records)
    joined_account(accounts, organisation_id, "boss@mind.example", Role.ADMIN)
    account_id, secret = accounts.invite(
        organisation_id=organisation_id,
        email="pm@mind.example",
        role=Role.MANAGER,
        actor="boss",
    )
    changes = [
        lambda a: a.join(
            secret=secret, display_name="Pat", password=PASSWORD, confirmation=PASSWORD
        ),
        *(role_given(organisation_id, account_id, *given) for given in ROLES_GIVEN),
    ]
    session_id, _ = at_once(database_url, records, changes, servers)[0]

    events = list(records.events.get(account_id))
    assert stored_versions(records)[account_id] == list(range(1, 2 + len(changes)))
    given = roles_given_in(events)
    signed_in = accounts.session(session_id)
    assert signed_in is not None
    account = signed_in[1]
    assert (account.display_name, account.joined) == ("Pat", True)
    assert (account.role, account.personal_data) == given[-1]
    assert accounts.sign_in(email="pm@mind.example", password=PASSWORD, address="1")


class Interrupted(BaseException):
    """What a thread meets while it waits, as Ctrl-C is (KeyboardInterrupt)."""


class InterruptedCondition(threading.Condition):
    """A condition whose first wait is interrupted (after `first`, if given); a
    later wait would be for ever, since no other thread is there to notify it."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0
        self.first: Callable[[], object] = lambda: None

    def wait(self, timeout: float | None = None) -> bool:
        self.waits += 1
        if self.waits == 1:
            self.first()
            raise Interrupted
        raise AssertionError("waits for a turn no one will give")


@pytest.mark.parametrize("when", ["while another turn is held", "as its turn comes"])
def test_a_thread_interrupted_while_it_waits_for_its_turn_holds_up_no_later_turn(
    when: str,
) -> None:
    """A thread waiting for its turn at the store is interrupted (Ctrl-C, or an
    error raised in it), while another turn is held or just as its own comes:
    the turn it gave up is passed over, and the turns after it are served. Before,
    its ticket was never served, and every later turn in the process waited for
    ever: each command that lost a race hung."""
    condition = InterruptedCondition()
    queue = Queue(_changed=condition)
    held = ExitStack()
    held.enter_context(queue.turn())
    if when == "as its turn comes":
        condition.first = held.close
    with pytest.raises(Interrupted), queue.turn():
        pytest.fail("a turn given up was served")
    held.close()
    served = []
    for name in ("next", "after"):
        with queue.turn():
            served.append(name)
    assert served == ["next", "after"]


def test_a_revocation_whose_commit_answer_was_lost_is_answered_as_done(
    organisation_id: UUID, records
) -> None:
    """The connection drops just as a token's revocation commits: the store has it,
    but the answer is lost, and storing it again is refused. The admin is told it
    is revoked, once. Before, it was read again and refused as already revoked:
    the admin was told their revocation failed when it had not."""
    token_id, _ = records.issue_token(
        organisation_id=organisation_id, role=Role.EVALUATOR, actor="admin"
    )
    next_commit_answer_lost(records)
    records.revoke_token(token_id=token_id, actor="admin")
    assert [type(e).__name__ for e in records.events.get(token_id)] == [
        "Issued",
        "Revoked",
    ]
