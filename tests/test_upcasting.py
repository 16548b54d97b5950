"""Schema evolution: every event declares its class version, and a later version upcasts stored events on reading."""

from datetime import date
from typing import Any

import pytest

from fourpi.domain import (
    access,
    account,
    change,
    contribution,
    initiative,
    meeting,
    organisation,
    participant,
    payment,
    policy,
    process_experience,
    receipt,
    reference_population,
    support,
)
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.contribution import Contribution
from fourpi.domain.record import OrganisationRecord
from fourpi.domain.vocabulary import ContributionNature, ImpactArea
from tests.helpers import ACTOR, register

MODULES = (
    access,
    account,
    change,
    contribution,
    initiative,
    meeting,
    organisation,
    participant,
    payment,
    policy,
    process_experience,
    receipt,
    reference_population,
    support,
)


def domain_event_classes() -> list[Any]:
    found = []
    for module in MODULES:
        for record in vars(module).values():
            if isinstance(record, type) and issubclass(record, OrganisationRecord):
                found += [
                    value
                    for value in vars(record).values()
                    if isinstance(value, type)
                    and issubclass(value, OrganisationRecord.Event)
                ]
    return found


def test_every_event_declares_a_class_version() -> None:
    classes = domain_event_classes()
    assert len(classes) >= 30
    for event_class in classes:
        assert (
            isinstance(event_class.class_version, int)
            and event_class.class_version >= 1
        )


def test_a_new_event_version_upcasts_what_is_already_stored(
    records: InvolvementRecords, organisation_id, initiative_id, monkeypatch
) -> None:
    advisor = register(records, organisation_id)
    contribution_id = records.log_contribution(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        contributor_ids=[advisor],
        nature=ContributionNature.CONCERN,
        summary="Trust has to be earned",
        impact_areas=(ImpactArea.ETHOS_AND_CULTURE,),
        made_on=date(2021, 2, 1),
        actor=ACTOR,
    )

    # Version 2 of the event adds a field; version 1 events in the store lack it.
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["summary"] = state["summary"] + " (upcast)"

    monkeypatch.setattr(Contribution.Logged, "class_version", 2)
    monkeypatch.setattr(
        Contribution.Logged, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False
    )
    reloaded: Any = records.repository.get(contribution_id)
    assert reloaded.summary == "Trust has to be earned (upcast)"


def test_an_event_stored_at_a_newer_version_is_not_upcast_again(
    records: InvolvementRecords, organisation_id, monkeypatch
) -> None:
    monkeypatch.setattr(OrganisationRecord.Event, "class_version", 1)
    monkeypatch.setattr(participant.Participant.Registered, "class_version", 2)
    monkeypatch.setattr(
        participant.Participant.Registered,
        "upcast_v1_v2",
        staticmethod(lambda state: pytest.fail("a version 2 event was upcast")),
        raising=False,
    )
    person = register(records, organisation_id, pseudonym="Carer 1")
    assert records.repository.get(person).pseudonym == "Carer 1"
