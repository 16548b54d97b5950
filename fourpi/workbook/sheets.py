"""The workbook's sheets, each drawn from the use cases it performs (fourpi.domain.use_cases): their columns, headings and the order they are imported in."""

from dataclasses import dataclass

from fourpi.domain import use_cases as uc
from fourpi.domain.use_cases import Field, FieldKind, RecordKind, UseCase
from fourpi.domain.vocabulary import MonitoringCategory

KEY = Field(
    "key",
    "Key",
    "This row's own name, unique on its sheet (a number or a short word). Other "
    "sheets refer to the row by it, and importing the workbook again records the "
    "row only once.",
    FieldKind.TEXT,
)


@dataclass(frozen=True)
class Step:
    """One use case a row performs.

    `own` names the use case's field that the row's own record fills (the meeting
    whose papers are sent); an `optional` step runs only when one of its columns is
    filled; a `per_line` step runs once for each line of that field's cell."""

    use_case: UseCase
    name: str = ""
    own: str | None = None
    optional: bool = False
    per_line: str | None = None
    headings: tuple[tuple[str, str], ...] = ()
    """Headings for fields whose own label would be ambiguous on this sheet."""


@dataclass(frozen=True)
class Column:
    heading: str
    field: Field
    step: int
    """The index of the step this column feeds; -1 for the key and child columns."""

    @property
    def sheet_referred_to(self) -> str | None:
        if self.field.refers_to is None:
            return None
        return SHEET_OF_KIND[self.field.refers_to]


@dataclass(frozen=True)
class Sheet:
    title: str
    hint: str
    steps: tuple[Step, ...] = ()
    extra: tuple[Field, ...] = ()
    """Columns that belong to no step: a child sheet's parts of its parent's field."""

    @property
    def makes(self) -> RecordKind | None:
        return self.steps[0].use_case.makes if self.steps else None

    @property
    def columns(self) -> tuple[Column, ...]:
        columns = [Column(KEY.label, KEY, -1)]
        for index, step in enumerate(self.steps):
            headings = dict(step.headings)
            for field in step.use_case.fields:
                if field.name == step.own or field.implied_by is not None:
                    continue
                if field.kind is FieldKind.SHARES:
                    continue  # gathered from the child sheet, Population shares
                columns.append(
                    Column(headings.get(field.name, field.label), field, index)
                )
        columns.extend(Column(field.label, field, -1) for field in self.extra)
        return tuple(columns)

    def column(self, heading: str) -> Column | None:
        wanted = normalised(heading)
        for column in self.columns:
            if normalised(column.heading) == wanted:
                return column
        return None

    def step_columns(self, index: int) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.step == index)


def normalised(text: str) -> str:
    """How headings and vocabulary values are compared: case, spaces, underscores
    and hyphens aside."""
    return " ".join(text.replace("_", " ").replace("-", " ").lower().split())


KEY_PREFIX = "workbook"
"""What begins the idempotency key of every row a workbook imports."""
POPULATION_SHARES = "Population shares"
PREFERENCE_STEP = 2
"""The People sheet's step that sets the payment preference."""
CHOSEN_AFTER = Field(
    "preference_chosen_after",
    "Payment preference chosen after",
    "Left blank but by an export: the key of the Payments row the person chose "
    "their payment preference after, so that a fee owed before they chose not to "
    "be paid fees imports again. The choice is made just after that row.",
    FieldKind.TEXT,
    required=False,
    personal=True,
)

SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "Policy",
        "The involvement policy: one row per version adopted.",
        (Step(uc.ADOPT_INVOLVEMENT_POLICY),),
    ),
    Sheet(
        "Policy reviews",
        "Each review of the involvement policy.",
        (Step(uc.REVIEW_INVOLVEMENT_POLICY),),
    ),
    Sheet(
        "Initiatives",
        "Each involvement activity, project or programme.",
        (Step(uc.LAUNCH_INITIATIVE),),
    ),
    Sheet(
        "People",
        "Each person who takes part, by pseudonym, with what they chose to declare "
        "and how they want to be paid.",
        (
            Step(uc.REGISTER_PARTICIPANT),
            Step(
                uc.DECLARE_MONITORING_DATA,
                "monitoring",
                own="participant_id",
                optional=True,
            ),
            Step(
                uc.SET_PAYMENT_PREFERENCE,
                "payment-preference",
                own="participant_id",
                optional=True,
            ),
        ),
        extra=(CHOSEN_AFTER,),
    ),
    Sheet(
        "Reference populations",
        "The populations an initiative or the organisation serves; their make-up "
        f"is on the {POPULATION_SHARES} sheet.",
        (Step(uc.DEFINE_REFERENCE_POPULATION),),
    ),
    Sheet(
        POPULATION_SHARES,
        "The make-up of each reference population: one row per group.",
        extra=(
            Field(
                "population",
                "Reference population",
                "The reference population (its key).",
                FieldKind.REFERENCE,
                refers_to=RecordKind.REFERENCE_POPULATION,
            ),
            Field(
                "category",
                "Category",
                "The monitoring category.",
                FieldKind.CHOICE,
                vocabulary=MonitoringCategory,
            ),
            Field(
                "group",
                "Group",
                "A group of that category, as on the People sheet.",
                FieldKind.TEXT,
            ),
            Field(
                "share",
                "Share",
                "The share of the population in the group, from 0 to 1.",
                FieldKind.DECIMAL,
            ),
        ),
    ),
    Sheet(
        "Intended outcomes",
        "What each initiative set out to achieve.",
        (Step(uc.RECORD_INTENDED_OUTCOME),),
    ),
    Sheet(
        "Roles",
        "Each role a person has in an initiative, and when it ended.",
        (
            Step(uc.ASSIGN_ROLE),
            Step(uc.END_ROLE, "end", own="role_id", optional=True),
        ),
    ),
    Sheet(
        "Cycles",
        "Each Act-Evaluate-Reflect-Learn cycle, as far as it has gone.",
        (
            Step(uc.START_CYCLE),
            Step(uc.EVALUATE_CYCLE, "evaluate", own="number", optional=True),
            Step(uc.REFLECT_ON_CYCLE, "reflect", own="number", optional=True),
            Step(uc.LEARN_FROM_CYCLE, "learn", own="number", optional=True),
        ),
    ),
    Sheet(
        "Meetings",
        "Each meeting: when its papers went out, its reserve and the reasonable "
        "adjustments made.",
        (
            Step(uc.SCHEDULE_MEETING),
            Step(uc.SEND_MEETING_PAPERS, "papers", own="meeting_id", optional=True),
            Step(uc.NAME_MEETING_RESERVE, "reserve", own="meeting_id", optional=True),
            Step(
                uc.MAKE_REASONABLE_ADJUSTMENT,
                "adjustment",
                own="meeting_id",
                optional=True,
                per_line="description",
                headings=(("description", "Reasonable adjustments"),),
            ),
        ),
    ),
    Sheet(
        "Attendance",
        "Who came to each meeting.",
        (Step(uc.RECORD_ATTENDANCE),),
    ),
    Sheet(
        "Contributions",
        "Each idea, concern or recommendation from service users and carers.",
        (Step(uc.LOG_CONTRIBUTION),),
    ),
    Sheet(
        "Responses",
        "What the organisation decided to do with each contribution.",
        (Step(uc.RESPOND_TO_CONTRIBUTION),),
    ),
    Sheet(
        "Feedback",
        "When and how contributors were told what became of what they said.",
        (Step(uc.GIVE_FEEDBACK),),
    ),
    Sheet(
        "Changes",
        "Each difference made, with the contributions it came from.",
        (Step(uc.RECORD_CHANGE),),
    ),
    Sheet(
        "Process experience",
        "Each answer to the questionnaire on how the process felt.",
        (Step(uc.RECORD_PROCESS_EXPERIENCE),),
    ),
    Sheet(
        "Payments",
        "Each payment owed, and when it was paid.",
        (
            Step(uc.RECORD_PAYMENT_OWED),
            Step(uc.RECORD_PAYMENT_MADE, "paid", own="payment_id", optional=True),
        ),
    ),
    Sheet(
        "Support and training",
        "Support and training given.",
        (Step(uc.RECORD_SUPPORT),),
    ),
    Sheet(
        "Outcome assessments",
        "Each assessment of an intended outcome; the latest counts.",
        (Step(uc.ASSESS_INTENDED_OUTCOME),),
    ),
)
"""Every sheet, in the order its rows are imported: a row is imported after the
rows it refers to."""

SHEET_OF_KIND: dict[RecordKind, str] = {
    sheet.makes: sheet.title for sheet in SHEETS if sheet.makes is not None
}

SHEET_NAMED: dict[str, Sheet] = {normalised(sheet.title): sheet for sheet in SHEETS}

READ_ME = "Read me"
LISTS = "Lists"
