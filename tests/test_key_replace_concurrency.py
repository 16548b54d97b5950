"""Destroying people's keys while others write the same SQLite file never fails with "database is locked": each replacement of a key's row takes its turn."""

import threading
from pathlib import Path
from uuid import uuid4

from fourpi.domain.vocabulary import ParticipantKind
from fourpi.privacy.keystore import PersonalKeyStore
from tests.helpers import ACTOR, Store


def test_keys_destroyed_while_others_write_all_take_their_turn(tmp_path: Path) -> None:
    store = Store("sqlite")
    writer, eraser = store.open(), store.open()
    try:
        organisation = writer.register_organisation(name="Mind", actor=ACTOR)
        people = [
            writer.register_participant(
                organisation_id=organisation,
                pseudonym=f"Person {n}",
                participant_kind=ParticipantKind.SERVICE_USER,
                actor=ACTOR,
            )
            for n in range(40)
        ]
        failures: list[BaseException] = []
        erasing = threading.Event()

        def register() -> None:
            try:
                while not erasing.is_set():
                    writer.register_participant(
                        organisation_id=organisation,
                        pseudonym=f"Newcomer {uuid4().hex[:6]}",
                        participant_kind=ParticipantKind.CARER,
                        actor=ACTOR,
                    )
            except BaseException as error:
                failures.append(error)

        def destroy() -> None:
            try:
                for person in people:
                    assert eraser.keys.destroy(person, organisation)
            except BaseException as error:
                failures.append(error)
            finally:
                erasing.set()

        threads = [threading.Thread(target=register) for _ in range(3)]
        threads.append(threading.Thread(target=destroy))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        keys: PersonalKeyStore = eraser.keys  # type: ignore[assignment]
        assert all(keys.is_destroyed(person) for person in people)
    finally:
        writer.close()
        eraser.close()
        store.remove()
