"""A reader that finds the views behind the log wakes a polling projection worker at once, so the first answer after a write does not wait for the next poll."""

import threading
from pathlib import Path

from fourpi.domain.vocabulary import ParticipantKind
from tests.api import api_store
from tests.helpers import ACTOR


def test_a_nudge_wakes_a_polling_worker_long_before_its_poll(tmp_path: Path) -> None:
    with api_store(f"sqlite:///{tmp_path}/fourpi.sqlite3") as store:
        organisation = store.records.register_organisation(name="Nudged", actor=ACTOR)
        views = store.views
        worker = threading.Thread(
            target=views.run, kwargs={"poll_seconds": 60.0}, daemon=True
        )
        worker.start()
        try:
            views.wait(views.head(), timeout=10)
            store.records.register_participant(
                organisation_id=organisation,
                pseudonym="Newcomer",
                participant_kind=ParticipantKind.CARER,
                actor=ACTOR,
            )
            views.nudge()
            # Well before the worker's 60-second poll.
            assert views.wait(views.head(), timeout=10) == views.head()
        finally:
            views.stop()
            worker.join(10)
        assert not worker.is_alive()
