"""Exporting an organisation's record as a workbook in the template's shape, read from its events up to a log position or moment, so that it imports again with the same answers."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from fourpi.domain.change import Change
from fourpi.domain.contribution import Contribution
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.participant import Participant
from fourpi.domain.payment import Payment
from fourpi.domain.policy import InvolvementPolicy
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.reference_population import ReferencePopulation
from fourpi.domain.support import Support
from fourpi.domain.use_cases import label_of
from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    MonitoringCategory,
    PaymentKind,
    PaymentPreference,
    ProcessDimension,
)
from fourpi.workbook.cells import cell_of
from fourpi.workbook.sheets import (
    CHOSEN_AFTER,
    KEY,
    KEY_PREFIX,
    POPULATION_SHARES,
    PREFERENCE_STEP,
    SHEET_NAMED,
    Sheet,
    normalised,
)

BATCH = 2_000
ERASED = "(erased)"
"""The pseudonym an erased person is exported under."""

PERSONAL_NOTE = (
    "This workbook was exported without personal data: pseudonyms, monitoring data, "
    "payment preferences and free text are left blank. Export it with "
    "--personal-data to keep them (a person's pseudonym is needed to import it)."
)


def organisation_events(
    records: Any, organisation_id: UUID, as_of: int | datetime | None
) -> Iterator[Any]:
    """The organisation's events in log order, up to a position or a moment."""
    start = 1
    while True:
        notifications = records.recorder.select_notifications(start=start, limit=BATCH)
        if not notifications:
            return
        for notification in notifications:
            if isinstance(as_of, int) and notification.id > as_of:
                return
            event = records.mapper.to_domain_event(notification)
            if isinstance(as_of, datetime) and event.timestamp > as_of:
                return
            if getattr(event, "organisation_id", None) == organisation_id:
                yield event
        start = notifications[-1].id + 1


@dataclass(frozen=True)
class Recorded:
    """The record a row of an export is (its id, initiative and cycle number)."""

    record_id: UUID | None
    initiative_id: UUID | None = None
    number: int | None = None


class Export:
    """Rows of every sheet (heading to cell value), filled event by event."""

    def __init__(self, events: list[Any], personal_data: bool) -> None:
        self.personal_data = personal_data
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}
        self.keys: dict[UUID, str] = {}
        self.named: dict[UUID, str] = {}
        self.imported: set[tuple[str, str]] = set()
        """The rows keyed as an import keyed them, by sheet and key."""
        self.made: dict[tuple[str, str], Recorded] = {}
        """What each row's record is, by sheet and key, where its key is no key an
        import gave it (its id's first characters, or its place in a list)."""
        for event in events:
            if isinstance(event, CommandReceipt.Issued) and isinstance(
                event.result, UUID
            ):
                parts = event.idempotency_key.split(":", 2)
                if len(parts) == 3 and parts[0] == KEY_PREFIX:
                    self.named[event.result] = parts[2]
        self.initiative_of: dict[UUID, UUID] = {}
        self.last_fee: dict[UUID, str] = {}
        """Each person's last fee owed so far, by its key."""
        self.counts: dict[str, int] = {}
        for event in events:
            self.apply(event)

    # Rows and keys

    def key_for(
        self, title: str, record_id: UUID, initiative_id: UUID | None = None
    ) -> str:
        known = self.keys.get(record_id)
        if known is not None:
            return known
        named = self.named.get(record_id)
        key = named or str(record_id)[:8]
        if key in self.rows.get(title, {}):
            key = str(record_id)
        self.keys[record_id] = key
        if named is None:
            self.made[(title, key)] = Recorded(record_id, initiative_id)
        else:
            self.imported.add((title, key))
        return key

    def numbered(self, title: str, stem: str, record_id: UUID | None = None) -> str:
        count = self.counts.get(f"{title}:{stem}", 0) + 1
        self.counts[f"{title}:{stem}"] = count
        key = f"{stem}-{count}"
        self.made[(title, key)] = Recorded(record_id)
        return key

    def row(self, title: str, key: str) -> dict[str, Any]:
        rows = self.rows.setdefault(title, {})
        return rows.setdefault(key, {KEY.label: key})

    def put(self, title: str, key: str, values: dict[str, Any], step: int = 0) -> None:
        sheet = SHEET_NAMED[normalised(title)]
        row = self.row(title, key)
        columns = {c.field.name: c for c in sheet.step_columns(step)}
        for name, value in values.items():
            column = columns[name]
            if column.field.personal and not self.personal_data:
                value = None
            row[column.heading] = cell_of(column.field, value)

    def ref(self, record_id: UUID | None) -> str | None:
        return None if record_id is None else self.keys.get(record_id, str(record_id))

    def refs(self, ids: tuple[UUID, ...]) -> tuple[str, ...]:
        return tuple(self.keys.get(i, str(i)) for i in ids)

    # Events

    def apply(self, e: Any) -> None:
        handler = HANDLERS.get(type(e))
        if handler is not None:
            handler(self, e)

    def involvement_policy_adopted(self, e: Any) -> None:
        key = self.numbered("Policy", "version", e.originator_id)
        self.put(
            "Policy",
            key,
            {
                "version_label": e.version_label,
                "adopted_on": e.adopted_on,
                "review_interval_months": e.review_interval_months,
                "summary": e.summary or None,
            },
        )

    def involvement_policy_reviewed(self, e: Any) -> None:
        key = self.numbered("Policy reviews", "review")
        self.put(
            "Policy reviews",
            key,
            {"reviewed_on": e.reviewed_on, "notes": e.notes or None},
        )

    def initiative_launched(self, e: Any) -> None:
        key = self.key_for("Initiatives", e.originator_id)
        self.put(
            "Initiatives",
            key,
            {
                "name": e.name,
                "level": e.level,
                "involvement_kind": e.involvement_kind,
                "methods": e.methods,
                "purpose": e.purpose,
                "limits_of_influence": e.limits_of_influence,
                "started_on": e.started_on,
            },
        )

    def initiative_intended_outcome_recorded(self, e: Any) -> None:
        key = self.key_for("Intended outcomes", e.outcome_id, e.originator_id)
        self.put(
            "Intended outcomes",
            key,
            {
                "initiative_id": self.ref(e.originator_id),
                "description": e.description,
                "impact_areas": e.impact_areas,
            },
        )

    def initiative_intended_outcome_assessed(self, e: Any) -> None:
        outcome = self.keys[e.outcome_id]
        self.put(
            "Outcome assessments",
            self.numbered("Outcome assessments", outcome),
            {
                "outcome_id": outcome,
                "assessment": e.assessment,
                "involvement_difference": e.involvement_difference,
                "evidence": e.evidence or None,
                "assessed_on": e.assessed_on,
            },
        )

    def initiative_role_assigned(self, e: Any) -> None:
        key = self.key_for("Roles", e.role_id, e.originator_id)
        self.put(
            "Roles",
            key,
            {
                "initiative_id": self.ref(e.originator_id),
                "participant_id": self.ref(e.participant_id),
                "role": e.role,
                "paid": e.paid,
                "decision_making": e.decision_making,
                "started_on": e.started_on,
            },
        )

    def initiative_role_ended(self, e: Any) -> None:
        self.put("Roles", self.keys[e.role_id], {"ended_on": e.ended_on}, step=1)

    def cycle_key(self, e: Any) -> str:
        key = f"{self.keys[e.originator_id]}-cycle-{e.number}"
        self.made.setdefault(("Cycles", key), Recorded(None, e.originator_id, e.number))
        return key

    def initiative_cycle_entered_act(self, e: Any) -> None:
        self.put(
            "Cycles",
            self.cycle_key(e),
            {
                "initiative_id": self.ref(e.originator_id),
                "focus_areas": e.focus_areas,
                "started_on": e.entered_on,
                "actions_taken_up": e.actions_taken_up,
            },
        )

    def initiative_cycle_entered_evaluate(self, e: Any) -> None:
        values = {"findings": e.findings, "entered_on": e.entered_on}
        self.put("Cycles", self.cycle_key(e), values, step=1)

    def initiative_cycle_entered_reflect(self, e: Any) -> None:
        values = {"reflections": e.reflections, "entered_on": e.entered_on}
        self.put("Cycles", self.cycle_key(e), values, step=2)

    def initiative_cycle_entered_learn(self, e: Any) -> None:
        values = {
            "lessons": e.lessons,
            "planned_actions": e.planned_actions,
            "entered_on": e.entered_on,
        }
        self.put("Cycles", self.cycle_key(e), values, step=3)

    def participant_registered(self, e: Any) -> None:
        key = self.key_for("People", e.originator_id)
        # An erased person's pseudonym reads as blank; the row still imports, so
        # what they took part in still counts, as it does here.
        pseudonym = e.pseudonym or ERASED
        self.put(
            "People",
            key,
            {"pseudonym": pseudonym, "participant_kind": e.participant_kind},
        )

    def participant_monitoring_data_declared(self, e: Any) -> None:
        monitoring = e.monitoring
        self.put(
            "People",
            self.keys[e.originator_id],
            {
                f"monitoring.{name}": getattr(monitoring, name)
                for name in (
                    "age_band",
                    "gender",
                    "ethnic_group",
                    "disability",
                    "sexual_orientation",
                    "education_level",
                )
            },
            step=1,
        )

    def participant_payment_preference_set(self, e: Any) -> None:
        key = self.keys[e.originator_id]
        self.put(
            "People",
            key,
            {
                "payment_preference": e.payment_preference,
                "earnings_limit": e.earnings_limit,
                "earnings_period": e.earnings_period,
            },
            step=PREFERENCE_STEP,
        )
        # The People sheet is imported before the Payments: a fee owed before the
        # person chose not to be paid fees would be refused, unless the choice is
        # made after it again. Which choice it was is personal data, and so is this.
        fee = self.last_fee.get(e.originator_id)
        preference = e.payment_preference if self.personal_data else None
        refuses = bool(preference) and PaymentPreference(str(preference)).refuses_fees
        self.row("People", key)[CHOSEN_AFTER.label] = fee if refuses else None

    def meeting_scheduled(self, e: Any) -> None:
        key = self.key_for("Meetings", e.originator_id, e.initiative_id)
        self.put(
            "Meetings",
            key,
            {
                "initiative_id": self.ref(e.initiative_id),
                "title": e.title,
                "held_at": e.held_at,
                "high_level": e.high_level,
                "decision_making": e.decision_making,
            },
        )

    def meeting_papers_sent(self, e: Any) -> None:
        self.put("Meetings", self.keys[e.originator_id], {"sent_at": e.sent_at}, 1)

    def meeting_reserve_named(self, e: Any) -> None:
        reserve = {"participant_id": self.ref(e.participant_id)}
        self.put("Meetings", self.keys[e.originator_id], reserve, 2)

    def meeting_reasonable_adjustment_made(self, e: Any) -> None:
        key = self.keys[e.originator_id]
        heading = "Reasonable adjustments"
        row = self.row("Meetings", key)
        before = row.get(heading)
        row[heading] = e.description if before is None else f"{before}\n{e.description}"

    def meeting_attendance_recorded(self, e: Any) -> None:
        meeting = self.keys[e.originator_id]
        self.put(
            "Attendance",
            self.numbered("Attendance", meeting),
            {"meeting_id": meeting, "participant_ids": self.refs(e.participant_ids)},
        )

    def contribution_logged(self, e: Any) -> None:
        key = self.key_for("Contributions", e.originator_id, e.initiative_id)
        self.put(
            "Contributions",
            key,
            {
                "initiative_id": self.ref(e.initiative_id),
                "contributor_ids": self.refs(e.contributor_ids),
                "nature": e.nature,
                "summary": e.summary,
                "impact_areas": e.impact_areas,
                "made_on": e.made_on,
                "meeting_id": self.ref(e.meeting_id),
            },
        )

    def contribution_responded(self, e: Any) -> None:
        contribution = self.keys[e.originator_id]
        self.put(
            "Responses",
            self.numbered("Responses", contribution),
            {
                "contribution_id": contribution,
                "outcome": e.outcome,
                "rationale": e.rationale or None,
                "responded_on": e.responded_on,
            },
        )

    def contribution_feedback_given(self, e: Any) -> None:
        contribution = self.keys[e.originator_id]
        self.put(
            "Feedback",
            self.numbered("Feedback", contribution),
            {
                "contribution_id": contribution,
                "given_on": e.given_on,
                "method": e.method,
                "summary": e.summary,
            },
        )

    def change_recorded(self, e: Any) -> None:
        self.put(
            "Changes",
            self.key_for("Changes", e.originator_id, e.initiative_id),
            {
                "initiative_id": self.ref(e.initiative_id),
                "description": e.description,
                "impact_area": e.impact_area,
                "scope": e.scope,
                "beyond_kind": e.beyond_kind,
                "evidence": e.evidence,
                "changed_on": e.changed_on,
                "contribution_ids": self.refs(e.contribution_ids),
            },
        )

    def process_experience_answer_recorded(self, e: Any) -> None:
        values: dict[str, Any] = {
            "initiative_id": self.ref(e.initiative_id),
            "participant_id": self.ref(e.participant_id),
            "respondent_kind": e.respondent_kind,
            "stage": e.stage,
            "answered_on": e.answered_on,
            "free_text": e.free_text or None,
        }
        for dimension, score in e.scores.items():
            values[f"scores.{ProcessDimension(dimension).value}"] = score
        key = self.key_for("Process experience", e.originator_id, e.initiative_id)
        self.put("Process experience", key, values)

    def payment_owed(self, e: Any) -> None:
        key = self.key_for("Payments", e.originator_id, e.initiative_id)
        if PaymentKind(e.payment_kind).counts_as_earnings:
            self.last_fee[e.participant_id] = key
        self.put(
            "Payments",
            key,
            {
                "participant_id": self.ref(e.participant_id),
                "initiative_id": self.ref(e.initiative_id),
                "payment_kind": e.payment_kind,
                "amount": e.amount,
                "owed_on": e.owed_on,
                "description": e.description or None,
            },
        )

    def payment_paid(self, e: Any) -> None:
        self.put("Payments", self.keys[e.originator_id], {"paid_on": e.paid_on}, 1)

    def support_given(self, e: Any) -> None:
        self.put(
            "Support and training",
            self.key_for("Support and training", e.originator_id, e.initiative_id),
            {
                "initiative_id": self.ref(e.initiative_id),
                "support_kind": e.support_kind,
                "given_on": e.given_on,
                "participant_ids": self.refs(e.participant_ids),
                "hours": e.hours,
                "description": e.description or None,
            },
        )

    def reference_population_defined(self, e: Any) -> None:
        title = "Reference populations"
        if e.originator_id not in self.keys:
            imported = self.named.get(e.originator_id)
            named = imported
            if named is None and e.initiative_id is not None:
                named = self.keys.get(e.initiative_id)
            self.keys[e.originator_id] = named or "organisation"
            if imported is None:
                made = Recorded(e.originator_id, e.initiative_id)
                self.made[(title, self.keys[e.originator_id])] = made
        key = self.keys[e.originator_id]
        self.put(
            title,
            key,
            {"initiative_id": self.ref(e.initiative_id), "description": e.description},
        )
        shares = self.rows.setdefault(POPULATION_SHARES, {})
        for stale in [
            k for k, row in shares.items() if row["Reference population"] == key
        ]:
            del shares[stale]
        number = 0
        for category, groups in e.shares.items():
            for group, share in groups.items():
                number += 1
                share_key = f"{key}-{number}"
                shares[share_key] = {
                    KEY.label: share_key,
                    "Reference population": key,
                    "Category": cell_of(SHARE_CATEGORY, category_of(category)),
                    "Group": group_label(category, group),
                    "Share": share,
                }


HANDLERS: dict[type, Callable[[Export, Any], None]] = {
    InvolvementPolicy.Adopted: Export.involvement_policy_adopted,
    InvolvementPolicy.Reviewed: Export.involvement_policy_reviewed,
    Initiative.Launched: Export.initiative_launched,
    Initiative.IntendedOutcomeRecorded: Export.initiative_intended_outcome_recorded,
    Initiative.IntendedOutcomeAssessed: Export.initiative_intended_outcome_assessed,
    Initiative.RoleAssigned: Export.initiative_role_assigned,
    Initiative.RoleEnded: Export.initiative_role_ended,
    Initiative.CycleEnteredAct: Export.initiative_cycle_entered_act,
    Initiative.CycleEnteredEvaluate: Export.initiative_cycle_entered_evaluate,
    Initiative.CycleEnteredReflect: Export.initiative_cycle_entered_reflect,
    Initiative.CycleEnteredLearn: Export.initiative_cycle_entered_learn,
    Participant.Registered: Export.participant_registered,
    Participant.MonitoringDataDeclared: Export.participant_monitoring_data_declared,
    Participant.PaymentPreferenceSet: Export.participant_payment_preference_set,
    Meeting.Scheduled: Export.meeting_scheduled,
    Meeting.PapersSent: Export.meeting_papers_sent,
    Meeting.ReserveNamed: Export.meeting_reserve_named,
    Meeting.ReasonableAdjustmentMade: Export.meeting_reasonable_adjustment_made,
    Meeting.AttendanceRecorded: Export.meeting_attendance_recorded,
    Contribution.Logged: Export.contribution_logged,
    Contribution.Responded: Export.contribution_responded,
    Contribution.FeedbackGiven: Export.contribution_feedback_given,
    Change.Recorded: Export.change_recorded,
    ProcessExperienceAnswer.Recorded: Export.process_experience_answer_recorded,
    Payment.Owed: Export.payment_owed,
    Payment.Paid: Export.payment_paid,
    Support.Given: Export.support_given,
    ReferencePopulation.Defined: Export.reference_population_defined,
    InvolvementPolicy.Revised: Export.involvement_policy_adopted,
    ReferencePopulation.Revised: Export.reference_population_defined,
}
"""What each kind of event fills in; the events of no sheet (tokens, receipts,
erasures, thresholds) fill nothing."""


SHARES_SHEET: Sheet = SHEET_NAMED[normalised(POPULATION_SHARES)]
SHARE_CATEGORY = SHARES_SHEET.extra[1]


def category_of(category: Any) -> MonitoringCategory:
    return MonitoringCategory(category)


def group_label(category: Any, group: Any) -> str:
    return label_of(MONITORING_VALUES[category_of(category)](group))


def export_rows(
    records: Any,
    organisation_id: UUID,
    *,
    as_of: int | datetime | None = None,
    personal_data: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """Every sheet's rows, in the order they were recorded."""
    events = list(organisation_events(records, organisation_id, as_of))
    export = Export(events, personal_data)
    return {title: list(rows.values()) for title, rows in export.rows.items()}
