"""The fact tables of the read side: one immutable, position-stamped row for each fact in the log."""

from dataclasses import dataclass

# Column types, for creating tables and for turning stored values back into Python:
# uuid, text, int, bool, date, datetime (aware, UTC), decimal, list (a tuple of str).
# Every table also has organisation_id (uuid), position (int): the log position of
# the event the row came from, and seq (int): the row's place among that event's rows. Rows are only ever inserted, so the rows at or below a
# position are exactly the view as it stood when the log reached that position, with
# one exception: erasing a person deletes or blanks their personal rows at every
# position (ERASED_ROWS, ERASED_COLUMNS), so no answer, however far back, reads them.


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]

    @property
    def sql_name(self) -> str:
        return f"fourpi_{self.name}"

    @property
    def all_columns(self) -> tuple[tuple[str, str], ...]:
        # seq orders the rows one event adds, such as a change's sources as named.
        return (
            ("organisation_id", "uuid"),
            ("position", "int"),
            ("seq", "int"),
            *self.columns,
        )


def table(name: str, *columns: str) -> Table:
    """Columns as "name:type"; the type defaults to text."""
    parsed = []
    for column in columns:
        column_name, _, column_type = column.partition(":")
        parsed.append((column_name, column_type or "text"))
    return Table(name, tuple(parsed))


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        # Every event: for as-of by timestamp, for finding a record's history or an
        # organisation's events by position, and for counting what the views hold.
        table("log", "recorded_at:datetime", "topic", "record_id:uuid", "version:int"),
        table("organisations", "name"),
        table(
            "policies", "version_label", "adopted_on:date", "review_interval_months:int"
        ),
        table("policy_reviews", "reviewed_on:date"),
        table(
            "initiatives",
            "initiative_id:uuid",
            "name",
            "level",
            "involvement_kind",
            "started_on:date",
        ),
        table(
            "intended_outcomes",
            "initiative_id:uuid",
            "outcome_id:uuid",
            "description",
            "impact_areas:list",
        ),
        table(
            "outcome_assessments",
            "initiative_id:uuid",
            "outcome_id:uuid",
            "assessment",
            "involvement_difference",
            "evidence",
            "assessed_on:date",
        ),
        table("participants", "participant_id:uuid", "pseudonym", "participant_kind"),
        # A person erased: their personal rows and columns are gone (ERASED_ROWS).
        table("erasures", "participant_id:uuid"),
        # A new declaration replaces the participant's earlier one.
        table(
            "monitoring",
            "participant_id:uuid",
            "age_band",
            "gender",
            "ethnic_group",
            "disability",
            "sexual_orientation",
            "education_level",
        ),
        table(
            "payment_preferences",
            "participant_id:uuid",
            "payment_preference",
            "earnings_limit:decimal",
            "earnings_period",
        ),
        table(
            "notice_preferences", "participant_id:uuid", "notice_preference", "email"
        ),
        # Asked by the person on their own page, for an admin to act on.
        table("erasure_requests", "participant_id:uuid", "requested_on:date"),
        table(
            "roles",
            "initiative_id:uuid",
            "role_id:uuid",
            "participant_id:uuid",
            "role",
            "paid:bool",
            "decision_making:bool",
            "started_on:date",
        ),
        table("role_endings", "initiative_id:uuid", "role_id:uuid", "ended_on:date"),
        table(
            "meetings",
            "meeting_id:uuid",
            "initiative_id:uuid",
            "title",
            "held_at:datetime",
            "high_level:bool",
            "decision_making:bool",
        ),
        table("meeting_papers", "meeting_id:uuid", "sent_at:datetime"),
        table("attendance", "meeting_id:uuid", "participant_id:uuid"),
        table("meeting_reserves", "meeting_id:uuid", "participant_id:uuid"),
        table("adjustments", "meeting_id:uuid", "description"),
        table(
            "contributions",
            "contribution_id:uuid",
            "initiative_id:uuid",
            "meeting_id:uuid",
            "nature",
            "summary",
            "impact_areas:list",
            "made_on:date",
        ),
        table("contributors", "contribution_id:uuid", "participant_id:uuid"),
        table(
            "responses",
            "contribution_id:uuid",
            "outcome",
            "rationale",
            "responded_on:date",
        ),
        table("feedback", "contribution_id:uuid", "given_on:date", "method", "summary"),
        table(
            "changes",
            "change_id:uuid",
            "initiative_id:uuid",
            "description",
            "impact_area",
            "scope",
            "beyond_kind",
            "evidence",
            "changed_on:date",
        ),
        table("change_sources", "change_id:uuid", "contribution_id:uuid"),
        table(
            "process_answers",
            "answer_id:uuid",
            "initiative_id:uuid",
            "participant_id:uuid",
            "respondent_kind",
            "stage",
            "answered_on:date",
        ),
        table("process_scores", "answer_id:uuid", "dimension", "score:int"),
        table(
            "payments",
            "payment_id:uuid",
            "participant_id:uuid",
            "initiative_id:uuid",
            "payment_kind",
            "amount:decimal",
            "owed_on:date",
        ),
        table("payments_made", "payment_id:uuid", "paid_on:date"),
        table(
            "support",
            "support_id:uuid",
            "initiative_id:uuid",
            "support_kind",
            "given_on:date",
            "hours:decimal",
            "people:int",
        ),
        # A revision replaces the whole set for its scope (initiative, or none for the
        # organisation): the rows of the scope's latest position are the current ones.
        table(
            "reference_shares",
            "initiative_id:uuid",
            "category",
            "value",
            "share:decimal",
        ),
        table(
            "cycle_phases",
            "initiative_id:uuid",
            "number:int",
            "phase",
            "entered_on:date",
            "focus_areas:list",
            "notes",
            "planned_actions:list",
            "actions_taken_up:list",
        ),
    )
}

ERASED_ROWS = ("monitoring", "payment_preferences", "notice_preferences")
"""Tables whose rows of a person are wholly personal data: an erasure deletes them."""
ERASED_COLUMNS: dict[str, dict[str, object]] = {"participants": {"pseudonym": ""}}
"""Personal columns of a person's other rows, and what an erasure sets them to (what
the events' erased values project to, so a rebuild writes the same rows)."""

Row = dict[str, object]
Facts = dict[str, list[Row]]
"""Every table's rows for one organisation, typed, in log order (by position)."""
