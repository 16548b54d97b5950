"""Personal links: the secret a service user or carer opens their own page with, kept as a hash in a table of its own beside the log (never in it), for one person, valid for a set number of days, revocable, and refused once revoked, expired or the person is erased; and the failed attempts that slow down anyone guessing links.

Making and revoking a link are recorded in the log (Participant.PersonalLinkMade,
PersonalLinkRevoked) with who did it; the secret itself only ever appears once, to
the person who made it.
"""

import math
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.utils import EnvType

from fourpi.accounts import SecretTables, digest, failures_indexed, positive
from fourpi.config import public_url
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import DomainError
from fourpi.domain.participant import Participant
from fourpi.kept import Kept
from fourpi.local_time import local_date, now

LINK_DAYS_VARIABLE = "FOURPI_PERSONAL_LINK_DAYS"
DEFAULT_LINK_DAYS = 90
FAILED_ATTEMPTS_ALLOWED = 20
"""Failed link attempts one address may make in a minute before it is refused (429)."""
ATTEMPT_WINDOW = timedelta(minutes=1)
PAGE_PATH = "/my-page"
PEOPLE_KEPT = 1024
"""People whose link's state a process keeps (PersonalLinks.people)."""


def link_days(environ: EnvType | None = None) -> float:
    """How many days a new personal link is valid ($FOURPI_PERSONAL_LINK_DAYS, 90)."""
    environ = os.environ if environ is None else environ
    return positive(environ, LINK_DAYS_VARIABLE, DEFAULT_LINK_DAYS, timedelta(days=1))


def personal_link(secret: str, environ: EnvType | None = None) -> str:
    """The link the person opens: on the public URL, holding the secret."""
    return f"{public_url(environ)}{PAGE_PATH}/{secret}"


class LinkTables(SecretTables):
    """The personal links' and failed attempts' tables, in the event store's database."""

    TABLES = ("personal_links", "link_failures")
    CREATE = (
        "CREATE TABLE IF NOT EXISTS {personal_links} (secret_hash TEXT PRIMARY KEY, "
        "participant_id TEXT NOT NULL, organisation_id TEXT NOT NULL, made_at TEXT "
        "NOT NULL, expires_at TEXT NOT NULL, revoked_at TEXT)",
        "CREATE TABLE IF NOT EXISTS {link_failures} (subject TEXT NOT NULL, "
        "failed_at TEXT NOT NULL)",
        *failures_indexed("link_failures"),
    )


@dataclass(frozen=True)
class LinkHolder:
    """Whose page a live link opens."""

    organisation_id: UUID
    participant_id: UUID
    expires_at: datetime


@dataclass(frozen=True)
class LiveLink:
    """A person's current link, as a manager sees it (never its secret)."""

    made_at: datetime
    expires_at: datetime


GONE = "gone"
"""A link that was real: revoked, expired, or its person erased (410)."""


@dataclass(frozen=True)
class TooMany:
    """Too many failed attempts from one address within the minute (429): `wait`,
    the seconds until a try from it would be taken (Retry-After)."""

    wait: int


NOT_GRANTED = (
    "Only an account granted personal data may make a personal link: the page it "
    "opens shows the person's details, their answers about themselves and their "
    "payments. An admin can grant it on the accounts page."
)


class LinkNotGranted(DomainError):
    """A personal link asked for by a caller not granted personal data: whoever
    makes a link can open it, so making one reads the person's page."""

    code = "FORBIDDEN"

    def __init__(self) -> None:
        super().__init__(NOT_GRANTED, field="make")


class PersonalLinks:
    """Making, revoking and opening personal links; `actor` names who makes or
    revokes one, as events do."""

    def __init__(self, records: InvolvementRecords, days: float | None = None) -> None:
        self.records = records
        self.days = link_days() if days is None else days
        self.tables = LinkTables(records.factory.datastore)  # type: ignore[attr-defined]
        self.people: Kept[bool] = Kept(records, PEOPLE_KEPT)
        """Whether each person's link is live, as the log last said (see holder):
        their record is read again only once an event has followed, rather than
        on every request, which replayed all their events (72 ms a request for
        a person of 1,000 events on SQLite, 104 ms on PostgreSQL)."""

    def make(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        actor: str,
        reads_personal_data: bool,
    ) -> tuple[str, datetime]:
        """A new link's secret and when it expires; the person's earlier links stop
        working. Only for a caller who `reads_personal_data` (LinkNotGranted
        otherwise, and nothing is recorded)."""
        if reads_personal_data is not True:
            raise LinkNotGranted
        made = now()
        expires = made + timedelta(days=self.days)
        self.records.make_personal_link(
            organisation_id=organisation_id,
            participant_id=participant_id,
            expires_on=local_date(expires),
            actor=actor,
        )
        secret = secrets.token_urlsafe(32)
        self.tables.run(
            "INSERT INTO {personal_links} (secret_hash, participant_id, "
            "organisation_id, made_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            digest(secret),
            str(participant_id),
            str(organisation_id),
            made.isoformat(),
            expires.isoformat(),
        )
        # Once its row is in, every link but the person's newest ends: whichever
        # of two links made at once ends its links last has seen both rows, and
        # neither ends the newer. Before, each maker ended all links but its own,
        # so two made at once could end each other, and neither opened.
        self.tables.run(
            "UPDATE {personal_links} SET revoked_at = ? WHERE participant_id = ? "
            "AND revoked_at IS NULL AND secret_hash <> (SELECT secret_hash FROM "
            "{personal_links} WHERE participant_id = ? "
            "ORDER BY made_at DESC, secret_hash DESC LIMIT 1)",
            made.isoformat(),
            str(participant_id),
            str(participant_id),
        )
        return secret, expires

    def revoke(
        self, *, organisation_id: UUID, participant_id: UUID, actor: str
    ) -> None:
        """The person's link stops working at once."""
        self.records.revoke_personal_link(
            organisation_id=organisation_id, participant_id=participant_id, actor=actor
        )
        self.end_links_of(participant_id, now())

    def end_links_of(self, participant_id: UUID, at: datetime) -> None:
        """The person's links stop working."""
        self.tables.run(
            "UPDATE {personal_links} SET revoked_at = ? WHERE participant_id = ? AND "
            "revoked_at IS NULL",
            at.isoformat(),
            str(participant_id),
        )

    def live_link(self, participant_id: UUID) -> LiveLink | None:
        """The person's link that opens, if any (as holder() decides)."""
        person: Any = self.records.repository.get(participant_id)
        if not person.personal_link_live:
            return None
        rows = self.tables.rows(
            "SELECT made_at, expires_at FROM {personal_links} WHERE participant_id = ? "
            "AND revoked_at IS NULL",
            str(participant_id),
        )
        live = [
            LiveLink(
                datetime.fromisoformat(str(row["made_at"])),
                datetime.fromisoformat(str(row["expires_at"])),
            )
            for row in rows
        ]
        current = [link for link in live if link.expires_at > now()]
        return current[0] if current else None

    def holder(self, secret: str) -> LinkHolder | str | None:
        """Whose page the link opens; GONE when it was revoked (in its row or in the
        log), has expired or its person is erased; None when no such link was ever
        made."""
        if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
            return None
        rows = self.tables.rows(
            "SELECT participant_id, organisation_id, expires_at, revoked_at FROM "
            "{personal_links} WHERE secret_hash = ?",
            digest(secret),
        )
        if not rows:
            return None
        row = rows[0]
        expires = datetime.fromisoformat(str(row["expires_at"]))
        if row["revoked_at"] is not None or expires <= now():
            return GONE
        holder = LinkHolder(
            UUID(str(row["organisation_id"])), UUID(str(row["participant_id"])), expires
        )

        def read() -> tuple[bool, UUID, int]:
            person = self.records.load(
                Participant, holder.participant_id, holder.organisation_id
            )
            return person.personal_link_live, person.id, person.version

        # The log decides, not the row alone: a revocation recorded while the link
        # was being made (after its event, before its row) leaves the row live.
        live = self.people.get((holder.participant_id, holder.organisation_id), read)
        return holder if live else GONE

    # Guessing

    def open(self, secret: str, address: str) -> LinkHolder | TooMany | str | None:
        """Whose page the link opens, as holder() says, for a request from this
        address; TooMany when the address made 20 failed attempts within the last
        minute, whatever the link.

        The attempt is counted as failed before the link is looked up, and taken
        back if the link was live (or the address refused): attempts sent at once
        then get no more than 20 look-ups between them, as sign-in guesses get no
        more than five password checks."""
        subjects = (subject_of(address),)
        attempted = self.tables.count_failure(
            "link_failures", subjects, 2 * ATTEMPT_WINDOW
        )
        wait = self.refused_for(address, besides=attempted)
        if wait:
            self.tables.take_back("link_failures", subjects, attempted)
            return TooMany(wait)
        holder = self.holder(secret)
        if isinstance(holder, LinkHolder):
            self.tables.take_back("link_failures", subjects, attempted)
        return holder

    def refused_for(self, address: str, besides: datetime) -> int:
        """How many seconds until a try from this address would be taken: 0 when
        it made fewer than 20 failed attempts within the last minute (not counting
        the attempt made at `besides`, whose link is yet to be looked up); else
        until the oldest of its last 20 is a minute old. A refused try is taken
        back, so it never adds to the wait."""
        moment = now()
        rows = self.tables.rows(
            "SELECT failed_at FROM {link_failures} WHERE subject = ? AND failed_at > ?",
            subject_of(address),
            (moment - ATTEMPT_WINDOW).isoformat(),
        )
        failed = [str(row["failed_at"]) for row in rows]
        if besides.isoformat() in failed:
            failed.remove(besides.isoformat())
        if len(failed) < FAILED_ATTEMPTS_ALLOWED:
            return 0
        times = sorted(datetime.fromisoformat(at) for at in failed)
        taken_from = times[-FAILED_ATTEMPTS_ALLOWED] + ATTEMPT_WINDOW
        return max(1, math.ceil((taken_from - moment).total_seconds()))


def subject_of(address: str) -> str:
    # Kept as a digest, as failed sign-ins are.
    return "address:" + digest(str(address))


def links_of(state: Any, records: InvolvementRecords) -> PersonalLinks:
    """The app's personal links, made the first time a request needs them."""
    found: PersonalLinks | None = getattr(state, "personal_links", None)
    if found is None:
        found = state.personal_links = PersonalLinks(records)
    return found
