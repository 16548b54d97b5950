"""The demo organisation's answers, worked out by hand from demo.py's tables, checked against the oracle (and reusable against any other implementation)."""

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from fourpi.bootstrap import open_records
from fourpi.demo import DemoSummary, create_demo
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import ProcessDimension, RespondentKind
from fourpi.projections.answers import DaySpread, ImpactReport, Slice
from tests.oracle import oracle_report, read_log

MOMENT = date(2023, 1, 1)

CARER_FOCUS_GROUPS = "Run carer-only focus groups at times that suit caring"
PAPER_AND_PHONE = "Offer the survey on paper and by phone"
ADVISORY_GROUP_EARLY = "Bring the advisory group in before priorities are drafted"
REPORT_BACK = "Report back to everyone who took part on what changed in the strategy"
CO_DESIGN_MEASURES = (
    "Co-design the strategy's progress measures with the advisory group"
)


def demo_expectations() -> dict[str, Any]:
    """Every number below was worked out by hand from the tables in fourpi/demo.py.

    Records are named by their index in the demo summary's id tuples (plan order,
    which is also log order): e.g. meeting 4 of the diversity initiative is
    project-meeting-2. Nothing here is computed from the event log.
    """
    return {
        # Initiative A, "Diversifying who we involve", whole history.
        "diversity": {
            # Outcomes: more-people partly (latest of 2), recruitment achieved,
            # framework achieved, relationships too early -> (1 + 2) / 4.
            "outcome_indexes": (0, 1, 2, 3),
            "by_assessment": {
                "partly_achieved": 1,
                "achieved": 2,
                "too_early_to_tell": 1,
            },
            "share_achieved": Fraction(3, 4),
            # Differences: significant, significant, some, unknown.
            "outcomes_by_difference": {"significant": 2, "some": 1, "unknown": 1},
            "outcomes_changed_by_involvement": (0, 1, 2),
            # 11 contributions. Latest responses: adopted = community-organisations,
            # committee-experience, statements-not-change (deferred then adopted),
            # recruitment-template, link-staff-recruitment, measure-who-we-involve
            # = 6; adapted = trust-and-security, advisor-videos, safer-interviews
            # = 3; declined = corporate-narrative; deferred = bank-transfer-only.
            "contributions": 11,
            "by_response": {"adopted": 6, "adapted": 3, "declined": 1, "deferred": 1},
            "share_adopted_or_adapted": Fraction(9, 11),  # (6 + 3) / 11
            # 6 changes; all but minutes-on-intranet (index 5) name sources.
            "traced_change_indexes": (0, 1, 2, 3, 4),
            "by_scope": {"activity": 1, "end_result": 2, "beyond": 2},
            "by_area": {
                "diversity_and_equality": 1,
                "policy_and_planning": 1,
                "delivery": 1,
                "outcomes_and_outputs": 1,
                "service_user_and_carer_experience": 1,
            },
            "untraced_changes": 1,
            # The barriers report (change 0) names 5 sources in this order;
            # link-staff-recruitment (contribution 7) was adopted 2021-12-07 and
            # nobody told the advisor; statements-not-change (3) was deferred on
            # 2021-10-19, then adopted 2021-11-02, told 2021-11-23.
            "barriers_report_sources": (0, 1, 2, 3, 7),
            "link_staff_recruitment": ("adopted", date(2021, 12, 7), None),
            "statements_not_change": (
                "adopted",
                date(2021, 11, 2),
                date(2021, 11, 23),
            ),
            "end_result_change_indexes": (1, 2),  # template, applicant guidance
            "beyond_by_kind": {
                "service_delivery": (3,),  # demographic framework
                "growth_of_people_involved": (4,),  # advisors' growth
            },
            # Meetings in held_at order = plan order. Service users and carers
            # attending: w1 lead + 6 advisors = 7; w2 lead + a1 a2 a3 a4 a6 = 6;
            # pm1 lead a1 a2 = 3 (staff and the "other" coordinator don't count),
            # reserve a3; w3 lead a1 a2 a3 a5 a6 = 6; pm2 lead only = 1, high
            # level, no reserve -> fails; w4 lead a1 a3 a4 a5 = 5.
            "meeting_voices": (7, 6, 3, 6, 1, 5),
            "meeting_standards": (
                "ideal",
                "ideal",
                "ideal",
                "ideal",
                "below_minimum",
                "ideal",
            ),
            "failing_meeting_indexes": (4,),
            # Papers 7, 5, 7, 7, 1, 10 days before; sorted 1 5 7 7 7 10:
            # median (7 + 7) / 2, p90 index ceil(5.4) - 1 = 5 -> 10.
            "papers_days": (7, 5, 7, 7, 1, 10),
            "papers_spread": DaySpread(6, Fraction(7), 10, 10),
            # Feedback on all but link-staff-recruitment and bank-transfer-only.
            "feedback_closure": Fraction(9, 11),
            # made_on -> first feedback: 15, 21, 28, 42, 28, 48, 112, 118, 21;
            # sorted 15 21 21 28 28 42 48 112 118: median 28, p90 index 8 -> 118.
            "feedback_days": DaySpread(9, Fraction(28), 118, 118),
            # made_on -> first response: 14 14 28 7 21 14 14 14 0 14 14; sorted
            # 0 7 14x7 21 28: median (index 5) 14, p90 index ceil(9.9) - 1 = 9 -> 21.
            "response_days": DaySpread(11, Fraction(14), 21, 28),
            "awaiting_response": 0,
            # Payments: per meeting, a fee for each attending service user who
            # chose fees (not a4, expenses only) and travel for lead a1 a2 a4 a5
            # a6: w1 12, w2 10, pm1 6, w3 11, pm2 2, w4 8 = 49, plus brief and
            # tender, childcare, draft report review, barriers report = 53.
            # w4 a5 travel unpaid -> 52 paid. Late: w2 a1 fee 38, w2 a2 fee 38,
            # pm2 lead fee 31 -> 49 / 52 within 14 days. Days: 7 (childcare),
            # 10 (draft review), 11 (tender), 11 (barriers report), 12 x 45,
            # 31, 38, 38: median 12, p90 index ceil(46.8) - 1 = 46 -> 12.
            "paid_within_target": Fraction(49, 52),
            "payment_days": DaySpread(52, Fraction(12), 12, 38),
            "unpaid": 1,
            # Sources of some change: every contribution but corporate-narrative
            # (declined) and bank-transfer-only (deferred) -> 9 / 11.
            "responsiveness": Fraction(9, 11),
            "declined": 1,
            "declines_explained": 1,
            "transparency": Fraction(1),
            # Presence: lead + 6 advisors hold roles (the coordinator is "other").
            "by_level": {"strategic": 7},
            "at_decision_making_level": 4,  # lead, advisors 1 to 3
            "at_decision_making_meetings": 3,  # pm1 lead a1 a2; pm2 lead
            # Ethnic group of those 7 against the initiative's reference
            # population (racialised adults): a6 declared nothing; Asian
            # Pakistani is a2 only: 1/7 against 0.148 = 37/250 -> 250/259.
            "ethnic_total": 7,
            "ethnic_not_recorded": 1,
            "asian_pakistani": (
                1,
                Fraction(1, 7),
                Fraction(37, 250),
                Fraction(250, 259),
            ),
            "white_british": (0, Fraction(0), None, None),
            # Process experience: 9 answers (7 service users, 2 staff). Involved:
            # coordinator, lead, 6 advisors = 8; of them all but the coordinator
            # answered -> 7 / 8 (staff answer but hold no role).
            "answers": 9,
            "involved": 8,
            "respondents": 7,
            "response_rate": Fraction(7, 8),
            # Scored: 6 service-user dimensions + 5 staff ones (staff skip
            # payment); every other kind and dimension is listed with 0.
            "score_keys": (
                *(
                    ("service_user", d)
                    for d in (
                        "listened_to",
                        "valued_and_respected",
                        "supported",
                        "information_clear_and_in_time",
                        "payment_clear_and_timely",
                        "would_take_part_again",
                    )
                ),
                *(
                    ("staff", d)
                    for d in (
                        "listened_to",
                        "valued_and_respected",
                        "supported",
                        "information_clear_and_in_time",
                        "would_take_part_again",
                    )
                ),
            ),
            # Service users, listened to: 5 4 3 5 4 4 4 -> 29 / 7.
            "service_user_listened_to": (
                7,
                Fraction(29, 7),
                {1: 0, 2: 0, 3: 1, 4: 4, 5: 2},
            ),
            # Service users, payment: 3 2 2 5 4 3 4 -> 23 / 7.
            "service_user_payment": (
                7,
                Fraction(23, 7),
                {1: 0, 2: 2, 3: 2, 4: 2, 5: 1},
            ),
            # Support: (records, people reached, hours).
            "support": {
                "supervision": (1, 1, Decimal(10)),
                "administrative_support": (1, 6, Decimal(6)),
                "emotional_support": (1, 5, Decimal(3)),
                "peer_support_or_mentoring": (1, 7, Decimal(8)),
                "training_for_service_users_and_carers": (1, 3, Decimal(4)),
                "training_for_staff": (1, 2, Decimal(3)),
            },
        },
        # The whole organisation: both initiatives.
        "organisation": {
            # A 3 of 4 achieved/partly; B priorities achieved, carers-heard
            # partly, progress too early -> 2 of 3; (3 + 2) / (4 + 3).
            "outcomes": 7,
            "share_achieved": Fraction(5, 7),
            # B adds under-25 deferred, name-carers adopted, carers-line
            # declined, anti-racism adapted, plain-english adopted.
            "contributions": 16,
            "by_response": {"adopted": 8, "adapted": 4, "declined": 2, "deferred": 2},
            "share_adopted_or_adapted": Fraction(3, 4),  # (8 + 4) / 16
            # B's 4 changes all name sources: 2 end result, 1 beyond, 1 activity.
            "traced_changes": 9,
            "by_scope": {"activity": 2, "end_result": 4, "beyond": 3},
            # B's meetings: carers' focus group 3 carers; priorities 3 + reserve;
            # measures 2 + reserve -> all meet; only A's pm2 fails.
            "meetings": 9,
            "failing": ("diversity", 4),
            # B: 9 payments all paid: 0, 10, 10, 9, 9, 9, 9, 9, 35 -> 8 in 14 days.
            "paid_within_target": Fraction(57, 61),  # (49 + 8) / (52 + 9)
            "unpaid": 1,
            # B told under-25, name-carers, carers-line, anti-racism: (9 + 4) / 16.
            "feedback_closure": Fraction(13, 16),
            # B sources: name-carers, anti-racism, plain-english: (9 + 3) / 16.
            "responsiveness": Fraction(3, 4),
            "declined": 2,
            "transparency": Fraction(1),
            # Service users and carers holding roles: A 7 + B 5 (2 advisors,
            # 3 carers), both strategic.
            "by_level": {
                "individual_care_and_treatment": 0,
                "community": 0,
                "operational": 0,
                "strategic": 12,
                "monitoring_and_evaluation": 0,
            },
            "beyond_kinds": {
                "service_delivery": 1,
                "growth_of_people_involved": 1,
                "understanding_of_mental_health": 1,
            },
            # Adopted 2020-03-01, reviewed 2022-02-15, every 24 months ->
            # due 2024-02-15; from 2023-01-01 that is 365 + 31 + 14 = 410 days.
            "policy": ("2.0", date(2020, 3, 1), date(2022, 2, 15), date(2024, 2, 15)),
            "overdue": False,
            "days_until_due": 410,
            # Advisor 3: 150.00 a month. Fees placed by paid_on (all paid 12
            # days after owed): w1 75 paid 2021-09-26, w2 75 paid 2021-10-24, w3
            # 75 paid 2021-12-05 + draft review 60 paid 2021-12-10 = 135, w4 75
            # paid 2022-03-27. Never crossed, headroom 150 - paid.
            "advisor_3": (
                Decimal("150.00"),
                "month",
                (
                    (date(2021, 9, 1), Decimal("75.00"), Decimal(0), Decimal("75.00")),
                    (date(2021, 10, 1), Decimal("75.00"), Decimal(0), Decimal("75.00")),
                    (
                        date(2021, 12, 1),
                        Decimal("135.00"),
                        Decimal(0),
                        Decimal("15.00"),
                    ),
                    (date(2022, 3, 1), Decimal("75.00"), Decimal(0), Decimal("75.00")),
                ),
            ),
            # Carer 2: 128.00 a week. Fee 60 paid Fri 2021-11-26 (week of Mon
            # 22nd), fee 75 paid Tue 2023-02-28 (week of Mon 27th).
            "carer_2": (
                Decimal("128.00"),
                "week",
                (
                    (
                        date(2021, 11, 22),
                        Decimal("60.00"),
                        Decimal(0),
                        Decimal("68.00"),
                    ),
                    (date(2023, 2, 27), Decimal("75.00"), Decimal(0), Decimal("53.00")),
                ),
            ),
        },
        # Initiative B, "Service user and carer voice in our five-year strategy".
        "strategy_cycles": (
            # (number, phase, entered, planned, taken up, taken up by next)
            (
                1,
                "learn",
                {
                    "act": date(2021, 4, 6),
                    "evaluate": date(2021, 7, 15),
                    "reflect": date(2021, 8, 10),
                    "learn": date(2021, 9, 7),
                },
                (CARER_FOCUS_GROUPS, PAPER_AND_PHONE, ADVISORY_GROUP_EARLY),
                (),
                (CARER_FOCUS_GROUPS, ADVISORY_GROUP_EARLY),  # not paper and phone
            ),
            (
                2,
                "learn",
                {
                    "act": date(2021, 10, 4),
                    "evaluate": date(2022, 3, 10),
                    "reflect": date(2022, 4, 5),
                    "learn": date(2022, 5, 10),
                },
                (REPORT_BACK, CO_DESIGN_MEASURES),
                (CARER_FOCUS_GROUPS, ADVISORY_GROUP_EARLY),
                (CO_DESIGN_MEASURES,),  # not report back
            ),
            (3, "act", {"act": date(2023, 1, 9)}, (), (CO_DESIGN_MEASURES,), None),
        ),
        # Initiative B, cycle 2: its window runs 2021-10-04 up to 2023-01-09.
        "strategy_cycle_2": {
            # Outcomes are kept, but only assessments in the window: priorities
            # achieved and carers-heard partly (2022-06-30); progress-measured was
            # assessed 2023-02-07, after the window -> not assessed. 2 / 3.
            "by_assessment": {"achieved": 1, "partly_achieved": 1, "not_assessed": 1},
            "share_achieved": Fraction(2, 3),
            # Made in the window: name-carers (adopted), carers-line (declined),
            # anti-racism (adapted); under-25 (2021-06) and plain-english
            # (2023-01-24) fall outside. 2 / 3.
            "contributions": 3,
            "by_response": {"adopted": 1, "declined": 1, "adapted": 1},
            "share_adopted_or_adapted": Fraction(2, 3),
            # Changed in the window: names-carers and anti-racism (end result,
            # 2022-05-26), evidence pack (beyond, 2022-09-12); not the progress
            # report (2023-03-01).
            "by_scope": {"end_result": 2, "beyond": 1},
            # Focus group (2021-11-16) and priorities (2022-01-25); both meet.
            "meetings": 2,
            "failing": 0,
            # Roles active in the window: 2 advisors, 3 carers. Answers in it:
            # carer-3, carer-1, carer-2, strategy advisor 1, strategy lead (staff,
            # no role) -> 4 of the 5 involved.
            "answers": 5,
            "involved": 5,
            "response_rate": Fraction(4, 5),
            # Owed in the window: 3 in November 2021, 4 in January 2022, all paid
            # within 10 days; the 2023 ones fall outside.
            "payments_paid": 7,
            "paid_within_target": Fraction(1),
            "cycle_numbers": (2,),
        },
    }


def demo_slices(summary: DemoSummary) -> dict[str, Slice]:
    diversity, strategy = summary.initiatives
    return {
        "organisation": Slice(organisation_id=summary.organisation_id),
        "diversity": Slice(summary.organisation_id, diversity.initiative_id),
        "strategy": Slice(summary.organisation_id, strategy.initiative_id),
        "strategy_cycle_2": Slice(
            summary.organisation_id, strategy.initiative_id, cycle=2
        ),
    }


def assert_matches_demo(
    summary: DemoSummary, report_for: Callable[[Slice], ImpactReport]
) -> None:
    """Checks any implementation's reports (report_for(slice)) on the demo against
    the hand-worked numbers of demo_expectations()."""
    expected = demo_expectations()
    slices = demo_slices(summary)
    diversity_ids, strategy_ids = summary.initiatives
    ids = {"diversity": diversity_ids, "strategy": strategy_ids}

    # Initiative A
    a = expected["diversity"]
    report = report_for(slices["diversity"])
    assert report.slice == slices["diversity"]
    outcomes = report.intended_outcomes
    assert [o.outcome_id for o in outcomes.outcomes] == [
        diversity_ids.outcome_ids[i] for i in a["outcome_indexes"]
    ]
    assert outcomes.by_assessment == a["by_assessment"]
    assert outcomes.share_achieved == a["share_achieved"]
    assert report.end_result.outcomes_by_difference == a["outcomes_by_difference"]
    assert report.end_result.outcomes_changed_by_involvement == tuple(
        diversity_ids.outcome_ids[i] for i in a["outcomes_changed_by_involvement"]
    )

    differences = report.differences
    assert differences.contributions == a["contributions"]
    assert differences.by_response == a["by_response"]
    assert differences.share_adopted_or_adapted == a["share_adopted_or_adapted"]
    assert [c.change_id for c in differences.changes] == [
        diversity_ids.change_ids[i] for i in a["traced_change_indexes"]
    ]
    assert differences.by_scope == a["by_scope"]
    assert differences.by_area == a["by_area"]
    assert differences.untraced_changes == a["untraced_changes"]
    barriers = differences.changes[0]
    assert [link.contribution_id for link in barriers.contributions] == [
        diversity_ids.contribution_ids[i] for i in a["barriers_report_sources"]
    ]
    links = {link.contribution_id: link for link in barriers.contributions}
    for name, index in (("link_staff_recruitment", 7), ("statements_not_change", 3)):
        link = links[diversity_ids.contribution_ids[index]]
        assert (link.outcome, link.responded_on, link.feedback_given_on) == a[name]

    assert [c.change_id for c in report.end_result.end_result_changes] == [
        diversity_ids.change_ids[i] for i in a["end_result_change_indexes"]
    ]
    assert {
        kind: tuple(c.change_id for c in changes)
        for kind, changes in report.beyond.by_kind.items()
    } == {
        kind: tuple(diversity_ids.change_ids[i] for i in indexes)
        for kind, indexes in a["beyond_by_kind"].items()
    }

    presence = report.presence
    assert [m.meeting_id for m in presence.meetings] == list(diversity_ids.meeting_ids)
    assert (
        tuple(m.service_users_and_carers for m in presence.meetings)
        == a["meeting_voices"]
    )
    assert tuple(m.standard for m in presence.meetings) == a["meeting_standards"]
    assert presence.failing_meetings == tuple(
        diversity_ids.meeting_ids[i] for i in a["failing_meeting_indexes"]
    )
    assert presence.by_level == a["by_level"]
    assert presence.at_decision_making_level == a["at_decision_making_level"]
    assert presence.at_decision_making_meetings == a["at_decision_making_meetings"]
    ethnic = next(d for d in presence.diversity if d.category == "ethnic_group")
    assert ethnic.total == a["ethnic_total"]
    rows = {row.value: row for row in ethnic.rows}
    assert rows["not_recorded"].count == a["ethnic_not_recorded"]
    for value in ("asian_pakistani", "white_british"):
        row = rows[value]
        assert (row.count, row.share, row.reference_share, row.ratio) == a[value]

    process = report.process
    assert tuple(p.days_in_advance for p in process.papers) == a["papers_days"]
    assert process.papers_spread == a["papers_spread"]
    assert process.feedback_closure == a["feedback_closure"]
    assert process.feedback_days == a["feedback_days"]
    assert process.response_days == a["response_days"]
    assert process.awaiting_response == a["awaiting_response"]
    assert process.target_days == 14
    assert process.paid_within_target == a["paid_within_target"]
    assert process.payment_days == a["payment_days"]
    assert process.unpaid == a["unpaid"]
    assert {
        kind: (total.records, total.people, total.hours)
        for kind, total in process.support.items()
    } == a["support"]

    principles = report.principles
    assert principles.responsiveness == a["responsiveness"]
    assert principles.declined == a["declined"]
    assert principles.declines_explained == a["declines_explained"]
    assert principles.transparency == a["transparency"]

    experience = report.process_experience
    assert experience.answers == a["answers"]
    assert experience.involved == a["involved"]
    assert experience.respondents == a["respondents"]
    assert experience.response_rate == a["response_rate"]
    assert [(s.respondent_kind, s.dimension) for s in experience.scores] == [
        (str(kind), str(dimension))
        for kind in RespondentKind
        for dimension in ProcessDimension
    ]
    assert (
        tuple((s.respondent_kind, s.dimension) for s in experience.scores if s.count)
        == a["score_keys"]
    )
    scores = {(s.respondent_kind, s.dimension): s for s in experience.scores}
    for key, dimension in (
        ("service_user_listened_to", "listened_to"),
        ("service_user_payment", "payment_clear_and_timely"),
    ):
        summary_ = scores[("service_user", dimension)]
        assert (summary_.count, summary_.mean, summary_.distribution) == a[key]

    # The whole organisation
    o = expected["organisation"]
    report = report_for(slices["organisation"])
    assert len(report.intended_outcomes.outcomes) == o["outcomes"]
    assert report.intended_outcomes.share_achieved == o["share_achieved"]
    assert report.differences.contributions == o["contributions"]
    assert report.differences.by_response == o["by_response"]
    assert report.differences.share_adopted_or_adapted == o["share_adopted_or_adapted"]
    assert len(report.differences.changes) == o["traced_changes"]
    assert report.differences.by_scope == o["by_scope"]
    assert len(report.presence.meetings) == o["meetings"]
    initiative, index = o["failing"]
    assert report.presence.failing_meetings == (ids[initiative].meeting_ids[index],)
    assert report.presence.by_level == o["by_level"]
    assert report.process.paid_within_target == o["paid_within_target"]
    assert report.process.unpaid == o["unpaid"]
    assert report.process.feedback_closure == o["feedback_closure"]
    assert report.principles.responsiveness == o["responsiveness"]
    assert report.principles.declined == o["declined"]
    assert report.principles.transparency == o["transparency"]
    assert {k: len(v) for k, v in report.beyond.by_kind.items()} == o["beyond_kinds"]
    policy = report.principles.policy
    assert policy is not None
    assert (
        policy.version_label,
        policy.adopted_on,
        policy.last_reviewed_on,
        policy.review_due_on,
    ) == o["policy"]
    assert policy.overdue is o["overdue"]
    assert policy.days_until_due == o["days_until_due"]
    # The earnings watch is the person's, whatever the slice's initiative.
    for which in ("organisation", "diversity"):
        watches = {
            w.pseudonym: w for w in report_for(slices[which]).payments_and_benefits
        }
        assert set(watches) == {"Advisor 3", "Carer 2"}
        for pseudonym, key in (("Advisor 3", "advisor_3"), ("Carer 2", "carer_2")):
            watch = watches[pseudonym]
            limit, period, periods = o[key]
            assert (watch.earnings_limit, watch.earnings_period) == (limit, period)
            assert (
                tuple(
                    (p.period_start, p.paid, p.owed_unpaid, p.headroom)
                    for p in watch.periods
                )
                == periods
            )
            assert not any(p.crossed or p.would_cross for p in watch.periods)

    # Initiative B's cycles
    report = report_for(slices["strategy"])
    assert (
        tuple(
            (
                c.number,
                c.phase,
                c.entered,
                c.planned_actions,
                c.actions_taken_up,
                c.taken_up_by_next,
            )
            for c in report.cycles
        )
        == expected["strategy_cycles"]
    )
    assert all(c.initiative_id == strategy_ids.initiative_id for c in report.cycles)

    b2 = expected["strategy_cycle_2"]
    report = report_for(slices["strategy_cycle_2"])
    assert report.intended_outcomes.by_assessment == b2["by_assessment"]
    assert report.intended_outcomes.share_achieved == b2["share_achieved"]
    assert report.differences.contributions == b2["contributions"]
    assert report.differences.by_response == b2["by_response"]
    assert report.differences.share_adopted_or_adapted == b2["share_adopted_or_adapted"]
    assert report.differences.by_scope == b2["by_scope"]
    assert len(report.presence.meetings) == b2["meetings"]
    assert len(report.presence.failing_meetings) == b2["failing"]
    assert report.process_experience.answers == b2["answers"]
    assert report.process_experience.involved == b2["involved"]
    assert report.process_experience.response_rate == b2["response_rate"]
    assert report.process.payment_days.count == b2["payments_paid"]
    assert report.process.paid_within_target == b2["paid_within_target"]
    assert tuple(c.number for c in report.cycles) == b2["cycle_numbers"]


@pytest.fixture
def demo(tmp_path) -> Iterator[tuple[InvolvementRecords, DemoSummary]]:
    records = open_records(f"sqlite:///{tmp_path}/demo.sqlite3")
    summary = create_demo(records)
    yield records, summary
    records.close()


def test_the_oracle_matches_the_hand_worked_demo(demo) -> None:
    records, summary = demo
    log = read_log(records)
    position = records.recorder.max_notification_id()
    assert [at for at, _ in log] == list(range(1, position + 1))

    def report_for(slice: Slice) -> ImpactReport:
        return oracle_report(log, slice, position=position, moment=MOMENT)

    assert_matches_demo(summary, report_for)


def test_the_oracle_sees_only_the_log_up_to_its_position(demo) -> None:
    """Before the diversity initiative's first contribution nothing is counted; the
    strategy initiative's third cycle is not known before it started."""
    records, summary = demo
    log = read_log(records)
    diversity, strategy = summary.initiatives
    first_contribution = next(
        at for at, e in log if e.originator_id == diversity.contribution_ids[0]
    )
    before = oracle_report(
        log,
        Slice(summary.organisation_id, diversity.initiative_id),
        position=first_contribution - 1,
        moment=MOMENT,
    )
    assert before.differences.contributions == 0
    assert before.differences.share_adopted_or_adapted is None
    assert before.process.feedback_closure is None
    assert before.process.feedback_days == DaySpread(0, None, None, None)
    # Outcomes are recorded before contributions but assessed only at the end.
    assert before.intended_outcomes.by_assessment == {"not_assessed": 4}
    assert before.intended_outcomes.share_achieved == Fraction(0)
    assert before.principles.transparency is None
    third_cycle = next(
        at
        for at, e in log
        if e.originator_id == strategy.initiative_id and getattr(e, "number", 0) == 3
    )
    strategy_slice = Slice(summary.organisation_id, strategy.initiative_id)
    cycles = oracle_report(
        log, strategy_slice, position=third_cycle - 1, moment=MOMENT
    ).cycles
    assert [c.number for c in cycles] == [1, 2]
    assert cycles[1].taken_up_by_next is None
    cycles = oracle_report(
        log, strategy_slice, position=third_cycle, moment=MOMENT
    ).cycles
    assert [c.number for c in cycles] == [1, 2, 3]
    assert cycles[1].taken_up_by_next == (CO_DESIGN_MEASURES,)


def test_another_organisation_sees_none_of_the_demo(demo) -> None:
    records, _ = demo
    other = records.register_organisation(name="Elsewhere", actor="admin")
    log = read_log(records)
    report = oracle_report(
        log,
        Slice(other),
        position=records.recorder.max_notification_id(),
        moment=MOMENT,
    )
    assert report.intended_outcomes.outcomes == ()
    assert report.differences.contributions == 0
    assert report.presence.meetings == ()
    assert report.principles.policy is None
    assert report.payments_and_benefits == ()
    assert report.cycles == ()
