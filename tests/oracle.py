"""A deliberately simple test oracle for the 4PI answers, computed straight from the list of domain events."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from fourpi.config import time_zone
from fourpi.domain import process_experience
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.calendar import add_months
from fourpi.domain.change import Change
from fourpi.domain.contribution import Contribution
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.organisation import Organisation
from fourpi.domain.participant import Participant
from fourpi.domain.payment import Payment
from fourpi.domain.policy import InvolvementPolicy
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.reference_population import ReferencePopulation
from fourpi.domain.support import Support
from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    BeyondKind,
    CyclePhase,
    InvolvementLevel,
    MonitoringCategory,
    ProcessDimension,
    RespondentKind,
    SupportKind,
)
from fourpi.projections.answers import (
    DEFAULT_PAYMENT_TARGET_DAYS,
    NOT_RECORDED,
    BeyondAnswer,
    CategoryDiversity,
    ChangeChain,
    ChangeSummary,
    ContributionLink,
    CycleView,
    DaySpread,
    DifferencesAnswer,
    DiversityRow,
    EarningsPeriodTotal,
    EarningsWatch,
    EndResultAnswer,
    ImpactReport,
    IntendedOutcomesAnswer,
    MeetingCheck,
    OutcomeStatus,
    PapersNotice,
    PolicyStatus,
    PresenceAnswer,
    PrinciplesAnswer,
    ProcessAnswer,
    ProcessExperienceAnswer,
    ScoreSummary,
    Slice,
    SupportTotal,
)

VOICES = ("service_user", "carer")


def read_log(records: InvolvementRecords) -> list[tuple[int, Any]]:
    """Every stored event, as (log position, domain event), in position order."""
    notifications = records.recorder.select_notifications(start=1, limit=10**9)
    return [(n.id, records.mapper.to_domain_event(n)) for n in notifications]


def text(value: Any) -> str | None:
    """A vocabulary member as its plain string value (None stays None)."""
    return None if value is None else str(value)


# Folding the log into plain dictionaries of what is known


def fold(log: list[tuple[int, Any]], organisation_id: UUID, position: int) -> dict:
    known: dict[str, Any] = {
        "initiatives": {},
        "outcomes": {},
        "roles": {},
        "cycles": {},
        "participants": {},
        "meetings": {},
        "contributions": {},
        "changes": {},
        "answers": {},
        "payments": {},
        "support": {},
        "populations": {},
        "policy": None,
    }
    for at, event in log:
        if at > position or event.organisation_id != organisation_id:
            continue
        apply(known, at, event)
    # An erasure reaches back: once anyone is erased, no answer, whatever position it
    # is asked as of, uses their personal data. Only what the log says now counts.
    erased = {e.originator_id for _, e in log if isinstance(e, Participant.Erased)}
    for person_id, person in known["participants"].items():
        if person_id in erased:
            person |= {
                "pseudonym": "",
                "monitoring": {},
                "earnings_limit": None,
                "earnings_period": None,
            }
    return known


def apply(known: dict, at: int, e: Any) -> None:
    """One event changes what is known; the latest event always wins."""
    record_id = e.originator_id
    if isinstance(e, Organisation.Registered | CommandReceipt.Issued):
        return
    # Initiatives, their outcomes, roles and cycles
    if isinstance(e, Initiative.Launched):
        known["initiatives"][record_id] = {
            "position": at,
            "level": text(e.level),
            "started_on": e.started_on,
        }
    elif isinstance(e, Initiative.IntendedOutcomeRecorded):
        known["outcomes"][e.outcome_id] = {
            "position": at,
            "initiative_id": record_id,
            "description": e.description,
            "impact_areas": tuple(text(a) for a in e.impact_areas),
            "assessments": [],
        }
    elif isinstance(e, Initiative.IntendedOutcomeAssessed):
        known["outcomes"][e.outcome_id]["assessments"].append(
            {
                "position": at,
                "assessment": text(e.assessment),
                "difference": text(e.involvement_difference),
                "evidence": e.evidence,
                "assessed_on": e.assessed_on,
            }
        )
    elif isinstance(e, Initiative.RoleAssigned):
        known["roles"][e.role_id] = {
            "position": at,
            "initiative_id": record_id,
            "participant_id": e.participant_id,
            "decision_making": e.decision_making,
            "started_on": e.started_on,
            "ended_on": None,
        }
    elif isinstance(e, Initiative.RoleEnded):
        known["roles"][e.role_id]["ended_on"] = e.ended_on
    elif isinstance(e, Initiative.CycleEnteredAct):
        known["cycles"][(record_id, e.number)] = {
            "position": at,
            "initiative_id": record_id,
            "number": e.number,
            "phase": "act",
            "focus_areas": tuple(text(a) for a in e.focus_areas),
            "entered": {"act": e.entered_on},
            "findings": "",
            "reflections": "",
            "lessons": "",
            "planned_actions": (),
            "actions_taken_up": tuple(e.actions_taken_up),
        }
    elif isinstance(e, Initiative.CycleEnteredEvaluate):
        cycle = known["cycles"][(record_id, e.number)]
        cycle["phase"] = "evaluate"
        cycle["entered"]["evaluate"] = e.entered_on
        cycle["findings"] = e.findings
    elif isinstance(e, Initiative.CycleEnteredReflect):
        cycle = known["cycles"][(record_id, e.number)]
        cycle["phase"] = "reflect"
        cycle["entered"]["reflect"] = e.entered_on
        cycle["reflections"] = e.reflections
    elif isinstance(e, Initiative.CycleEnteredLearn):
        cycle = known["cycles"][(record_id, e.number)]
        cycle["phase"] = "learn"
        cycle["entered"]["learn"] = e.entered_on
        cycle["lessons"] = e.lessons
        cycle["planned_actions"] = tuple(e.planned_actions)
    # Participants
    elif isinstance(e, Participant.Registered):
        known["participants"][record_id] = {
            "position": at,
            "pseudonym": e.pseudonym,
            "kind": text(e.participant_kind),
            "monitoring": {},
            "earnings_limit": None,
            "earnings_period": None,
        }
    elif isinstance(e, Participant.MonitoringDataDeclared):
        known["participants"][record_id]["monitoring"] = {
            str(category): text(getattr(e.monitoring, str(category)))
            for category in MonitoringCategory
        }
    elif isinstance(e, Participant.PaymentPreferenceSet):
        person = known["participants"][record_id]
        person["earnings_limit"] = e.earnings_limit
        person["earnings_period"] = text(e.earnings_period)
    elif isinstance(e, Participant.Erased):
        pass  # applied to every position in fold()
    # Meetings
    elif isinstance(e, Meeting.Scheduled):
        known["meetings"][record_id] = {
            "position": at,
            "initiative_id": e.initiative_id,
            "title": e.title,
            "held_at": e.held_at,
            "high_level": e.high_level,
            "decision_making": e.decision_making,
            "sent_at": None,
            "attendees": [],
            "reserve_named": False,
        }
    elif isinstance(e, Meeting.PapersSent):
        known["meetings"][record_id]["sent_at"] = e.sent_at
    elif isinstance(e, Meeting.AttendanceRecorded):
        known["meetings"][record_id]["attendees"].extend(e.participant_ids)
    elif isinstance(e, Meeting.ReserveNamed):
        known["meetings"][record_id]["reserve_named"] = True
    elif isinstance(e, Meeting.ReasonableAdjustmentMade):
        pass
    # Contributions, responses and feedback
    elif isinstance(e, Contribution.Logged):
        known["contributions"][record_id] = {
            "position": at,
            "initiative_id": e.initiative_id,
            "summary": e.summary,
            "made_on": e.made_on,
            "impact_areas": tuple(text(a) for a in e.impact_areas),
            "responses": [],
            "feedback": [],
        }
    elif isinstance(e, Contribution.Responded):
        known["contributions"][record_id]["responses"].append(
            {
                "position": at,
                "outcome": text(e.outcome),
                "rationale": e.rationale,
                "responded_on": e.responded_on,
            }
        )
    elif isinstance(e, Contribution.FeedbackGiven):
        known["contributions"][record_id]["feedback"].append(
            {"position": at, "given_on": e.given_on}
        )
    # Changes
    elif isinstance(e, Change.Recorded):
        known["changes"][record_id] = {
            "position": at,
            "initiative_id": e.initiative_id,
            "description": e.description,
            "impact_area": text(e.impact_area),
            "scope": text(e.scope),
            "beyond_kind": text(e.beyond_kind),
            "changed_on": e.changed_on,
            "contribution_ids": tuple(e.contribution_ids),
        }
    # Process experience
    elif isinstance(e, process_experience.ProcessExperienceAnswer.Recorded):
        known["answers"][record_id] = {
            "position": at,
            "initiative_id": e.initiative_id,
            "participant_id": e.participant_id,
            "respondent_kind": text(e.respondent_kind),
            "scores": {str(d): s for d, s in e.scores.items()},
            "answered_on": e.answered_on,
        }
    # Payments
    elif isinstance(e, Payment.Owed):
        known["payments"][record_id] = {
            "position": at,
            "participant_id": e.participant_id,
            "initiative_id": e.initiative_id,
            "kind": text(e.payment_kind),
            "amount": e.amount,
            "owed_on": e.owed_on,
            "paid_on": None,
        }
    elif isinstance(e, Payment.Paid):
        known["payments"][record_id]["paid_on"] = e.paid_on
    # Support and training
    elif isinstance(e, Support.Given):
        known["support"][record_id] = {
            "position": at,
            "initiative_id": e.initiative_id,
            "kind": text(e.support_kind),
            "people": len(e.participant_ids),
            "hours": e.hours,
            "given_on": e.given_on,
        }
    # Reference populations
    elif isinstance(e, ReferencePopulation.Defined):
        known["populations"][record_id] = {
            "initiative_id": e.initiative_id,
            "shares": e.shares,
        }
    elif isinstance(e, ReferencePopulation.Revised):
        known["populations"][record_id]["shares"] = e.shares
    # The involvement policy
    elif isinstance(e, InvolvementPolicy.Adopted | InvolvementPolicy.Revised):
        known["policy"] = {
            "version_label": e.version_label,
            "adopted_on": e.adopted_on,
            "interval": e.review_interval_months,
            "reviews": [],
        }
    elif isinstance(e, InvolvementPolicy.Reviewed):
        known["policy"]["reviews"].append(e.reviewed_on)
    else:
        raise TypeError(f"the oracle does not know the event {type(e).__qualname__}")


def in_log_order(records: dict) -> list[tuple[Any, dict]]:
    """(id, facts) pairs sorted by the log position that created them."""
    return sorted(records.items(), key=lambda item: item[1]["position"])


def latest(rows: list[dict]) -> dict | None:
    """The row with the highest log position."""
    return max(rows, key=lambda row: row["position"]) if rows else None


# How a slice narrows facts


def initiatives_in_scope(known: dict, s: Slice) -> set[UUID]:
    return {i for i in known["initiatives"] if s.initiative_id in (None, i)}


def cycle_window(known: dict, initiative_id: UUID, number: int) -> tuple | None:
    """(first day, first day after) of an initiative's cycle; None without it."""
    this = known["cycles"].get((initiative_id, number))
    if this is None:
        return None
    following = known["cycles"].get((initiative_id, number + 1))
    end = None if following is None else following["entered"]["act"]
    return this["entered"]["act"], end


def in_period(s: Slice, day: date) -> bool:
    if s.period_from is not None and day < s.period_from:
        return False
    return not (s.period_to is not None and day > s.period_to)


def dated_fact_kept(
    known: dict, s: Slice, initiative_id: UUID | None, day: date
) -> bool:
    """A dated fact: its initiative in scope, its date in the period and in the
    initiative's cycle window. A fact of no initiative is kept only when the slice
    names neither an initiative nor a cycle."""
    if initiative_id is None:
        if s.initiative_id is not None or s.cycle is not None:
            return False
    elif initiative_id not in initiatives_in_scope(known, s):
        return False
    if not in_period(s, day):
        return False
    if s.cycle is not None:
        window = cycle_window(known, initiative_id, s.cycle)
        if window is None:
            return False
        start, end = window
        if day < start or (end is not None and day >= end):
            return False
    return True


def active_between(role: dict, first: date | None, last: date | None) -> bool:
    """Started on or before `last`, and not ended before `first` (both inclusive)."""
    if last is not None and role["started_on"] > last:
        return False
    return not (
        first is not None and role["ended_on"] is not None and role["ended_on"] < first
    )


def role_kept(known: dict, s: Slice, role: dict) -> bool:
    if role["initiative_id"] not in initiatives_in_scope(known, s):
        return False
    if not active_between(role, s.period_from, s.period_to):
        return False
    if s.cycle is not None:
        window = cycle_window(known, role["initiative_id"], s.cycle)
        if window is None:
            return False
        start, end = window
        if end is not None and end <= start:
            return False
        last = None if end is None else end - timedelta(days=1)
        if not active_between(role, start, last):
            return False
    return True


def tagged(s: Slice, areas: tuple[str | None, ...]) -> bool:
    return s.impact_area is None or s.impact_area in areas


def spread(values: list[int]) -> DaySpread:
    if not values:
        return DaySpread(count=0, median=None, p90=None, longest=None)
    ordered = sorted(values)
    n = len(ordered)
    if n % 2 == 1:
        median = Fraction(ordered[n // 2])
    else:
        median = Fraction(ordered[n // 2 - 1] + ordered[n // 2], 2)
    rank = -(-9 * n // 10)  # ceil(0.9 * n), in whole numbers
    return DaySpread(count=n, median=median, p90=ordered[rank - 1], longest=ordered[-1])


def share(part: int, whole: int) -> Fraction | None:
    return None if whole == 0 else Fraction(part, whole)


def counted(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def local_day(moment: Any) -> date:
    return moment.astimezone(time_zone()).date()


# The report


def oracle_report(
    log: list[tuple[int, Any]],
    slice: Slice,
    *,
    position: int,
    moment: date,
    target_days: int = DEFAULT_PAYMENT_TARGET_DAYS,
) -> ImpactReport:
    s = slice
    known = fold(log, s.organisation_id, position)
    people = known["participants"]

    def is_voice(participant_id: UUID) -> bool:
        person = people.get(participant_id)
        return person is not None and person["kind"] in VOICES

    # 1. Intended outcomes, each with its latest assessment in the slice
    outcomes: list[OutcomeStatus] = []
    latest_assessment: dict[UUID, dict | None] = {}
    for outcome_id, o in in_log_order(known["outcomes"]):
        if o["initiative_id"] not in initiatives_in_scope(known, s):
            continue
        if not tagged(s, o["impact_areas"]):
            continue
        kept = [
            a
            for a in o["assessments"]
            if dated_fact_kept(known, s, o["initiative_id"], a["assessed_on"])
        ]
        a = latest(kept)
        latest_assessment[outcome_id] = a
        outcomes.append(
            OutcomeStatus(
                outcome_id=outcome_id,
                initiative_id=o["initiative_id"],
                description=o["description"],
                impact_areas=o["impact_areas"],
                assessment=None if a is None else a["assessment"],
                involvement_difference=None if a is None else a["difference"],
                evidence=None if a is None else a["evidence"],
                assessed_on=None if a is None else a["assessed_on"],
            )
        )
    achieved = [o for o in outcomes if o.assessment in ("achieved", "partly_achieved")]
    intended_outcomes = IntendedOutcomesAnswer(
        outcomes=tuple(outcomes),
        by_assessment=counted([o.assessment or "not_assessed" for o in outcomes]),
        share_achieved=share(len(achieved), len(outcomes)),
    )

    # 2. Contributions and the changes that trace to them
    contributions = [
        (cid, c)
        for cid, c in in_log_order(known["contributions"])
        if dated_fact_kept(known, s, c["initiative_id"], c["made_on"])
        and tagged(s, c["impact_areas"])
    ]

    def latest_outcome(c: dict) -> str | None:
        response = latest(c["responses"])
        return None if response is None else response["outcome"]

    def link(cid: UUID) -> ContributionLink:
        c = known["contributions"][cid]
        response = latest(c["responses"])
        feedback_days = [f["given_on"] for f in c["feedback"]]
        return ContributionLink(
            contribution_id=cid,
            summary=c["summary"],
            made_on=c["made_on"],
            outcome=None if response is None else response["outcome"],
            responded_on=None if response is None else response["responded_on"],
            feedback_given_on=min(feedback_days) if feedback_days else None,
        )

    changes = [
        (change_id, ch)
        for change_id, ch in in_log_order(known["changes"])
        if dated_fact_kept(known, s, ch["initiative_id"], ch["changed_on"])
        and tagged(s, (ch["impact_area"],))
    ]
    traced = [(i, ch) for i, ch in changes if ch["contribution_ids"]]
    adopted_or_adapted = [
        c for _, c in contributions if latest_outcome(c) in ("adopted", "adapted")
    ]
    differences = DifferencesAnswer(
        contributions=len(contributions),
        by_response=counted(
            [latest_outcome(c) or "awaiting_response" for _, c in contributions]
        ),
        share_adopted_or_adapted=share(len(adopted_or_adapted), len(contributions)),
        changes=tuple(
            ChangeChain(
                change_id=change_id,
                initiative_id=ch["initiative_id"],
                description=ch["description"],
                impact_area=ch["impact_area"],
                scope=ch["scope"],
                beyond_kind=ch["beyond_kind"],
                changed_on=ch["changed_on"],
                contributions=tuple(link(cid) for cid in ch["contribution_ids"]),
            )
            for change_id, ch in traced
        ),
        by_scope=counted([ch["scope"] for _, ch in traced]),
        by_area=counted([ch["impact_area"] for _, ch in traced]),
        untraced_changes=len(changes) - len(traced),
    )

    # 3. Process experience, and those involved
    answers = [
        a
        for _, a in in_log_order(known["answers"])
        if dated_fact_kept(known, s, a["initiative_id"], a["answered_on"])
    ]
    scores: list[ScoreSummary] = []
    for kind in RespondentKind:
        for dimension in ProcessDimension:
            given = [
                a["scores"][str(dimension)]
                for a in answers
                if a["respondent_kind"] == str(kind) and str(dimension) in a["scores"]
            ]
            # Every kind and dimension, scored or not.
            scores.append(
                ScoreSummary(
                    respondent_kind=str(kind),
                    dimension=str(dimension),
                    count=len(given),
                    mean=Fraction(sum(given), len(given)) if given else None,
                    distribution={n: given.count(n) for n in range(1, 6)},
                )
            )
    roles = [r for _, r in in_log_order(known["roles"]) if role_kept(known, s, r)]
    involved = {r["participant_id"] for r in roles}
    respondents = {a["participant_id"] for a in answers} & involved
    experience = ProcessExperienceAnswer(
        scores=tuple(scores),
        answers=len(answers),
        involved=len(involved),
        respondents=len(respondents),
        response_rate=share(len(respondents), len(involved)),
    )

    # 4. End result
    def summary_of(change_id: UUID, ch: dict) -> ChangeSummary:
        return ChangeSummary(
            change_id=change_id,
            initiative_id=ch["initiative_id"],
            description=ch["description"],
            impact_area=ch["impact_area"],
            changed_on=ch["changed_on"],
            contribution_ids=ch["contribution_ids"],
        )

    end_result = EndResultAnswer(
        end_result_changes=tuple(
            summary_of(i, ch) for i, ch in changes if ch["scope"] == "end_result"
        ),
        outcomes_by_difference=counted(
            [o.involvement_difference for o in outcomes if o.involvement_difference]
        ),
        outcomes_changed_by_involvement=tuple(
            o.outcome_id
            for o in outcomes
            if o.involvement_difference in ("significant", "some")
        ),
    )

    # 5. Beyond the activity
    by_kind: dict[str, tuple[ChangeSummary, ...]] = {}
    for beyond_kind in BeyondKind:
        beyond_changes = tuple(
            summary_of(i, ch)
            for i, ch in changes
            if ch["scope"] == "beyond" and ch["beyond_kind"] == str(beyond_kind)
        )
        if beyond_changes:
            by_kind[str(beyond_kind)] = beyond_changes
    beyond = BeyondAnswer(by_kind=by_kind)

    # Presence
    voice_roles = [r for r in roles if is_voice(r["participant_id"])]
    voices_involved = {r["participant_id"] for r in voice_roles}
    levels: dict[str, set[UUID]] = {}
    for r in voice_roles:
        level = known["initiatives"][r["initiative_id"]]["level"]
        levels.setdefault(level, set()).add(r["participant_id"])
    meetings = sorted(
        (
            (meeting_id, m)
            for meeting_id, m in known["meetings"].items()
            if dated_fact_kept(known, s, m["initiative_id"], local_day(m["held_at"]))
        ),
        key=lambda item: (item[1]["held_at"], item[1]["position"]),
    )
    checks: list[MeetingCheck] = []
    for meeting_id, m in meetings:
        voices = len({p for p in m["attendees"] if is_voice(p)})
        if voices < 2:
            standard = "below_minimum"
        elif voices == 2:
            standard = "minimum"
        else:
            standard = "ideal"
        checks.append(
            MeetingCheck(
                meeting_id=meeting_id,
                initiative_id=m["initiative_id"],
                title=m["title"],
                held_at=m["held_at"],
                high_level=m["high_level"],
                decision_making=m["decision_making"],
                service_users_and_carers=voices,
                reserve_named=m["reserve_named"],
                standard=standard,
                meets_standard=voices >= 2
                and (not m["high_level"] or m["reserve_named"]),
            )
        )
    at_decision_making_meetings = {
        p
        for _, m in meetings
        if m["decision_making"]
        for p in m["attendees"]
        if is_voice(p)
    }

    population = None
    for p in known["populations"].values():
        if s.initiative_id is not None and p["initiative_id"] == s.initiative_id:
            population = p
    if population is None:
        for p in known["populations"].values():
            if p["initiative_id"] is None:
                population = p
    diversity: list[CategoryDiversity] = []
    for category in MonitoringCategory:
        reference: dict = {}
        if population is not None:
            reference = population["shares"].get(category) or {}
        declared = [
            people[p]["monitoring"].get(str(category)) or NOT_RECORDED
            for p in voices_involved
        ]
        total = len(declared)
        rows: list[DiversityRow] = []

        def diversity_row(
            value: str,
            count: int,
            reference_share: Fraction | None,
            total: int = total,
        ) -> DiversityRow:
            value_share = share(count, total)
            ratio = None
            if (
                value_share is not None
                and reference_share is not None
                and reference_share > 0
            ):
                ratio = value_share / reference_share
            return DiversityRow(
                value=value,
                count=count,
                share=value_share,
                reference_share=reference_share,
                ratio=ratio,
            )

        for value in [*(str(v) for v in MONITORING_VALUES[category]), NOT_RECORDED]:
            rows.append(
                diversity_row(
                    value,
                    declared.count(value),
                    Fraction(reference[value]) if value in reference else None,
                )
            )
        broad_rows: list[DiversityRow] = []
        for group, members in OFFICIAL_GROUPS.get(str(category), {}).items():
            if group in reference:
                broad_share: Fraction | None = Fraction(reference[group])
            elif all(m in reference for m in members):
                broad_share = sum(
                    (Fraction(reference[m]) for m in members), Fraction(0)
                )
            else:
                broad_share = None
            count = sum(declared.count(m) for m in members)
            broad_rows.append(diversity_row(group, count, broad_share))
        if broad_rows:
            broad_rows.append(rows[-1])
        diversity.append(
            CategoryDiversity(
                category=str(category),
                total=total,
                rows=tuple(rows),
                broad_rows=tuple(broad_rows),
            )
        )

    # Every level for the organisation, an initiative's own for it, 0 where nobody is.
    if s.initiative_id is None:
        listed = [str(level) for level in InvolvementLevel]
    elif s.initiative_id in known["initiatives"]:
        listed = [str(known["initiatives"][s.initiative_id]["level"])]
    else:
        listed = []  # an initiative never launched
    presence = PresenceAnswer(
        by_level=dict.fromkeys(listed, 0)
        | {level: len(ids) for level, ids in levels.items()},
        at_decision_making_level=len(
            {r["participant_id"] for r in voice_roles if r["decision_making"]}
        ),
        at_decision_making_meetings=len(at_decision_making_meetings),
        meetings=tuple(checks),
        failing_meetings=tuple(c.meeting_id for c in checks if not c.meets_standard),
        diversity=tuple(diversity),
    )

    # Process
    papers = []
    for meeting_id, m in meetings:
        sent = m["sent_at"]
        papers.append(
            PapersNotice(
                meeting_id=meeting_id,
                held_at=m["held_at"],
                sent_at=sent,
                days_in_advance=None
                if sent is None
                else (local_day(m["held_at"]) - local_day(sent)).days,
            )
        )
    payments = [
        p
        for _, p in in_log_order(known["payments"])
        if dated_fact_kept(known, s, p["initiative_id"], p["owed_on"])
    ]
    payment_days = [
        (p["paid_on"] - p["owed_on"]).days for p in payments if p["paid_on"] is not None
    ]
    feedback_days = []
    response_days = []
    for _, c in contributions:
        if c["feedback"]:
            first = min(f["given_on"] for f in c["feedback"])
            feedback_days.append((first - c["made_on"]).days)
        if c["responses"]:
            first = min(r["responded_on"] for r in c["responses"])
            response_days.append((first - c["made_on"]).days)
    support: dict[str, SupportTotal] = {}
    support_given = [
        g
        for _, g in in_log_order(known["support"])
        if dated_fact_kept(known, s, g["initiative_id"], g["given_on"])
    ]
    for support_kind in SupportKind:
        of_kind = [g for g in support_given if g["kind"] == str(support_kind)]
        if of_kind:
            support[str(support_kind)] = SupportTotal(
                records=len(of_kind),
                people=sum(g["people"] for g in of_kind),
                hours=sum(
                    (g["hours"] for g in of_kind if g["hours"] is not None),
                    Decimal(0),
                ),
            )
    process = ProcessAnswer(
        papers=tuple(papers),
        papers_spread=spread(
            [p.days_in_advance for p in papers if p.days_in_advance is not None]
        ),
        target_days=target_days,
        payment_days=spread(payment_days),
        paid_within_target=share(
            len([d for d in payment_days if d <= target_days]), len(payment_days)
        ),
        unpaid=len([p for p in payments if p["paid_on"] is None]),
        feedback_closure=share(
            len([c for _, c in contributions if c["feedback"]]), len(contributions)
        ),
        feedback_days=spread(feedback_days),
        response_days=spread(response_days),
        awaiting_response=len([c for _, c in contributions if not c["responses"]]),
        support=support,
    )

    # Principles
    sources = {
        cid for ch in known["changes"].values() for cid in ch["contribution_ids"]
    }
    declined = [c for _, c in contributions if latest_outcome(c) == "declined"]
    explained = [c for c in declined if c["responses"][-1]["rationale"].strip()]
    policy = None
    if known["policy"] is not None:
        pol = known["policy"]
        last_reviewed_on = pol["reviews"][-1] if pol["reviews"] else pol["adopted_on"]
        due = add_months(last_reviewed_on, pol["interval"])
        policy = PolicyStatus(
            version_label=pol["version_label"],
            adopted_on=pol["adopted_on"],
            last_reviewed_on=last_reviewed_on,
            review_due_on=due,
            overdue=moment > due,
            days_until_due=(due - moment).days,
        )
    principles = PrinciplesAnswer(
        responsiveness=share(
            len([cid for cid, _ in contributions if cid in sources]),
            len(contributions),
        ),
        declined=len(declined),
        declines_explained=len(explained),
        transparency=share(len(explained), len(declined)),
        policy=policy,
    )

    # Payments and benefits: the limit is the person's, across all their work
    watches: list[EarningsWatch] = []
    for participant_id, person in in_log_order(people):
        limit = person["earnings_limit"]
        if limit is None:
            continue
        totals: dict[date, dict[str, Decimal]] = {}
        for p in known["payments"].values():
            if p["participant_id"] != participant_id or p["kind"] != "fee":
                continue
            day = p["owed_on"] if p["paid_on"] is None else p["paid_on"]
            if not in_period(s, day):
                continue
            if person["earnings_period"] == "week":
                start = day - timedelta(days=day.weekday())
            else:
                start = day.replace(day=1)
            sums = totals.setdefault(start, {"paid": Decimal(0), "owed": Decimal(0)})
            if p["paid_on"] is None:
                sums["owed"] += p["amount"]
            else:
                sums["paid"] += p["amount"]
        periods = []
        for start in sorted(totals):
            paid = totals[start]["paid"]
            owed = totals[start]["owed"]
            periods.append(
                EarningsPeriodTotal(
                    period_start=start,
                    paid=paid,
                    owed_unpaid=owed,
                    headroom=limit - paid,
                    crossed=paid > limit,
                    would_cross=not paid > limit and paid + owed > limit,
                )
            )
        watches.append(
            EarningsWatch(
                participant_id=participant_id,
                pseudonym=person["pseudonym"],
                earnings_limit=limit,
                earnings_period=person["earnings_period"],
                periods=tuple(periods),
            )
        )

    # Cycles: never narrowed by period
    cycles: list[CycleView] = []
    for (initiative_id, number), c in in_log_order(known["cycles"]):
        if initiative_id not in initiatives_in_scope(known, s):
            continue
        if s.cycle is not None and number != s.cycle:
            continue
        if not tagged(s, c["focus_areas"]):
            continue
        following = known["cycles"].get((initiative_id, number + 1))
        taken_up_by_next = None
        if following is not None:
            taken_up_by_next = tuple(
                a for a in c["planned_actions"] if a in following["actions_taken_up"]
            )
        cycles.append(
            CycleView(
                initiative_id=initiative_id,
                number=number,
                phase=c["phase"],
                focus_areas=c["focus_areas"],
                entered={
                    str(p): c["entered"][str(p)]
                    for p in CyclePhase
                    if str(p) in c["entered"]
                },
                findings=c["findings"],
                reflections=c["reflections"],
                lessons=c["lessons"],
                planned_actions=c["planned_actions"],
                actions_taken_up=c["actions_taken_up"],
                taken_up_by_next=taken_up_by_next,
            )
        )

    return ImpactReport(
        slice=s,
        position=position,
        moment=moment,
        intended_outcomes=intended_outcomes,
        differences=differences,
        process_experience=experience,
        end_result=end_result,
        beyond=beyond,
        presence=presence,
        process=process,
        principles=principles,
        payments_and_benefits=tuple(watches),
        cycles=tuple(cycles),
    )


OFFICIAL_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "ethnic_group": {
        "asian": (
            "asian_bangladeshi",
            "asian_chinese",
            "asian_indian",
            "asian_pakistani",
            "asian_other",
        ),
        "black": ("black_african", "black_caribbean", "black_other"),
        "mixed": (
            "mixed_white_and_asian",
            "mixed_white_and_black_african",
            "mixed_white_and_black_caribbean",
            "mixed_other",
        ),
        "white": (
            "white_british",
            "white_irish",
            "white_gypsy_or_irish_traveller",
            "white_roma",
            "white_other",
        ),
        "other": ("other_arab", "other_any_other"),
        "prefer_not_to_say": ("prefer_not_to_say",),
    },
    "age_band": {
        "under_18": ("under_18",),
        "18_64": ("18_24", "25_34", "35_44", "45_54", "55_64"),
        "65_plus": ("65_plus",),
        "prefer_not_to_say": ("prefer_not_to_say",),
    },
    "sexual_orientation": {
        "straight_or_heterosexual": ("straight_or_heterosexual",),
        "lgb_plus": ("gay_or_lesbian", "bisexual", "other"),
        "prefer_not_to_say": ("prefer_not_to_say",),
    },
}
"""The 2021 census's broad ethnic groups, and age as NHS mental health services are
organised, written out here as the census and the NHS publish them."""
