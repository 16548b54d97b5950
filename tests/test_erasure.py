"""Erasure by crypto-shredding: a person's personal data is stored encrypted under their own key; once the key is destroyed no file, table, export or API response holds it, while the log keeps its shape and still verifies."""

import asyncio
import base64
import inspect
import logging
import os
import stat
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import orjson
import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

import graphql as graphql_core
from fourpi.audit import export_log
from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.config import (
    ApiLimits,
    MasterKeyError,
    MasterKeySource,
    parse_database_url,
)
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords, unkeyed_fingerprint_of
from fourpi.domain.contribution import Contribution
from fourpi.domain.errors import IdempotencyKeyReused, InvalidInput
from fourpi.domain.initiative import Initiative
from fourpi.domain.participant import MonitoringData, Participant
from fourpi.domain.payment import Payment
from fourpi.domain.personal import PERSONAL_FIELDS, erased_value
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    ContributionNature,
    EarningsPeriod,
    FeedbackMethod,
    ImpactArea,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    InvolvementRole,
    MonitoringCategory,
    NoticePreference,
    ParticipantKind,
    PaymentKind,
    PaymentPreference,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
    ResponseOutcome,
    SupportKind,
)
from fourpi.graphql.audit_queries import json_ready
from fourpi.graphql.schema import build_schema
from fourpi.privacy.keystore import (
    MemoryKeyTable,
    PersonalKeyStore,
    load_master_key,
    new_master_key,
)
from fourpi.privacy.shredding import ENVELOPE, PersonalDataMapper
from fourpi.projections.answers import Slice
from fourpi.storage.transcoder import OrjsonTranscoder
from tests.api import ApiStore, client, data_of, graphql
from tests.conftest import needs_postgres
from tests.helpers import ACTOR, POSTGRES_URL, TEST_MASTER_KEY, Store
from tests.histories import play, slices
from tests.oracle import oracle_report, read_log

PSEUDONYM = "Quillon Marchbanks-7731"
FREE_TEXT = "The kettle in room 4417 was always cold and nobody asked me why"
ANONYMOUS_TEXT = "Anonymous words stay as they were written 2231"
MONITORING = {
    "age_band": "65_plus",
    "gender": "self_described",
    "ethnic_group": "white_gypsy_or_irish_traveller",
    "disability": "disabled",
    "sexual_orientation": "bisexual",
    "education_level": "apprenticeship",
}
EARNINGS_LIMIT = Decimal("987.65")
MOMENT = date(2023, 1, 1)

LIMITS = ApiLimits(
    max_depth=40,
    max_tokens=100_000,
    max_aliases=100,
    max_page_size=100,
    read_wait_seconds=5,
)


@dataclass
class Story:
    organisation_id: UUID
    initiative_id: UUID
    erased: UUID
    other: UUID
    answer_id: UUID
    anonymous_answer_id: UUID
    payment_id: UUID


def tell(records: InvolvementRecords) -> Story:
    """Two people involved in one initiative; the first will be erased."""
    organisation = records.register_organisation(name="Erasure Mind", actor="admin")
    initiative = records.launch_initiative(
        organisation_id=organisation,
        name="Peer support review",
        level=InvolvementLevel.STRATEGIC,
        involvement_kind=InvolvementKind.CO_PRODUCTION,
        methods=(InvolvementMethod.WORKSHOP,),
        purpose="Review the peer support offer.",
        limits_of_influence="The budget is fixed.",
        started_on=date(2022, 1, 3),
        actor=ACTOR,
    )
    people = []
    for pseudonym, monitoring, limit, period in (
        (PSEUDONYM, MONITORING, EARNINGS_LIMIT, EarningsPeriod.WEEK),
        ("Other Advisor", {"gender": "woman"}, Decimal("40"), EarningsPeriod.MONTH),
    ):
        person = records.register_participant(
            organisation_id=organisation,
            pseudonym=pseudonym,
            participant_kind=ParticipantKind.SERVICE_USER,
            actor=ACTOR,
        )
        records.declare_monitoring_data(
            organisation_id=organisation,
            participant_id=person,
            monitoring=monitoring,
            actor=ACTOR,
        )
        records.set_payment_preference(
            organisation_id=organisation,
            participant_id=person,
            payment_preference=PaymentPreference.REDUCED_FEE
            if pseudonym == PSEUDONYM
            else PaymentPreference.FEES,
            earnings_limit=limit,
            earnings_period=period,
            actor=ACTOR,
        )
        records.assign_role(
            organisation_id=organisation,
            initiative_id=initiative,
            participant_id=person,
            role=InvolvementRole.ADVISOR,
            paid=True,
            decision_making=True,
            started_on=date(2022, 1, 10),
            actor=ACTOR,
        )
        people.append(person)
    erased, other = people
    answer = records.record_process_experience(
        organisation_id=organisation,
        initiative_id=initiative,
        participant_id=erased,
        respondent_kind=RespondentKind.SERVICE_USER,
        stage=QuestionnaireStage.END_OF_INVOLVEMENT,
        scores={ProcessDimension.LISTENED_TO: 2},
        free_text=FREE_TEXT,
        answered_on=date(2022, 3, 1),
        actor=ACTOR,
    )
    anonymous = records.record_process_experience(
        organisation_id=organisation,
        initiative_id=initiative,
        respondent_kind=RespondentKind.CARER,
        stage=QuestionnaireStage.END_OF_INVOLVEMENT,
        scores={ProcessDimension.LISTENED_TO: 5},
        free_text=ANONYMOUS_TEXT,
        answered_on=date(2022, 3, 2),
        actor=ACTOR,
    )
    payment = records.record_payment_owed(
        organisation_id=organisation,
        participant_id=erased,
        payment_kind=PaymentKind.FEE,
        amount=Decimal("50.00"),
        owed_on=date(2022, 2, 1),
        initiative_id=initiative,
        actor=ACTOR,
    )
    return Story(organisation, initiative, erased, other, answer, anonymous, payment)


def plaintexts() -> dict[str, bytes]:
    """Every form the erased person's personal data would take in a plaintext event,
    a view row or an API answer."""
    transcoder = OrjsonTranscoder()
    monitoring = MonitoringData.checked(**MONITORING)
    forms: dict[str, bytes] = {
        "pseudonym": PSEUDONYM.encode(),
        "free text": FREE_TEXT.encode(),
        "earnings limit": str(EARNINGS_LIMIT).encode(),
        "payment preference": b"reduced_fee",
        "monitoring as stored": transcoder.encode(monitoring),
        "monitoring as JSON": orjson.dumps(json_ready(monitoring)),
        "earnings limit as stored": transcoder.encode(EARNINGS_LIMIT),
        "earnings period as stored": transcoder.encode(EarningsPeriod.WEEK),
        "preference as stored": transcoder.encode(PaymentPreference.REDUCED_FEE),
        # Topics that only ever appear inside a personal field.
        "monitoring type": b"participant:MonitoringData",
        "earnings period type": b"vocabulary:EarningsPeriod",
    }
    for category, value in MONITORING.items():
        forms[f"monitoring {category} as JSON"] = f'"{category}":"{value}"'.encode()
        forms[f"monitoring {category}"] = value.encode()
    return forms


def found_in(blob: bytes, *, answers: bool = False) -> list[str]:
    """The forms of the person's data in the blob. Answers name every monitoring
    value (with a count), so there only the forms tied to a person are looked for."""
    return [
        name
        for name, form in plaintexts().items()
        if form in blob
        and not (answers and name.startswith("monitoring ") and "JSON" not in name)
    ]


# Where the data could hide: files, tables, exports, answers


def sqlite_files(url: str) -> dict[str, bytes]:
    path = Path(parse_database_url(url).sqlite_path)
    return {
        candidate.name: candidate.read_bytes()
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
        if candidate.exists()
    }


def postgres_tables(url: str) -> dict[str, bytes]:
    """Every row of every table of the store's schema, as text and as raw bytes."""
    schema = parse_database_url(url).schema
    dumped: dict[str, bytes] = {}
    with psycopg.connect(POSTGRES_URL) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s",
                (schema,),
            )
        ]
        assert tables
        for table in tables:
            name = sql.SQL("{}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            parts: list[bytes] = []
            for (text,) in connection.execute(
                sql.SQL("SELECT t::text FROM {} AS t").format(name)
            ):
                parts.append(text.encode())
            for row in connection.execute(sql.SQL("SELECT * FROM {}").format(name)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value))
                    elif value is not None:
                        parts.append(str(value).encode())
            dumped[table] = b"\n".join(parts)
    return dumped


def storage_of(url: str) -> dict[str, bytes]:
    if url.startswith("sqlite"):
        return sqlite_files(url)
    return postgres_tables(url)


def event_states(records: InvolvementRecords) -> bytes:
    notifications = records.recorder.select_notifications(start=1, limit=10**6)
    return b"\n".join(bytes(n.state) for n in notifications)


def full_selection(type_: Any, depth: int) -> str | None:
    """Every field of a type, nested, skipping fields that need arguments."""
    named = graphql_core.get_named_type(type_)
    if graphql_core.is_leaf_type(named):
        return ""
    if depth == 0 or not isinstance(named, graphql_core.GraphQLObjectType):
        return None
    parts = []
    for name, field in named.fields.items():
        if any(
            graphql_core.is_non_null_type(argument.type)
            and argument.default_value is graphql_core.Undefined
            for argument in field.args.values()
        ):
            continue
        selection = full_selection(field.type, depth - 1)
        if selection is not None:
            parts.append(f"{name} {selection}")
    return "{ " + " ".join(parts) + " }" if parts else None


def every_query(story: Story, as_of: int) -> list[str]:
    """Every answer (live, as of a position before the erasure, and for the
    initiative), every history and record, and the whole event log."""
    schema = build_schema()._schema
    fields = schema.query_type.fields
    documents = []
    for name, field in fields.items():
        selection = full_selection(field.type, 8)
        arguments = set(field.args)
        if "slice" in arguments:
            documents += [
                f"{{ {name} {selection} }}",
                f"{{ {name}(asOf: {{position: {as_of}}}) {selection} }}",
                f'{{ {name}(slice: {{initiativeId: "{story.initiative_id}"}}) '
                f"{selection} }}",
            ]
        elif name in ("history", "record"):
            argument = "recordId" if name == "history" else "id"
            for record in (story.erased, story.answer_id, story.anonymous_answer_id):
                documents.append(f'{{ {name}({argument}: "{record}") {selection} }}')
                if name == "history":
                    documents.append(
                        f'{{ {name}({argument}: "{record}", first: 100) {selection} }}'
                    )
                else:
                    documents.append(
                        f'{{ {name}({argument}: "{record}", version: 1) {selection} }}'
                    )
        elif name == "eventLog":
            documents.append(f"{{ eventLog(first: 100) {selection} }}")
        elif not any(
            graphql_core.is_non_null_type(a.type) for a in field.args.values()
        ):
            documents.append(f"{{ {name} {selection} }}")
    return documents


async def every_response(
    store: ApiStore, tokens: list[str], documents: list[str]
) -> list[str]:
    texts = []
    async with client(store) as http:
        for token in tokens:
            for document in documents:
                response = await graphql(http, document, token=token)
                assert response.status_code < 500, response.text
                texts.append(response.text)
    return texts


def all_event_log(records: InvolvementRecords) -> list[Any]:
    return [event for _, event in read_log(records)]


# The test the issue asks for: erase, then search everywhere


def test_after_erasure_no_file_table_export_or_answer_holds_the_persons_data(
    database_url, tmp_path, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    store = ApiStore(database_url, LIMITS)
    try:
        story = tell(store.records)
        store.views.catch_up()
        organisation = story.organisation_id
        tokens = [
            store.token(organisation, role, personal_data=True)
            for role in (Role.MANAGER, Role.AUDITOR, Role.ADMIN)
        ] + [store.token(organisation, Role.EVALUATOR)]
        admin = tokens[2]
        store.views.catch_up()
        before = store.head()
        documents = every_query(story, before)

        # Encrypted at rest from the start: no stored event holds the plaintext.
        assert found_in(event_states(store.records)) == []
        # The search finds the data where it is still readable: in the views and
        # in the answers of a token granted personal data.
        assert "pseudonym" in found_in(b"".join(storage_of(database_url).values()))
        responses = asyncio.run(every_response(store, tokens, documents))
        seen = found_in("\n".join(responses).encode(), answers=True)
        assert {"pseudonym", "free text", "earnings limit"} <= set(seen)

        key = store.records.keys.key_for_reading(story.erased)  # type: ignore[attr-defined]
        other_key = store.records.keys.key_for_reading(story.other)  # type: ignore[attr-defined]
        assert key is not None and other_key is not None

        async def erase() -> dict[str, Any]:
            async with client(store) as http:
                return data_of(
                    await graphql(
                        http,
                        "mutation($input: EraseParticipantInput!) "
                        "{ eraseParticipant(input: $input) { id logPosition } }",
                        {"input": {"participantId": str(story.erased)}},
                        token=admin,
                    )
                )

        erased = asyncio.run(erase())["eraseParticipant"]
        assert erased["logPosition"] == before + 1
        store.views.catch_up()

        # (a), (b): the SQLite file and its -wal and -shm, or every PostgreSQL table.
        storage = storage_of(database_url)
        for name, content in storage.items():
            assert found_in(content) == [], name
        # The person's key is gone; no other key is stored plain anywhere.
        everything = b"".join(storage.values())
        for data_key in (key, other_key):
            for form in (data_key, base64.b64encode(data_key), data_key.hex().encode()):
                assert form not in everything
        assert store.records.keys.key_for_reading(story.erased) is None  # type: ignore[attr-defined]

        # (c): an export of the log, and of the key store (wrapped keys only).
        exported = tmp_path / "log.ndjson"
        with exported.open("wb") as out:
            export_log(store.records.recorder, out)
        keys_file = tmp_path / "keys.ndjson"
        with keys_file.open("wb") as out:
            store.records.keys.export(out)  # type: ignore[attr-defined]
        for path in (exported, keys_file):
            content = path.read_bytes()
            assert found_in(content) == [], path
            for form in (
                other_key,
                base64.b64encode(other_key),
                other_key.hex().encode(),
            ):
                assert form not in content

        # (d): every answer, history, record and the event log, for every role.
        responses = asyncio.run(every_response(store, tokens, documents))
        for response in responses:
            assert found_in(response.encode(), answers=True) == [], response
        # The other person is untouched: the search would find their data.
        assert any("Other Advisor" in response for response in responses)
        assert any(ANONYMOUS_TEXT in response for response in responses)

        # The log keeps its shape and still proves itself whole.
        result = CliRunner().invoke(
            main, ["audit", "verify", "--database", database_url]
        )
        assert result.exit_code == 0, result.output
        assert f"Intact: {store.head()} events" in result.output

        # No key was ever logged.
        logged = "\n".join(record.getMessage() for record in caplog.records)
        for secret in (TEST_MASTER_KEY, key.hex(), base64.b64encode(key).decode()):
            assert secret not in logged
    finally:
        store.close()
    # Closed, the files hold nothing either.
    if database_url.startswith("sqlite"):
        for name, content in sqlite_files(database_url).items():
            assert found_in(content) == [], name


# What the views and the records say afterwards


def facts_everywhere(views: Any, organisation: UUID) -> dict[str, Any]:
    return views.store.read_facts(organisation, views.position())


def diversity(report: Any, category: str) -> dict[str, int]:
    (rows,) = [c for c in report.presence.diversity if c.category == category]
    return {row.value: row.count for row in rows.rows}


def test_the_views_show_the_person_erased_at_every_position(
    records, database_url
) -> None:
    story = tell(records)
    views = open_views(database_url, records)
    views.catch_up()
    piece = Slice(story.organisation_id, story.initiative_id)
    before_position = views.position()
    before = views.report(piece, moment=MOMENT)
    assert diversity(before, "gender")["self_described"] == 1
    assert {w.pseudonym for w in before.payments_and_benefits} == {
        PSEUDONYM,
        "Other Advisor",
    }

    erasure = records.erase_participant(participant_id=story.erased, actor="admin")
    assert erasure.recorded and erasure.key_destroyed
    views.catch_up()

    for report in (
        views.report(piece, moment=MOMENT),
        views.report(piece, as_of=before_position, moment=MOMENT),
    ):
        # Still counted as involved, with every category now not recorded.
        for category in MonitoringCategory:
            counts = diversity(report, category.value)
            assert counts.get(MONITORING.get(category.value, "-"), 0) == 0
        assert diversity(report, "gender")["woman"] == 1
        assert diversity(report, "gender")["not_recorded"] == 1
        assert [w.pseudonym for w in report.payments_and_benefits] == ["Other Advisor"]
        assert report.process_experience.answers == before.process_experience.answers

    facts = facts_everywhere(views, story.organisation_id)
    assert [r["participant_id"] for r in facts["erasures"]] == [story.erased]
    mine = [
        r
        for table in ("monitoring", "payment_preferences")
        for r in facts[table]
        if r["participant_id"] == story.erased
    ]
    assert mine == []
    (row,) = [r for r in facts["participants"] if r["participant_id"] == story.erased]
    assert row["pseudonym"] == "" and row["participant_kind"] == "service_user"

    # The records themselves read as erased, at every version.
    person = records.repository.get(story.erased)
    assert person.erased and person.pseudonym == ""
    assert person.monitoring == MonitoringData() and person.earnings_limit is None
    first = records.repository.get(story.erased, version=1)
    assert first.pseudonym == "" and not first.erased
    assert records.repository.get(story.answer_id).free_text == ""
    assert records.repository.get(story.anonymous_answer_id).free_text == ANONYMOUS_TEXT
    other = records.repository.get(story.other)
    assert other.pseudonym == "Other Advisor" and other.earnings_limit == Decimal("40")

    # A rebuild from the log reads the erased values and gives the same views.
    incremental = {
        o: views.store.read_facts(o, views.position()) for o in [story.organisation_id]
    }
    views.rebuild(batch_size=3)
    assert {
        o: views.store.read_facts(o, views.position()) for o in [story.organisation_id]
    } == incremental
    views.close()


@dataclass
class AfterErasure:
    """tell()'s story with a meeting and a contribution from both people, made
    before the first person was erased."""

    story: Story
    meeting_id: UUID
    contribution_id: UUID
    role_id: UUID


def erased_after_a_meeting(records: InvolvementRecords) -> AfterErasure:
    story = tell(records)
    organisation = story.organisation_id
    meeting = records.schedule_meeting(
        organisation_id=organisation,
        initiative_id=story.initiative_id,
        title="Steering group",
        held_at=datetime(2022, 2, 1, 10, tzinfo=UTC),
        high_level=True,
        decision_making=True,
        actor=ACTOR,
    )
    contribution = records.log_contribution(
        organisation_id=organisation,
        initiative_id=story.initiative_id,
        contributor_ids=[story.erased, story.other],
        nature=ContributionNature.RECOMMENDATION,
        summary="Meet in the evening.",
        impact_areas=(ImpactArea.DELIVERY,),
        made_on=date(2022, 2, 1),
        actor=ACTOR,
    )
    initiative = records.load(Initiative, story.initiative_id, organisation)
    (role,) = [r for r in initiative.roles.values() if r.participant_id == story.erased]
    records.erase_participant(
        participant_id=story.erased, actor="admin", idempotency_key="erase-1"
    )
    return AfterErasure(story, meeting, contribution, role.role_id)


@dataclass(frozen=True)
class NewFact:
    """A write of a use case naming people in `field` (a list, for a list field),
    with the rest of its input `given` (a callable is read from the story); its
    refusal names `refused`, the field itself unless said."""

    field: str
    given: dict[str, Any]
    refused: str = ""

    def write(
        self,
        records: InvolvementRecords,
        use_case: str,
        world: AfterErasure,
        people: list[UUID],
    ) -> object:
        given = {
            name: value(world) if callable(value) else value
            for name, value in self.given.items()
        }
        given[self.field] = people if self.field.endswith("_ids") else people[0]
        return getattr(records, use_case)(
            organisation_id=world.story.organisation_id, actor=ACTOR, **given
        )


def in_the_initiative(world: AfterErasure) -> UUID:
    return world.story.initiative_id


def at_the_meeting(world: AfterErasure) -> UUID:
    return world.meeting_id


LATER = date(2022, 4, 1)
NEW_FACTS: dict[str, NewFact] = {
    "assign_role": NewFact(
        "participant_id",
        {
            "initiative_id": in_the_initiative,
            "role": InvolvementRole.CO_WORKER,
            "paid": False,
            "decision_making": False,
            "started_on": LATER,
        },
    ),
    "record_attendance": NewFact("participant_ids", {"meeting_id": at_the_meeting}),
    "name_meeting_reserve": NewFact("participant_id", {"meeting_id": at_the_meeting}),
    "log_contribution": NewFact(
        "contributor_ids",
        {
            "initiative_id": in_the_initiative,
            "nature": ContributionNature.IDEA,
            "summary": "A second idea.",
            "impact_areas": (ImpactArea.DELIVERY,),
            "made_on": LATER,
        },
    ),
    "record_payment_owed": NewFact(
        "participant_id",
        {
            "payment_kind": PaymentKind.TRAVEL,
            "amount": Decimal("12.50"),
            "owed_on": LATER,
            "initiative_id": in_the_initiative,
        },
    ),
    "record_support": NewFact(
        "participant_ids",
        {
            "support_kind": SupportKind.PEER_SUPPORT_OR_MENTORING,
            "given_on": LATER,
            "initiative_id": in_the_initiative,
        },
    ),
    "record_process_experience": NewFact(
        "participant_id",
        {
            "initiative_id": in_the_initiative,
            "respondent_kind": RespondentKind.SERVICE_USER,
            "stage": QuestionnaireStage.IN_FLIGHT,
            "scores": {ProcessDimension.SUPPORTED: 3},
            "free_text": "More words",
            "answered_on": LATER,
        },
    ),
    "declare_monitoring_data": NewFact(
        "participant_id", {"monitoring": {"gender": "man"}}, refused="monitoring"
    ),
    "set_payment_preference": NewFact(
        "participant_id",
        {"payment_preference": PaymentPreference.FEES},
        refused="payment_preference",
    ),
    "set_notice_preference": NewFact(
        "participant_id",
        {"notice_preference": NoticePreference.LETTER},
        refused="notice_preference",
    ),
    "make_personal_link": NewFact("participant_id", {"expires_on": date(2030, 1, 1)}),
    "request_erasure": NewFact("participant_id", {"requested_on": LATER}),
}
"""Every use case that records something new about the people it names."""

CLOSING_OFF = frozenset({"record_erasure", "revoke_personal_link"})
"""Use cases naming a person that add nothing new about them: recording their
erasure (again: erase_participant runs it), and stopping their personal link (which
erasure already stopped)."""


def test_every_use_case_naming_a_person_is_covered() -> None:
    """A use case that takes a person's id is either refused once they are erased
    (NEW_FACTS) or closes something off (CLOSING_OFF): a new one must join one."""
    naming = {
        name
        for name, method in vars(InvolvementRecords).items()
        if hasattr(method, "__wrapped__")  # a @use_case
        and {"participant_id", "participant_ids", "contributor_ids"}
        & set(inspect.signature(method).parameters)
    }
    assert naming == set(NEW_FACTS) | CLOSING_OFF


@pytest.mark.parametrize("use_case", sorted(NEW_FACTS))
def test_nothing_new_is_recorded_about_an_erased_person(records, use_case) -> None:
    """The write naming the erased person (beside someone else, for a list) is
    refused naming its field and records nothing; the same write naming only the
    other person is recorded."""
    world = erased_after_a_meeting(records)
    fact = NEW_FACTS[use_case]
    story = world.story
    listed = fact.field.endswith("_ids")
    named = [story.other, story.erased] if listed else [story.erased]
    head = records.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as error:
        fact.write(records, use_case, world, named)
    assert error.value.field == (fact.refused or fact.field)
    assert error.value.rule == (
        f"participant {story.erased} is erased: nothing new about them may be recorded"
    )
    assert records.recorder.max_notification_id() == head
    fact.write(records, use_case, world, [story.other])
    assert records.recorder.max_notification_id() > head


def test_what_was_recorded_before_an_erasure_can_still_be_closed_off(
    records,
) -> None:
    """Ending the erased person's role, paying what they were owed, answering and
    giving feedback on what they said: these add nothing new about them."""
    world = erased_after_a_meeting(records)
    story = world.story
    organisation = story.organisation_id
    records.end_role(
        organisation_id=organisation,
        initiative_id=story.initiative_id,
        role_id=world.role_id,
        ended_on=date(2022, 4, 1),
        actor=ACTOR,
    )
    records.record_payment_made(
        organisation_id=organisation,
        payment_id=story.payment_id,
        paid_on=date(2022, 4, 1),
        actor=ACTOR,
    )
    records.respond_to_contribution(
        organisation_id=organisation,
        contribution_id=world.contribution_id,
        outcome=ResponseOutcome.ADOPTED,
        rationale="Evening sessions from May.",
        responded_on=date(2022, 4, 2),
        actor=ACTOR,
    )
    records.give_feedback(
        organisation_id=organisation,
        contribution_id=world.contribution_id,
        given_on=date(2022, 4, 3),
        method=FeedbackMethod.LETTER,
        summary="We moved the sessions to the evening.",
        actor=ACTOR,
    )
    initiative = records.load(Initiative, story.initiative_id, organisation)
    assert initiative.roles[world.role_id].ended_on == date(2022, 4, 1)
    assert records.load(Payment, story.payment_id, organisation).paid_on == date(
        2022, 4, 1
    )
    contribution = records.load(Contribution, world.contribution_id, organisation)
    assert [r.outcome for r in contribution.responses] == [ResponseOutcome.ADOPTED]
    assert len(contribution.feedback) == 1


def test_erasing_again_records_nothing(records) -> None:
    story = tell(records)
    records.erase_participant(
        participant_id=story.erased, actor="admin", idempotency_key="erase-1"
    )
    head = records.recorder.max_notification_id()
    # Erasing again records nothing and makes sure the key is gone; a retry with
    # the same idempotency key returns the first result.
    again = records.erase_participant(participant_id=story.erased, actor="admin")
    assert (again.recorded, again.key_destroyed) == (False, False)
    retried = records.erase_participant(
        participant_id=story.erased, actor="admin", idempotency_key="erase-1"
    )
    assert not retried.recorded
    assert records.recorder.max_notification_id() == head
    with pytest.raises(IdempotencyKeyReused):
        records.erase_participant(
            participant_id=story.other, actor="admin", idempotency_key="erase-1"
        )


def test_the_key_is_gone_for_every_process_at_once(database_url) -> None:
    """A second API process and the projection worker stop reading the data as soon
    as the erasure is recorded and applied: keys are never cached across calls, and a
    cache of facts sees the erasure and reads afresh."""
    writer = open_records(database_url)
    reader = open_records(database_url)
    worker = open_views(database_url, open_records(database_url))
    reading_views = open_views(database_url, reader)
    try:
        story = tell(writer)
        worker.catch_up()
        piece = Slice(story.organisation_id)
        assert reader.repository.get(story.erased).pseudonym == PSEUDONYM
        warm = reading_views.report(piece, moment=MOMENT)  # cached in this process
        assert diversity(warm, "gender")["self_described"] == 1

        writer.erase_participant(participant_id=story.erased, actor="admin")
        assert reader.repository.get(story.erased).pseudonym == ""
        registered: Any = next(iter(reader.events.get(story.erased)))
        assert registered.pseudonym == ""
        worker.catch_up()  # another process applies the erasure
        assert reading_views.position() == worker.position()
        cold = reading_views.report(piece, moment=MOMENT)
        assert diversity(cold, "gender")["self_described"] == 0
        as_of = reading_views.report(piece, as_of=warm.position, moment=MOMENT)
        assert diversity(as_of, "gender")["self_described"] == 0
    finally:
        worker.records.close()
        worker.close()
        reading_views.close()
        reader.close()
        writer.close()


def test_the_views_finish_an_erasure_that_stopped_before_the_key_was_destroyed(
    records, database_url
) -> None:
    story = tell(records)
    records.record_erasure(
        organisation_id=story.organisation_id,
        participant_id=story.erased,
        actor="admin",
    )
    assert records.keys.key_for_reading(story.erased) is not None
    views = open_views(database_url, records)
    views.catch_up()
    assert records.keys.key_for_reading(story.erased) is None
    assert records.repository.get(story.answer_id).free_text == ""
    views.close()


# The mapper


def memory_store() -> PersonalKeyStore:
    return PersonalKeyStore(
        load_master_key(MasterKeySource(ephemeral=True), {}), MemoryKeyTable()
    )


def story_events() -> list[Any]:
    from tests.test_aggregates import the_whole_story

    return [event for record in the_whole_story() for event in record.collect_events()]


def test_the_mapper_round_trips_every_kind_of_event() -> None:
    keys = memory_store()
    mapper = PersonalDataMapper(OrjsonTranscoder(), keys)
    plain: Mapper[UUID] = Mapper(transcoder=OrjsonTranscoder())
    events = story_events()
    kinds = {type(e) for e in events}
    assert set(PERSONAL_FIELDS) <= kinds
    for event in events:
        stored = mapper.to_stored_event(event)
        assert vars(mapper.to_domain_event(stored)) == vars(event), type(event)
        personal = PERSONAL_FIELDS.get(type(event), frozenset())
        if not personal or (
            type(event) is ProcessExperienceAnswer.Recorded
            and event.participant_id is None
        ):
            # No personal field, or no one's: stored exactly as the library would.
            assert stored.state == plain.to_stored_event(event).state
        else:
            assert stored.state.count(ENVELOPE.encode()) == len(personal)


TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60
)


@settings(max_examples=60, deadline=None)
@given(
    pseudonym=TEXT.map(lambda text: f"P:{text}"),
    free_text=TEXT.map(lambda text: f"F:{text}"),
    monitoring=st.fixed_dictionaries(
        {},
        optional={
            c.value: st.sampled_from([v.value for v in MONITORING_VALUES[c]])
            for c in MonitoringCategory
        },
    ),
    limit=st.decimals("0.01", "100000", places=2),
    period=st.sampled_from(EarningsPeriod),
)
def test_personal_fields_round_trip_and_are_never_stored_plain(
    pseudonym, free_text, monitoring, limit, period
) -> None:
    from tests.test_aggregates import an_initiative

    keys = memory_store()
    mapper = PersonalDataMapper(OrjsonTranscoder(), keys)
    person = Participant.register(
        participant_id=uuid4(),
        organisation_id=uuid4(),
        pseudonym=pseudonym,
        participant_kind=ParticipantKind.SERVICE_USER,
        recorded_by=ACTOR,
    )
    person.declare_monitoring_data(
        monitoring=MonitoringData.checked(**monitoring), recorded_by=ACTOR
    )
    person.set_payment_preference(
        payment_preference=PaymentPreference.FEES,
        earnings_limit=limit,
        earnings_period=period,
        recorded_by=ACTOR,
    )
    initiative = an_initiative()
    object.__setattr__(initiative, "organisation_id", person.organisation_id)
    answer = ProcessExperienceAnswer.record(
        answer_id=uuid4(),
        initiative=initiative,
        respondent=person,
        respondent_kind=RespondentKind.SERVICE_USER,
        stage=QuestionnaireStage.IN_FLIGHT,
        scores={ProcessDimension.SUPPORTED: 4},
        free_text=free_text,
        answered_on=date(2021, 6, 1),
        recorded_by=ACTOR,
    )
    events = [*person.collect_events(), *answer.collect_events()]
    stored = [mapper.to_stored_event(e) for e in events]
    for event, kept in zip(events, stored, strict=True):
        assert vars(mapper.to_domain_event(kept)) == vars(event)
        for field in PERSONAL_FIELDS[type(event)]:
            assert OrjsonTranscoder().encode(getattr(event, field)) not in kept.state
    # Destroyed, every personal field reads as erased; nothing else changes.
    keys.destroy(person.id, person.organisation_id)
    for event, kept in zip(events, stored, strict=True):
        read = vars(mapper.to_domain_event(kept))
        for field, value in vars(event).items():
            expected = (
                erased_value(field) if field in PERSONAL_FIELDS[type(event)] else value
            )
            assert read[field] == expected


def test_an_envelope_moved_to_another_event_does_not_decrypt() -> None:
    keys = memory_store()
    mapper = PersonalDataMapper(OrjsonTranscoder(), keys)
    organisation = uuid4()
    first, second = (
        Participant.register(
            participant_id=uuid4(),
            organisation_id=organisation,
            pseudonym=name,
            participant_kind=ParticipantKind.CARER,
            recorded_by=ACTOR,
        )
        for name in ("First", "Second")
    )
    one = mapper.to_stored_event(first.collect_events()[0])
    two = mapper.to_stored_event(second.collect_events()[0])
    swapped = StoredEvent(
        two.originator_id, two.originator_version, two.topic, one.state
    )
    with pytest.raises(MapperDeserialisationError, match="does not decrypt"):
        mapper.to_domain_event(swapped)


# The master key


def test_with_no_configuration_sqlite_makes_its_own_master_key_file(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("FOURPI_MASTER_KEY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = f"sqlite:///{tmp_path}/own.sqlite3"
    records = open_records(url)
    story = tell(records)
    records.close()
    key_file = tmp_path / "data" / "fourpi" / "master.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = open_records(url)
    assert again.repository.get(story.erased).pseudonym == PSEUDONYM
    again.close()
    # Another key is refused precisely, without showing either key.
    key_file.write_text(new_master_key())
    with pytest.raises(MasterKeyError, match="is not the one") as error:
        open_records(url)
    assert key_file.read_text().strip() not in str(error.value)


def test_postgresql_needs_a_master_key_and_says_which_to_set(monkeypatch) -> None:
    needs_postgres()
    monkeypatch.delenv("FOURPI_MASTER_KEY")
    url = f"{POSTGRES_URL}?schema=test_{uuid4().hex[:12]}"
    try:
        with pytest.raises(MasterKeyError, match="FOURPI_MASTER_KEY"):
            open_records(url)
        result = CliRunner().invoke(main, ["audit", "anchor", "--database", url])
        assert result.exit_code == 1
        assert "FOURPI_MASTER_KEY" in result.output
        assert "Traceback" not in result.output
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(url.rsplit("=", 1)[1])
                )
            )


@pytest.mark.parametrize(
    "bad", ["short", "!" * 43, base64.b64encode(b"x" * 31).decode()]
)
def test_a_malformed_master_key_is_refused_without_showing_it(
    bad, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("FOURPI_MASTER_KEY", bad)
    with pytest.raises(MasterKeyError, match="not a master key") as error:
        open_records(f"sqlite:///{tmp_path}/bad.sqlite3")
    assert bad not in str(error.value)


def test_a_wrong_master_key_is_refused_on_every_backend(
    database_url, monkeypatch
) -> None:
    records = open_records(database_url)
    tell(records)
    records.close()
    monkeypatch.setenv("FOURPI_MASTER_KEY", new_master_key())
    with pytest.raises(MasterKeyError, match="is not the one"):
        open_records(database_url)


# Receipts


def test_receipts_fingerprint_commands_with_a_key(records, organisation_id) -> None:
    person = records.register_participant(
        organisation_id=organisation_id,
        pseudonym="Receipt",
        participant_kind=ParticipantKind.CARER,
        actor=ACTOR,
    )
    arguments = {
        "organisation_id": organisation_id,
        "participant_id": person,
        "monitoring": {"gender": "man"},
    }
    records.declare_monitoring_data(**arguments, actor=ACTOR, idempotency_key="m-1")
    receipt = records.repository.get(CommandReceipt.id_for(organisation_id, "m-1"))
    assert receipt.fingerprint.startswith("hmac-sha256:")
    unkeyed = unkeyed_fingerprint_of("declare_monitoring_data", arguments)
    assert unkeyed[:16] not in receipt.fingerprint
    head = records.recorder.max_notification_id()
    records.declare_monitoring_data(**arguments, actor=ACTOR, idempotency_key="m-1")
    assert records.recorder.max_notification_id() == head
    with pytest.raises(IdempotencyKeyReused):
        records.declare_monitoring_data(
            **(arguments | {"monitoring": {"gender": "woman"}}),
            actor=ACTOR,
            idempotency_key="m-1",
        )
    # A receipt recorded before fingerprints were keyed still answers its retry.
    old = CommandReceipt.issue(
        organisation_id=organisation_id,
        idempotency_key="old-1",
        command="declare_monitoring_data",
        fingerprint=unkeyed,
        result=None,
        recorded_by=ACTOR,
    )
    records.save(old)
    head = records.recorder.max_notification_id()
    records.declare_monitoring_data(**arguments, actor=ACTOR, idempotency_key="old-1")
    assert records.recorder.max_notification_id() == head


# Export and restore, with the key store


def test_a_restored_store_answers_the_same_and_the_erased_stay_erased(
    tmp_path,
) -> None:
    needs_postgres()
    source = f"sqlite:///{tmp_path}/source.sqlite3"
    records = open_records(source)
    story = tell(records)
    runner = CliRunner()
    stale_keys = tmp_path / "stale-keys.ndjson"
    assert (
        runner.invoke(
            main,
            [
                "export",
                str(tmp_path / "stale.ndjson"),
                "--keys",
                str(stale_keys),
                "--database",
                source,
            ],
        ).exit_code
        == 0
    )
    records.erase_participant(participant_id=story.erased, actor="admin")
    records.close()
    log_file, keys_file = tmp_path / "log.ndjson", tmp_path / "keys.ndjson"
    exported = runner.invoke(
        main, ["export", str(log_file), "--keys", str(keys_file), "--database", source]
    )
    assert exported.exit_code == 0, exported.output
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    assert found_in(log_file.read_bytes() + keys_file.read_bytes()) == []

    stores = [Store("postgresql"), Store("postgresql")]
    try:
        for store, keys in zip(stores, (keys_file, stale_keys), strict=True):
            imported = runner.invoke(
                main,
                ["import", str(log_file), "--keys", str(keys), "--database", store.url],
            )
            assert imported.exit_code == 0, imported.output
            views = open_views(source)
            restored = open_views(store.url)
            try:
                views.catch_up()
                for piece in (
                    Slice(story.organisation_id),
                    Slice(story.organisation_id, story.initiative_id),
                ):
                    assert restored.report(piece, moment=MOMENT) == views.report(
                        piece, moment=MOMENT
                    )
                target = restored.records
                assert target.repository.get(story.erased).pseudonym == ""
                assert target.repository.get(story.answer_id).free_text == ""
                assert target.repository.get(story.other).pseudonym == "Other Advisor"
                assert target.keys.key_for_reading(story.erased) is None  # type: ignore[attr-defined]
                for content in postgres_tables(store.url).values():
                    assert found_in(content) == []
            finally:
                views.records.close()
                views.close()
                restored.records.close()
                restored.close()
    finally:
        for store in stores:
            store.remove()


def test_keys_exported_under_another_master_key_are_refused(
    tmp_path, monkeypatch
) -> None:
    source = f"sqlite:///{tmp_path}/source.sqlite3"
    records = open_records(source)
    tell(records)
    records.close()
    runner = CliRunner()
    assert (
        runner.invoke(
            main,
            [
                "export",
                str(tmp_path / "log.ndjson"),
                "--keys",
                str(tmp_path / "k"),
                "--database",
                source,
            ],
        ).exit_code
        == 0
    )
    monkeypatch.setenv("FOURPI_MASTER_KEY", new_master_key())
    result = runner.invoke(
        main,
        [
            "import",
            str(tmp_path / "log.ndjson"),
            "--keys",
            str(tmp_path / "k"),
            "--database",
            f"sqlite:///{tmp_path}/target.sqlite3",
        ],
    )
    assert result.exit_code == 1
    assert "restore with the same master key" in result.output


# The command line and the API


def test_erasing_from_the_command_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    records = open_records(url)
    story = tell(records)
    head = records.recorder.max_notification_id() or 0
    records.close()
    runner = CliRunner()
    refused = runner.invoke(
        main, ["participants", "erase", str(story.erased), "--database", url]
    )
    assert refused.exit_code == 2 and "--yes" in refused.output
    records = open_records(url)
    assert records.recorder.max_notification_id() == head
    records.close()
    done = runner.invoke(
        main, ["participants", "erase", str(story.erased), "--yes", "--database", url]
    )
    assert done.exit_code == 0, done.output
    assert (
        f"is erased: the erasure is recorded in the log (position {head + 1})"
        in done.output
    )
    assert "Their key is destroyed." in done.output
    assert "checkpointed and truncated" in done.output
    again = runner.invoke(
        main, ["participants", "erase", str(story.erased), "--yes", "--database", url]
    )
    assert "already erased" in again.output and "already destroyed" in again.output
    missing = runner.invoke(
        main, ["participants", "erase", str(uuid4()), "--yes", "--database", url]
    )
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert found_in(b"".join(sqlite_files(url).values())) == []


def test_only_admins_erase_and_only_their_own_organisations_participants(
    tmp_path,
) -> None:
    url = f"sqlite:///{tmp_path}/api.sqlite3"
    store = ApiStore(url, LIMITS)
    try:
        story = tell(store.records)
        elsewhere = store.records.register_organisation(name="Elsewhere", actor="admin")
        manager = store.token(story.organisation_id, Role.MANAGER)
        foreign_admin = store.token(elsewhere, Role.ADMIN)
        own_admin = store.token(story.organisation_id, Role.ADMIN)
        global_admin = store.token(None, Role.ADMIN)
        mutation = (
            "mutation($input: EraseParticipantInput!) "
            "{ eraseParticipant(input: $input) { id logPosition } }"
        )

        async def erase(token: str, participant: str, key: str | None = None) -> Any:
            async with client(store) as http:
                return (
                    await graphql(
                        http,
                        mutation,
                        {
                            "input": {
                                "participantId": participant,
                                "idempotencyKey": key,
                            }
                        },
                        token=token,
                    )
                ).json()

        def error_of(body: Any) -> tuple[str, str | None]:
            (error,) = body["errors"]
            return error["extensions"]["code"], error["extensions"].get("field")

        head = store.head()
        assert (
            error_of(asyncio.run(erase(manager, str(story.erased))))[0] == "FORBIDDEN"
        )
        # Another organisation's participant reads as one that does not exist.
        assert error_of(asyncio.run(erase(foreign_admin, str(story.erased)))) == (
            "NOT_FOUND",
            "input.participantId",
        )
        assert error_of(asyncio.run(erase(own_admin, str(uuid4())))) == (
            "NOT_FOUND",
            "input.participantId",
        )
        assert error_of(asyncio.run(erase(own_admin, "not-an-id"))) == (
            "BAD_USER_INPUT",
            "input.participantId",
        )
        assert error_of(asyncio.run(erase(own_admin, str(story.initiative_id)))) == (
            "NOT_FOUND",
            "input.participantId",
        )
        assert store.head() == head
        first = asyncio.run(erase(own_admin, str(story.erased), "erase-once"))
        # The erasure and its command receipt.
        assert first["data"]["eraseParticipant"] == {
            "id": None,
            "logPosition": head + 2,
        }
        retried = asyncio.run(erase(own_admin, str(story.erased), "erase-once"))
        assert "errors" not in retried
        done = asyncio.run(erase(global_admin, str(story.other)))
        assert "errors" not in done
        assert store.records.repository.get(story.other).erased
    finally:
        store.close()


# As of a past position, after an erasure: the one allowed difference


def erasures_change_only_the_erased(backend: str, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        store = Store(backend)
        records = store.open()
        try:
            known = play(records, data, steps=data.draw(st.integers(10, 60)))
            views = open_views(store.url, records)
            position = views.catch_up()
            log_then = read_log(records)
            probes = [
                (
                    data.draw(slices(known)),
                    data.draw(st.integers(0, position)),
                )
                for _ in range(4)
            ]
            then = [views.report(p, as_of=at, moment=MOMENT) for p, at in probes]
            for piece, at in probes:
                assert views.report(piece, as_of=at, moment=MOMENT) == oracle_report(
                    log_then, piece, position=at, moment=MOMENT
                )
            people = [p for ps in known.participants.values() for p in ps]
            chosen = (
                data.draw(st.lists(st.sampled_from(people), max_size=3))
                if people
                else []
            )
            for person in chosen:
                records.erase_participant(participant_id=person, actor="admin")
            views.catch_up()
            log_now = read_log(records)
            for (piece, at), before in zip(probes, then, strict=True):
                after = views.report(piece, as_of=at, moment=MOMENT)
                # As of the same position, now: what the oracle says once the
                # erased people's personal data is gone from every position...
                assert after == oracle_report(
                    log_now, piece, position=at, moment=MOMENT
                )
                # ...which is what the live views said then, had those people had
                # no personal data.
                if not chosen:
                    assert after == before
            views.close()
        finally:
            records.close()
            store.remove()

    check()


def test_as_of_after_an_erasure_differs_only_by_the_erased_on_sqlite() -> None:
    erasures_change_only_the_erased("sqlite", examples=25)


def test_as_of_after_an_erasure_differs_only_by_the_erased_on_postgresql() -> None:
    needs_postgres()
    erasures_change_only_the_erased("postgresql", examples=5)


def test_a_key_file_readable_by_others_is_warned_about(
    tmp_path, monkeypatch, caplog
) -> None:
    monkeypatch.delenv("FOURPI_MASTER_KEY")
    key_file = tmp_path / "master.key"
    key_file.write_text(new_master_key())
    os.chmod(key_file, 0o644)
    monkeypatch.setenv("FOURPI_MASTER_KEY_FILE", str(key_file))
    records = open_records(f"sqlite:///{tmp_path}/w.sqlite3")
    records.close()
    assert "chmod 600" in caplog.text
    assert key_file.read_text().strip() not in caplog.text


def test_every_sqlite_connection_overwrites_what_it_deletes(tmp_path) -> None:
    """secure_delete is set on every connection, whatever SQLite was built with."""
    url = f"sqlite:///{tmp_path}/secure.sqlite3"
    records = open_records(url)
    views = open_views(url, records)
    for datastore in (cast(Any, records.factory).datastore, views.store.datastore):
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA secure_delete")
            assert cursor.fetchone()[0] == 1
    views.close()
    records.close()
