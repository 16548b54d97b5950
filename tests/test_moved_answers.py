"""An answer after a write that no answer reads (a person registered who takes no part yet, another organisation's write) is the last answer moved to the new position, and it is exactly what evaluating every fact again gives; so is the suppression pattern. After a write that some answers read, the others are the last report's as they were, and the report is still exactly what evaluating every fact again gives."""

import asyncio
from dataclasses import fields, replace
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import strawberry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_views
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import (
    BeyondKind,
    ChangeScope,
    ContributionNature,
    FeedbackMethod,
    ImpactArea,
    ParticipantKind,
    ResponseOutcome,
)
from fourpi.graphql import answer_queries, answer_types
from fourpi.graphql.answer_queries import AnswerQueries
from fourpi.graphql.context import Caller, Context, Settings
from fourpi.memo import Memo
from fourpi.privacy.suppression import patterns_of, same_table
from fourpi.projections.answers import (
    DEFAULT_PAYMENT_TARGET_DAYS,
    DifferencesAnswer,
    ImpactReport,
    PrinciplesAnswer,
    ProcessAnswer,
    Slice,
)
from fourpi.projections.disclosure import people_table, suppressed_cells
from fourpi.projections.evaluate import (
    PEOPLE_TABLES,
    REPORT_PARTS,
    REPORT_TABLES,
    Evaluation,
    evaluate,
    leaves_as_it_was,
    part_tables,
    people_figures,
)
from fourpi.projections.schema import TABLES
from fourpi.projections.views import ImpactViews
from tests import histories
from tests.helpers import ACTOR, Store
from tests.histories import Known, play, play_one
from tests.test_graphql_answers import whole_answers_query

MOMENT = date(2022, 6, 1)
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def newcomer(records: Any, data: st.DataObject, known: Known) -> None:
    """Someone registered who takes no part yet (not offered to later steps)."""
    records.register_participant(
        organisation_id=data.draw(st.sampled_from(known.organisations)),
        pseudonym="Newcomer",
        participant_kind=data.draw(st.sampled_from(list(ParticipantKind))),
        actor=ACTOR,
    )


COUNTING = (histories.assign, histories.declare, histories.attend, histories.answer)
"""Steps that change a count of people when they take in someone involved."""


def involving(records: Any, data: st.DataObject, known: Known) -> None:
    """Steps that give a history initiatives and people involved in them, so that
    later writes have someone to count."""
    for _ in range(data.draw(st.integers(4, 12))):
        play_one(records, data, known, INVOLVING)


INVOLVING = (histories.launch, histories.register, histories.assign, histories.assign)


def next_write(records: Any, data: st.DataObject, known: Known) -> None:
    """A newcomer, a step that counts people, or any use case of a random history."""
    kind = data.draw(st.sampled_from(["newcomer", "counting", "any"]))
    if kind == "newcomer":
        newcomer(records, data, known)
    else:
        play_one(records, data, known, COUNTING if kind == "counting" else None)


def fresh(views: ImpactViews, organisation: UUID, position: int) -> Any:
    """The organisation's facts read from the store, nothing kept."""
    return views.store.read_facts(organisation, position)


def report_as_afresh(views: ImpactViews, piece: Slice) -> ImpactReport:
    """The report the views hand out at the log's head, which must be what
    evaluating the facts read afresh gives."""
    position = views.catch_up()
    report = views.report(piece, moment=MOMENT)
    assert report == evaluate(
        fresh(views, piece.organisation_id, position),
        piece,
        position=position,
        moment=MOMENT,
    )
    return report


class Reads(dict[str, Any]):
    """Facts that remember which tables were read."""

    def __init__(self, facts: dict[str, Any]) -> None:
        super().__init__(facts)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return super().__getitem__(name)


@SETTINGS
@given(data=st.data())
def test_what_the_answers_read_is_declared(data: st.DataObject) -> None:
    """Every table evaluating a report or the figures about people reads is among
    REPORT_TABLES, and those a count of people is worked out from among the first;
    so a row of any other table can be taken to change no answer."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(10, 60)))
        views = open_views(store.url, records)
        position = views.catch_up()
        for organisation in known.organisations:
            facts = Reads(fresh(views, organisation, position))
            initiatives = known.initiatives[organisation]
            evaluate(
                facts,
                Slice(
                    organisation,
                    data.draw(st.none() | st.sampled_from(initiatives))
                    if initiatives
                    else None,
                    cycle=data.draw(st.none() | st.integers(1, 2)),
                ),
                position=position,
                moment=MOMENT,
            )
            people_figures(facts, organisation)
            assert facts.read <= REPORT_TABLES
        assert PEOPLE_TABLES <= REPORT_TABLES <= set(TABLES)
        views.close()
    finally:
        records.close()
        store.remove()


@settings(SETTINGS, max_examples=30)
@given(data=st.data())
def test_rows_said_to_leave_an_answer_as_it_was_do(data: st.DataObject) -> None:
    """After any history, write after write: when the rows a write added are said
    to leave the report, or the table of counts of people, as it was, evaluating
    every fact again gives the same report (but for its position), or the same
    table."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(5, 40)))
        involving(records, data, known)
        views = open_views(store.url, records)
        after = views.catch_up()
        for _ in range(data.draw(st.integers(1, 8))):
            before = after
            next_write(records, data, known)
            after = views.catch_up()
            for organisation in known.organisations:
                assert_left_as_it_was(views, known, organisation, before, after)
        views.close()
    finally:
        records.close()
        store.remove()


def assert_left_as_it_was(
    views: ImpactViews, known: Known, organisation: UUID, before: int, after: int
) -> None:
    new = views.store.read_facts(organisation, after, after=before)
    old_facts = fresh(views, organisation, before)
    new_facts = fresh(views, organisation, after)
    if leaves_as_it_was(new, REPORT_TABLES):
        pieces = [Slice(organisation)]
        pieces += [Slice(organisation, i) for i in known.initiatives[organisation]]
        for piece in pieces:
            then = evaluate(old_facts, piece, position=before, moment=MOMENT)
            now = evaluate(new_facts, piece, position=after, moment=MOMENT)
            assert replace(then, position=after) == now
    if leaves_as_it_was(new, PEOPLE_TABLES):
        assert same_table(
            people_table(people_figures(old_facts, organisation)),
            people_table(people_figures(new_facts, organisation)),
        )


@SETTINGS
@given(data=st.data())
def test_answers_and_patterns_handed_out_are_those_of_every_fact(
    data: st.DataObject,
) -> None:
    """Write after write, the report and the suppression pattern the views hand out
    (moved from the last where nothing read has changed) are those worked out from
    the facts read afresh."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(5, 40)))
        views = open_views(store.url, records)
        patterns = patterns_of(views)
        for _ in range(data.draw(st.integers(2, 8))):
            position = views.catch_up()
            for organisation in known.organisations:
                facts = fresh(views, organisation, position)
                piece = Slice(organisation)
                assert views.report(piece, moment=MOMENT) == evaluate(
                    facts, piece, position=position, moment=MOMENT
                )
                threshold = records.organisation(organisation).suppression_threshold
                assert patterns.of(organisation, position, threshold) == (
                    suppressed_cells(
                        people_table(people_figures(facts, organisation)), threshold
                    )
                )
            next_write(records, data, known)
        views.close()
    finally:
        records.close()
        store.remove()


def test_registering_a_newcomer_moves_the_last_answers_on() -> None:
    """The report and the pattern after a registration are not worked out again."""
    store = Store("sqlite")
    records = store.open()
    try:
        organisation = records.register_organisation(name="Mind", actor=ACTOR)
        views = open_views(store.url, records)
        patterns = patterns_of(views)
        first = views.report(Slice(organisation), moment=MOMENT)
        patterns.of(organisation, first.position, 5)
        records.register_participant(
            organisation_id=organisation,
            pseudonym="Newcomer",
            participant_kind=ParticipantKind.SERVICE_USER,
            actor=ACTOR,
        )
        position = views.catch_up()
        moved, reused = views.moved, patterns.reused
        report = views.report(Slice(organisation), moment=MOMENT)
        patterns.of(organisation, position, 5)
        assert report.position == position > first.position
        assert (views.moved, patterns.reused) == (moved + 1, reused + 1)
        views.close()
    finally:
        records.close()
        store.remove()


# After a write some answers read: the report in parts


def test_the_parts_of_a_report_make_up_the_whole_of_it() -> None:
    """Every answer of a report (and of its process answer) is worked out by
    exactly one part, so a report put together from parts misses none."""
    given = [
        (part.answer, field) for part in REPORT_PARTS.values() for field in part.fields
    ]
    assert len(given) == len(set(given))
    in_parts: dict[str, type[Any]] = {
        "process": ProcessAnswer,
        "differences": DifferencesAnswer,
        "principles": PrinciplesAnswer,
    }
    assert set(given) == {
        (None, field.name)
        for field in fields(ImpactReport)
        if field.name not in {"slice", "position", "moment", *in_parts}
    } | {
        (answer, field.name)
        for answer, kind in in_parts.items()
        for field in fields(kind)
        if field.name != "target_days"
    }
    for part in REPORT_PARTS.values():
        assert part.tables <= REPORT_TABLES


@SETTINGS
@given(data=st.data())
def test_each_part_of_a_report_reads_only_the_tables_it_names(
    data: st.DataObject,
) -> None:
    """Worked out alone, for any slice, each part of a report reads no table but
    those it names (so a row of any other table leaves it as it was)."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(10, 60)))
        views = open_views(store.url, records)
        position = views.catch_up()
        pieces = data.draw(st.lists(histories.slices(known), min_size=1, max_size=4))
        for piece in pieces:
            for name, part in REPORT_PARTS.items():
                facts = Reads(fresh(views, piece.organisation_id, position))
                evaluation = Evaluation(
                    facts, piece, MOMENT, DEFAULT_PAYMENT_TARGET_DAYS
                )
                assert set(part.work_out(evaluation)) == set(part.fields)
                assert facts.read <= part_tables(name, piece), name
        views.close()
    finally:
        records.close()
        store.remove()


RECORDED = (
    histories.outcome,
    histories.contribute,
    histories.contribute,
    histories.change,
    histories.change,
    histories.schedule,
    histories.owe,
)
"""Steps that give a history records for later writes to answer (an outcome to
assess, a contribution to respond to, a change it led to, a meeting to send papers
for, a payment)."""
ONE_ANSWER = (
    histories.contribute,
    histories.respond,
    histories.respond,
    histories.respond,
    histories.feedback,
    histories.feedback,
    histories.change,
    histories.assess,
    histories.assess,
    histories.papers,
    histories.reserve,
    histories.pay,
    histories.pay,
    histories.support,
    histories.review,
    histories.cycle,
    histories.prefer,
)
"""Writes each read by some answers and not by others (those often refused, such as
a second response, more often)."""


def feedback_loop() -> tuple[Any, ...]:
    """Writes of what became of contributions, which the answers keep track of
    contribution by contribution: responses that are taken (each contribution's
    first) and feedback on the contributions answered so."""
    answered: list[tuple[UUID, UUID]] = []

    def adopt(known: Known, org: UUID, data: st.DataObject) -> histories.Arguments:
        chosen = histories.pick(data, known.contributions[org])
        if chosen is None:
            return None
        return (
            "respond_to_contribution",
            {
                "contribution_id": chosen[1],
                "outcome": data.draw(
                    st.sampled_from([ResponseOutcome.ADOPTED, ResponseOutcome.DEFERRED])
                ),
                "rationale": "We can",
                "responded_on": data.draw(known.days),
            },
            lambda _: answered.append((org, chosen[1])),
        )

    def tell(known: Known, org: UUID, data: st.DataObject) -> histories.Arguments:
        chosen = histories.pick(data, [c for o, c in answered if o == org])
        if chosen is None:
            return None
        return (
            "give_feedback",
            {
                "contribution_id": chosen,
                # on or after any response (the history's days end there)
                "given_on": histories.EPOCH + timedelta(days=histories.DAYS),
                "method": FeedbackMethod.EMAIL,
                "summary": "You said, we did",
            },
            None,
        )

    return (histories.contribute, histories.change, adopt, adopt, tell, tell)


@settings(SETTINGS, max_examples=40)
@given(data=st.data())
def test_reports_after_each_write_are_those_of_every_fact(
    data: st.DataObject,
) -> None:
    """Write after write, the report the views hand out for each of a few slices,
    live or as of an earlier position (worked out from the last report of the same
    question, keeping the parts the write left as they were), is the report
    evaluated from every fact read afresh."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(5, 40)))
        involving(records, data, known)
        loop = feedback_loop()
        for _ in range(data.draw(st.integers(6, 16))):
            play_one(records, data, known, RECORDED + loop)
        # Writes that count people (roles given and ended, attendance, answers and
        # their scores), which a report keeps the meeting checks and the scores'
        # summaries of when they leave them as they were.
        writes = (ONE_ANSWER, loop, loop, (*COUNTING, histories.end_role), None)
        views = open_views(store.url, records)
        pieces = [Slice(organisation) for organisation in known.organisations]
        pieces += data.draw(st.lists(histories.slices(known), max_size=3))
        positions: list[int] = []
        for _ in range(data.draw(st.integers(2, 12))):
            positions.append(views.catch_up())
            for piece in pieces:
                as_of = data.draw(st.none() | st.sampled_from(positions))
                at = positions[-1] if as_of is None else as_of
                facts = fresh(views, piece.organisation_id, at)
                assert views.report(piece, as_of=as_of, moment=MOMENT) == evaluate(
                    facts, piece, position=at, moment=MOMENT
                )
            play_one(records, data, known, data.draw(st.sampled_from(writes)))
        views.close()
    finally:
        records.close()
        store.remove()


def an_idea(records: Any, organisation: UUID, initiative: Any) -> UUID:
    """A contribution (an idea) by the first person of one of the demo's initiatives."""
    return records.log_contribution(
        organisation_id=organisation,
        initiative_id=initiative.initiative_id,
        contributor_ids=[initiative.participant_ids[0]],
        nature=ContributionNature.IDEA,
        summary="Hold the group in the evening",
        impact_areas=(ImpactArea.DELIVERY,),
        made_on=date(2024, 1, 8),
        actor=ACTOR,
    )


def a_change_from(
    records: Any, organisation: UUID, initiative: Any, contribution: UUID, day: int
) -> UUID:
    """A change to the initiative's activity that came from the contribution, made on
    that day of January 2024."""
    return records.record_change(
        organisation_id=organisation,
        initiative_id=initiative.initiative_id,
        description="The group meets in the evening",
        impact_area=ImpactArea.DELIVERY,
        scope=ChangeScope.ACTIVITY,
        evidence="The timetable",
        changed_on=date(2024, 1, day),
        contribution_ids=[contribution],
        actor=ACTOR,
    )


def test_a_contribution_leaves_the_answers_it_is_not_part_of_as_they_were() -> None:
    """After a contribution, the answers no contribution is part of are the last
    report's (the same objects); the others are worked out again, and all of them
    are what evaluating every fact gives."""
    store = Store("sqlite")
    records = store.open()
    try:
        demo = create_demo(records)
        organisation = demo.organisation_id
        initiative = demo.initiatives[0]
        views = open_views(store.url, records)
        views.catch_up()
        before = views.report(Slice(organisation), moment=MOMENT)
        an_idea(records, organisation, initiative)
        after = report_as_afresh(views, Slice(organisation))
        assert after.differences.contributions == before.differences.contributions + 1
        assert after.principles is not before.principles
        assert after.process.feedback_days is not before.process.feedback_days
        for kept in ("intended_outcomes", "presence", "process_experience", "cycles"):
            assert getattr(after, kept) is getattr(before, kept), kept
        assert after.process.papers is before.process.papers
        # No change came from the new contribution: the chains are as they were.
        assert after.differences.changes is before.differences.changes
        views.close()
    finally:
        records.close()
        store.remove()


def test_a_response_or_feedback_to_a_contribution_a_change_came_from_changes_its_chain() -> (
    None
):
    """The chains of changes are left as they were by a new contribution, but not
    by a response to, or feedback on, a contribution that a change came from."""
    store = Store("sqlite")
    records = store.open()
    try:
        demo = create_demo(records)
        organisation = demo.organisation_id
        initiative = demo.initiatives[0]
        contribution = an_idea(records, organisation, initiative)
        a_change_from(records, organisation, initiative, contribution, day=9)
        views = open_views(store.url, records)
        views.catch_up()
        writes = [
            lambda: records.respond_to_contribution(
                organisation_id=organisation,
                contribution_id=contribution,
                outcome=ResponseOutcome.ADOPTED,
                rationale="We can",
                responded_on=date(2024, 1, 9),
                actor=ACTOR,
            ),
            lambda: records.give_feedback(
                organisation_id=organisation,
                contribution_id=contribution,
                given_on=date(2024, 1, 10),
                method=FeedbackMethod.EMAIL,
                summary="You said, we did",
                actor=ACTOR,
            ),
        ]
        for write in writes:
            before = views.report(Slice(organisation), moment=MOMENT)
            write()
            after = report_as_afresh(views, Slice(organisation))
            assert after.differences.changes != before.differences.changes
            assert after.presence is before.presence
        views.close()
    finally:
        records.close()
        store.remove()


def test_what_became_of_each_contribution_is_kept_exactly_write_after_write() -> None:
    """A contribution, a deferral, its later adoption, feedback, a change that came
    from it and a decline explained: after each, the reports for the organisation,
    the initiative and a period are those evaluated from every fact."""
    store = Store("sqlite")
    records = store.open()
    try:
        demo = create_demo(records)
        organisation = demo.organisation_id
        initiative = demo.initiatives[0]
        pieces = [
            Slice(organisation),
            Slice(organisation, initiative.initiative_id),
            Slice(organisation, period_from=date(2024, 1, 1)),
        ]
        views = open_views(store.url, records)
        contributions: list[UUID] = []

        def contribute() -> None:
            contributions.append(an_idea(records, organisation, initiative))

        def respond(outcome: ResponseOutcome, day: int, which: int = -1) -> None:
            records.respond_to_contribution(
                organisation_id=organisation,
                contribution_id=contributions[which],
                outcome=outcome,
                rationale="Because",
                responded_on=date(2024, 1, day),
                actor=ACTOR,
            )

        def tell(day: int) -> None:
            records.give_feedback(
                organisation_id=organisation,
                contribution_id=contributions[0],
                given_on=date(2024, 1, day),
                method=FeedbackMethod.EMAIL,
                summary="You said, we did",
                actor=ACTOR,
            )

        def change() -> None:
            a_change_from(records, organisation, initiative, contributions[0], day=20)

        writes = [
            contribute,
            lambda: respond(ResponseOutcome.DEFERRED, 10),
            lambda: respond(ResponseOutcome.ADOPTED, 15, 0),
            lambda: tell(18),
            lambda: tell(16),
            change,
            contribute,
            lambda: respond(ResponseOutcome.DECLINED, 9),
            lambda: tell(25),
        ]
        for write in [lambda: None, *writes]:
            write()
            for piece in pieces:
                report_as_afresh(views, piece)
        views.close()
    finally:
        records.close()
        store.remove()


def test_the_api_answers_after_a_write_as_a_process_that_evaluates_everything() -> None:
    """Every answer of the API, every field selected, asked write after write of
    views that keep their last answers (and the conversions of them) is what views
    opened afresh, which evaluate every fact, answer."""
    store = Store("sqlite")
    records = store.open()
    try:
        demo = create_demo(records)
        organisation = demo.organisation_id
        initiative = demo.initiatives[0]
        kept = open_views(store.url, records)
        schema = strawberry.Schema(query=AnswerQueries)
        query = whole_answers_query()

        def answers(views: Any) -> Any:
            caller = Caller(
                token_id=uuid4(),
                role=Role.MANAGER,
                organisation_id=organisation,
                personal_data=True,
            )
            context = Context(
                records=records, views=views, settings=Settings(), caller=caller
            )
            result = asyncio.run(
                schema.execute(query, {"slice": None}, context_value=context)
            )
            assert result.errors is None, result.errors
            return result.data

        writes = [
            lambda: None,
            lambda: an_idea(records, organisation, initiative),
            lambda: records.record_change(
                organisation_id=organisation,
                initiative_id=initiative.initiative_id,
                description="The group meets in the evening",
                impact_area=ImpactArea.DELIVERY,
                scope=ChangeScope.BEYOND,
                beyond_kind=BeyondKind.SERVICE_DELIVERY,
                evidence="The timetable",
                changed_on=date(2024, 1, 20),
                contribution_ids=list(initiative.contribution_ids[:1]),
                actor=ACTOR,
            ),
        ]
        for write in writes:
            write()
            kept.catch_up()
            given = answers(kept)
            afresh = open_views(store.url, records)
            afresh.catch_up()
            with pytest.MonkeyPatch.context() as patched:
                # and converted afresh, sharing nothing kept
                patched.setattr(answer_queries, "_CONVERTED", Memo(64))
                patched.setattr(answer_types, "_LISTS", Memo(64))
                assert given == answers(afresh)
            afresh.close()
        kept.close()
    finally:
        records.close()
        store.remove()
