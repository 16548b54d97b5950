"""The read side's answers, pinned with small hand-built facts and numbers worked out by hand."""

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from uuid import UUID, uuid4

from fourpi.domain.vocabulary import ProcessDimension, RespondentKind
from fourpi.projections.answers import DaySpread, ImpactReport, Slice
from fourpi.projections.evaluate import evaluate
from fourpi.projections.schema import TABLES, Facts, Row

ORG = UUID("00000000-0000-0000-0000-000000000001")
TODAY = date(2024, 6, 1)


class Builder:
    """Facts for one organisation: every table present, rows added in log order."""

    def __init__(self) -> None:
        self.facts: Facts = {name: [] for name in TABLES}
        self.position = 0

    def add(self, table: str, *, same_position: bool = False, **columns: object) -> Row:
        expected = {name for name, _ in TABLES[table].columns}
        assert set(columns) == expected, set(columns) ^ expected
        if not same_position:
            self.position += 1
        row: Row = {"organisation_id": ORG, "position": self.position, **columns}
        self.facts[table].append(row)
        return row

    def report(
        self, moment: date = TODAY, target_days: int = 14, **narrowing: object
    ) -> ImpactReport:
        return evaluate(
            self.facts,
            Slice(ORG, **narrowing),
            position=self.position,
            moment=moment,
            target_days=target_days,
        )

    # The domain's facts, with the defaults a test does not care about.

    def initiative(
        self, level: str = "operational", started_on: date = date(2024, 1, 1)
    ) -> UUID:
        initiative_id = uuid4()
        self.add(
            "initiatives",
            initiative_id=initiative_id,
            name="Initiative",
            level=level,
            involvement_kind="co_production",
            started_on=started_on,
        )
        return initiative_id

    def participant(self, kind: str = "service_user", pseudonym: str = "P") -> UUID:
        participant_id = uuid4()
        self.add(
            "participants",
            participant_id=participant_id,
            pseudonym=pseudonym,
            participant_kind=kind,
        )
        return participant_id

    def role(
        self,
        initiative_id: UUID,
        participant_id: UUID,
        started_on: date = date(2024, 1, 1),
        ended_on: date | None = None,
        decision_making: bool = False,
    ) -> UUID:
        role_id = uuid4()
        self.add(
            "roles",
            initiative_id=initiative_id,
            role_id=role_id,
            participant_id=participant_id,
            role="advisor",
            paid=True,
            decision_making=decision_making,
            started_on=started_on,
        )
        if ended_on is not None:
            self.add(
                "role_endings",
                initiative_id=initiative_id,
                role_id=role_id,
                ended_on=ended_on,
            )
        return role_id

    def monitoring(self, participant_id: UUID, **declared: str | None) -> None:
        columns: dict[str, str | None] = dict.fromkeys(
            (
                "age_band",
                "gender",
                "ethnic_group",
                "disability",
                "sexual_orientation",
                "education_level",
            )
        )
        columns.update(declared)
        self.add("monitoring", participant_id=participant_id, **columns)

    def outcome(self, initiative_id: UUID, *areas: str) -> UUID:
        outcome_id = uuid4()
        self.add(
            "intended_outcomes",
            initiative_id=initiative_id,
            outcome_id=outcome_id,
            description="Outcome",
            impact_areas=areas or ("delivery",),
        )
        return outcome_id

    def assess(
        self,
        initiative_id: UUID,
        outcome_id: UUID,
        assessment: str,
        assessed_on: date,
        difference: str = "unknown",
    ) -> None:
        self.add(
            "outcome_assessments",
            initiative_id=initiative_id,
            outcome_id=outcome_id,
            assessment=assessment,
            involvement_difference=difference,
            evidence="Evidence",
            assessed_on=assessed_on,
        )

    def contribution(
        self,
        initiative_id: UUID,
        made_on: date,
        *contributors: UUID,
        areas: tuple[str, ...] = ("delivery",),
    ) -> UUID:
        contribution_id = uuid4()
        self.add(
            "contributions",
            contribution_id=contribution_id,
            initiative_id=initiative_id,
            meeting_id=None,
            nature="idea",
            summary="Idea",
            impact_areas=areas,
            made_on=made_on,
        )
        for participant_id in contributors:
            self.add(
                "contributors",
                same_position=True,
                contribution_id=contribution_id,
                participant_id=participant_id,
            )
        return contribution_id

    def respond(
        self,
        contribution_id: UUID,
        outcome: str,
        responded_on: date,
        rationale: str = "Because",
    ) -> None:
        self.add(
            "responses",
            contribution_id=contribution_id,
            outcome=outcome,
            rationale=rationale,
            responded_on=responded_on,
        )

    def feedback(self, contribution_id: UUID, given_on: date) -> None:
        self.add(
            "feedback",
            contribution_id=contribution_id,
            given_on=given_on,
            method="email",
            summary="You said, we did",
        )

    def change(
        self,
        initiative_id: UUID,
        changed_on: date,
        *sources: UUID,
        scope: str = "activity",
        area: str = "delivery",
        beyond_kind: str | None = None,
    ) -> UUID:
        change_id = uuid4()
        self.add(
            "changes",
            change_id=change_id,
            initiative_id=initiative_id,
            description="Change",
            impact_area=area,
            scope=scope,
            beyond_kind=beyond_kind,
            evidence="",
            changed_on=changed_on,
        )
        for contribution_id in sources:
            self.add(
                "change_sources",
                same_position=True,
                change_id=change_id,
                contribution_id=contribution_id,
            )
        return change_id

    def meeting(
        self,
        initiative_id: UUID,
        held_at: datetime,
        *attendees: UUID,
        high_level: bool = False,
        decision_making: bool = False,
        reserve: UUID | None = None,
    ) -> UUID:
        meeting_id = uuid4()
        self.add(
            "meetings",
            meeting_id=meeting_id,
            initiative_id=initiative_id,
            title="Meeting",
            held_at=held_at,
            high_level=high_level,
            decision_making=decision_making,
        )
        for participant_id in attendees:
            self.add(
                "attendance",
                same_position=True,
                meeting_id=meeting_id,
                participant_id=participant_id,
            )
        if reserve is not None:
            self.add("meeting_reserves", meeting_id=meeting_id, participant_id=reserve)
        return meeting_id

    def payment(
        self,
        participant_id: UUID,
        owed_on: date,
        paid_on: date | None = None,
        amount: str = "10",
        kind: str = "fee",
        initiative_id: UUID | None = None,
    ) -> UUID:
        payment_id = uuid4()
        self.add(
            "payments",
            payment_id=payment_id,
            participant_id=participant_id,
            initiative_id=initiative_id,
            payment_kind=kind,
            amount=Decimal(amount),
            owed_on=owed_on,
        )
        if paid_on is not None:
            self.add("payments_made", payment_id=payment_id, paid_on=paid_on)
        return payment_id

    def limit(
        self, participant_id: UUID, limit: str | None, period: str | None
    ) -> None:
        self.add(
            "payment_preferences",
            participant_id=participant_id,
            payment_preference="fees",
            earnings_limit=None if limit is None else Decimal(limit),
            earnings_period=period,
        )

    def reference(self, scope: UUID | None, shares: dict[tuple[str, str], str]) -> None:
        first = True
        for (category, value), share in shares.items():
            self.add(
                "reference_shares",
                same_position=not first,
                initiative_id=scope,
                category=category,
                value=value,
                share=Decimal(share),
            )
            first = False

    def phase(
        self,
        initiative_id: UUID,
        number: int,
        phase: str,
        entered_on: date,
        focus_areas: tuple[str, ...] = (),
        notes: str = "",
        planned_actions: tuple[str, ...] = (),
        actions_taken_up: tuple[str, ...] = (),
    ) -> None:
        self.add(
            "cycle_phases",
            initiative_id=initiative_id,
            number=number,
            phase=phase,
            entered_on=entered_on,
            focus_areas=focus_areas,
            notes=notes,
            planned_actions=planned_actions,
            actions_taken_up=actions_taken_up,
        )

    def act(
        self,
        initiative_id: UUID,
        number: int,
        entered_on: date,
        *focus_areas: str,
        taken_up: tuple[str, ...] = (),
    ) -> None:
        self.phase(
            initiative_id,
            number,
            "act",
            entered_on,
            focus_areas=focus_areas or ("delivery",),
            actions_taken_up=taken_up,
        )


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# 1. Intended outcomes


def test_share_achieved_uses_each_outcomes_latest_assessment() -> None:
    b = Builder()
    i = b.initiative()
    reassessed, partly, unassessed, missed = (b.outcome(i) for _ in range(4))
    b.assess(i, reassessed, "not_achieved", date(2024, 2, 1), "none")
    b.assess(i, partly, "partly_achieved", date(2024, 2, 1), "some")
    b.assess(i, missed, "not_achieved", date(2024, 2, 1), "unknown")
    b.assess(i, reassessed, "achieved", date(2024, 5, 1), "significant")

    answer = b.report().intended_outcomes
    assert [o.outcome_id for o in answer.outcomes] == [
        reassessed,
        partly,
        unassessed,
        missed,
    ]
    assert answer.outcomes[0].assessment == "achieved"
    assert answer.outcomes[0].assessed_on == date(2024, 5, 1)
    assert answer.outcomes[2].assessment is None
    assert answer.by_assessment == {
        "achieved": 1,
        "partly_achieved": 1,
        "not_achieved": 1,
        "not_assessed": 1,
    }
    assert answer.share_achieved == Fraction(2, 4)

    end = b.report().end_result
    assert end.outcomes_by_difference == {"significant": 1, "some": 1, "unknown": 1}
    assert end.outcomes_changed_by_involvement == (reassessed, partly)


def test_a_period_narrows_assessments_but_never_the_outcomes() -> None:
    b = Builder()
    i = b.initiative()
    o = b.outcome(i)
    b.assess(i, o, "not_achieved", date(2024, 2, 1))
    b.assess(i, o, "achieved", date(2024, 5, 1))

    before = b.report(period_to=date(2024, 4, 30)).intended_outcomes
    assert before.outcomes[0].assessment == "not_achieved"
    assert before.share_achieved == 0

    earlier = b.report(period_to=date(2024, 1, 31)).intended_outcomes
    assert len(earlier.outcomes) == 1
    assert earlier.by_assessment == {"not_assessed": 1}


def test_no_outcomes_has_no_share() -> None:
    report = Builder().report()
    assert report.intended_outcomes.share_achieved is None
    assert report.intended_outcomes.by_assessment == {}
    assert report.differences.share_adopted_or_adapted is None
    assert report.process_experience.response_rate is None
    assert report.process.papers_spread == DaySpread(0, None, None, None)
    assert report.principles.policy is None


# Slices


def test_a_period_includes_both_ends_and_brings_responses_along() -> None:
    b = Builder()
    i = b.initiative()
    p = b.participant()
    before = b.contribution(i, date(2024, 2, 29), p)
    first = b.contribution(i, date(2024, 3, 1), p)
    last = b.contribution(i, date(2024, 3, 31), p)
    after = b.contribution(i, date(2024, 4, 1), p)
    b.respond(first, "adopted", date(2024, 6, 1))
    b.respond(last, "declined", date(2024, 3, 31))
    b.respond(before, "adopted", date(2024, 3, 15))
    b.respond(after, "adopted", date(2024, 4, 2))

    answer = b.report(
        period_from=date(2024, 3, 1), period_to=date(2024, 3, 31)
    ).differences
    assert answer.contributions == 2
    assert answer.by_response == {"adopted": 1, "declined": 1}
    assert answer.share_adopted_or_adapted == Fraction(1, 2)


def test_the_initiative_narrows_everything_but_participants() -> None:
    b = Builder()
    i, other = b.initiative(), b.initiative()
    p = b.participant()
    b.contribution(i, date(2024, 3, 1), p)
    b.contribution(other, date(2024, 3, 1), p)
    b.role(other, p)
    assert b.report().differences.contributions == 2
    assert b.report(initiative_id=i).differences.contributions == 1
    assert b.report(initiative_id=i).process_experience.involved == 0
    assert b.report(initiative_id=other).process_experience.involved == 1


def test_a_cycle_window_runs_from_its_act_to_the_next_act_exclusive() -> None:
    b = Builder()
    a, single, none = b.initiative(), b.initiative(), b.initiative()
    p = b.participant()
    b.act(a, 1, date(2024, 1, 10))
    b.phase(a, 1, "evaluate", date(2024, 2, 1), notes="found")
    b.phase(a, 1, "reflect", date(2024, 2, 2), notes="reflected")
    b.phase(a, 1, "learn", date(2024, 2, 3), notes="learned", planned_actions=("x",))
    b.act(a, 2, date(2024, 3, 1))
    b.act(single, 1, date(2024, 2, 1))
    days = {
        "a_before": (a, date(2024, 1, 9)),
        "a_first_day": (a, date(2024, 1, 10)),
        "a_last_day": (a, date(2024, 2, 29)),
        "a_next_act": (a, date(2024, 3, 1)),
        "a_late": (a, date(2024, 12, 1)),
        "single_before": (single, date(2024, 1, 31)),
        "single_late": (single, date(2024, 12, 1)),
        "none": (none, date(2024, 2, 1)),
    }
    ids = {name: b.contribution(i, day, p) for name, (i, day) in days.items()}
    names = {v: k for k, v in ids.items()}

    def kept(report: ImpactReport) -> set[str]:
        return {
            names[link.contribution_id]
            for chain in report.differences.changes
            for link in chain.contributions
        }

    # Sources are never narrowed, so one change per contribution shows which are kept.
    for name, (i, day) in days.items():
        b.change(i, day, ids[name])

    assert b.report(cycle=1).differences.contributions == 3
    assert kept(b.report(cycle=1)) == {"a_first_day", "a_last_day", "single_late"}
    assert kept(b.report(cycle=2)) == {"a_next_act", "a_late"}
    assert kept(b.report(cycle=3)) == set()
    assert kept(b.report(cycle=1, initiative_id=single)) == {"single_late"}
    assert kept(
        b.report(cycle=1, period_from=date(2024, 2, 1), period_to=date(2024, 2, 29))
    ) == {"a_last_day"}

    cycles = b.report(cycle=1).cycles
    assert [(c.initiative_id, c.number) for c in cycles] == [(a, 1), (single, 1)]


def test_a_cycle_keeps_roles_active_at_some_time_in_its_window() -> None:
    b = Builder()
    a = b.initiative()
    b.act(a, 1, date(2024, 1, 10))
    b.phase(a, 1, "evaluate", date(2024, 1, 11))
    b.phase(a, 1, "reflect", date(2024, 1, 12))
    b.phase(a, 1, "learn", date(2024, 1, 13))
    b.act(a, 2, date(2024, 3, 1))
    people = [b.participant() for _ in range(4)]
    b.role(a, people[0], date(2023, 1, 1), ended_on=date(2024, 1, 9))
    b.role(a, people[1], date(2023, 1, 1), ended_on=date(2024, 1, 10))
    b.role(a, people[2], date(2024, 2, 29))
    b.role(a, people[3], date(2024, 3, 1))
    assert b.report(cycle=1).process_experience.involved == 2
    assert b.report(cycle=2).process_experience.involved == 2
    assert b.report().process_experience.involved == 4
    assert (
        b.report(
            period_from=date(2024, 1, 10), period_to=date(2024, 2, 28)
        ).process_experience.involved
        == 1
    )


def test_a_cycle_followed_on_its_first_day_has_an_empty_window() -> None:
    b = Builder()
    a = b.initiative()
    p = b.participant()
    b.role(a, p, date(2023, 1, 1))
    b.contribution(a, date(2024, 1, 10), p)
    b.act(a, 1, date(2024, 1, 10))
    for phase in ("evaluate", "reflect", "learn"):
        b.phase(a, 1, phase, date(2024, 1, 10))
    b.act(a, 2, date(2024, 1, 10))
    assert b.report(cycle=1).process_experience.involved == 0
    assert b.report(cycle=1).differences.contributions == 0
    assert b.report(cycle=2).process_experience.involved == 1
    assert b.report(cycle=2).differences.contributions == 1


def test_an_impact_area_narrows_outcomes_contributions_changes_and_cycles() -> None:
    b = Builder()
    i = b.initiative()
    p = b.participant()
    b.outcome(i, "delivery", "ethos_and_culture")
    b.outcome(i, "delivery")
    culture = b.contribution(i, date(2024, 2, 1), p, areas=("ethos_and_culture",))
    b.contribution(i, date(2024, 2, 1), p, areas=("delivery",))
    b.change(i, date(2024, 3, 1), culture, area="ethos_and_culture")
    b.change(i, date(2024, 3, 1), culture, area="delivery")
    b.act(i, 1, date(2024, 1, 1), "ethos_and_culture", "delivery")
    b.phase(i, 1, "evaluate", date(2024, 1, 2))
    b.phase(i, 1, "reflect", date(2024, 1, 3))
    b.phase(i, 1, "learn", date(2024, 1, 4))
    b.act(i, 2, date(2024, 2, 1), "delivery")

    report = b.report(impact_area="ethos_and_culture")
    assert len(report.intended_outcomes.outcomes) == 1
    assert report.differences.contributions == 1
    assert report.differences.by_area == {"ethos_and_culture": 1}
    assert [c.number for c in report.cycles] == [1]
    assert report.principles.responsiveness == 1
    assert len(b.report().cycles) == 2


# 2. Differences


def test_differences_trace_each_change_back_through_its_contributions() -> None:
    b = Builder()
    i = b.initiative()
    p = b.participant()
    first = b.contribution(i, date(2024, 1, 5), p)
    second = b.contribution(i, date(2024, 3, 5), p)
    b.contribution(i, date(2024, 3, 6), p)
    b.respond(first, "deferred", date(2024, 1, 10), rationale="")
    b.respond(first, "adapted", date(2024, 2, 1))
    b.feedback(first, date(2024, 2, 20))
    b.feedback(first, date(2024, 2, 10))
    traced = b.change(i, date(2024, 4, 1), second, first, scope="end_result")
    b.change(i, date(2024, 4, 2))
    beyond = b.change(
        i,
        date(2024, 4, 3),
        first,
        scope="beyond",
        area="service_user_and_carer_experience",
        beyond_kind="growth_of_people_involved",
    )

    report = b.report(period_from=date(2024, 3, 1))
    answer = report.differences
    assert answer.contributions == 2
    assert answer.by_response == {"awaiting_response": 2}
    assert answer.untraced_changes == 1
    assert answer.by_scope == {"end_result": 1, "beyond": 1}
    assert answer.by_area == {"delivery": 1, "service_user_and_carer_experience": 1}
    chain = answer.changes[0]
    assert chain.change_id == traced
    assert [link.contribution_id for link in chain.contributions] == [second, first]
    link = chain.contributions[1]
    assert (link.outcome, link.responded_on) == ("adapted", date(2024, 2, 1))
    assert link.feedback_given_on == date(2024, 2, 10)
    assert chain.contributions[0].outcome is None

    assert [c.change_id for c in report.end_result.end_result_changes] == [traced]
    assert report.end_result.end_result_changes[0].contribution_ids == (second, first)
    assert list(report.beyond.by_kind) == ["growth_of_people_involved"]
    assert report.beyond.by_kind["growth_of_people_involved"][0].change_id == beyond


# 3. Process experience


def test_scores_by_kind_and_dimension_and_the_response_rate() -> None:
    b = Builder()
    i = b.initiative()
    involved = [b.participant() for _ in range(3)]
    outsider = b.participant("staff")
    for person in involved:
        b.role(i, person)

    def answer(person: UUID | None, kind: str, **scores: int) -> None:
        answer_id = uuid4()
        b.add(
            "process_answers",
            answer_id=answer_id,
            initiative_id=i,
            participant_id=person,
            respondent_kind=kind,
            stage="end_of_involvement",
            answered_on=date(2024, 5, 1),
        )
        for dimension, score in scores.items():
            b.add(
                "process_scores",
                same_position=True,
                answer_id=answer_id,
                dimension=dimension,
                score=score,
            )

    answer(outsider, "staff", listened_to=2)
    answer(involved[0], "service_user", supported=4, listened_to=5)
    answer(involved[0], "service_user", listened_to=4)
    answer(involved[1], "carer", listened_to=1)
    answer(None, "service_user", listened_to=4)

    result = b.report().process_experience
    # Every respondent kind and dimension, in vocabulary order, 0 where nobody
    # scored it: were only those scored listed, a listed one's suppressed count
    # would be at least 1.
    assert [(s.respondent_kind, s.dimension) for s in result.scores] == [
        (kind.value, dimension.value)
        for kind in RespondentKind
        for dimension in ProcessDimension
    ]
    scored = {
        (s.respondent_kind, s.dimension): s.count for s in result.scores if s.count
    }
    assert scored == {
        ("service_user", "listened_to"): 3,
        ("service_user", "supported"): 1,
        ("carer", "listened_to"): 1,
        ("staff", "listened_to"): 1,
    }
    listened = result.scores[0]
    assert listened.count == 3
    assert listened.mean == Fraction(13, 3)
    assert listened.distribution == {1: 0, 2: 0, 3: 0, 4: 2, 5: 1}
    unscored = result.scores[-1]
    assert (unscored.count, unscored.mean) == (0, None)
    assert unscored.distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert result.answers == 5
    assert result.involved == 3
    assert result.respondents == 2
    assert result.response_rate == Fraction(2, 3)


# Presence


def test_meetings_are_checked_against_the_standard() -> None:
    b = Builder()
    i = b.initiative()
    users = [b.participant("service_user") for _ in range(2)]
    carer = b.participant("carer")
    staff = b.participant("staff")
    one = b.meeting(i, at(2024, 3, 5), users[0], staff, staff)
    two = b.meeting(i, at(2024, 3, 1), users[0], carer, staff)
    three = b.meeting(i, at(2024, 3, 3), *users, carer)
    unreserved = b.meeting(i, at(2024, 3, 4), *users, carer, high_level=True)
    reserved = b.meeting(
        i, at(2024, 3, 2), *users, high_level=True, decision_making=True, reserve=staff
    )

    presence = b.report().presence
    checks = {c.meeting_id: c for c in presence.meetings}
    assert [c.meeting_id for c in presence.meetings] == [
        two,
        reserved,
        three,
        unreserved,
        one,
    ]
    assert (checks[one].service_users_and_carers, checks[one].standard) == (
        1,
        "below_minimum",
    )
    assert (checks[two].standard, checks[two].meets_standard) == ("minimum", True)
    assert (checks[three].standard, checks[three].meets_standard) == ("ideal", True)
    assert checks[unreserved].standard == "ideal"
    assert not checks[unreserved].meets_standard
    assert checks[reserved].reserve_named and checks[reserved].meets_standard
    assert presence.failing_meetings == (unreserved, one)
    assert presence.at_decision_making_meetings == 2
    assert b.report(period_to=date(2024, 3, 2)).presence.failing_meetings == ()


def test_meetings_fall_in_a_period_by_their_date_in_london() -> None:
    """The clocks went forward on 31 March 2024: 23:30 UTC was 00:30 on 1 April."""
    b = Builder()
    i = b.initiative()
    late = datetime(2024, 3, 31, 22, 30, tzinfo=UTC)  # 23:30 BST, 31 March
    meeting = b.meeting(i, late)
    b.add(
        "meeting_papers",
        meeting_id=meeting,
        sent_at=datetime(2024, 3, 24, 23, 59, tzinfo=UTC),  # 23:59 GMT
    )
    b.meeting(i, datetime(2024, 3, 31, 23, 30, tzinfo=UTC))
    in_march = b.report(period_from=date(2024, 3, 1), period_to=date(2024, 3, 31))
    assert [m.meeting_id for m in in_march.presence.meetings] == [meeting]
    assert in_march.process.papers[0].days_in_advance == 7
    assert b.report().process.papers[1].days_in_advance is None
    assert b.report().process.papers_spread == DaySpread(1, Fraction(7), 7, 7)


def test_presence_by_level_and_decision_making() -> None:
    b = Builder()
    strategic = b.initiative("strategic")
    community = b.initiative("community")
    user, carer, staff = b.participant(), b.participant("carer"), b.participant("staff")
    b.role(strategic, user, decision_making=True)
    b.role(strategic, user)
    b.role(community, user)
    b.role(community, carer)
    b.role(strategic, staff, decision_making=True)
    nobody = b.initiative("operational")
    presence = b.report().presence
    # Every level, 0 where nobody is: were only those someone is at listed, a
    # listed level's suppressed count would be at least 1.
    assert presence.by_level == {
        "individual_care_and_treatment": 0,
        "community": 2,
        "operational": 0,
        "strategic": 1,
        "monitoring_and_evaluation": 0,
    }
    assert presence.at_decision_making_level == 1
    # An initiative's own level, whoever is at it.
    assert b.report(initiative_id=nobody).presence.by_level == {"operational": 0}
    assert b.report(initiative_id=community).presence.by_level == {"community": 2}


def test_diversity_counts_every_value_against_the_latest_reference() -> None:
    b = Builder()
    i = b.initiative()
    people = [b.participant("service_user") for _ in range(3)] + [
        b.participant("carer")
    ]
    staff = b.participant("staff")
    for person in [*people, staff]:
        b.role(i, person)
    b.monitoring(people[0], gender="woman")
    b.monitoring(people[0], gender="man", disability="disabled")
    b.monitoring(people[1], gender="prefer_not_to_say")
    b.monitoring(people[2], age_band="25_34")
    b.monitoring(staff, gender="woman")
    b.reference(None, {("gender", "woman"): "0.5", ("gender", "man"): "0.5"})
    b.reference(
        None,
        {
            ("gender", "man"): "0.4",
            ("gender", "prefer_not_to_say"): "0.0",
            ("disability", "disabled"): "0.2",
        },
    )
    other = b.initiative()
    b.reference(other, {("gender", "man"): "0.1"})

    diversity = b.report(initiative_id=i).presence.diversity
    assert [c.category for c in diversity] == [
        "age_band",
        "gender",
        "ethnic_group",
        "disability",
        "sexual_orientation",
        "education_level",
    ]
    gender = diversity[1]
    assert gender.total == 4
    rows = {row.value: row for row in gender.rows}
    assert [row.value for row in gender.rows] == [
        "woman",
        "man",
        "non_binary",
        "self_described",
        "prefer_not_to_say",
        "not_recorded",
    ]
    assert (rows["woman"].count, rows["woman"].share) == (0, Fraction(0))
    assert rows["woman"].reference_share is None and rows["woman"].ratio is None
    assert rows["man"].share == Fraction(1, 4)
    assert rows["man"].reference_share == Fraction(2, 5)
    assert rows["man"].ratio == Fraction(5, 8)
    assert rows["prefer_not_to_say"].count == 1
    assert rows["prefer_not_to_say"].reference_share == 0
    assert rows["prefer_not_to_say"].ratio is None
    assert rows["not_recorded"].count == 2
    disability = {row.value: row for row in diversity[3].rows}
    assert disability["disabled"].ratio == Fraction(5, 4)
    assert disability["not_recorded"].count == 3

    scoped = b.report(initiative_id=other).presence.diversity[1]
    assert scoped.total == 0
    assert all(row.share is None and row.ratio is None for row in scoped.rows)
    assert {r.value: r.reference_share for r in scoped.rows}["man"] == Fraction(1, 10)


# Process


def test_payment_timeliness_and_its_day_spread() -> None:
    b = Builder()
    p = b.participant()
    owed = date(2024, 1, 1)
    for days in (20, 1, 14, 15, 3):
        b.payment(p, owed, date.fromordinal(owed.toordinal() + days), kind="travel")
    b.payment(p, owed)
    b.payment(p, date(2023, 12, 31), date(2024, 1, 1))

    process = b.report(period_from=owed).process
    assert process.payment_days == DaySpread(5, Fraction(14), 20, 20)
    assert process.paid_within_target == Fraction(3, 5)
    assert process.unpaid == 1
    assert process.target_days == 14
    assert b.report(period_from=owed, target_days=15).process.paid_within_target == (
        Fraction(4, 5)
    )


def test_day_spread_median_of_an_even_count_and_nearest_rank_p90() -> None:
    b = Builder()
    p = b.participant()
    owed = date(2024, 1, 1)
    for days in (10, 2, 8, 4, 6, 1, 3, 5, 7, 9):
        b.payment(p, owed, date.fromordinal(owed.toordinal() + days))
    # Ten values: median (5 + 6) / 2, p90 the 9th smallest, ceil(9.0) = 9.
    assert b.report().process.payment_days == DaySpread(10, Fraction(11, 2), 9, 10)
    b.payment(p, owed, date.fromordinal(owed.toordinal() + 30))
    # Eleven: ceil(9.9) = 10th smallest.
    assert b.report().process.payment_days == DaySpread(11, Fraction(6), 10, 30)


def test_feedback_closure_and_days_to_response() -> None:
    b = Builder()
    i = b.initiative()
    p = b.participant()
    told = b.contribution(i, date(2024, 1, 1), p)
    answered = b.contribution(i, date(2024, 1, 1), p)
    b.contribution(i, date(2024, 1, 1), p)
    b.respond(told, "deferred", date(2024, 1, 11), rationale="")
    b.respond(told, "adopted", date(2024, 2, 1))
    b.respond(answered, "adopted", date(2024, 1, 4))
    b.feedback(told, date(2024, 3, 1))
    b.feedback(told, date(2024, 2, 10))

    process = b.report().process
    assert process.feedback_closure == Fraction(1, 3)
    assert process.feedback_days == DaySpread(1, Fraction(40), 40, 40)
    assert process.response_days == DaySpread(2, Fraction(13, 2), 10, 10)
    assert process.awaiting_response == 1


def test_support_is_totalled_by_kind() -> None:
    b = Builder()
    i = b.initiative()

    def support(
        kind: str, hours: str | None, people: int, initiative: UUID | None
    ) -> None:
        b.add(
            "support",
            support_id=uuid4(),
            initiative_id=initiative,
            support_kind=kind,
            given_on=date(2024, 2, 1),
            hours=None if hours is None else Decimal(hours),
            people=people,
        )

    support("supervision", "1.5", 2, i)
    support("administrative_support", None, 1, None)
    support("supervision", None, 3, i)
    support("supervision", "0.25", 1, None)

    totals = b.report().process.support
    assert list(totals) == ["administrative_support", "supervision"]
    assert totals["supervision"].records == 3
    assert totals["supervision"].people == 6
    assert totals["supervision"].hours == Decimal("1.75")
    assert totals["administrative_support"].hours == 0
    assert b.report(initiative_id=i).process.support["supervision"].records == 2


# Principles


def test_responsiveness_and_transparency() -> None:
    b = Builder()
    i = b.initiative()
    p = b.participant()
    changed = b.contribution(i, date(2024, 1, 1), p)
    explained = b.contribution(i, date(2024, 1, 2), p)
    unexplained = b.contribution(i, date(2024, 1, 3), p)
    reconsidered = b.contribution(i, date(2024, 1, 4), p)
    b.respond(explained, "declined", date(2024, 2, 1), rationale="No budget")
    b.respond(unexplained, "deferred", date(2024, 2, 1), rationale="Later")
    b.respond(unexplained, "declined", date(2024, 3, 1), rationale="  ")
    b.respond(reconsidered, "declined", date(2024, 2, 1))
    b.respond(reconsidered, "adopted", date(2024, 3, 1))
    b.change(i, date(2024, 12, 1), changed)

    principles = b.report().principles
    assert principles.responsiveness == Fraction(1, 4)
    assert (principles.declined, principles.declines_explained) == (2, 1)
    assert principles.transparency == Fraction(1, 2)

    # A change outside the period still shows that the contribution led to change.
    narrowed = b.report(period_to=date(2024, 6, 1)).principles
    assert narrowed.responsiveness == Fraction(1, 4)
    assert b.report(period_from=date(2025, 1, 1)).principles.transparency is None


def test_policy_review_status_and_a_revision_restarting_the_clock() -> None:
    b = Builder()
    b.add(
        "policies",
        version_label="1",
        adopted_on=date(2022, 1, 15),
        review_interval_months=24,
    )
    due = b.report(moment=date(2024, 1, 15)).principles.policy
    assert due is not None
    assert due.review_due_on == date(2024, 1, 15)
    assert (due.overdue, due.days_until_due) == (False, 0)
    late = b.report(moment=date(2024, 1, 16)).principles.policy
    assert late is not None and (late.overdue, late.days_until_due) == (True, -1)

    b.add("policy_reviews", reviewed_on=date(2023, 6, 1))
    reviewed = b.report(moment=date(2024, 1, 16)).principles.policy
    assert reviewed is not None
    assert reviewed.last_reviewed_on == date(2023, 6, 1)
    assert reviewed.review_due_on == date(2025, 6, 1)
    assert not reviewed.overdue

    b.add(
        "policies",
        version_label="2",
        adopted_on=date(2023, 8, 31),
        review_interval_months=6,
    )
    revised = b.report(moment=date(2024, 3, 1)).principles.policy
    assert revised is not None
    assert revised.version_label == "2"
    assert revised.last_reviewed_on == date(2023, 8, 31)
    assert revised.review_due_on == date(2024, 2, 29)
    assert (revised.overdue, revised.days_until_due) == (True, -1)

    b.add("policy_reviews", reviewed_on=date(2024, 2, 1))
    again = b.report(moment=date(2024, 3, 1)).principles.policy
    assert again is not None and again.review_due_on == date(2024, 8, 1)
    assert not again.overdue


# Payments and benefits


def test_a_monthly_limit_crossed_in_one_month_and_about_to_be_in_another() -> None:
    b = Builder()
    i = b.initiative()
    p = b.participant(pseudonym="Robin")
    b.participant()
    b.limit(p, "50", "week")
    b.limit(p, "100", "month")
    b.payment(p, date(2024, 1, 3), date(2024, 1, 10), "60", initiative_id=i)
    b.payment(p, date(2023, 12, 20), date(2024, 1, 2), "50")
    b.payment(p, date(2024, 1, 28), date(2024, 2, 1), "80")
    b.payment(p, date(2024, 2, 15), None, "30")
    b.payment(p, date(2024, 2, 16), date(2024, 2, 17), "500", kind="expense")
    b.payment(p, date(2024, 3, 5), None, "20")

    watches = b.report(initiative_id=uuid4(), cycle=7).payments_and_benefits
    assert len(watches) == 1
    watch = watches[0]
    assert (watch.pseudonym, watch.earnings_limit, watch.earnings_period) == (
        "Robin",
        Decimal("100"),
        "month",
    )
    january, february, march = watch.periods
    assert january.period_start == date(2024, 1, 1)
    assert (january.paid, january.owed_unpaid) == (Decimal("110"), Decimal(0))
    assert january.headroom == Decimal("-10")
    assert january.crossed and not january.would_cross
    assert february.period_start == date(2024, 2, 1)
    assert (february.paid, february.owed_unpaid) == (Decimal("80"), Decimal("30"))
    assert february.headroom == Decimal("20")
    assert not february.crossed and february.would_cross
    assert (march.paid, march.owed_unpaid, march.headroom) == (
        Decimal(0),
        Decimal(20),
        Decimal(100),
    )
    assert not march.crossed and not march.would_cross

    # A period narrows fees by the date that places them: paid_on, else owed_on.
    narrowed = b.report(period_from=date(2024, 2, 1), period_to=date(2024, 2, 29))
    assert [p.period_start for p in narrowed.payments_and_benefits[0].periods] == [
        date(2024, 2, 1)
    ]


def test_a_weekly_limit_counts_weeks_from_monday() -> None:
    b = Builder()
    p = b.participant()
    b.limit(p, "40", "week")
    b.payment(p, date(2024, 3, 10), date(2024, 3, 10), "30")  # a Sunday
    b.payment(p, date(2024, 3, 11), date(2024, 3, 11), "30")  # the next Monday
    b.payment(p, date(2024, 3, 17), date(2024, 3, 17), "15")  # that Sunday
    periods = b.report().payments_and_benefits[0].periods
    assert [(x.period_start, x.paid, x.crossed) for x in periods] == [
        (date(2024, 3, 4), Decimal("30"), False),
        (date(2024, 3, 11), Decimal("45"), True),
    ]


def test_a_limit_removed_by_a_later_preference_stops_the_watch() -> None:
    b = Builder()
    p = b.participant()
    b.limit(p, "40", "week")
    b.payment(p, date(2024, 3, 10))
    assert len(b.report().payments_and_benefits) == 1
    b.limit(p, None, None)
    assert b.report().payments_and_benefits == ()


# Cycles


def test_cycles_show_what_the_next_act_took_up() -> None:
    b = Builder()
    i = b.initiative()
    b.act(i, 1, date(2024, 1, 1), "delivery", "ethos_and_culture")
    b.phase(i, 1, "evaluate", date(2024, 2, 1), notes="Findings")
    b.phase(i, 1, "reflect", date(2024, 3, 1), notes="Reflections")
    b.phase(
        i,
        1,
        "learn",
        date(2024, 4, 1),
        notes="Lessons",
        planned_actions=("a", "b", "c"),
    )
    assert b.report().cycles[0].taken_up_by_next is None
    b.act(i, 2, date(2024, 5, 1), taken_up=("c", "a"))
    b.phase(i, 2, "evaluate", date(2024, 6, 1), notes="More")

    first, second = b.report().cycles
    assert first.phase == "learn"
    assert first.focus_areas == ("delivery", "ethos_and_culture")
    assert first.entered == {
        "act": date(2024, 1, 1),
        "evaluate": date(2024, 2, 1),
        "reflect": date(2024, 3, 1),
        "learn": date(2024, 4, 1),
    }
    assert (first.findings, first.reflections, first.lessons) == (
        "Findings",
        "Reflections",
        "Lessons",
    )
    assert first.planned_actions == ("a", "b", "c")
    assert first.actions_taken_up == ()
    assert first.taken_up_by_next == ("a", "c")
    assert second.phase == "evaluate"
    assert second.actions_taken_up == ("c", "a")
    assert (second.lessons, second.planned_actions) == ("", ())
    assert second.taken_up_by_next is None

    only_first = b.report(cycle=1).cycles
    assert [c.number for c in only_first] == [1]
    assert only_first[0].taken_up_by_next == ("a", "c")


def test_the_report_echoes_its_slice_position_and_moment() -> None:
    b = Builder()
    b.initiative()
    report = b.report(moment=date(2024, 2, 2))
    assert report.slice == Slice(ORG)
    assert (report.position, report.moment) == (1, date(2024, 2, 2))
