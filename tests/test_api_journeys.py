"""Each kind of user's journey through the HTTP API, on SQLite and PostgreSQL, with the projection worker running so read-your-writes is real."""

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from fourpi.config import ApiLimits
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import ParticipantKind
from tests.api import ApiStore, api_store, client, data_of, graphql, write_input

LIMITS = ApiLimits(read_wait_seconds=5)

DIFFERENCES = """
query Differences($slice: SliceInput) {
  differences(slice: $slice) {
    position
    contributions
    byResponse { key count }
    shareAdoptedOrAdapted { numerator denominator }
    changes {
      changeId initiativeId description impactArea scope changedOn
      contributions {
        contributionId summary madeOn outcome respondedOn feedbackGivenOn
      }
    }
    untracedChanges
  }
}
"""

FIVE_ANSWERS = """
query FiveAnswers($asOf: AsOfInput) {
  intendedOutcomes(asOf: $asOf) {
    position
    outcomes { outcomeId initiativeId description assessment involvementDifference }
    byAssessment { key count }
    shareAchieved { numerator denominator value }
  }
  differences(asOf: $asOf) {
    position contributions
    changes { changeId contributions { contributionId outcome } }
    byScope { key count }
    untracedChanges
  }
  processExperience(asOf: $asOf) {
    position answers { value } involved { value } respondents { value }
    responseRate { numerator denominator }
    scores { respondentKind dimension count { value } mean { numerator denominator } }
  }
  endResult(asOf: $asOf) {
    position
    endResultChanges { changeId description }
    outcomesByDifference { key count }
    outcomesChangedByInvolvement
  }
  beyond(asOf: $asOf) {
    position
    byKind { kind changes { changeId } }
  }
}
"""

HISTORY = """
query History($id: ID!, $first: Int!, $after: String) {
  history(recordId: $id, first: $first, after: $after) {
    edges {
      cursor
      node { position recordId version type recordedBy recordedAt data }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

RECORD = """
query Record($id: ID!, $version: Int, $asOf: DateTime) {
  record(id: $id, version: $version, asOf: $asOf) {
    id type version modifiedAt state
  }
}
"""


class Manager:
    """A manager's token and the client it writes through."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token
        self.positions: list[int] = []

    async def write(self, mutation: str, **given: Any) -> dict[str, Any]:
        response = await graphql(
            self.http, write_input(mutation), {"input": given}, self.token
        )
        payload: dict[str, Any] = data_of(response)[mutation]
        self.positions.append(payload["logPosition"])
        return payload


def test_a_manager_logs_an_initiative_from_purpose_to_feedback_and_reads_the_chain(
    database_url: str,
) -> None:
    async def journey(store: ApiStore) -> None:
        async with client(store) as http:
            admin = store.token(None, Role.ADMIN, personal_data=True)
            organisation = data_of(
                await graphql(
                    http,
                    write_input("registerOrganisation"),
                    {"input": {"name": "Mind in Testbury"}},
                    admin,
                )
            )["registerOrganisation"]["id"]
            issued = data_of(
                await graphql(
                    http,
                    "mutation($input: IssueTokenInput!) "
                    "{ issueToken(input: $input) { tokenId token role } }",
                    {
                        "input": {
                            "role": "MANAGER",
                            "organisationId": organisation,
                            "label": "involvement lead",
                            # Exact counts of people need the grant.
                            "personalData": True,
                        }
                    },
                    admin,
                )
            )["issueToken"]
            assert issued["role"] == "MANAGER"
            manager = Manager(http, issued["token"])
            me = data_of(
                await graphql(
                    http, "{ me { role organisationId } }", None, manager.token
                )
            )["me"]
            assert me == {"role": "MANAGER", "organisationId": organisation}

            initiative = (
                await manager.write(
                    "launchInitiative",
                    name="Community venues",
                    level="OPERATIONAL",
                    involvementKind="CO_PRODUCTION",
                    methods=["WORKSHOP"],
                    purpose="Find out where people would rather meet.",
                    limitsOfInfluence="The budget is fixed for this year.",
                    startedOn="2024-01-08",
                )
            )["id"]
            outcome = (
                await manager.write(
                    "recordIntendedOutcome",
                    initiativeId=initiative,
                    description="More people from racialised communities take part.",
                    impactAreas=["DIVERSITY_AND_EQUALITY"],
                )
            )["id"]
            amara = (
                await manager.write(
                    "registerParticipant",
                    pseudonym="Amara",
                    participantKind="SERVICE_USER",
                )
            )["id"]
            ben = (
                await manager.write(
                    "registerParticipant", pseudonym="Ben", participantKind="CARER"
                )
            )["id"]
            for person in (amara, ben):
                await manager.write(
                    "assignRole",
                    initiativeId=initiative,
                    participantId=person,
                    role="EXPERT_BY_EXPERIENCE",
                    paid=True,
                    decisionMaking=True,
                    startedOn="2024-01-10",
                )
            meeting = (
                await manager.write(
                    "scheduleMeeting",
                    initiativeId=initiative,
                    title="Steering group",
                    heldAt="2024-02-01T10:00:00+00:00",
                    highLevel=True,
                    decisionMaking=True,
                )
            )["id"]
            await manager.write(
                "sendMeetingPapers",
                meetingId=meeting,
                sentAt="2024-01-25T09:00:00+00:00",
            )
            await manager.write(
                "recordAttendance", meetingId=meeting, participantIds=[amara, ben]
            )
            contribution = (
                await manager.write(
                    "logContribution",
                    initiativeId=initiative,
                    contributorIds=[amara, ben],
                    nature="RECOMMENDATION",
                    summary="Hold the sessions in community venues.",
                    impactAreas=["DIVERSITY_AND_EQUALITY"],
                    madeOn="2024-02-01",
                    meetingId=meeting,
                )
            )["id"]
            await manager.write(
                "respondToContribution",
                contributionId=contribution,
                outcome="ADOPTED",
                rationale="Venues booked for the spring.",
                respondedOn="2024-02-10",
            )
            change = (
                await manager.write(
                    "recordChange",
                    initiativeId=initiative,
                    description="Sessions moved to community venues.",
                    impactArea="DIVERSITY_AND_EQUALITY",
                    scope="ACTIVITY",
                    evidence="Venue bookings.",
                    changedOn="2024-03-01",
                    contributionIds=[contribution],
                )
            )["id"]
            await manager.write(
                "giveFeedback",
                contributionId=contribution,
                givenOn="2024-03-05",
                method="MEETING",
                summary="You said community venues; we moved the sessions.",
            )
            payment = (
                await manager.write(
                    "recordPaymentOwed",
                    participantId=amara,
                    paymentKind="FEE",
                    amount="40.00",
                    owedOn="2024-02-01",
                    initiativeId=initiative,
                )
            )["id"]
            await manager.write(
                "recordPaymentMade", paymentId=payment, paidOn="2024-02-08"
            )
            await manager.write(
                "recordProcessExperience",
                initiativeId=initiative,
                respondentKind="SERVICE_USER",
                stage="IN_FLIGHT",
                scores=[{"dimension": "LISTENED_TO", "score": 5}],
                answeredOn="2024-03-10",
                participantId=amara,
            )
            assert manager.positions == sorted(set(manager.positions))
            last_write = manager.positions[-1]
            assert last_write == store.head()

            # Read your writes: asked at once, the answer already includes them.
            response = await graphql(
                http,
                DIFFERENCES,
                {"slice": {"initiativeId": initiative}},
                manager.token,
            )
            differences = data_of(response)["differences"]
            assert differences["position"] == last_write
            assert differences["contributions"] == 1
            assert differences["byResponse"] == [{"key": "adopted", "count": 1}]
            assert differences["shareAdoptedOrAdapted"] == {
                "numerator": 1,
                "denominator": 1,
            }
            assert differences["untracedChanges"] == 0
            assert differences["changes"] == [
                {
                    "changeId": change,
                    "initiativeId": initiative,
                    "description": "Sessions moved to community venues.",
                    "impactArea": "DIVERSITY_AND_EQUALITY",
                    "scope": "ACTIVITY",
                    "changedOn": "2024-03-01",
                    "contributions": [
                        {
                            "contributionId": contribution,
                            "summary": "Hold the sessions in community venues.",
                            "madeOn": "2024-02-01",
                            "outcome": "ADOPTED",
                            "respondedOn": "2024-02-10",
                            "feedbackGivenOn": "2024-03-05",
                        }
                    ],
                }
            ]
            others = data_of(
                await graphql(
                    http,
                    "{ intendedOutcomes { outcomes { outcomeId } } "
                    "processExperience { answers { value } respondents { value } involved { value } } "
                    "initiatives { id name } }",
                    None,
                    manager.token,
                )
            )
            assert others["intendedOutcomes"]["outcomes"] == [{"outcomeId": outcome}]
            assert others["processExperience"] == {
                "answers": {"value": 1},
                "respondents": {"value": 1},
                "involved": {"value": 2},
            }
            assert others["initiatives"] == [
                {"id": initiative, "name": "Community venues"}
            ]

    with api_store(database_url, LIMITS, worker=True) as store:
        asyncio.run(journey(store))


def test_an_evaluator_sees_the_five_answers_move_after_a_manager_writes(
    database_url: str,
) -> None:
    async def journey(store: ApiStore) -> None:
        demo = create_demo(store.records)
        organisation = demo.organisation_id
        evaluator = store.token(organisation, Role.EVALUATOR)
        manager = store.token(organisation, Role.MANAGER)
        async with client(store) as http:
            before = data_of(await graphql(http, FIVE_ANSWERS, None, evaluator))
            positions = {answer["position"] for answer in before.values()}
            assert positions == {store.head()}
            assert before["differences"]["contributions"] > 0
            assert before["differences"]["changes"]
            assert before["processExperience"]["answers"]["value"] > 0
            assert before["beyond"]["byKind"]
            outcomes = before["intendedOutcomes"]["outcomes"]
            unmet = next(
                o
                for o in outcomes
                if o["assessment"] not in ("ACHIEVED", "PARTLY_ACHIEVED")
            )
            share = before["intendedOutcomes"]["shareAchieved"]
            assert share["denominator"] == len(outcomes)
            initiative = unmet["initiativeId"]
            plan = next(
                i for i in demo.initiatives if str(i.initiative_id) == initiative
            )
            source = str(plan.contribution_ids[0])

            writer = Manager(http, manager)
            change = (
                await writer.write(
                    "recordChange",
                    initiativeId=initiative,
                    description="A second venue opened in the east of the city.",
                    impactArea="DELIVERY",
                    scope="END_RESULT",
                    evidence="Venue booking and attendance.",
                    changedOn="2022-07-01",
                    contributionIds=[source],
                )
            )["id"]
            await writer.write(
                "assessIntendedOutcome",
                initiativeId=initiative,
                outcomeId=unmet["outcomeId"],
                assessment="ACHIEVED",
                involvementDifference="SIGNIFICANT",
                evidence="Attendance figures from the new venue.",
                assessedOn="2022-07-15",
            )

            after = data_of(await graphql(http, FIVE_ANSWERS, None, evaluator))
            assert {answer["position"] for answer in after.values()} == {
                writer.positions[-1]
            }
            changes_before = [c["changeId"] for c in before["differences"]["changes"]]
            changes_after = [c["changeId"] for c in after["differences"]["changes"]]
            assert changes_after == [*changes_before, change]
            assert [c["changeId"] for c in after["endResult"]["endResultChanges"]] == [
                *(c["changeId"] for c in before["endResult"]["endResultChanges"]),
                change,
            ]
            moved = after["intendedOutcomes"]["shareAchieved"]
            assert moved["denominator"] == share["denominator"]
            assert moved["numerator"] == share["numerator"] + 1
            assert (
                unmet["outcomeId"] in after["endResult"]["outcomesChangedByInvolvement"]
            )
            # What the write did not touch stays as it was.
            assert after["processExperience"] == {
                **before["processExperience"],
                "position": writer.positions[-1],
            }
            assert after["beyond"]["byKind"] == before["beyond"]["byKind"]

    with api_store(database_url, LIMITS, worker=True) as store:
        asyncio.run(journey(store))


async def whole_history(
    http: httpx.AsyncClient, token: str, record_id: str, first: int
) -> list[dict[str, Any]]:
    """Every event of a record, a page at a time, following the cursors."""
    events: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        page = data_of(
            await graphql(
                http,
                HISTORY,
                {"id": record_id, "first": first, "after": after},
                token,
            )
        )["history"]
        pages += 1
        assert len(page["edges"]) <= first
        events.extend(edge["node"] for edge in page["edges"])
        info = page["pageInfo"]
        if page["edges"]:
            assert info["endCursor"] == page["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            return events
        assert len(page["edges"]) == first
        after = info["endCursor"]
        assert pages < 100, "the pages never end"


def test_an_auditor_reads_histories_past_versions_and_past_answers(
    database_url: str,
) -> None:
    async def journey(store: ApiStore) -> None:
        demo = create_demo(store.records)
        organisation = demo.organisation_id
        # Past counts of people are exact only with the grant.
        auditor = store.token(organisation, Role.AUDITOR, personal_data=True)
        manager = store.token(organisation, Role.MANAGER, personal_data=True)
        initiative = str(demo.initiatives[0].initiative_id)
        async with client(store) as http:
            events = await whole_history(http, auditor, initiative, first=7)
            stored = list(store.records.events.get(demo.initiatives[0].initiative_id))
            assert len(events) == len(stored) > 7
            assert [e["version"] for e in events] == list(range(1, len(stored) + 1))
            positions = [e["position"] for e in events]
            assert positions == sorted(set(positions))
            for event in events:
                assert event["recordId"] == initiative
                assert event["type"].startswith("Initiative.")
                assert event["recordedBy"]
                assert datetime.fromisoformat(event["recordedAt"]).tzinfo is not None
            assert events[0]["type"] == "Initiative.Launched"
            assert events[0]["data"]["name"] == demo.initiatives[0].name
            # One page holding everything says there is nothing more.
            assert await whole_history(http, auditor, initiative, first=100) == events

            first_version = data_of(
                await graphql(http, RECORD, {"id": initiative, "version": 1}, auditor)
            )["record"]
            assert first_version["version"] == 1
            assert first_version["type"] == "Initiative"
            assert first_version["state"]["name"] == demo.initiatives[0].name
            assert first_version["state"]["intended_outcomes"] == {}

            # A record as it stood at a moment between two of its writes.
            writer = Manager(http, manager)
            added = await writer.write(
                "recordIntendedOutcome",
                initiativeId=initiative,
                description="Audit trail: an outcome added later.",
                impactAreas=["ETHOS_AND_CULTURE"],
            )
            time.sleep(0.01)
            between = datetime.now(UTC)
            time.sleep(0.01)
            await writer.write(
                "recordIntendedOutcome",
                initiativeId=initiative,
                description="Audit trail: another outcome added after that.",
                impactAreas=["DELIVERY"],
            )
            then = data_of(
                await graphql(
                    http,
                    RECORD,
                    {"id": initiative, "asOf": between.isoformat()},
                    auditor,
                )
            )["record"]
            now = data_of(await graphql(http, RECORD, {"id": initiative}, auditor))[
                "record"
            ]
            assert then["version"] == len(stored) + 1
            assert now["version"] == len(stored) + 2
            assert added["id"] in then["state"]["intended_outcomes"]
            assert len(now["state"]["intended_outcomes"]) == (
                len(then["state"]["intended_outcomes"]) + 1
            )
            assert datetime.fromisoformat(then["modifiedAt"]) <= between

            # An answer as of a past position is what the live answer was then.
            position = store.head()
            live_then = data_of(await graphql(http, FIVE_ANSWERS, None, auditor))
            assert live_then["differences"]["position"] == position
            contribution = str(demo.initiatives[0].contribution_ids[-1])
            await writer.write(
                "recordChange",
                initiativeId=initiative,
                description="A change recorded after the audit point.",
                impactArea="DELIVERY",
                scope="BEYOND",
                beyondKind="SERVICE_DELIVERY",
                evidence="Minutes.",
                changedOn="2022-06-30",
                contributionIds=[contribution],
            )
            await writer.write(
                "recordIntendedOutcome",
                initiativeId=initiative,
                description="Yet another outcome after the audit point.",
                impactAreas=["DELIVERY"],
            )
            live_now = data_of(await graphql(http, FIVE_ANSWERS, None, auditor))
            assert live_now != live_then
            as_of = data_of(
                await graphql(
                    http, FIVE_ANSWERS, {"asOf": {"position": position}}, auditor
                )
            )
            assert as_of == live_then

    with api_store(database_url, LIMITS, worker=True) as store:
        asyncio.run(journey(store))


def test_the_health_check_and_graphiql_answer(database_url: str) -> None:
    async def journey(store: ApiStore) -> None:
        organisation = store.records.register_organisation(name="Health", actor="test")
        store.views.catch_up()
        store.records.register_participant(
            organisation_id=organisation,
            pseudonym="Amara",
            participant_kind=ParticipantKind.SERVICE_USER,
            actor="test",
        )
        async with client(store) as http:
            # Anyone may ask whether the service is up, so the answer holds nothing
            # that moves with any organisation's writes.
            health = await http.get("/healthz")
            assert health.status_code == 200
            assert health.json() == {"status": "ok"}
            store.views.catch_up()
            assert (await http.get("/healthz")).json() == {"status": "ok"}

            page = await http.get("/graphql", headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert "graphiql" in page.text.lower()

    with api_store(database_url, LIMITS) as store:
        asyncio.run(journey(store))


def test_no_answer_of_the_api_is_kept_by_a_browser_or_a_proxy(
    database_url: str,
) -> None:
    """Answers hold personal data for a granted token, and a query may be sent as a
    GET, which a browser or a shared proxy would otherwise keep and hand on."""

    async def journey(store: ApiStore) -> None:
        organisation = store.records.register_organisation(name="Kept", actor="test")
        manager = store.token(organisation, Role.MANAGER, personal_data=True)
        bearer = {"Authorization": f"Bearer {manager}"}
        async with client(store) as http:
            answers = [
                await http.get(
                    "/graphql", params={"query": "{ me { role } }"}, headers=bearer
                ),
                await graphql(http, "{ me { role } }", token=manager),
                await graphql(http, "{ me { role } }", token="not a token"),
                await http.get("/graphql", headers={"Accept": "text/html"}),
            ]
        assert [a.status_code for a in answers] == [200, 200, 200, 200]
        assert data_of(answers[0]) == {"me": {"role": "MANAGER"}}
        assert [a.headers.get("cache-control") for a in answers] == ["no-store"] * 4

    with api_store(database_url, LIMITS) as store:
        asyncio.run(journey(store))
