"""The evaluator's answers read right: broad census groups against a reference at either level, suppression reasons, names for what they count, and the earnings watch's one status."""

import asyncio
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourpi.domain.access import Role
from fourpi.domain.errors import InvalidInput
from fourpi.domain.reference_population import check_shares
from fourpi.domain.vocabulary import (
    BROAD_GROUPS,
    AgeBand,
    EthnicGroup,
    MonitoringCategory,
    broad_members,
)
from fourpi.projections.answers import NOT_RECORDED, EarningsPeriodTotal
from tests.api import api_store, client, data_of, errors_of, graphql
from tests.helpers import ACTOR
from tests.test_evaluate import Builder
from tests.test_suppression import record_history, service_user_in

ONE_INITIATIVE = {
    "initiatives": 1,
    "levels": ["strategic"] * 3,
    "decision_meetings": [False] * 6,
    "people": [],
    "anonymous": [],
    "threshold": 5,
}

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "graphql" / "schema.graphql"


def send(store: Any, query: str, variables: dict[str, Any], token: str) -> Any:
    async def sent() -> Any:
        async with client(store) as http:
            return await graphql(http, query, variables, token)

    return asyncio.run(sent())


DIVERSITY = """
query($slice: SliceInput) { presence(slice: $slice) { diversity {
  category total { value }
  rows { value count { value suppressed reason } referenceShare { numerator denominator } }
  broadRows {
    value count { value suppressed reason }
    referenceShare { numerator denominator } ratio { numerator denominator }
  }
} } }
"""

DEFINE = """
mutation($input: DefineReferencePopulationInput!) {
  defineReferencePopulation(input: $input) { id }
}
"""


def fraction(share: dict[str, int] | None) -> Fraction | None:
    return None if share is None else Fraction(share["numerator"], share["denominator"])


def test_an_evaluator_reads_diversity_against_the_census_broad_groups(
    tmp_path: Path,
) -> None:
    groups = [EthnicGroup.WHITE_BRITISH] * 12 + [EthnicGroup.WHITE_IRISH] * 6
    groups += [EthnicGroup.ASIAN_INDIAN] * 6 + [EthnicGroup.BLACK_AFRICAN]
    groups += [EthnicGroup.BLACK_CARIBBEAN] * 5
    with api_store(f"sqlite:///{tmp_path}/fourpi.sqlite3") as store:
        records = store.records
        organisation, (initiative,) = record_history(records, ONE_INITIATIVE)
        for group in groups:
            service_user_in(records, organisation, initiative, {"ethnic_group": group})
        manager = store.token(organisation, Role.MANAGER)
        evaluator = store.token(organisation, Role.EVALUATOR)
        census = {"white": "0.8", "asian": "0.1", "black": "0.05", "mixed": "0.03"}
        census["other"] = "0.02"
        shares = [
            {"category": "ETHNIC_GROUP", "value": value, "share": share}
            for value, share in census.items()
        ]
        defined = send(
            store,
            DEFINE,
            {"input": {"description": "Census 2021, broad groups", "shares": shares}},
            manager,
        )
        assert data_of(defined)["defineReferencePopulation"]["id"]
        mixed = [*shares, {"category": "ETHNIC_GROUP", "value": "white_irish"}]
        mixed[-1]["share"] = "0.01"
        refused = errors_of(
            send(
                store,
                DEFINE,
                {"input": {"description": "Both levels", "shares": mixed}},
                manager,
            )
        )
        assert refused[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert refused[0]["extensions"]["field"] == "input.shares.0"
        store.views.catch_up()
        diversity = data_of(send(store, DIVERSITY, {}, evaluator))["presence"][
            "diversity"
        ]
        ethnic = next(c for c in diversity if c["category"] == "ETHNIC_GROUP")
        broad = {row["value"]: row for row in ethnic["broadRows"]}
        assert list(broad) == [
            "asian",
            "black",
            "mixed",
            "white",
            "other",
            "prefer_not_to_say",
            NOT_RECORDED,
        ]
        assert broad["white"]["count"] == {
            "value": 18,
            "suppressed": False,
            "reason": None,
        }
        assert fraction(broad["white"]["referenceShare"]) == Fraction(4, 5)
        assert fraction(broad["white"]["ratio"]) == Fraction(18, 30) / Fraction(4, 5)
        assert fraction(broad["asian"]["referenceShare"]) == Fraction(1, 10)
        # The detailed rows have no reference at the broad level.
        detailed = {row["value"]: row for row in ethnic["rows"]}
        assert detailed["white_british"]["referenceShare"] is None
        assert detailed["white_british"]["count"]["value"] == 12
        # One Black African person: a small number, hidden with a neighbour so that
        # the Black total less the visible rows under it does not tell it.
        assert detailed["black_african"]["count"] == {
            "value": None,
            "suppressed": True,
            "reason": "SMALL_NUMBERS",
        }
        assert detailed["black_caribbean"]["count"]["suppressed"]
        past = data_of(send(store, DIVERSITY, {"slice": {"cycle": 1}}, evaluator))
        withheld = past["presence"]["diversity"][0]["total"]
        assert withheld == {"value": None}
        row = past["presence"]["diversity"][0]["rows"][0]
        assert row["count"]["reason"] == "WITHHELD"


def test_a_reference_may_not_mix_levels_in_one_category() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_shares(
            {MonitoringCategory.ETHNIC_GROUP: {"white": 0.5, "asian_indian": 0.1}}
        )
    assert refused.value.field == "shares.ethnic_group"
    with pytest.raises(InvalidInput) as unknown:
        check_shares({MonitoringCategory.GENDER: {"white": 0.5}})
    assert unknown.value.field == "shares.gender"
    # A value both levels share fits either: prefer_not_to_say, under_18.
    assert check_shares(
        {MonitoringCategory.AGE_BAND: {"18_64": 0.6, "under_18": 0.2, "65_plus": 0.2}}
    )


people = st.lists(
    st.tuples(st.sampled_from([None, *EthnicGroup]), st.sampled_from([None, *AgeBand])),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(people=people, detailed_reference=st.booleans())
def test_detailed_rows_roll_up_to_the_broad_groups(
    people: list[tuple[EthnicGroup | None, AgeBand | None]], detailed_reference: bool
) -> None:
    facts = Builder()
    initiative = facts.initiative()
    for ethnic_group, age_band in people:
        person = facts.participant()
        facts.role(initiative, person)
        facts.monitoring(
            person,
            ethnic_group=None if ethnic_group is None else ethnic_group.value,
            age_band=None if age_band is None else age_band.value,
        )
    ethnic = MonitoringCategory.ETHNIC_GROUP.value
    if detailed_reference:
        facts.reference(None, {(ethnic, value.value): "0.05" for value in EthnicGroup})
    else:
        facts.reference(None, {(ethnic, "white"): "0.8", (ethnic, "asian"): "0.2"})
    report = facts.report()
    for diversity in report.presence.diversity:
        category = MonitoringCategory(diversity.category)
        counted = {row.value: row.count for row in diversity.rows}
        if category not in BROAD_GROUPS:
            assert diversity.broad_rows == ()
            continue
        members = broad_members(category)
        assert [row.value for row in diversity.broad_rows] == [
            *members,
            NOT_RECORDED,
        ]
        for row in diversity.broad_rows:
            assert row.count == sum(
                counted[m] for m in members.get(row.value, [row.value])
            )
        assert sum(row.count for row in diversity.broad_rows) == diversity.total
        if category is MonitoringCategory.ETHNIC_GROUP:
            broad = {row.value: row for row in diversity.broad_rows}
            if detailed_reference:
                assert broad["white"].reference_share == Fraction(5, 20) * 1  # 5 x 0.05
                assert diversity.rows[0].reference_share == Fraction(1, 20)
            else:
                assert broad["white"].reference_share == Fraction(4, 5)
                assert broad["black"].reference_share is None
                assert all(row.reference_share is None for row in diversity.rows)


OUTCOMES = """
{ intendedOutcomes {
    shareAchieved { numerator denominator }
    shareAchievedOrPartlyAchieved { numerator denominator }
    byAssessment { key count }
    assessmentCounts { assessment count }
} }
"""


def test_the_deprecated_names_still_answer_beside_the_new_ones(tmp_path: Path) -> None:
    with api_store(f"sqlite:///{tmp_path}/fourpi.sqlite3") as store:
        records = store.records
        organisation, (initiative,) = record_history(records, ONE_INITIATIVE)
        for _ in range(3):
            records.record_intended_outcome(
                organisation_id=organisation,
                initiative_id=initiative,
                description="Better care",
                impact_areas=("delivery",),
                actor=ACTOR,
            )
        evaluator = store.token(organisation, Role.EVALUATOR)
        store.views.catch_up()
        answer = data_of(send(store, OUTCOMES, {}, evaluator))["intendedOutcomes"]
        assert answer["shareAchieved"] == answer["shareAchievedOrPartlyAchieved"]
        assert answer["byAssessment"] == [{"key": "not_assessed", "count": 3}]
        assert answer["assessmentCounts"] == [{"assessment": None, "count": 3}]
        refused = errors_of(
            send(
                store,
                'mutation { adoptInvolvementPolicy(input: {versionLabel: "v", '
                'adoptedOn: "2024-01-01"}) { id } }',
                {},
                evaluator,
            )
        )
        assert refused[0]["message"].startswith("an evaluator token may not do this")
    schema = SCHEMA_FILE.read_text()
    for deprecated in (
        "shareAchieved: Share @deprecated",
        "byAssessment: [Count!]! @deprecated",
        "wouldCross: Boolean! @deprecated",
        "byLevel: [PeopleByKey!]! @deprecated",
    ):
        assert deprecated in schema


@pytest.mark.parametrize(
    ("paid", "owed", "status"),
    [("40", "0", "below"), ("40", "20", "near"), ("60", "0", "crossed")],
)
def test_the_earnings_watch_has_one_status(paid: str, owed: str, status: str) -> None:
    limit, paid_in, owed_in = Decimal("50"), Decimal(paid), Decimal(owed)
    crossed = paid_in > limit
    period = EarningsPeriodTotal(
        period_start=date(2024, 1, 1),
        paid=paid_in,
        owed_unpaid=owed_in,
        headroom=limit - paid_in,
        crossed=crossed,
        would_cross=not crossed and paid_in + owed_in > limit,
    )
    assert period.status == status
