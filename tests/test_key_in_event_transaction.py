"""A new personal key is stored in the transaction of the events first encrypted under it: no key without its events, no event under a key that was not stored, one key per person however writers race, and never a key again for the erased."""

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from fourpi.audit import verify
from fourpi.bootstrap import open_records
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import InvalidInput
from fourpi.domain.initiative import Initiative
from fourpi.domain.organisation import Organisation
from fourpi.domain.participant import MonitoringData, Participant
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.vocabulary import (
    ParticipantKind,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
)
from fourpi.privacy.keystore import KeyRow
from fourpi.privacy.shredding import NewKeyStoredEvent
from tests.helpers import ACTOR, log_position

GROUP_COMMIT = pytest.mark.parametrize("group_commit", ["on", "off"])


@pytest.fixture
def open_app(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], InvolvementRecords]]:
    """Opens more applications on the test's store (each one a process's worth),
    with group commit on or off."""
    opened: list[InvolvementRecords] = []

    def open_app(group_commit: str) -> InvolvementRecords:
        monkeypatch.setenv("FOURPI_GROUP_COMMIT", group_commit)
        app = open_records(database_url)
        opened.append(app)
        return app

    yield open_app
    for app in opened:
        app.close()


def unsaved_person(organisation_id: UUID) -> Participant:
    """A participant nobody has saved yet: they have no key."""
    return Participant.register(
        participant_id=uuid4(),
        organisation_id=organisation_id,
        pseudonym="Wren Oakhollow-5512",
        participant_kind=ParticipantKind.SERVICE_USER,
        recorded_by=ACTOR,
    )


def answer_by(
    records: InvolvementRecords,
    person: Participant,
    initiative_id: UUID,
    free_text: str,
) -> ProcessExperienceAnswer:
    """A new answer whose free text is the person's personal data."""
    initiative = records.load(Initiative, initiative_id, person.organisation_id)
    return ProcessExperienceAnswer.record(
        answer_id=uuid4(),
        initiative=initiative,
        respondent=person,
        respondent_kind=RespondentKind.SERVICE_USER,
        stage=QuestionnaireStage.IN_FLIGHT,
        scores={ProcessDimension.SUPPORTED: 4},
        free_text=free_text,
        answered_on=date(2022, 5, 1),
        recorded_by=ACTOR,
    )


@contextmanager
def new_keys_made(
    records: InvolvementRecords, then: Callable[[KeyRow], None] = lambda row: None
) -> Iterator[list[KeyRow]]:
    """Every key the application makes for events while inside the block, each
    followed by `then` (before its events are stored)."""
    keys: Any = records.keys
    original = keys.key_for_event
    made: list[KeyRow] = []

    def key_for_event(
        participant_id: UUID,
        organisation_id: UUID,
        batch: dict[UUID, bytes],
        **presumed: bool,
    ) -> tuple[bytes, KeyRow | None]:
        key, row = original(participant_id, organisation_id, batch, **presumed)
        if row is not None:
            made.append(row)
            then(row)
        return key, row

    keys.key_for_event = key_for_event
    try:
        yield made
    finally:
        del keys.key_for_event


def stored_row(records: InvolvementRecords, participant_id: UUID) -> KeyRow | None:
    row: KeyRow | None = records.keys.table.row(participant_id)  # type: ignore[attr-defined]
    return row


def test_a_new_persons_key_travels_with_their_first_events_and_is_stored_with_them(
    records: InvolvementRecords, organisation_id: UUID
) -> None:
    """Registered and monitoring data saved together: one key for both events, made
    while encrypting them and stored by their transaction."""
    person = unsaved_person(organisation_id)
    person.declare_monitoring_data(
        monitoring=MonitoringData.checked(gender="woman"), recorded_by=ACTOR
    )
    stored_before = records.mapper.to_stored_events  # type: ignore[attr-defined]
    seen: list[Any] = []

    def to_stored_events(events: Any, **presumed: bool) -> Any:
        stored = stored_before(events, **presumed)
        seen.extend(stored)
        # Encrypted, not yet stored: the key is nowhere in the database.
        assert stored_row(records, person.id) is None
        return stored

    records.mapper.to_stored_events = to_stored_events  # type: ignore[attr-defined]
    with new_keys_made(records) as made:
        records.save(person)
    # The first event carries the new key's row; the second is encrypted under the
    # same key and carries nothing.
    assert len(seen) == 2
    assert isinstance(seen[0], NewKeyStoredEvent)
    assert not isinstance(seen[1], NewKeyStoredEvent)
    assert made == [seen[0].new_key]
    assert stored_row(records, person.id) == made[0]
    saved: Any = records.repository.get(person.id)
    assert saved.pseudonym == "Wren Oakhollow-5512"
    assert saved.monitoring == MonitoringData.checked(gender="woman")


def test_when_the_events_transaction_fails_their_new_key_is_not_stored(
    records: InvolvementRecords, organisation_id: UUID, initiative_id: UUID
) -> None:
    # Two copies of the organisation at the same version: the second to be saved
    # conflicts (optimistic concurrency) and fails its whole transaction.
    first: Any = records.repository.get(organisation_id)
    stale: Any = records.repository.get(organisation_id)
    assert isinstance(first, Organisation) and isinstance(stale, Organisation)
    first.set_suppression_threshold(threshold=3, recorded_by=ACTOR)
    stale.set_suppression_threshold(threshold=4, recorded_by=ACTOR)
    records.save(first)
    head = log_position(records)

    person = unsaved_person(organisation_id)
    answer = answer_by(records, person, initiative_id, "Words that must not stay")
    with new_keys_made(records) as made, pytest.raises(IntegrityError):
        records.save(answer, stale)
    assert len(made) == 1  # a key was made for the answer, and then...
    assert stored_row(records, person.id) is None  # ...went with its transaction
    assert log_position(records) == head

    # Nothing is left to stand in the way: an answer saved on its own gets a key.
    again = answer_by(records, person, initiative_id, "Words that may stay")
    records.save(again)
    assert stored_row(records, person.id) is not None
    assert records.repository.get(again.id).free_text == "Words that may stay"


@GROUP_COMMIT
@pytest.mark.parametrize("writers", ["one application", "two applications"])
def test_writers_racing_for_a_persons_first_key_end_with_one_key_for_all_events(
    open_app: Callable[[str], InvolvementRecords],
    organisation_id: UUID,
    initiative_id: UUID,
    writers: str,
    group_commit: str,
) -> None:
    first = open_app(group_commit)
    second = first if writers == "one application" else open_app(group_commit)
    person = unsaved_person(organisation_id)
    answers = [
        answer_by(first, person, initiative_id, "First words"),
        answer_by(second, person, initiative_id, "Second words"),
    ]
    # Both writers have made a key for the person before either stores anything.
    both_made = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def write(index: int, app: InvolvementRecords) -> None:
        try:
            app.save(answers[index])
            outcomes[index] = "stored"
        except Exception as error:  # reported below
            outcomes[index] = error

    made: list[KeyRow] = []
    with ExitStack() as stack:
        for app in {id(first): first, id(second): second}.values():
            made_by_app = stack.enter_context(
                new_keys_made(app, lambda row: both_made.wait(30))
            )
            stack.callback(made.extend, made_by_app)
        threads = [
            threading.Thread(target=write, args=(i, app))
            for i, app in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert outcomes == ["stored", "stored"]
    assert len({row.wrapped_key for row in made}) == 2  # two keys were made...
    kept = stored_row(first, person.id)
    assert kept is not None and kept in made  # ...one was stored...
    # ...and every event about the person is encrypted under it, from any process.
    reader = open_app("on")
    for answer, text in zip(answers, ("First words", "Second words"), strict=True):
        assert reader.repository.get(answer.id).free_text == text
    assert verify(reader.recorder).intact


@GROUP_COMMIT
def test_a_key_made_as_the_person_is_erased_is_never_stored(
    open_app: Callable[[str], InvolvementRecords],
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    group_commit: str,
) -> None:
    writer = open_app(group_commit)
    eraser = open_app(group_commit)
    person = unsaved_person(organisation_id)
    answer = answer_by(writer, person, initiative_id, "Said just before")
    head = log_position(records)

    def erase_now(row: KeyRow) -> None:
        # Another process destroys the person's key (none yet: a tombstone is left)
        # between the writer making one and storing its events.
        assert eraser.keys.destroy(person.id, organisation_id) is False

    with (
        new_keys_made(writer, erase_now) as made,
        pytest.raises(InvalidInput, match="is erased"),
    ):
        writer.save(answer)
    assert len(made) == 1
    row = stored_row(records, person.id)
    assert row is not None and row.wrapped_key is None  # still the tombstone
    assert log_position(records) == head
    with pytest.raises(InvalidInput, match="is erased"):
        writer.save(answer_by(writer, person, initiative_id, "Said again"))
    assert log_position(records) == head


def test_an_erased_person_never_gets_a_key_again(
    records: InvolvementRecords, organisation_id: UUID, initiative_id: UUID
) -> None:
    person = unsaved_person(organisation_id)
    records.save(person)
    records.erase_participant(participant_id=person.id, actor="admin")
    head = log_position(records)
    with new_keys_made(records) as made, pytest.raises(InvalidInput, match="is erased"):
        records.save(answer_by(records, person, initiative_id, "After erasure"))
    assert made == []
    row = stored_row(records, person.id)
    assert row is not None and row.wrapped_key is None
    assert log_position(records) == head


@GROUP_COMMIT
def test_a_person_registered_under_an_id_that_has_a_key_is_stored_under_that_key(
    open_app: Callable[[str], InvolvementRecords], group_commit: str
) -> None:
    """A registration presumes its person has no key and reads none; when one is
    stored after all (here made beforehand, as by a writer that lost no race), the
    new key is refused and the registration is stored under the stored key."""
    records = open_app(group_commit)
    organisation_id = records.register_organisation(name="Reused", actor=ACTOR)
    person = unsaved_person(organisation_id)
    keys: Any = records.keys
    keys.key_for_writing(person.id, organisation_id)
    before = stored_row(records, person.id)
    records.save(person)
    assert stored_row(records, person.id) == before
    saved: Any = open_app(group_commit).repository.get(person.id)
    assert saved.pseudonym == "Wren Oakhollow-5512"


@GROUP_COMMIT
def test_a_person_registered_under_an_erased_id_is_refused(
    open_app: Callable[[str], InvolvementRecords], group_commit: str
) -> None:
    records = open_app(group_commit)
    organisation_id = records.register_organisation(name="Erased", actor=ACTOR)
    person = unsaved_person(organisation_id)
    assert records.keys.destroy(person.id, organisation_id) is False  # a tombstone
    head = log_position(records)
    with pytest.raises(InvalidInput, match="is erased"):
        records.save(person)
    row = stored_row(records, person.id)
    assert row is not None and row.wrapped_key is None
    assert log_position(records) == head


def test_an_in_memory_store_stores_a_new_key_before_its_events() -> None:
    """The library's in-memory recorder knows nothing of keys: with it a new key is
    stored on its own first, and the person's data reads back."""
    records = InvolvementRecords(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.popo",
            "TRANSCODER_TOPIC": "fourpi.storage.transcoder:OrjsonTranscoder",
        }
    )
    organisation_id = records.register_organisation(name="In memory", actor="admin")
    person = unsaved_person(organisation_id)
    person.declare_monitoring_data(
        monitoring=MonitoringData.checked(gender="man"), recorded_by=ACTOR
    )
    records.save(person)
    saved: Any = records.repository.get(person.id)
    assert saved.pseudonym == "Wren Oakhollow-5512"
    assert saved.monitoring == MonitoringData.checked(gender="man")
    assert stored_row(records, person.id) is not None
    records.close()
