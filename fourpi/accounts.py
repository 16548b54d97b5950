"""People's accounts: the use cases (invite, join, change role, disable, sign in) over the Account record, and the secrets they need (password hashes, invitations, sessions, failed sign-ins) in tables of their own beside the log, never in it.

Every secret is kept as a hash: a session id or invitation link read from the
database cannot be used, and a password is hashed with argon2id.
"""

import hashlib
import math
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import EnvType

from fourpi.config import public_url
from fourpi.domain.access import Role
from fourpi.domain.account import (
    Account,
    account_id_for,
    account_id_signing_in,
    as_kept,
    check_email,
)
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import ConcurrencyConflict, InvalidInput, RecordNotFound
from fourpi.domain.record import check_member
from fourpi.kept import Kept
from fourpi.local_time import now
from fourpi.privacy.visibility import GRANT_NOT_HELD
from fourpi.storage.postgres_reads import read_rows

INVITATION_HOURS = 72
INVITED_AGAIN_ONLY_BY_GRANTED = (
    "only an admin granted personal data may invite again an account that holds it"
)
FAILURES_ALLOWED = 5
"""Failed sign-ins for one email address within LOCKOUT that lock it."""
ADDRESS_FAILURES_ALLOWED = 20
"""Failed sign-ins from one network address within LOCKOUT that lock it: more than
for an email address, since an office's staff or a phone network's customers share
one, and one person's mistakes should not lock out the rest."""
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1000
SESSION_IDLE_VARIABLE = "FOURPI_SESSION_IDLE_MINUTES"
SESSION_LIMIT_VARIABLE = "FOURPI_SESSION_HOURS"
DEFAULT_SESSION_IDLE_MINUTES = 30
DEFAULT_SESSION_HOURS = 12
SEEN_EVERY = timedelta(minutes=1)
"""A session's last-seen time is written at most this often (a tenth of the idle
limit if that is shorter), not at every request: a form post then writes only its
events. The idle limit is measured from a last-seen time at most this old, so a
session ends up to this much sooner than the limit, never later."""
ACCOUNTS_KEPT = 1024
REMOVAL_CLAIM_LASTS = timedelta(minutes=5)
"""How long a claim to take away an admin keeps that admin from being counted: far
longer than a save takes, so only a process that died mid-change leaves one behind,
and then for no longer than this."""

COMMONEST_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789123",
        "111111111111",
        "000000000000",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "qwertyuiop12",
        "qwertyuiop123",
        "qwertyuiopasdf",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "iloveyou1234",
        "abcdefghijkl",
        "abc123456789",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "administrator",
        "football1234",
        "monkey123456",
        "sunshine1234",
        "princess1234",
        "trustno1trustno1",
        "correcthorsebatterystaple",
        "mypassword123",
        "password1!password1!",
    }
)
"""Passwords of 12 or more characters that are among the first any attacker tries:
our own short list (people choosing a long password reach for these first)."""

hasher = PasswordHasher()
"""argon2id with argon2-cffi's defaults (RFC 9106's second recommended option)."""


def invitation_link(secret: str, environ: EnvType | None = None) -> str:
    """The link a person opens to join: on the public URL, holding the secret."""
    return f"{public_url(environ)}/invitations/{secret}"


def rows_changed(cursor: Any) -> int:
    """How many rows the cursor's last statement changed (the eventsourcing
    library's SQLite cursor keeps the count on the sqlite3 cursor it wraps)."""
    return int(getattr(cursor, "sqlite_cursor", cursor).rowcount)


def digest(secret: str) -> str:
    # Session ids and invitation secrets are 256 random bits: a fast hash is enough.
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password(password: str, confirmation: str, email: str) -> str:
    """A password a person may choose: long, not among the commonest, typed twice."""
    if not isinstance(password, str) or not password:
        raise InvalidInput("password", "enter a password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "password", f"must be at most {MAX_PASSWORD_LENGTH} characters"
        )
    folded = password.lower()
    local = email.split("@")[0].lower()
    if (
        folded in COMMONEST_PASSWORDS
        or len(set(folded)) <= 2
        or (len(local) >= 4 and local in folded and len(folded) - len(local) < 6)
    ):
        raise InvalidInput(
            "password",
            "is too easy to guess: choose one that is not a common password, "
            "a repeated character or your email address",
        )
    if confirmation != password:
        raise InvalidInput("confirmation", "must be the same as the password")
    return password


@dataclass(frozen=True)
class Session:
    """A signed-in session, as its row holds it."""

    account_id: UUID
    started_at: datetime
    seen_at: datetime
    csrf_token: str


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lasts unused, and at most."""

    idle: timedelta = timedelta(minutes=DEFAULT_SESSION_IDLE_MINUTES)
    absolute: timedelta = timedelta(hours=DEFAULT_SESSION_HOURS)

    @classmethod
    def from_environment(cls, environ: EnvType | None = None) -> "SessionLimits":
        environ = os.environ if environ is None else environ
        return cls(
            idle=timedelta(
                minutes=positive(
                    environ,
                    SESSION_IDLE_VARIABLE,
                    DEFAULT_SESSION_IDLE_MINUTES,
                    timedelta(minutes=1),
                )
            ),
            absolute=timedelta(
                hours=positive(
                    environ,
                    SESSION_LIMIT_VARIABLE,
                    DEFAULT_SESSION_HOURS,
                    timedelta(hours=1),
                )
            ),
        )


CENTURY = timedelta(days=36500)
"""The longest a session or a link may be set to last: any longer and its expiry
would fall beyond the dates a datetime holds."""


def positive(environ: EnvType, name: str, default: float, unit: timedelta) -> float:
    """A duration from the environment, as a number of units: more than 0 and at
    most a hundred years."""
    text = environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: must be a number, not {text!r}")
    if not value > 0:
        raise ValueError(f"{name}: must be more than 0")
    most = CENTURY / unit
    if value > most:
        raise ValueError(f"{name}: must be at most {most:.0f} (a hundred years)")
    return value


class SignInRefused(Exception):
    """Sign-in failed: the message says only what a stranger may know; `wait`, when
    sign-in is locked, the seconds until one from that email address and network
    address would be taken (Retry-After), else 0."""

    def __init__(self, message: str, wait: int = 0) -> None:
        super().__init__(message)
        self.wait = wait


WRONG = "Email or password is wrong"


def locked_out(wait: int) -> SignInRefused:
    """The refusal of a sign-in locked for `wait` more seconds: the page said "for
    15 minutes" however few were left; it now says the wait, in whole minutes
    rounded up. It tells no more than trying again each second would: failures are
    counted against what was typed, so it is the same whether or not the email
    address has an account."""
    minutes = math.ceil(wait / 60)
    return SignInRefused(
        "Sign-in is locked after too many failed attempts: try again in "
        f"{minutes} minute{'' if minutes == 1 else 's'}, or ask your "
        "organisation's admin to invite you again",
        wait,
    )


class LastAdmin(InvalidInput):
    """The change would leave an organisation with no admin who can sign in."""

    def __init__(self, field: str, account: "Account") -> None:
        super().__init__(
            field,
            f"{account.email} is the organisation's last admin who has joined and is "
            "not disabled, and an organisation keeps at least one: make another "
            "account admin first",
        )


def counts_as_admin(account: Account) -> bool:
    """Whether the account is an admin who can sign in and manage accounts."""
    return account.role == Role.ADMIN and account.joined and not account.disabled


def failures_indexed(table: str) -> tuple[str, str]:
    """A table of failures (subject, failed_at) indexed for its questions: an
    address's failures within the window, and those old enough to go. Without
    them each attempt read every row, so a flood of guesses from many addresses
    made every attempt slower, the person's own link too (50,000 rows: 15 ms an
    attempt rather than 1 on SQLite), and on SQLite held the store's one writer
    while it read them."""
    return (
        f"CREATE INDEX IF NOT EXISTS fourpi_{table}_by_subject ON {{{table}}} "
        "(subject, failed_at)",
        f"CREATE INDEX IF NOT EXISTS fourpi_{table}_by_time ON {{{table}}} (failed_at)",
    )


class SecretTables:
    """The account secrets' tables, in the event store's own database."""

    def __init__(self, datastore: Any) -> None:
        from eventsourcing.sqlite import SQLiteDatastore

        self.datastore = datastore
        self.postgres = not isinstance(datastore, SQLiteDatastore)
        if self.postgres:
            self.mark, self.prefix = "%s", f'"{datastore.schema}".'
        else:
            self.mark, self.prefix = "?", ""
        self.create()

    def name(self, table: str) -> str:
        return f"{self.prefix}fourpi_{table}"

    TABLES: tuple[str, ...] = (
        "passwords",
        "invitations",
        "sessions",
        "sign_in_failures",
        "admin_removals",
    )

    def sql(self, statement: str) -> str:
        """A statement with {table} names and ? marks made right for the backend."""
        names = {t: self.name(t) for t in self.TABLES}
        return statement.format(**names).replace("?", self.mark)

    @contextmanager
    def cursor(self, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def create(self) -> None:
        """Make the tables missing (as after an upgrade that adds one). On
        PostgreSQL processes starting at once take turns: two creating one table
        together would have one of them fail on the catalogue's unique index."""
        with self.cursor(commit=True) as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))",
                    (f"{self.prefix}fourpi tables",),
                )
            for statement in self.CREATE:
                cursor.execute(self.sql(statement))

    CREATE: tuple[str, ...] = (
        "CREATE TABLE IF NOT EXISTS {passwords} (account_id TEXT PRIMARY KEY, "
        "password_hash TEXT NOT NULL, set_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {invitations} (secret_hash TEXT PRIMARY "
        "KEY, account_id TEXT NOT NULL, organisation_id TEXT NOT NULL, "
        "expires_at TEXT NOT NULL, used_at TEXT)",
        "CREATE TABLE IF NOT EXISTS {sessions} (id_hash TEXT PRIMARY KEY, "
        "account_id TEXT NOT NULL, started_at TEXT NOT NULL, seen_at TEXT NOT "
        "NULL, csrf_token TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {sign_in_failures} (subject TEXT NOT NULL, "
        "failed_at TEXT NOT NULL)",
        *failures_indexed("sign_in_failures"),
        "CREATE TABLE IF NOT EXISTS {admin_removals} (claim TEXT PRIMARY KEY, "
        "organisation_id TEXT NOT NULL, account_id TEXT NOT NULL, claimed_at TEXT "
        "NOT NULL)",
    )

    def run(self, statement: str, *values: Any) -> int:
        """Run it; how many rows it changed."""
        with self.cursor(commit=True) as cursor:
            cursor.execute(self.sql(statement), values)
            return rows_changed(cursor)

    def rows(self, statement: str, *values: Any, commit: bool = False) -> list[Any]:
        if self.postgres and not commit:
            found: list[Any] = read_rows(self.datastore, self.sql(statement), values)
            return found
        with self.cursor(commit=commit) as cursor:
            cursor.execute(self.sql(statement), values)
            return list(cursor.fetchall())

    def count_failure(
        self, table: str, subjects: Iterable[str], kept: timedelta
    ) -> datetime:
        """An attempt counted as failed for each subject, in a table of failures
        (subject, failed_at), before it is checked; rows older than `kept` go. Its
        time, to take it back by (`take_back`) if it was right: attempts sent at
        once are then counted before any of them is checked."""
        attempted = now()
        self.run(
            f"DELETE FROM {{{table}}} WHERE failed_at < ?",
            (attempted - kept).isoformat(),
        )
        for subject in subjects:
            self.run(
                f"INSERT INTO {{{table}}} (subject, failed_at) VALUES (?, ?)",
                subject,
                attempted.isoformat(),
            )
        return attempted

    def take_back(
        self, table: str, subjects: Iterable[str], attempted: datetime
    ) -> None:
        """The attempt made at `attempted` no longer counted as failed: one row for
        each subject, not every row of that time, since attempts made within one
        tick of the clock share it and each of the others still counts. Which row
        goes does not matter (they are alike); on PostgreSQL one another
        take-back has locked is passed over, so two at once take back two."""
        row = "ctid" if self.postgres else "rowid"
        skip = " FOR UPDATE SKIP LOCKED" if self.postgres else ""
        for subject in subjects:
            self.run(
                f"DELETE FROM {{{table}}} WHERE {row} IN (SELECT {row} FROM "
                f"{{{table}}} WHERE subject = ? AND failed_at = ? LIMIT 1{skip})",
                subject,
                attempted.isoformat(),
            )


class Accounts:
    """The use cases of people's accounts; `actor` names who does each, as events do."""

    def __init__(
        self, records: InvolvementRecords, limits: SessionLimits | None = None
    ) -> None:
        self.records = records
        self.limits = limits or SessionLimits()
        self.tables = SecretTables(records.factory.datastore)  # type: ignore[attr-defined]
        self.signed_in: Kept[Account] = Kept(records, ACCOUNTS_KEPT)
        """The accounts of live sessions as last read, with their versions (see
        live_account); never handed to a use case that changes an account."""

    # Records

    def account(self, account_id: UUID) -> Account:
        try:
            found: Aggregate = self.records.repository.get(account_id)
        except AggregateNotFoundError:
            raise RecordNotFound("account", account_id, field="account_id") from None
        if not isinstance(found, Account):
            raise RecordNotFound("account", account_id, field="account_id")
        return found

    def account_of(self, organisation_id: UUID, account_id: UUID) -> Account:
        """An account of this organisation (another's is not found, not refused)."""
        account = self.account(account_id)
        if account.organisation_id != organisation_id:
            raise RecordNotFound("account", account_id, field="account_id")
        return account

    def accounts_of(self, organisation_id: UUID) -> list[Account]:
        """The organisation's accounts, by email address (every account was invited)."""
        rows = self.tables.rows(
            "SELECT DISTINCT account_id FROM {invitations} WHERE organisation_id = ?",
            str(organisation_id),
        )
        found = [self.account(UUID(str(row["account_id"]))) for row in rows]
        return sorted(
            (a for a in found if a.organisation_id == organisation_id),
            key=lambda a: a.email,
        )

    def save(self, account: Account) -> None:
        """Save a change decided on the account as read: RaceLost if another was
        stored meanwhile, for InvolvementRecords.decided_again to decide it again
        on the account as that left it, as every use case is."""
        self.records.save_decided(account)

    # Invitations

    def invite(
        self,
        *,
        organisation_id: UUID,
        email: str,
        role: Role,
        actor: str,
        personal_data: bool = False,
        may_grant: bool = True,
    ) -> tuple[UUID, str]:
        """A new account and its one-time invitation link's secret. `may_grant`:
        whether whoever invites may pass on the personal-data grant
        (fourpi.privacy.visibility.may_pass_on_grant); the command line may."""
        self.records.organisation(organisation_id)
        email = check_email("email", email)
        if personal_data and not may_grant:
            raise InvalidInput("personal_data", GRANT_NOT_HELD)
        account = Account.invite(
            email=email,
            organisation_id=organisation_id,
            role=role,
            personal_data=personal_data,
            recorded_by=actor,
        )
        try:
            self.records.save(account)
        except IntegrityError:
            # The same words wherever the account is: nothing of another
            # organisation is told (not even whether the account is here).
            raise InvalidInput(
                "email",
                "already has an account (an address has one, in one organisation): "
                "if it is listed here, invite it again from its row",
            ) from None
        return account.id, self.new_invitation(account.id, organisation_id)

    def invite_again(
        self,
        *,
        organisation_id: UUID,
        account_id: UUID,
        actor: str,
        may_grant: bool = True,
    ) -> str:
        """A new link for an account (and enabled again, if it was disabled); its
        earlier links stop working. A disabled account's password goes with it, so
        the account signs in again only by the new link: disabling and inviting
        again is how an admin answers a stolen password.

        Whoever follows the link is that account, grant and all, so an account
        granted personal data is invited again only by someone who may pass the
        grant on (`may_grant`, as for `invite`); any admin may disable it."""

        def invited_again() -> bool:
            account = self.account_of(organisation_id, account_id)
            if account.personal_data and not may_grant:
                raise InvalidInput("personal_data", INVITED_AGAIN_ONLY_BY_GRANTED)
            was_disabled = account.disabled
            account.invite_again(recorded_by=actor)
            self.save(account)
            return was_disabled

        if self.records.decided_again(invited_again):
            # Once stored: a refusal leaves the password as it was, with the account.
            self.tables.run(
                "DELETE FROM {passwords} WHERE account_id = ?", str(account_id)
            )
        return self.new_invitation(account_id, organisation_id)

    def new_invitation(self, account_id: UUID, organisation_id: UUID) -> str:
        secret = secrets.token_urlsafe(32)
        self.tables.run(
            "UPDATE {invitations} SET used_at = ? WHERE account_id = ? AND used_at "
            "IS NULL",
            now().isoformat(),
            str(account_id),
        )
        self.tables.run(
            "INSERT INTO {invitations} (secret_hash, account_id, organisation_id, "
            "expires_at) VALUES (?, ?, ?, ?)",
            digest(secret),
            str(account_id),
            str(organisation_id),
            (now() + timedelta(hours=INVITATION_HOURS)).isoformat(),
        )
        return secret

    def invitation(self, secret: str) -> Account | None:
        """The account an unused, unexpired invitation is for; None otherwise."""
        if not isinstance(secret, str) or not 20 <= len(secret) <= 100:
            return None
        rows = self.tables.rows(
            "SELECT account_id, expires_at, used_at FROM {invitations} WHERE "
            "secret_hash = ?",
            digest(secret),
        )
        if not rows or rows[0]["used_at"] is not None:
            return None
        if datetime.fromisoformat(str(rows[0]["expires_at"])) <= now():
            return None
        account = self.account(UUID(str(rows[0]["account_id"])))
        return None if account.disabled else account

    def join(
        self, *, secret: str, display_name: str, password: str, confirmation: str
    ) -> tuple[str, Session]:
        """The invited person gives a display name and chooses a password; they are
        then signed in (a new session's id, and the session). Joining again after
        being invited again is a password reset: every earlier session of the
        account ends, so one taken before the reset does not outlive it."""
        account = self.invitation(secret)
        if account is None:
            raise InvalidInput("invitation", "is used or expired")
        check_password(password, confirmation, account.email)
        joining = f"account:{account.id}"
        account.join(display_name=display_name, recorded_by=joining)
        # Claimed in one statement, so two tabs posting the same link join once.
        used_at = now().isoformat()
        claimed = self.tables.rows(
            "UPDATE {invitations} SET used_at = ? WHERE secret_hash = ? AND used_at "
            "IS NULL RETURNING account_id",
            used_at,
            digest(secret),
            commit=True,
        )
        if not claimed:
            raise InvalidInput("invitation", "is used or expired")

        def joined() -> None:
            # Decided again on the account as an admin's change left it: a new role
            # stays; disabled, the link no longer works. The joining was refused as
            # a clash after the link had been used up and the password set: the
            # person could neither join again nor sign in as joined.
            current = self.account(account.id)
            if current.disabled:
                raise InvalidInput("invitation", "is used or expired")
            current.join(display_name=display_name, recorded_by=joining)
            self.save(current)

        try:
            self.records.decided_again(joined)
        except ConcurrencyConflict:
            # Nothing of the joining was stored: the link works again, unless an
            # admin's new link has ended it meanwhile.
            self.tables.run(
                "UPDATE {invitations} SET used_at = NULL WHERE secret_hash = ? AND "
                "used_at = ?",
                digest(secret),
                used_at,
            )
            raise
        self.set_password(account.id, password)
        self.end_sessions_of(account.id)
        return self.start_session(account.id)

    def set_password(self, account_id: UUID, password: str) -> None:
        self.tables.run("DELETE FROM {passwords} WHERE account_id = ?", str(account_id))
        self.tables.run(
            "INSERT INTO {passwords} (account_id, password_hash, set_at) VALUES "
            "(?, ?, ?)",
            str(account_id),
            hasher.hash(password),
            now().isoformat(),
        )

    # Changes an admin makes

    def change_role(
        self,
        *,
        organisation_id: UUID,
        account_id: UUID,
        role: Role,
        personal_data: bool,
        actor: str,
        may_grant: bool = True,
    ) -> None:
        """A new role and grant, refused (LastAdmin) if it would leave the
        organisation with no admin, and refused when it would give the grant to an
        account without it and whoever changes it may not pass it on (`may_grant`)."""
        role = check_member("role", role, Role)

        def changed() -> None:
            account = self.account_of(organisation_id, account_id)
            if personal_data and not account.personal_data and not may_grant:
                raise InvalidInput("personal_data", GRANT_NOT_HELD)
            was_admin = counts_as_admin(account)
            account.change_role(
                role=role, personal_data=personal_data, recorded_by=actor
            )
            self.save_keeping_an_admin(account, was_admin, "role")

        with self.removal_claimed(organisation_id, account_id, role != Role.ADMIN):
            self.records.decided_again(changed)

    def disable(self, *, organisation_id: UUID, account_id: UUID, actor: str) -> None:
        """Disable an account: its sessions end at once, its links stop working.
        Refused (LastAdmin) if it would leave the organisation with no admin."""

        def disabled() -> None:
            account = self.account_of(organisation_id, account_id)
            was_admin = counts_as_admin(account)
            account.disable(recorded_by=actor)
            self.save_keeping_an_admin(account, was_admin, "account_id")

        with self.removal_claimed(organisation_id, account_id, True):
            self.records.decided_again(disabled)
        self.end_sessions_of(account_id)

    @contextmanager
    def removal_claimed(
        self, organisation_id: UUID, account_id: UUID, may_take_away: bool
    ) -> Iterator[None]:
        """While a change that may take an admin away is decided and saved, the
        account is claimed (when `may_take_away`), and save_keeping_an_admin counts
        no account claimed as an admin: of two changes at once (two admins
        demoting each other), the one that counts second sees both claims, so at
        most one of them goes through, never both.

        Claimed before the change is first decided, outside any turn at the store
        (InvolvementRecords.decided_again), which holds SQLite's one write lock:
        the change is decided again on the account as it then is, which may have
        become an admin meanwhile. A claim on an account that is no admin counts
        for nothing."""
        if not may_take_away:
            yield
            return
        claim = secrets.token_urlsafe(16)
        claimed = now()
        self.tables.run(
            "DELETE FROM {admin_removals} WHERE claimed_at < ?",
            (claimed - REMOVAL_CLAIM_LASTS).isoformat(),
        )
        self.tables.run(
            "INSERT INTO {admin_removals} (claim, organisation_id, account_id, "
            "claimed_at) VALUES (?, ?, ?, ?)",
            claim,
            str(organisation_id),
            str(account_id),
            claimed.isoformat(),
        )
        try:
            yield
        finally:
            self.tables.run("DELETE FROM {admin_removals} WHERE claim = ?", claim)

    def save_keeping_an_admin(
        self, account: Account, was_admin: bool, field: str
    ) -> None:
        """Save a change to an account; one that takes an admin away only while
        another admin remains, not counting any admin claimed (removal_claimed,
        which the account is) nor the account itself, still an admin as stored."""
        if was_admin and not counts_as_admin(account):
            leaving = {
                account.id,
                *(
                    UUID(str(row["account_id"]))
                    for row in self.tables.rows(
                        "SELECT account_id FROM {admin_removals} WHERE "
                        "organisation_id = ? AND claimed_at >= ?",
                        str(account.organisation_id),
                        (now() - REMOVAL_CLAIM_LASTS).isoformat(),
                    )
                ),
            }
            if not any(
                counts_as_admin(other) and other.id not in leaving
                for other in self.accounts_of(account.organisation_id)
            ):
                raise LastAdmin(field, account)
        self.save(account)

    # Signing in

    def sign_in(
        self, *, email: str, password: str, address: str
    ) -> tuple[str, Session]:
        """A new session for the person whose password this is; SignInRefused with
        only "wrong" or "locked" (and for how long) otherwise."""
        # Kept as digests: what strangers typed is no one's to read back.
        subjects = (
            "email:" + digest(as_kept(str(email))),
            "address:" + digest(str(address)),
        )
        if wait := self.locked_for(subjects):
            raise locked_out(wait)
        # Counted as failed before the password is checked, and taken back if it was
        # right: guesses sent at once then get no more than five checks between them.
        attempted = self.tables.count_failure("sign_in_failures", subjects, 2 * LOCKOUT)
        if wait := self.locked_for(subjects, besides=attempted):
            self.tables.take_back("sign_in_failures", subjects, attempted)
            raise locked_out(wait)
        account = self.password_matches(email, password)
        if account is None:
            if wait := self.locked_for(subjects):
                raise locked_out(wait)
            raise SignInRefused(WRONG)
        self.tables.take_back("sign_in_failures", subjects, attempted)
        return self.start_session(account.id)

    def password_matches(self, email: str, password: str) -> Account | None:
        account_id = account_id_signing_in(email)
        if account_id is None:
            return None
        rows = self.tables.rows(
            "SELECT password_hash FROM {passwords} WHERE account_id = ?",
            str(account_id),
        )
        if not rows:
            # The same work as a real check, so timing tells no one who has an account.
            hasher.hash("not a password of anyone's")
            return None
        try:
            hasher.verify(str(rows[0]["password_hash"]), str(password))
        except (VerificationError, InvalidHashError):
            return None
        account = self.account(account_id)
        return None if account.disabled or not account.joined else account

    def locked_for(
        self, subjects: tuple[str, ...], besides: datetime | None = None
    ) -> int:
        """How many seconds until a sign-in counted against these subjects (an email
        address, a network address) would be taken: 0 unless one of them is locked,
        by 5 failures within 15 minutes (20 for a network address), the last of
        them less than 15 minutes ago; else until the last such run's last failure
        is 15 minutes old (not counting the attempt made at `besides`, whose
        password is yet to be checked). A refused attempt is not counted, so it
        never adds to the wait."""
        moment = now()
        until = moment
        for subject in subjects:
            allowed = (
                FAILURES_ALLOWED
                if subject.startswith("email:")
                else ADDRESS_FAILURES_ALLOWED
            )
            failed = sorted(
                datetime.fromisoformat(str(row["failed_at"]))
                for row in self.tables.rows(
                    "SELECT failed_at FROM {sign_in_failures} WHERE subject = ? AND "
                    "failed_at > ?",
                    subject,
                    (moment - 2 * LOCKOUT).isoformat(),
                )
            )
            if besides in failed:
                failed.remove(besides)
            for first, last in zip(failed, failed[allowed - 1 :], strict=False):
                if last - first <= LOCKOUT:
                    until = max(until, last + LOCKOUT)
        if until <= moment:
            return 0
        return max(1, math.ceil((until - moment).total_seconds()))

    # Sessions

    def start_session(self, account_id: UUID) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        started = now()
        # Sessions that ended by time and were never presented again.
        self.tables.run(
            "DELETE FROM {sessions} WHERE seen_at < ? OR started_at < ?",
            (started - self.limits.idle).isoformat(),
            (started - self.limits.absolute).isoformat(),
        )
        session = Session(account_id, started, started, secrets.token_urlsafe(32))
        self.tables.run(
            "INSERT INTO {sessions} (id_hash, account_id, started_at, seen_at, "
            "csrf_token) VALUES (?, ?, ?, ?, ?)",
            digest(session_id),
            str(account_id),
            started.isoformat(),
            started.isoformat(),
            session.csrf_token,
        )
        return session_id, session

    def session(self, session_id: str) -> tuple[Session, Account] | None:
        """The live session this id belongs to, and its account, now marked as seen;
        None (and the session ended) when it is unknown, idle too long, too old, or
        its account is disabled."""
        if not isinstance(session_id, str) or not 20 <= len(session_id) <= 100:
            return None
        rows = self.tables.rows(
            "SELECT account_id, started_at, seen_at, csrf_token FROM {sessions} "
            "WHERE id_hash = ?",
            digest(session_id),
        )
        if not rows:
            return None
        row = rows[0]
        session = Session(
            UUID(str(row["account_id"])),
            datetime.fromisoformat(str(row["started_at"])),
            datetime.fromisoformat(str(row["seen_at"])),
            str(row["csrf_token"]),
        )
        moment = now()
        account = self.live_account(session.account_id)
        if (
            moment - session.seen_at > self.limits.idle
            or moment - session.started_at > self.limits.absolute
            or account.disabled
        ):
            self.end_session(session_id)
            return None
        if moment - session.seen_at >= min(SEEN_EVERY, self.limits.idle / 10):
            self.tables.run(
                "UPDATE {sessions} SET seen_at = ? WHERE id_hash = ?",
                moment.isoformat(),
                digest(session_id),
            )
        return session, account

    def live_account(self, account_id: UUID) -> Account:
        """The account as the store says now, for a session: kept from the last
        read with its version, and read again only when an event followed that
        version (disabled, a new role), so a request asks the store one question
        that finds nothing rather than reading and rebuilding the account."""

        def read() -> tuple[Account, UUID, int]:
            account = self.account(account_id)
            return account, account.id, account.version

        found = self.signed_in.get(account_id, read)
        assert found is not None
        return found

    def end_session(self, session_id: str) -> None:
        self.tables.run("DELETE FROM {sessions} WHERE id_hash = ?", digest(session_id))

    def end_sessions_of(self, account_id: UUID) -> None:
        self.tables.run("DELETE FROM {sessions} WHERE account_id = ?", str(account_id))


DEMO_PEOPLE = (
    ("manager", "manager@demo.example", Role.MANAGER, True),
    ("evaluator", "evaluator@demo.example", Role.EVALUATOR, False),
    ("auditor", "auditor@demo.example", Role.AUDITOR, True),
)


def demo_links(
    records: InvolvementRecords, organisation_id: UUID
) -> list[tuple[str, str]]:
    """A one-time link for each demo person, by role: the account is invited the
    first time; later runs give a new link without recording anything."""
    accounts = Accounts(records)
    links = []
    for label, email, role, personal_data in DEMO_PEOPLE:
        try:
            _, secret = accounts.invite(
                organisation_id=organisation_id,
                email=email,
                role=role,
                actor="fourpi demo",
                personal_data=personal_data,
            )
        except InvalidInput:
            secret = accounts.new_invitation(account_id_for(email), organisation_id)
        links.append((label, invitation_link(secret)))
    return links
