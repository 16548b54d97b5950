"""Small numbers over time: what an evaluator can work out from two readings of the record as it stands now, one before and one after a write, or before and after the threshold is changed.

Each reading alone is safe (tests/test_suppression.py). These tests read twice and put
what was shown together, as an evaluator who reloads a page would. The pattern is
worked out afresh from each table, so a write that moves one count can move which
other counts protect a small one: a count hidden in both readings is then pinned by
the two together. They are marked as expected to fail: the rule withholds past
moments, periods and cycles, but nothing stops a caller keeping what it read now.
"""

import tempfile
from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

import pytest

from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import (
    AgeBand,
    Gender,
    InvolvementLevel,
    ParticipantKind,
)
from tests.api import ApiStore, api_store
from tests.attacker import Knowledge, attack, recomputed
from tests.helpers import ACTOR
from tests.test_suppression import (
    quiet,
    read_figures,
    record_history,
    service_user_in,
    someone,
)

CARER, SERVICE_USER = ParticipantKind.CARER, ParticipantKind.SERVICE_USER
YOUNG, MIDDLE, OLD = AgeBand.AGE_18_24, AgeBand.AGE_25_34, AgeBand.AGE_65_PLUS
MAN, WOMAN = Gender.MAN, Gender.WOMAN


def together(first: Knowledge, then: Knowledge, grew_by: int) -> Knowledge:
    """Two readings as one: each count of the second is the first's, grown by 0 to
    `grew_by` (all the evaluator knows of what was written between)."""
    merged = Knowledge()
    for tag, knowledge in (("first", first), ("then", then)):
        merged.seen.update({(tag, c): v for c, v in knowledge.seen.items()})
        merged.equalities += [
            ({(tag, c): n for c, n in terms.items()}, constant)
            for terms, constant in knowledge.equalities
        ]
        merged.at_most += [
            ({(tag, c): n for c, n in terms.items()}, constant)
            for terms, constant in knowledge.at_most
        ]
    for cell in first.seen.keys() & then.seen.keys():
        merged.at_most.append(({("then", cell): 1, ("first", cell): -1}, grew_by))
        merged.at_most.append(({("first", cell): 1, ("then", cell): -1}, 0))
    return merged


def pinned_by_both(
    first: Knowledge,
    then: Knowledge,
    truth_first: Knowledge,
    truth_then: Knowledge,
    grew_by: int,
    threshold: int,
) -> list[tuple[Any, int]]:
    """Small counts, the same in both readings and hidden in both, that neither
    reading pins alone but the two together do."""
    alone = {f.cell for f in recomputed(attack(first))}
    alone |= {f.cell for f in recomputed(attack(then))}
    found = []
    for finding in recomputed(attack(together(first, then, grew_by))):
        tag, cell = cast(tuple[str, Any], finding.cell)
        if tag != "first":
            continue
        value = truth_first.seen[cell]
        assert value is not None
        if (
            cell not in alone
            and value == truth_then.seen.get(cell)
            and first.seen[cell] is None
            and then.seen[cell] is None
            and 0 < value < threshold
        ):
            found.append((cell, value))
    return found


def joined(records: InvolvementRecords, organisation: UUID, initiative: UUID) -> None:
    """A woman who declared no age band joins the initiative: one write, as a
    manager's form makes it."""
    service_user_in(records, organisation, initiative, {"gender": WOMAN})


# Found by reading twice around random writes: two initiatives, threshold 3.
AROUND_A_WRITE = quiet(
    initiatives=2,
    levels=[InvolvementLevel.OPERATIONAL, InvolvementLevel.STRATEGIC] * 2,
    threshold=3,
    people=[
        someone(initiative=1, age_band=YOUNG, kind=CARER),
        someone(initiative=0, age_band=YOUNG, kind=CARER),
        someone(initiative=1, gender=MAN, decision_making=True, kind=CARER),
        someone(initiative=1, age_band=YOUNG, gender=MAN),
        someone(initiative=0, decision_making=True),
        someone(
            initiative=0, age_band=OLD, gender=WOMAN, decision_making=True, kind=CARER
        ),
        someone(initiative=0, age_band=YOUNG, gender=MAN, kind=CARER),
        someone(initiative=1, gender=WOMAN, decision_making=True, kind=CARER),
        someone(initiative=1, gender=MAN, kind=CARER),
        someone(initiative=1, age_band=MIDDLE),
        someone(initiative=0, age_band=OLD, kind=CARER),
    ],
)


def readings_around(
    change: Callable[[ApiStore, UUID, list[UUID]], object], grew_by: int
) -> list[tuple[Any, int]]:
    """The small counts of `AROUND_A_WRITE` (threshold 3) that an evaluator's two
    readings, before and after the change, pin together (`pinned_by_both`)."""
    history = AROUND_A_WRITE
    levels = [level.value for level in history["levels"]]
    with api_store(f"sqlite:///{tempfile.mkdtemp()}/fourpi.sqlite3") as store:
        organisation, initiatives = record_history(store.records, history)
        tokens = [
            store.token(organisation, Role.EVALUATOR),
            store.token(organisation, Role.AUDITOR, personal_data=True),
        ]
        store.views.catch_up()
        first, truth_first = (
            read_figures(store, initiatives, levels, t) for t in tokens
        )
        change(store, organisation, initiatives)
        store.views.catch_up()
        then, truth_then = (read_figures(store, initiatives, levels, t) for t in tokens)
    first.settle(truth_first.seen)
    then.settle(truth_then.seen)
    return pinned_by_both(first, then, truth_first, truth_then, grew_by, 3)


@pytest.mark.xfail(
    strict=True,
    reason="the pattern is worked out afresh at each position: a write can move "
    "which counts protect a small one, and two live readings then pin it",
)
def test_two_readings_around_one_write_pin_no_small_count() -> None:
    """Initiative 0's 18-24s (2, its only people aged 18 to 64) are hidden in both
    readings, around a woman with no age band joining initiative 0. The first
    reading shows the organisation's 18-64 broad group (5); in the second,
    initiative 1's 18-64 (3) and its 'not recorded' (3) have changed places as the
    count that protects a small one, though neither changed. So initiative 0's
    18-64s are 5 - 3 = 2, and so are its 18-24s."""
    pinned = readings_around(
        lambda store, organisation, initiatives: joined(
            store.records, organisation, initiatives[0]
        ),
        grew_by=1,
    )
    assert pinned == []


@pytest.mark.xfail(
    strict=True,
    reason="the patterns of one table at two thresholds are worked out apart: "
    "read at both, they pin a count small at either",
)
def test_two_readings_around_a_new_threshold_pin_no_small_count() -> None:
    """The same organisation, read at its threshold of 3, then again after its
    admin raises the threshold to 5 (nothing else is written). Initiative 0's
    18-24s (2, small at either threshold) are hidden in both. At 3, initiative 1's
    'not recorded' (3) is shown, so its 18-64s and 65-and-overs are 6 - 3 = 3; at
    5, its 65-and-overs (0) are shown instead, so its 18-64s are 3; the
    organisation's 18-64s are 5 in both, so initiative 0's are 2, all of them
    18-24."""
    pinned = readings_around(
        lambda store, organisation, initiatives: (
            store.records.set_suppression_threshold(
                organisation_id=organisation, threshold=5, actor=ACTOR
            )
        ),
        grew_by=0,
    )
    assert pinned == []
