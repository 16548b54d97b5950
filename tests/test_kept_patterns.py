"""The suppression pattern kept from one write to the next is exactly the pattern a full computation gives, after any history of writes that do and do not change the counts of people."""

import os
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import (
    EthnicGroup,
    Gender,
    InvolvementLevel,
    ParticipantKind,
)
from fourpi.privacy.suppression import patterns_of
from fourpi.projections.disclosure import people_table, suppressed_cells
from fourpi.projections.evaluate import people_figures
from tests.api import ApiStore, api_store
from tests.helpers import ACTOR
from tests.test_suppression import (
    histories,
    quiet,
    record_history,
    service_user_in,
)

# One write after another: some change no count of people (a person registered
# who takes no part yet), some change counts (a role, a declaration), and a new
# threshold changes the pattern whatever the counts.
writes = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.sampled_from(list(ParticipantKind))),
        st.tuples(st.just("involve"), st.integers(0, 2)),
        st.tuples(
            st.just("declare"),
            st.sampled_from([None, *Gender]),
            st.sampled_from([None, *EthnicGroup]),
        ),
        st.tuples(st.just("threshold"), st.sampled_from([3, 5])),
    ),
    min_size=1,
    max_size=6,
)


def write(
    records: InvolvementRecords,
    organisation: UUID,
    initiatives: list[UUID],
    people: list[UUID],
    step: tuple[Any, ...],
) -> None:
    name, *given_values = step
    if name == "register":
        people.append(
            records.register_participant(
                organisation_id=organisation,
                pseudonym="Newcomer",
                participant_kind=given_values[0],
                actor=ACTOR,
            )
        )
    elif name == "involve":
        initiative = initiatives[given_values[0] % len(initiatives)]
        people.append(service_user_in(records, organisation, initiative))
    elif name == "declare" and people:
        records.declare_monitoring_data(
            organisation_id=organisation,
            participant_id=people[-1],
            monitoring={"gender": given_values[0], "ethnic_group": given_values[1]},
            actor=ACTOR,
        )
    elif (
        name == "threshold"
        and records.organisation(organisation).suppression_threshold != given_values[0]
    ):
        records.set_suppression_threshold(
            organisation_id=organisation, threshold=given_values[0], actor=ACTOR
        )


def assert_kept_is_full(store: ApiStore, organisation: UUID) -> None:
    """The pattern the process hands out now is the one computed from nothing kept."""
    views = store.views
    position = views.catch_up()
    patterns = patterns_of(views)
    threshold = store.records.organisation(organisation).suppression_threshold
    kept = patterns.of(organisation, position, threshold)
    facts = views.store.read_facts(organisation, position)
    full = suppressed_cells(
        people_table(people_figures(facts, organisation)), threshold
    )
    assert kept == full


@settings(
    max_examples=int(os.environ.get("FOURPI_SUPPRESSION_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(history=histories, steps=writes)
def test_a_kept_pattern_is_the_full_pattern_after_every_write(
    tmp_path_factory: pytest.TempPathFactory,
    history: dict[str, Any],
    steps: list[tuple[Any, ...]],
) -> None:
    folder = tmp_path_factory.mktemp("kept")
    with api_store(f"sqlite:///{folder}/fourpi.sqlite3") as store:
        organisation, initiatives = record_history(store.records, history)
        assert_kept_is_full(store, organisation)
        people: list[UUID] = []
        for step in steps:
            write(store.records, organisation, initiatives, people, step)
            assert_kept_is_full(store, organisation)


def test_a_write_that_changes_no_count_reuses_the_pattern(tmp_path: Any) -> None:
    """Registering someone who takes no part yet changes no count: the pattern is
    taken from the last table, not worked out again."""
    with api_store(f"sqlite:///{tmp_path}/fourpi.sqlite3") as store:
        organisation, initiatives = record_history(store.records, quiet())
        people: list[UUID] = []
        write(store.records, organisation, initiatives, people, ("involve", 0))
        assert_kept_is_full(store, organisation)
        patterns = patterns_of(store.views)
        before = patterns.reused
        write(
            store.records,
            organisation,
            initiatives,
            people,
            ("register", ParticipantKind.CARER),
        )
        assert_kept_is_full(store, organisation)
        assert patterns.reused == before + 1


def test_a_role_given_works_out_again_only_part_of_the_pattern(tmp_path: Any) -> None:
    """A service user given a role changes a few counts of people and nothing else
    of the table: the pattern is worked out again only where they bear on it, and
    is the full pattern."""
    person = {
        "kind": ParticipantKind.SERVICE_USER,
        "decision_making": False,
        "gender": Gender.WOMAN,
        "ethnic_group": EthnicGroup.WHITE_BRITISH,
        "age_band": None,
        "sexual_orientation": None,
        "answers": False,
        "scores": [3] * 6,
        "meeting": None,
        "reserve": None,
        "support": None,
        "support_outside": False,
    }
    history = {
        "initiatives": 3,
        "levels": [InvolvementLevel.STRATEGIC] * 3,
        "decision_meetings": [False] * 6,
        "high_level_meetings": [False] * 6,
        "people": [{**person, "initiative": n % 3} for n in range(20)],
        "anonymous": [],
        "threshold": 5,
    }
    with api_store(f"sqlite:///{tmp_path}/fourpi.sqlite3") as store:
        organisation, initiatives = record_history(store.records, history)
        people: list[UUID] = []
        assert_kept_is_full(store, organisation)
        patterns = patterns_of(store.views)
        before = patterns.solved_in_part
        write(store.records, organisation, initiatives, people, ("involve", 1))
        assert_kept_is_full(store, organisation)
        assert patterns.solved_in_part == before + 1
