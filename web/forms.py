"""A form for every use case a manager has, drawn from its one description (fourpi.domain.use_cases): the fields, labels, hints and choices, the idempotency key that makes a second submit harmless, and the domain's refusal shown beside the field it names."""

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fourpi.domain.access import Role
from fourpi.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    IdempotencyKeyReused,
    RecordNotFound,
)
from fourpi.domain.use_cases import (
    MANAGER_USE_CASES,
    Field,
    FieldKind,
    RecordKind,
    UseCase,
    label_of,
)
from fourpi.domain.vocabulary import MONITORING_VALUES, MonitoringCategory
from fourpi.graphql.errors import camel_case
from fourpi.local_time import shown
from fourpi.privacy.visibility import WRITERS_OF_RECORDS
from fourpi.threads import in_thread
from fourpi.web.page import Page, Reply, reply_with
from fourpi.web.pages import render
from fourpi.web.posted import form_of
from fourpi.web.record_choices import Choices, choices_of
from fourpi.web.sessions import SignedIn, accounts_of, as_the_caller
from fourpi.workbook.cells import CellError, items_of, read_cell, read_choice

KEY_FIELD = "idempotency_key"
KEY_PREFIX = "web:"
SENT_WITH_OTHER_ANSWERS = (
    "This form was already sent with other answers: open the form again to "
    "record something new"
)
"""A form's key carried other answers before (sent again after going back and
changing one): said so, naming neither the key nor the command."""
CHANGED_AT_ONCE = (
    "Someone else changed the same record at the same moment, so this was not saved"
)
"""A record changed by other requests each time a command was decided and saved,
for as long as it kept trying (only an in-memory store races so: elsewhere a
command decided again holds the store in its turn): said so, naming no record's
id."""


def plainly(error: DomainError) -> str:
    """A refusal as a page says it: the domain's words, but for the refusals whose
    words name a key, a command or a record's id."""
    if isinstance(error, IdempotencyKeyReused):
        return SENT_WITH_OTHER_ANSWERS
    if isinstance(error, ConcurrencyConflict):
        return CHANGED_AT_ONCE
    return readable_moments(str(error))


def mutation_name(use_case: UseCase) -> str:
    """The API's name for a use case: logContribution for log_contribution."""
    return camel_case(use_case.name)


FORMS: dict[str, UseCase] = {mutation_name(u): u for u in MANAGER_USE_CASES}
"""Every manager use case's form, by the mutation it performs."""


def form_path(use_case: UseCase, **given: object) -> str:
    """Where a use case's form is, with some of its fields filled in."""
    query = "&".join(f"{name}={value}" for name, value in given.items())
    return f"/record/{mutation_name(use_case)}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class ShownField:
    """One field as the form draws it: its description, what was typed or chosen,
    and the options it offers."""

    field: Field
    id: str
    given: str | tuple[str, ...]
    options: tuple[Option, ...] = ()

    @property
    def kind(self) -> str:
        return self.field.kind.name.lower()

    @property
    def anchor(self) -> str:
        """Where the error summary's link leads: the field, or a group's first box."""
        if self.field.kind is FieldKind.YES_NO:
            return f"{self.id}-yes"
        if (
            self.field.kind in (FieldKind.CHOICES, FieldKind.REFERENCES)
            and self.options
        ):
            return f"{self.id}-1"
        return self.id

    def chosen(self, value: str) -> bool:
        if isinstance(self.given, tuple):
            return value in self.given
        return value == self.given


def asked(use_case: UseCase) -> tuple[Field, ...]:
    """The fields a form asks for: not those the record named by another carries."""
    return tuple(f for f in use_case.fields if f.implied_by is None)


def field_id(field: Field) -> str:
    return field.name.replace(".", "-").replace("_", "-")


def given_of(use_case: UseCase, source: Any) -> dict[str, str | tuple[str, ...]]:
    """What was typed or chosen, as it was: multi-valued fields as tuples."""
    given: dict[str, str | tuple[str, ...]] = {}
    for field in asked(use_case):
        if field.kind in (FieldKind.CHOICES, FieldKind.REFERENCES):
            given[field.name] = tuple(str(v) for v in source.getlist(field.name))
        else:
            given[field.name] = str(source.get(field.name) or "")
    return given


def options_for(
    use_case: UseCase,
    field: Field,
    choices: Choices,
    given: dict[str, str | tuple[str, ...]],
) -> tuple[Option, ...]:
    if field.vocabulary is not None:
        return tuple(Option(m.value, label_of(m)) for m in field.vocabulary)
    if field.refers_to is None:
        return ()
    initiative = given.get("initiative_id")
    return tuple(
        Option(value, label)
        for value, label in choices.of(use_case, field, str(initiative or ""), given)
    )


def shown_fields(
    use_case: UseCase, choices: Choices, given: dict[str, str | tuple[str, ...]]
) -> list[ShownField]:
    return [
        ShownField(
            f,
            field_id(f),
            given.get(f.name, ""),
            options_for(use_case, f, choices, given),
        )
        for f in asked(use_case)
    ]


class FormError(Exception):
    def __init__(self, field: str, rule: str) -> None:
        super().__init__(rule)
        self.field = field
        self.rule = rule


def read_value(field: Field, value: str | tuple[str, ...]) -> Any:
    """A field's value as its use case takes it; None when left blank."""
    if isinstance(value, tuple):
        if field.kind is FieldKind.REFERENCES:
            return [record_id(field, v) for v in value]
        assert field.vocabulary is not None
        return tuple(read_choice(field.vocabulary, v) for v in value)
    text = value.strip()
    if not text:
        return None
    if field.kind is FieldKind.REFERENCE:
        if field.refers_to is RecordKind.CYCLE:
            return Choices.cycle_number(text)
        return record_id(field, text)
    if field.kind is FieldKind.SHARES:
        return read_shares(text)
    return read_cell(field, text)


def record_id(field: Field, text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise CellError(f"choose a {field.refers_to} from the list") from None


def read_shares(text: str) -> dict[MonitoringCategory, dict[str, Decimal]]:
    """One share a line: category, group, share (Gender, Woman, 0.51)."""
    shares: dict[MonitoringCategory, dict[str, Decimal]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = items_of(line)
        if len(parts) != 3:
            raise CellError(
                f"line {number}: write a category, a group and a share, with commas "
                "between them"
            )
        try:
            category = read_choice(MonitoringCategory, parts[0])
            group = read_choice(
                MONITORING_VALUES[MonitoringCategory(category)], parts[1]
            )
            share = read_cell(Field("share", "Share", "", FieldKind.DECIMAL), parts[2])
        except CellError as error:
            raise CellError(f"line {number}: {error.rule}") from None
        shares.setdefault(MonitoringCategory(category), {})[group.value] = share
    return shares


CHOSEN = (
    FieldKind.CHOICE,
    FieldKind.CHOICES,
    FieldKind.REFERENCE,
    FieldKind.REFERENCES,
    FieldKind.YES_NO,
)

BLANK: dict[FieldKind, Any] = {
    FieldKind.TEXT: "",
    FieldKind.LONG_TEXT: "",
    FieldKind.TEXT_LINES: (),
    FieldKind.CHOICES: (),
    FieldKind.REFERENCES: [],
}
"""What a blank field of these kinds gives its use case (the domain decides whether
blank will do)."""


def reads_records(use_case: UseCase) -> bool:
    """Whether reading a post of this form needs the organisation's records (the
    views): only to find the initiative of a record chosen, for a field the form
    never asks (a meeting's initiative). Every other field is read from what was
    sent, and the use case itself checks each record named."""
    return any(
        f.implied_by is not None and f.refers_to is RecordKind.INITIATIVE
        for f in use_case.fields
    )


def arguments_of(
    use_case: UseCase,
    given: dict[str, str | tuple[str, ...]],
    choices: Choices | None,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The use case's keyword arguments, and what could not be read, by field
    (`choices` is needed only when the form reads_records)."""
    arguments: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for field in asked(use_case):
        try:
            value = read_value(field, given.get(field.name, ""))
        except CellError as error:
            errors.append((field.name, f"{field.label}: {error.rule}"))
            continue
        if "." in field.name:
            part = field.name.split(".", 1)[1]
            mapping = arguments.setdefault(field.argument, {})
            if value is not None:
                mapping[part] = value
            continue
        if value is None or value == () or value == []:
            if field.kind in BLANK:
                arguments[field.name] = BLANK[field.kind]
            elif field.required:
                verb = "Choose" if field.kind in CHOSEN else "Enter"
                errors.append((field.name, f"{verb} {field.label.lower()}"))
            elif field.default is not None:
                arguments[field.name] = field.default
            continue
        arguments[field.name] = value
    for field in use_case.fields:
        if (
            field.implied_by is not None
            and field.implied_by in arguments
            and field.refers_to is RecordKind.INITIATIVE
        ):
            assert choices is not None, "reads_records: the form needs the records"
            initiative = choices.initiative_of(given.get(field.implied_by, ""))
            if initiative is None:
                errors.append(
                    (field.implied_by, f"{field.label}: choose one from the list")
                )
            else:
                arguments[field.name] = initiative
    return arguments, errors


def where_refused(use_case: UseCase, error: DomainError) -> str:
    """The asked field a refusal names, or the form as a whole."""
    named = (error.field or "").removeprefix("input.")
    for field in asked(use_case):
        if named in (field.name, field.argument) or named.startswith(field.name + "."):
            return field.name
    implied = {f.name: f.implied_by for f in use_case.fields if f.implied_by}
    if named in implied:
        return str(implied[named])
    return "form"


def refusal_text(use_case: UseCase, error: DomainError) -> str:
    if isinstance(error, IdempotencyKeyReused | ConcurrencyConflict):
        return plainly(error)
    rule = getattr(error, "rule", None) or error.message
    if isinstance(error, RecordNotFound):
        rule = f"the {error.kind} chosen is not one of your organisation's records"
    name = where_refused(use_case, error)
    if name == "form":
        return str(rule)
    return f"{use_case.field(name).label}: {rule}"


async def form_context(
    request: Request,
    live: SignedIn,
    use_case: UseCase,
    given: dict[str, str | tuple[str, ...]],
    *,
    errors: list[tuple[str, str]] | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """What the shared templates draw a use case's form from."""
    choices = await choices_of(request, live)
    fields = shown_fields(use_case, choices, given)
    ids = {f.field.name: f.anchor for f in fields}
    named = {o.value: o.label for f in fields for o in f.options}
    errors = [
        (name, readable_moments(by_name(message, named)))
        for name, message in errors or []
    ]
    return {
        "use_case": use_case,
        "mutation": mutation_name(use_case),
        "fields": fields,
        "key": key or secrets.token_urlsafe(18),
        "errors": [(ids.get(name, "form"), message) for name, message in errors],
        "messages": dict(errors),
    }


RECORD_ID = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)


ISO_MOMENT = re.compile(
    r"(?<![\w:-])\d{4}-\d{2}-\d{2}"
    r"(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?(?![\w:-])"
)
"""A date or time as the domain writes it in a refusal (ISO 8601)."""


def readable_moments(message: str) -> str:
    """A refusal with each date and time the domain writes as ISO 8601 ("papers
    were already sent at 2021-03-03T18:00:00+00:00") put as the pages show them:
    a date as "3 March 2021", a time as "3 March 2021, 18:00 GMT", in the
    organisation's time zone."""

    def readable(found: re.Match[str]) -> str:
        try:
            moment = dt.datetime.fromisoformat(found[0])
        except ValueError:
            return found[0]
        if "T" not in found[0]:
            return f"{moment:%-d %B %Y}"
        if moment.tzinfo is None:
            return f"{moment:%-d %B %Y, %H:%M}"
        try:
            return shown(moment)
        except OverflowError:
            return found[0]

    return ISO_MOMENT.sub(readable, message)


def by_name(message: str, named: dict[str, str]) -> str:
    """A refusal with each record's id the form offers (a person ticked, a meeting
    chosen) put as the form lists it: the domain names records by id ("participant
    5f0c... is already recorded"), which a page never shows."""
    return RECORD_ID.sub(lambda found: named.get(found[0], found[0]), message)


async def form_page(
    request: Request,
    live: SignedIn,
    use_case: UseCase,
    given: dict[str, str | tuple[str, ...]],
    *,
    errors: list[tuple[str, str]] | None = None,
    key: str | None = None,
    status_code: int = 200,
) -> Response:
    context = await form_context(request, live, use_case, given, errors=errors, key=key)
    return await render(request, "record_form.html", context, status_code=status_code)


def use_case_of(request: Request) -> UseCase:
    name = str(request.path_params["use_case"])
    if name not in FORMS:
        raise RecordNotFound("form", UUID(int=0), field="use_case")
    return FORMS[name]


async def show_form(request: Request, live: SignedIn) -> Response:
    use_case = use_case_of(request)
    return await form_page(
        request, live, use_case, given_of(use_case, request.query_params)
    )


def write_form(request: Request, form: FormData, live: SignedIn) -> Reply | None:
    """A form's post, whole, in the worker thread that checked who sent it
    (Page.write): one hand-off from the event loop, as the API's mutation is. A form
    that reads_records is left to submit_form, which reads the views first."""
    use_case = use_case_of(request)
    if reads_records(use_case):
        return None
    return recorded(request, live, use_case, form, None)


async def submit_form(request: Request, live: SignedIn) -> Response:
    use_case = use_case_of(request)
    form: FormData = await form_of(request)
    # The records are read from the views (waiting for them to reach the log's
    # head) only when the form needs them.
    choices = await choices_of(request, live) if reads_records(use_case) else None
    # Checked again once the views are read: the session may have ended meanwhile.
    reply: Reply = await in_thread(
        as_the_caller,
        request,
        live,
        partial(recorded, request, live, use_case, form, choices),
    )
    return await reply()


def recorded(
    request: Request,
    live: SignedIn,
    use_case: UseCase,
    form: FormData,
    choices: Choices | None,
) -> Reply:
    """A post's use case, run here (a worker thread), and the reply: the page of
    what it recorded, or the form again (400, nothing recorded) with what could not
    be read, or the domain's refusal, beside its field."""
    given = given_of(use_case, form)
    key = str(form.get(KEY_FIELD) or "") or secrets.token_urlsafe(18)
    arguments, errors = arguments_of(use_case, given, choices)
    if not errors:
        method = getattr(accounts_of(request).records, use_case.name)
        try:
            result = method(
                organisation_id=live.account.organisation_id,
                actor=live.caller.actor,
                idempotency_key=KEY_PREFIX + key,
                **arguments,
            )
        except DomainError as error:
            errors = [(where_refused(use_case, error), refusal_text(use_case, error))]
        else:
            target = record_page_after(use_case, arguments, result)
            separator = "&" if "?" in target else "?"
            return reply_with(
                RedirectResponse(
                    f"{target}{separator}recorded={mutation_name(use_case)}",
                    status_code=303,
                )
            )
    return partial(
        form_page,
        request,
        live,
        use_case,
        given,
        errors=errors,
        key=key,
        status_code=400,
    )


PAGE_OF_KIND = {
    RecordKind.INITIATIVE: "/initiatives/{}",
    RecordKind.PARTICIPANT: "/people/{}",
    RecordKind.MEETING: "/meetings/{}",
    RecordKind.CONTRIBUTION: "/contributions/{}",
    RecordKind.CHANGE: "/changes/{}",
    RecordKind.PAYMENT: "/payments/{}",
    RecordKind.INVOLVEMENT_POLICY: "/policy",
}
"""The pages of the records that have one; a record without one is shown on the
page of the record it belongs to."""

OWNER_FIELDS = (
    "meeting_id",
    "contribution_id",
    "payment_id",
    "participant_id",
    "initiative_id",
)


def record_page_after(use_case: UseCase, arguments: dict[str, Any], result: Any) -> str:
    """The page of what a use case recorded: the record it made, else the record it
    changed; the id of a record without a page of its own rides along."""
    if use_case.makes in PAGE_OF_KIND and isinstance(result, UUID):
        return PAGE_OF_KIND[use_case.makes].format(result)
    for name in OWNER_FIELDS:
        value = arguments.get(name)
        if isinstance(value, UUID):
            kind = RecordKind(name.removesuffix("_id").replace("_", " "))
            page = PAGE_OF_KIND[kind].format(value)
            if isinstance(result, UUID):
                return f"{page}?record={result}"
            if isinstance(result, int):
                return f"{page}?cycle={result}"
            return page
    if use_case.name == "review_involvement_policy":
        return PAGE_OF_KIND[RecordKind.INVOLVEMENT_POLICY]
    return "/to-do"


def recorded_notice(name: str | None) -> str | None:
    """What the page after a write says was recorded."""
    if name is None or name not in FORMS:
        return None
    return f"Recorded: {FORMS[name].label.lower()}."


def initiative_actions(initiative_id: UUID, role: Role) -> list[tuple[str, str]]:
    """For a manager, the forms of the use cases that name an initiative, each with
    this one filled in; and the initiative's history."""
    if role not in WRITERS_OF_RECORDS:
        return []
    actions = [
        (u.label, form_path(u, initiative_id=initiative_id))
        for u in MANAGER_USE_CASES
        if any(f.name == "initiative_id" and f.implied_by is None for f in u.fields)
    ]
    return [*actions, ("History of this initiative", f"/history/{initiative_id}")]


async def forms_list(request: Request, live: SignedIn) -> Response:
    return await render(
        request,
        "record_forms.html",
        {"forms": [(mutation_name(u), u) for u in MANAGER_USE_CASES]},
    )


PAGES = [
    Page("/record", WRITERS_OF_RECORDS, forms_list),
    Page("/record/{use_case}", WRITERS_OF_RECORDS, show_form),
    Page(
        "/record/{use_case}",
        WRITERS_OF_RECORDS,
        submit_form,
        ("POST",),
        write=write_form,
    ),
]
