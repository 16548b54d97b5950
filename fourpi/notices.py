"""Outcome notes: when a response or a change concerning someone's contribution reaches the views, each contributor who asked to be told by email is sent a short note with a link to their page, and the record notes the feedback as given, by email, on that day; once per response, however many processes run it.

It follows the views (the facts of responses and change sources, by log position)
from the projection worker's thread, after each batch it applies, but there it only
writes down which notes are due, in the store's own tables: a mail host that hangs
must never hold up the views every read waits for. A sender thread beside the worker
(`fourpi serve` and `fourpi projections run` start both) sends the due notes, each
attempt cut off after ATTEMPT_SECONDS, and tries a failed one again later, waiting
longer each time, until ATTEMPTS_ALLOWED, when it gives up and says so in the log.

Each note is claimed in a table of its own as it becomes due (a second process, or
a rerun, finds the claim and adds nothing), a sender takes a due note by moving its
next attempt on in the same statement that checks nobody else took it, and the
feedback is recorded with an idempotency key per response. No email is sent unless
$FOURPI_SMTP_URL and $FOURPI_MAIL_FROM are set.
"""

import contextlib
import logging
import os
import smtplib
import socket
import ssl
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, getaddresses
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.utils import EnvType

from fourpi.accounts import SecretTables, rows_changed
from fourpi.domain.account import check_email
from fourpi.domain.errors import DomainError, IdempotencyKeyReused, InvalidInput
from fourpi.domain.vocabulary import FeedbackMethod, NoticePreference
from fourpi.listing import rows
from fourpi.local_time import local_date
from fourpi.personal_links import PersonalLinks, personal_link
from fourpi.projections.views import ImpactViews

log = logging.getLogger("fourpi.notices")

SMTP_URL_VARIABLE = "FOURPI_SMTP_URL"
MAIL_FROM_VARIABLE = "FOURPI_MAIL_FROM"
SMTP_TIMEOUT_SECONDS = 10
"""How long one exchange with the mail host may take."""
ATTEMPT_SECONDS = 30.0
"""How long one attempt to send a note may take in all: a host that answers a byte
every few seconds never trips SMTP_TIMEOUT_SECONDS, so the attempt is cut off."""
TAKEN_SECONDS = 600.0
"""How long a note taken by a sender is left to it: far longer than an attempt, so
only a sender that died mid-attempt leaves one, and for no longer than this."""
FIRST_RETRY_SECONDS = 60.0
"""How long a note that failed waits before its next attempt; doubled after each
failure, up to LONGEST_RETRY_SECONDS."""
LONGEST_RETRY_SECONDS = 3600.0
ATTEMPTS_ALLOWED = 12
"""Attempts at one note before the sender gives up on it (over about six hours)."""
NOTES_A_ROUND = 100
"""Due notes read at a time (a workbook's import can make thousands due)."""
SENDER_POLL_SECONDS = 5.0
"""How often the sender looks for notes due (it is woken at once by this process's
worker; the poll finds notes made due elsewhere, and retries)."""
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
        """None when neither setting is given: then no email is sent. One without
        the other is refused, so notes are never left unsent without a word."""
        environ = os.environ if environ is None else environ
        url = (environ.get(SMTP_URL_VARIABLE) or "").strip()
        given_sender = (environ.get(MAIL_FROM_VARIABLE) or "").strip()
        if not url and not given_sender:
            return None
        if not (url and given_sender):
            given, missing = (
                (SMTP_URL_VARIABLE, MAIL_FROM_VARIABLE)
                if url
                else (MAIL_FROM_VARIABLE, SMTP_URL_VARIABLE)
            )
            raise ValueError(
                f"${given} is set but ${missing} is not: set both to send outcome "
                "notes by email, or neither"
            )
        sender = mail_from(given_sender)
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
        username, password = (
            unquote(parts.username or ""),
            unquote(parts.password or ""),
        )
        if not (username + password).isascii():
            # smtplib sends them as ASCII: every attempt would fail.
            raise ValueError(
                f"{SMTP_URL_VARIABLE}: the user name and password must be in ASCII "
                "(no accented letters), as Python's mail client sends them"
            )
        return cls(parts.scheme, parts.hostname, port, username, password, sender)

    def send(
        self,
        compose: Callable[[], EmailMessage | None],
        within: float = ATTEMPT_SECONDS,
    ) -> bool:
        """Send the message `compose` makes, or raise OSError or SMTPException,
        within `within` seconds; False if it makes none. It is made only once the
        mail host has answered and let us in: making it may have a cost (a new
        link to a person's page ends their old one) that a failed send must not."""
        context = ssl.create_default_context()
        timeout = min(SMTP_TIMEOUT_SECONDS, within)
        client: smtplib.SMTP
        if self.scheme == "smtps":
            client = smtplib.SMTP_SSL(timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(timeout=timeout)
        watchdog = threading.Timer(within, cut_off, (client,))
        watchdog.daemon = True
        watchdog.start()
        try:
            client.connect(self.host, self.port)
            with client:
                client.ehlo()
                if self.scheme == "smtp" and client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                if self.username:
                    client.login(self.username, self.password)
                message = compose()
                if message is None:
                    return False
                client.send_message(message)
                return True
        finally:
            watchdog.cancel()
            client.close()


def mail_from(given: str) -> str:
    """$FOURPI_MAIL_FROM as the From header gives it: one address, bare or with a
    name (Mind <notes@mind.example>), the address by the rule for accounts'."""
    found = getaddresses([given])
    unseen = any(unicodedata.category(c)[0] == "C" for c in given)
    try:
        if len(found) != 1 or unseen:
            raise InvalidInput(MAIL_FROM_VARIABLE, "not one address")
        name, address = found[0]
        check_email(MAIL_FROM_VARIABLE, address)
    except InvalidInput:
        raise ValueError(
            f"${MAIL_FROM_VARIABLE}: must be one email address, as "
            f"notes@mind.example or Mind <notes@mind.example>, not {given!r}"
        ) from None
    return formataddr((name, address))


def cut_off(client: smtplib.SMTP) -> None:
    """End an attempt that has run out of time: shutting the socket down wakes the
    read it is blocked in, which then fails."""
    connection = getattr(client, "sock", None)
    if connection is not None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)


class NoteTables(SecretTables):
    """Which notes were claimed, which of them are still to be sent, and how far
    through the views notes have been looked for, in the event store's database.

    A due note holds ids only: the address is read from the views as it is sent,
    so it is the person's latest choice and stays where erasure reaches it."""

    TABLES = ("outcome_notes", "outcome_notes_reached", "outcome_notes_due")
    CREATE = (
        "CREATE TABLE IF NOT EXISTS {outcome_notes} (note TEXT PRIMARY KEY, "
        "claimed_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {outcome_notes_reached} (name TEXT PRIMARY KEY, "
        "position BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {outcome_notes_due} (note TEXT PRIMARY KEY, "
        "organisation_id TEXT NOT NULL, contribution_id TEXT NOT NULL, "
        "participant_id TEXT NOT NULL, what TEXT NOT NULL, position BIGINT NOT NULL, "
        "attempts INTEGER NOT NULL, due_at DOUBLE PRECISION NOT NULL)",
    )


@dataclass(frozen=True)
class Outcome:
    """A response or a change concerning a contribution, at its log position."""

    organisation_id: UUID
    contribution_id: UUID
    position: int
    what: str


@dataclass(frozen=True)
class DueNote:
    """A note to one contributor about one outcome, and how often it was tried."""

    note: str
    outcome: Outcome
    participant_id: UUID
    attempts: int

    @classmethod
    def of(cls, row: Any) -> "DueNote":
        outcome = Outcome(
            UUID(str(row["organisation_id"])),
            UUID(str(row["contribution_id"])),
            int(row["position"]),
            str(row["what"]),
        )
        return cls(
            str(row["note"]),
            outcome,
            UUID(str(row["participant_id"])),
            int(row["attempts"]),
        )


class OutcomeNotes:
    """`after(position)` once the views reach a position writes down the notes due
    (quickly: the projection worker calls it); `send_due()` sends them."""

    def __init__(
        self,
        views: ImpactViews,
        mail: MailSettings,
        *,
        attempt_seconds: float | None = None,
        first_retry_seconds: float | None = None,
        attempts_allowed: int | None = None,
    ) -> None:
        """The limits are this module's (ATTEMPT_SECONDS and the rest) unless given."""
        self.views = views
        self.records = views.records
        self.mail = mail
        self.tables = NoteTables(self.records.factory.datastore)  # type: ignore[attr-defined]
        self.links = PersonalLinks(self.records)
        self.attempt_seconds = attempt_seconds or ATTEMPT_SECONDS
        self.first_retry_seconds = first_retry_seconds or FIRST_RETRY_SECONDS
        self.attempts_allowed = attempts_allowed or ATTEMPTS_ALLOWED
        self.due = threading.Event()
        """Set when notes became due here: wakes this process's sender."""

    @classmethod
    def from_environment(
        cls, views: ImpactViews, environ: EnvType | None = None, **settings: Any
    ) -> "OutcomeNotes | None":
        mail = MailSettings.from_environment(environ)
        return None if mail is None else cls(views, mail, **settings)

    def reached(self) -> int:
        found = self.tables.rows(
            "SELECT position FROM {outcome_notes_reached} WHERE name = 'notes'"
        )
        return int(found[0]["position"]) if found else 0

    def after(self, position: int) -> int:
        """Write down the notes due for every outcome up to the position; how many.
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
        due = 0
        for outcome in self.outcomes(since, position):
            due += self.make_due(outcome)
        if due:
            self.due.set()
        self.tables.run(
            "UPDATE {outcome_notes_reached} SET position = ? WHERE name = 'notes' "
            "AND position < ?",
            position,
            position,
        )
        if self.reached() < position:
            self.claim_first_position(position)
        return due

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

    def make_due(self, outcome: Outcome) -> int:
        """A note due to each contributor who chose email; how many were new."""
        contributors = rows(
            self.views,
            "contributors",
            ("participant_id",),
            "organisation_id = ? AND contribution_id = ?",
            str(outcome.organisation_id),
            str(outcome.contribution_id),
        )
        due = 0
        for row in contributors:
            participant_id = UUID(str(row["participant_id"]))
            if self.email_of(outcome.organisation_id, participant_id):
                due += self.claim(outcome, participant_id)
        return due

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

    def claim(self, outcome: Outcome, participant_id: UUID) -> bool:
        """Make the note due unless it was claimed before (by another process, a
        rerun, or a version that sent it at once); whether this call made it due."""
        note = f"{outcome.what}:{outcome.position}:{participant_id}"
        with self.tables.cursor(commit=True) as cursor:
            cursor.execute(
                self.tables.sql(
                    "INSERT INTO {outcome_notes} (note, claimed_at) VALUES (?, ?) "
                    "ON CONFLICT (note) DO NOTHING"
                ),
                (note, datetime.now(UTC).isoformat()),
            )
            if rows_changed(cursor) != 1:
                return False
            cursor.execute(
                self.tables.sql(
                    "INSERT INTO {outcome_notes_due} (note, organisation_id, "
                    "contribution_id, participant_id, what, position, attempts, "
                    "due_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)"
                ),
                (
                    note,
                    str(outcome.organisation_id),
                    str(outcome.contribution_id),
                    str(participant_id),
                    outcome.what,
                    outcome.position,
                    time.time(),
                ),
            )
        return True

    def send_due(self, stopping: threading.Event | None = None) -> int:
        """Send the notes due now; how many were sent. After a failed attempt the
        rest wait for the next round: the mail host is likely away for them too."""
        sent = 0
        found = self.tables.rows(
            "SELECT note, organisation_id, contribution_id, participant_id, what, "
            "position, attempts FROM {outcome_notes_due} WHERE due_at <= ? "
            f"ORDER BY due_at LIMIT {NOTES_A_ROUND}",
            time.time(),
        )
        for row in found:
            if stopping is not None and stopping.is_set():
                return sent
            due = DueNote.of(row)
            if not self.take(due):
                continue
            try:
                told = self.tell(due)
            except Exception as error:
                # Not only a network or SMTP error: any other (smtplib's own, as
                # a UnicodeEncodeError) left the note taken, never failed, and so
                # tried every TAKEN_SECONDS for ever, never given up.
                if not isinstance(error, OSError | smtplib.SMTPException):
                    log.exception("the outcome note to %s failed", due.participant_id)
                self.failed(due, error)
                return sent
            self.tables.run("DELETE FROM {outcome_notes_due} WHERE note = ?", due.note)
            if told:
                self.record_feedback(due.outcome)
                sent += 1
        if len(found) == NOTES_A_ROUND:
            self.due.set()  # more may be due: the sender goes round again at once
        return sent

    def take(self, due: DueNote) -> bool:
        """Whether this sender is the one to attempt it now: the attempt is counted
        and the next put off in one statement that finds it untouched."""
        return (
            self.tables.run(
                "UPDATE {outcome_notes_due} SET attempts = attempts + 1, due_at = ? "
                "WHERE note = ? AND attempts = ?",
                time.time() + TAKEN_SECONDS,
                due.note,
                due.attempts,
            )
            == 1
        )

    def failed(self, due: DueNote, error: Exception) -> None:
        attempts = due.attempts + 1
        if attempts >= self.attempts_allowed:
            self.tables.run("DELETE FROM {outcome_notes_due} WHERE note = ?", due.note)
            log.error(
                "gave up on the outcome note to participant %s about the %s to "
                "contribution %s after %d attempts (the last failed: %s): they have "
                "not been told by email; give them the feedback another way",
                due.participant_id,
                due.outcome.what,
                due.outcome.contribution_id,
                attempts,
                reason_of(error),
            )
            return
        wait = min(
            self.first_retry_seconds * 2 ** (attempts - 1), LONGEST_RETRY_SECONDS
        )
        self.tables.run(
            "UPDATE {outcome_notes_due} SET due_at = ? WHERE note = ?",
            time.time() + wait,
            due.note,
        )
        log.warning(
            "the outcome note to participant %s was not sent (attempt %d of %d: %s); "
            "trying again in %g s",
            due.participant_id,
            attempts,
            self.attempts_allowed,
            reason_of(error),
            wait,
        )

    def tell(self, due: DueNote) -> bool:
        """Send the note, with a new link to their page, if they still want one by
        email; False if not. A failure to send raises."""
        address = self.email_of(due.outcome.organisation_id, due.participant_id)
        if not address:
            return False
        told = self.mail.send(
            lambda: self.note_to(due, address), within=self.attempt_seconds
        )
        if told:
            log.info("sent an outcome note to participant %s", due.participant_id)
        return told

    def note_to(self, due: DueNote, address: str) -> EmailMessage | None:
        """The note, with a new link to their page; None if they may have none."""
        outcome, participant_id = due.outcome, due.participant_id
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
            return None
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
        return message

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
        except IdempotencyKeyReused:
            # Recorded already, on an earlier day, when another contributor's note
            # about the same outcome was sent.
            pass
        except DomainError as error:
            log.warning(
                "feedback for %s not recorded: %s", outcome.contribution_id, error
            )


class NoteSender:
    """Sends the due notes in a thread of its own, beside the projection worker."""

    def __init__(self, notes: OutcomeNotes, *, poll_seconds: float | None = None):
        self.notes = notes
        self.poll_seconds = poll_seconds or SENDER_POLL_SECONDS
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="fourpi-outcome-notes", daemon=True
        )

    def start(self) -> "NoteSender":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stops after the attempt under way, if any (ATTEMPT_SECONDS at most)."""
        self._stopping.set()
        self.notes.due.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.notes.due.clear()
            if self._stopping.is_set():
                # stop() came between the check and the clear, whose wake-up the
                # clear undid: the wait below would have slept a whole poll.
                break
            try:
                self.notes.send_due(self._stopping)
            except Exception:
                log.exception("outcome notes: the sender's round failed")
            self.notes.due.wait(self.poll_seconds)


def reason_of(error: Exception) -> str:
    """What went wrong, in words even when the error has none (a timeout)."""
    if isinstance(error, OSError | smtplib.SMTPException):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def is_duplicate(error: Exception) -> bool:
    """A row with this key is there already (another process claimed it first)."""
    text = str(error).lower()
    return "unique" in text or "duplicate" in text
