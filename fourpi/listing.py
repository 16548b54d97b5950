"""What the command line lists so that a user can find the ids other commands take: an organisation's participants, its access tokens, and which organisation an initiative is of."""

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from fourpi.domain.access import AccessToken
from fourpi.domain.application import GLOBAL
from fourpi.domain.record import on_one_line
from fourpi.projections.schema import TABLES
from fourpi.projections.views import ImpactViews

TOKEN_ISSUED = f"{AccessToken.__module__}:{AccessToken.Issued.__qualname__}"
"""The topic of a token's first event in the views' log."""


@dataclass(frozen=True)
class ParticipantLine:
    participant_id: UUID
    pseudonym: str
    participant_kind: str
    erased: bool
    erasure_requested_on: date | None = None
    """When the person asked, on their own page, to be erased (and is not yet)."""

    def __str__(self) -> str:
        name = "(erased)" if self.erased else on_one_line(self.pseudonym)
        asked = (
            f"  asked to be erased on {self.erasure_requested_on}"
            if self.erasure_requested_on is not None and not self.erased
            else ""
        )
        return f"{self.participant_id}  {name}  ({self.participant_kind}){asked}"


@dataclass(frozen=True)
class TokenLine:
    token_id: UUID
    role: str
    organisation_id: UUID | None
    label: str
    personal_data: bool
    revoked: bool

    def __str__(self) -> str:
        details = [self.role]
        if self.personal_data:
            details.append("personal data")
        if self.revoked:
            details.append("revoked")
        where = (
            "global" if self.organisation_id is None else f"of {self.organisation_id}"
        )
        label = f"  {self.label!r}" if self.label else ""
        return f"{self.token_id}  {', '.join(details)}  {where}{label}"


def rows(
    views: ImpactViews, table: str, columns: tuple[str, ...], where: str, *given: Any
) -> list[dict[str, Any]]:
    """Some columns of one fact table's rows, in log order."""
    store = views.store
    sql_where = where.replace("?", store.placeholder)
    with store.reading_tuples() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {store.qualified(TABLES[table])} "
            f"WHERE {sql_where} ORDER BY position, seq",
            given,
        )
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def participants_of(views: ImpactViews, organisation_id: UUID) -> list[ParticipantLine]:
    """Each participant of the organisation once, in the order registered."""
    erased = {
        str(row["participant_id"])
        for row in rows(
            views,
            "erasures",
            ("participant_id",),
            "organisation_id = ?",
            str(organisation_id),
        )
    }
    latest: dict[str, dict[str, Any]] = {}
    for row in rows(
        views,
        "participants",
        ("participant_id", "pseudonym", "participant_kind"),
        "organisation_id = ?",
        str(organisation_id),
    ):
        latest[str(row["participant_id"])] = row
    asked = {
        str(row["participant_id"]): row["requested_on"]
        for row in rows(
            views,
            "erasure_requests",
            ("participant_id", "requested_on"),
            "organisation_id = ?",
            str(organisation_id),
        )
    }
    return [
        ParticipantLine(
            UUID(participant_id),
            row["pseudonym"] or "",
            row["participant_kind"] or "",
            participant_id in erased,
            as_date(asked.get(participant_id)),
        )
        for participant_id, row in latest.items()
    ]


def as_date(value: Any) -> date | None:
    """A date column as either store gives it back (SQLite keeps text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def erasure_requests(
    views: ImpactViews, organisation_id: UUID
) -> list[ParticipantLine]:
    """The people who asked to be erased and are not yet, for an admin to act on."""
    return [
        line
        for line in participants_of(views, organisation_id)
        if line.erasure_requested_on is not None and not line.erased
    ]


def tokens_of(views: ImpactViews, organisation_id: UUID | None) -> list[TokenLine]:
    """Every token issued (for one organisation, or all), in the order issued."""
    found = rows(views, "log", ("record_id",), "topic = ?", TOKEN_ISSUED)
    lines = []
    for row in found:
        token: Any = views.records.repository.get(UUID(str(row["record_id"])))
        owner = None if token.organisation_id == GLOBAL else token.organisation_id
        if organisation_id is not None and owner != organisation_id:
            continue
        lines.append(
            TokenLine(
                token.id,
                str(token.role),
                owner,
                token.label,
                bool(token.personal_data),
                bool(token.revoked),
            )
        )
    return lines


def initiative_owner(views: ImpactViews, initiative_id: UUID) -> UUID | None:
    """The organisation an initiative is recorded for, or None if it is not."""
    found = rows(
        views,
        "initiatives",
        ("organisation_id",),
        "initiative_id = ?",
        str(initiative_id),
    )
    return UUID(str(found[0]["organisation_id"])) if found else None
