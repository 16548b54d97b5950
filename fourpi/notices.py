"""Outcome notes: when a response or a change concerning someone's contribution reaches the views, each contributor who asked to be told by email is sent a short note with a link to their page, and the record notes the feedback as given, by email, on that day; once per response, however many processes run it.

It follows the views (the facts of responses and change sources, by log position)
from the projection worker's thread, after each batch it applies: the facts are
there by then, one worker per process already runs, and `fourpi serve` and
`fourpi projections run` both start one. Each note is claimed in a table of its own
before it is sent (a second process, or a rerun, finds the claim and sends
nothing), and the feedback is recorded with an idempotency key per response.
No email is sent unless $FOURPI_SMTP_URL and $FOURPI_MAIL_FROM are set.
"""

import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.utils import EnvType

from fourpi.accounts import SecretTables
from fourpi.domain.account import check_email
from fourpi.domain.errors import DomainError, InvalidInput
from fourpi.domain.vocabulary import FeedbackMethod, NoticePreference
from fourpi.listing import rows
from fourpi.local_time import local_date
from fourpi.personal_links import PersonalLinks, personal_link
from fourpi.projections.views import ImpactViews

log = logging.getLogger("fourpi.notices")

SMTP_URL_VARIABLE = "FOURPI_SMTP_URL"
MAIL_FROM_VARIABLE = "FOURPI_MAIL_FROM"
SMTP_TIMEOUT_SECONDS = 10
ACTOR = "fourpi outcome notes"

OUTCOME_WORDS = {
    "adopted": "We did what you suggested.",
    "adapted": "We did it, in a changed way.",
    "declined": "We did not do it, and we say why on your page.",
    "deferred": "We will decide later.",
}


@dataclass(frozen=True)
class MailSettings:
    """Where notes are sent from: smtp://user:password@host:587 (STARTTLS when the
    server offers it) or smtps://… (TLS from the start), and the From address."""

    scheme: str
    host: str
    port: int
    username: str
    password: str
    sender: str

    @classmethod
    def from_environment(cls, environ: EnvType | None = None) -> "MailSettings | None":
        """None when either setting is unset: then no email is sent."""
        environ = os.environ if environ is None else environ
        url = (environ.get(SMTP_URL_VARIABLE) or "").strip()
        sender = (environ.get(MAIL_FROM_VARIABLE) or "").strip()
        if not url or not sender:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                f"{SMTP_URL_VARIABLE}: must be like smtp://user:password@host:587"
            )
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 587)
        except ValueError:
            raise ValueError(
                f"{SMTP_URL_VARIABLE}: the port must be a number"
            ) from None
        return cls(
            parts.scheme,
            parts.hostname,
            port,
            unquote(parts.username or ""),
            unquote(parts.password or ""),
            sender,
        )

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.scheme == "smtps":
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            if self.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if self.username:
                client.login(self.username, self.password)
            client.send_message(message)


class NoteTables(SecretTables):
    """Which notes were claimed, and how far through the views notes have been
    looked for, in the event store's database."""

    TABLES = ("outcome_notes", "outcome_notes_reached")
    CREATE = (
        "CREATE TABLE IF NOT EXISTS {outcome_notes} (note TEXT PRIMARY KEY, "
        "claimed_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {outcome_notes_reached} (name TEXT PRIMARY KEY, "
        "position BIGINT NOT NULL)",
    )


@dataclass(frozen=True)
class Outcome:
    """A response or a change concerning a contribution, at its log position."""

    organisation_id: UUID
    contribution_id: UUID
    position: int
    what: str


class OutcomeNotes:
    """Sends the notes; `after(position)` once the views reach a position."""

    def __init__(self, views: ImpactViews, mail: MailSettings) -> None:
        self.views = views
        self.records = views.records
        self.mail = mail
        self.tables = NoteTables(self.records.factory.datastore)  # type: ignore[attr-defined]
        self.links = PersonalLinks(self.records)

    @classmethod
    def from_environment(
        cls, views: ImpactViews, environ: EnvType | None = None
    ) -> "OutcomeNotes | None":
        mail = MailSettings.from_environment(environ)
        return None if mail is None else cls(views, mail)

    def reached(self) -> int:
        found = self.tables.rows(
            "SELECT position FROM {outcome_notes_reached} WHERE name = 'notes'"
        )
        return int(found[0]["position"]) if found else 0

    def after(self, position: int) -> int:
        """Send the notes of every outcome up to the position; how many were sent.
        A failure is logged and never stops the caller (the projection worker)."""
        try:
            return self._after(position)
        except Exception:
            log.exception("outcome notes stopped at log position %d", position)
            return 0

    def _after(self, position: int) -> int:
        since = self.reached()
        if position <= since:
            return 0
        sent = 0
        for outcome in self.outcomes(since, position):
            sent += self.tell(outcome)
        self.tables.run(
            "UPDATE {outcome_notes_reached} SET position = ? WHERE name = 'notes' "
            "AND position < ?",
            position,
            position,
        )
        if self.reached() < position:
            self.claim_first_position(position)
        return sent

    def claim_first_position(self, position: int) -> None:
        try:
            self.tables.run(
                "INSERT INTO {outcome_notes_reached} (name, position) VALUES "
                "('notes', ?)",
                position,
            )
        except Exception as error:
            if not is_duplicate(error):
                raise

    def outcomes(self, since: int, until: int) -> list[Outcome]:
        found = [
            Outcome(
                UUID(str(row["organisation_id"])),
                UUID(str(row["contribution_id"])),
                int(row["position"]),
                what,
            )
            for table, what in (("responses", "response"), ("change_sources", "change"))
            for row in rows(
                self.views,
                table,
                ("organisation_id", "contribution_id", "position"),
                "position > ? AND position <= ?",
                since,
                until,
            )
        ]
        return sorted(found, key=lambda o: o.position)

    def tell(self, outcome: Outcome) -> int:
        """Note each contributor who chose email; record the feedback once."""
        contributors = rows(
            self.views,
            "contributors",
            ("participant_id",),
            "organisation_id = ? AND contribution_id = ?",
            str(outcome.organisation_id),
            str(outcome.contribution_id),
        )
        told = 0
        for row in contributors:
            participant_id = UUID(str(row["participant_id"]))
            address = self.email_of(outcome.organisation_id, participant_id)
            if not address:
                continue
            note = f"{outcome.what}:{outcome.position}:{participant_id}"
            if not self.claim(note):
                continue
            if self.send(outcome, participant_id, address):
                told += 1
        if told:
            self.record_feedback(outcome)
        return told

    def email_of(self, organisation_id: UUID, participant_id: UUID) -> str:
        preference = rows(
            self.views,
            "notice_preferences",
            ("notice_preference", "email"),
            "organisation_id = ? AND participant_id = ?",
            str(organisation_id),
            str(participant_id),
        )
        if not preference or preference[-1]["notice_preference"] != (
            NoticePreference.EMAIL.value
        ):
            return ""
        address = str(preference[-1]["email"] or "")
        try:
            return check_email("email", address) if address else ""
        except InvalidInput:
            # Stored before the rule refused it: a mail program would read it as
            # other addresses ('a,b@x.example' as 'a' and 'b@x.example'), so the
            # person's link would go to mailboxes not theirs.
            log.warning(
                "no note for participant %s: their email address is not one "
                "fourpi takes now; ask them for it again",
                participant_id,
            )
            return ""

    def claim(self, note: str) -> bool:
        """Whether this process is the one to send the note (the first to claim it)."""
        try:
            self.tables.run(
                "INSERT INTO {outcome_notes} (note, claimed_at) VALUES (?, ?)",
                note,
                datetime.now(UTC).isoformat(),
            )
        except Exception as error:
            if is_duplicate(error):
                return False
            raise
        return True

    def send(self, outcome: Outcome, participant_id: UUID, address: str) -> bool:
        try:
            secret, expires = self.links.make(
                organisation_id=outcome.organisation_id,
                participant_id=participant_id,
                actor=ACTOR,
                # The note goes to the person's own address, read with their key.
                reads_personal_data=True,
            )
        except DomainError as error:
            log.info("no note for participant %s: %s", participant_id, error)
            return False
        message = EmailMessage()
        message["From"] = self.mail.sender
        message["To"] = address
        message["Subject"] = "What happened to what you told us"
        message.set_content(
            "Hello,\n\n"
            + (
                "We have decided what to do about something you told us."
                if outcome.what == "response"
                else "Something has changed because of what you told us."
            )
            + "\n\nYou can read what we did, and why, on your own page:\n\n"
            + personal_link(secret)
            + f"\n\nThe link works until {local_date(expires):%-d %B %Y} and replaces any "
            "earlier one. Please keep it private.\n"
        )
        try:
            self.mail.send(message)
        except (OSError, smtplib.SMTPException):
            log.exception("the note to participant %s was not sent", participant_id)
            return False
        log.info("sent an outcome note to participant %s", participant_id)
        return True

    def record_feedback(self, outcome: Outcome) -> None:
        """The record notes the feedback as given, by email, today: once per
        response or change, even if two processes send notes for it."""
        try:
            self.records.give_feedback(
                organisation_id=outcome.organisation_id,
                contribution_id=outcome.contribution_id,
                given_on=local_date(),
                method=FeedbackMethod.EMAIL,
                summary=(
                    "A note was emailed to the contributors who asked to be told "
                    "by email, with a link to their own page."
                ),
                actor=ACTOR,
                idempotency_key=(
                    f"outcome-note:{outcome.what}:{outcome.position}:"
                    f"{outcome.contribution_id}"
                ),
            )
        except DomainError as error:
            log.warning(
                "feedback for %s not recorded: %s", outcome.contribution_id, error
            )


def is_duplicate(error: Exception) -> bool:
    """A row with this key is there already (another process claimed it first)."""
    text = str(error).lower()
    return "unique" in text or "duplicate" in text
