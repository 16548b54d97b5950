"""Helpers the web app's tests share: a store with people in it, a test client on the whole server, signing in, and reading a form's CSRF token."""

import re
import warnings
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from fourpi.accounts import Accounts
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import (
    ContributionNature,
    ImpactArea,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    InvolvementRole,
    ParticipantKind,
    ResponseOutcome,
)
from tests.helpers import ACTOR

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient as TestClient

PASSWORD = "a long passphrase for tests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Organisation:
    """An organisation with one initiative, a person, a contribution and its chain,
    and its words that no other organisation's person may read."""

    organisation_id: UUID
    name: str
    initiative_id: UUID
    secrets: tuple[str, ...]


def organisation_with_a_chain(records: InvolvementRecords, name: str) -> Organisation:
    organisation_id = records.register_organisation(name=name, actor="admin")
    initiative_id = records.launch_initiative(
        organisation_id=organisation_id,
        name=f"{name}: peer support review",
        level=InvolvementLevel.OPERATIONAL,
        involvement_kind=InvolvementKind.PARTICIPATION,
        methods=(InvolvementMethod.FOCUS_GROUP,),
        purpose=f"{name} purpose: review peer support with the people who use it.",
        limits_of_influence=f"{name} limits: staffing is set by the trust.",
        started_on=date(2024, 1, 8),
        actor=ACTOR,
    )
    person = records.register_participant(
        organisation_id=organisation_id,
        pseudonym=f"{name} advisor",
        participant_kind=ParticipantKind.SERVICE_USER,
        actor=ACTOR,
    )
    records.assign_role(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        participant_id=person,
        role=InvolvementRole.ADVISOR,
        paid=True,
        decision_making=False,
        started_on=date(2024, 1, 8),
        actor=ACTOR,
    )
    contribution = records.log_contribution(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        contributor_ids=[person],
        nature=ContributionNature.RECOMMENDATION,
        summary=f"{name} said: meet in the evening",
        impact_areas=(ImpactArea.DELIVERY,),
        made_on=date(2024, 2, 1),
        actor=ACTOR,
    )
    records.respond_to_contribution(
        organisation_id=organisation_id,
        contribution_id=contribution,
        outcome=ResponseOutcome.ADOPTED,
        rationale=f"{name} agreed",
        responded_on=date(2024, 2, 8),
        actor=ACTOR,
    )
    return Organisation(
        organisation_id,
        name,
        initiative_id,
        (name, f"{name} purpose", f"{name} said", f"{name} advisor"),
    )


def person(
    accounts: Accounts,
    organisation_id: UUID,
    email: str,
    role: Role,
    *,
    personal_data: bool = False,
    name: str = "Test person",
) -> UUID:
    """An account that has joined, with PASSWORD."""
    account_id, secret = accounts.invite(
        organisation_id=organisation_id,
        email=email,
        role=role,
        actor="test",
        personal_data=personal_data,
    )
    accounts.join(
        secret=secret, display_name=name, password=PASSWORD, confirmation=PASSWORD
    )
    return account_id


def csrf_token(client: TestClient, path: str) -> str:
    """The CSRF token of the form on a page."""
    found = CSRF.search(client.get(path).text)
    assert found, f"{path} has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/sign-in",
        data={
            "csrf_token": csrf_token(client, "/sign-in"),
            "email": email,
            "password": password,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def workbook_of_unknown_kinds(rows: int, value: str) -> bytes:
    """The template with `rows` People rows whose kind of person is `value`, which
    is no kind: one problem a row."""
    import io
    import tempfile
    from pathlib import Path

    import openpyxl

    from fourpi.workbook import write_template

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.xlsx"
        write_template(path)
        book = openpyxl.load_workbook(path)
    for row in range(2, rows + 2):
        book["People"].cell(row=row, column=1, value=f"p{row}")
        book["People"].cell(row=row, column=2, value="Robin")
        book["People"].cell(row=row, column=3, value=value)
    sent = io.BytesIO()
    book.save(sent)
    return sent.getvalue()
