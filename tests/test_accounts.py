"""People's accounts: invitations work once and for 72 hours, passwords are chosen well and kept as argon2id hashes outside the log, sign-in locks after 5 failures, and sessions end when idle, when too old, at sign-out and when the account is disabled."""

import contextlib
import itertools
import re
import string
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fourpi.accounts import (
    ADDRESS_FAILURES_ALLOWED,
    LOCKOUT,
    WRONG,
    Accounts,
    SessionLimits,
    SignInRefused,
    digest,
    locked_out,
)
from fourpi.bootstrap import open_records
from fourpi.domain import application
from fourpi.domain.access import Role
from fourpi.domain.account import Account, check_email
from fourpi.domain.errors import ConcurrencyConflict, InvalidInput, RecordNotFound
from tests.helpers import log_position
from tests.web import PASSWORD, person


@pytest.fixture
def accounts(records):
    return Accounts(records)


def invited(accounts, organisation_id, email="pm@mind.example", role=Role.MANAGER):
    return accounts.invite(
        organisation_id=organisation_id, email=email, role=role, actor="admin:1"
    )


def test_an_invitation_works_once(accounts, organisation_id) -> None:
    _, secret = invited(accounts, organisation_id)
    assert accounts.invitation(secret).email == "pm@mind.example"
    session_id, _ = accounts.join(
        secret=secret, display_name="Pat", password=PASSWORD, confirmation=PASSWORD
    )
    assert accounts.session(session_id)[1].display_name == "Pat"
    assert accounts.invitation(secret) is None
    with pytest.raises(InvalidInput, match="invitation: is used or expired"):
        accounts.join(
            secret=secret, display_name="Pat", password=PASSWORD, confirmation=PASSWORD
        )


def test_an_invitation_expires_after_72_hours(accounts, organisation_id) -> None:
    _, secret = invited(accounts, organisation_id)
    accounts.tables.run(
        "UPDATE {invitations} SET expires_at = ? WHERE secret_hash = ?",
        "2000-01-01T00:00:00+00:00",
        digest(secret),
    )
    assert accounts.invitation(secret) is None


def test_inviting_again_ends_the_earlier_link(accounts, organisation_id) -> None:
    account_id, first = invited(accounts, organisation_id)
    second = accounts.invite_again(
        organisation_id=organisation_id, account_id=account_id, actor="admin:1"
    )
    assert accounts.invitation(first) is None
    assert accounts.invitation(second) is not None


@pytest.mark.parametrize(
    ("password", "confirmation", "field", "rule"),
    [
        ("short one", "short one", "password", "at least 12 characters"),
        ("password1234", "password1234", "password", "too easy to guess"),
        ("aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa", "password", "too easy to guess"),
        (PASSWORD, PASSWORD + "x", "confirmation", "same as the password"),
    ],
)
def test_a_poor_password_is_refused_and_nothing_is_recorded(
    accounts, records, organisation_id, password, confirmation, field, rule
) -> None:
    _, secret = invited(accounts, organisation_id)
    before = log_position(records)
    with pytest.raises(InvalidInput) as refusal:
        accounts.join(
            secret=secret,
            display_name="Pat",
            password=password,
            confirmation=confirmation,
        )
    assert refusal.value.field == field and rule in str(refusal.value)
    assert log_position(records) == before
    assert accounts.invitation(secret) is not None


def test_what_happens_to_an_account_is_in_the_log_with_who_did_it_but_no_secret(
    accounts, records, organisation_id
) -> None:
    account_id = person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    accounts.change_role(
        organisation_id=organisation_id,
        account_id=account_id,
        role=Role.AUDITOR,
        personal_data=True,
        actor="account:admin",
    )
    accounts.disable(
        organisation_id=organisation_id, account_id=account_id, actor="account:admin"
    )
    events = list(records.events.get(account_id))
    assert [type(e).__qualname__ for e in events] == [
        "Account.Invited",
        "Account.Joined",
        "Account.RoleChanged",
        "Account.Disabled",
    ]
    assert [e.recorded_by for e in events] == [
        "test",
        f"account:{account_id}",
        "account:admin",
        "account:admin",
    ]
    stored = b"".join(
        bytes(n.state) for n in records.recorder.select_notifications(1, 10_000)
    )
    assert PASSWORD.encode() not in stored
    hashes = accounts.tables.rows("SELECT password_hash FROM {passwords}")
    assert str(hashes[0]["password_hash"]).startswith("$argon2id$")


def test_sign_in_failures_say_only_that_email_or_password_is_wrong(
    accounts, organisation_id
) -> None:
    person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    for email, password in [
        ("pm@mind.example", "not the password"),
        ("nobody@mind.example", PASSWORD),
        ("not an email", PASSWORD),
    ]:
        with pytest.raises(SignInRefused) as refusal:
            accounts.sign_in(email=email, password=password, address=email)
        assert str(refusal.value) == WRONG


def test_an_account_taken_before_the_address_rule_was_stricter_still_signs_in(
    accounts, organisation_id, monkeypatch
) -> None:
    """It joined with its link and is listed; refusing its address at sign-in
    locked its person out for good, told only that the password was wrong."""
    with monkeypatch.context() as before:
        before.setattr(
            "fourpi.domain.account.EMAIL_SHAPE",
            re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"),
        )
        person(accounts, organisation_id, "old,style@mind.example", Role.MANAGER)
    with pytest.raises(InvalidInput):
        check_email("email", "old,style@mind.example")
    _, session = accounts.sign_in(
        email=" Old,Style@mind.example", password=PASSWORD, address="203.0.113.9"
    )
    assert accounts.account(session.account_id).email == "old,style@mind.example"
    with pytest.raises(SignInRefused, match=WRONG):
        accounts.sign_in(
            email="old,style@mind.example", password="not it", address="203.0.113.9"
        )


def test_five_failures_for_one_account_lock_it_for_15_minutes(
    accounts, organisation_id
) -> None:
    person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    for attempt in range(5):
        with pytest.raises(SignInRefused) as refusal:
            accounts.sign_in(
                email="PM@mind.example", password="wrong", address=f"10.0.0.{attempt}"
            )
    # Told how long is left, in whole minutes, and Retry-After in seconds.
    assert 14 * 60 < refusal.value.wait <= 15 * 60
    assert str(refusal.value) == str(locked_out(refusal.value.wait))
    assert "try again in 15 minutes" in str(refusal.value)
    with pytest.raises(SignInRefused, match="locked"):
        accounts.sign_in(email="pm@mind.example", password=PASSWORD, address="10.1.1.1")
    # Fifteen minutes on, the account signs in again.
    accounts.tables.run("UPDATE {sign_in_failures} SET failed_at = '2000-01-01'")
    assert accounts.sign_in(
        email="pm@mind.example", password=PASSWORD, address="10.1.1.1"
    )


FAILURE_TIMES = st.lists(st.integers(0, 2 * 15 * 60), max_size=30)
"""Failed sign-ins, as how many seconds before the moment of asking each was made."""


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(for_email=FAILURE_TIMES, for_address=FAILURE_TIMES)
def test_the_wait_a_lockout_gives_is_exactly_when_a_sign_in_is_taken_again(
    accounts, monkeypatch, for_email: list[int], for_address: list[int]
) -> None:
    """Retry-After (and the page's minutes) said 15 minutes whatever was left: the
    wait is now the seconds until neither the email address nor the network
    address is locked, no sooner (a sign-in a second before is still refused) and
    no later (one then is taken)."""
    asked_at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    clock = [asked_at]
    monkeypatch.setattr("fourpi.accounts.now", lambda: clock[0])
    subjects = ("email:someone", "address:somewhere")
    accounts.tables.run("DELETE FROM {sign_in_failures}")
    for subject, ago in [("email:someone", s) for s in for_email] + [
        ("address:somewhere", s) for s in for_address
    ]:
        clock[0] = asked_at - timedelta(seconds=ago)
        accounts.tables.count_failure("sign_in_failures", (subject,), 2 * LOCKOUT)
    clock[0] = asked_at
    wait = accounts.locked_for(subjects)
    assert 0 <= wait <= LOCKOUT.total_seconds()
    if wait:
        clock[0] = asked_at + timedelta(seconds=wait - 1)
        assert accounts.locked_for(subjects) > 0
    clock[0] = asked_at + timedelta(seconds=wait)
    assert accounts.locked_for(subjects) == 0


class CountedChecks(Accounts):
    """Accounts that count the passwords they check (and check them as ever)."""

    checked = 0
    counting = threading.Lock()

    def password_matches(self, email, password):
        with self.counting:
            self.checked += 1
        return super().password_matches(email, password)


def test_guesses_sent_at_once_get_no_more_than_five_checks(
    records, organisation_id
) -> None:
    accounts = CountedChecks(records)
    person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)

    def guess(attempt: int) -> str:
        try:
            accounts.sign_in(
                email="pm@mind.example",
                password=f"guess number {attempt}",
                address=f"10.0.1.{attempt}",
            )
        except SignInRefused as refusal:
            return str(refusal)
        return "signed in"

    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(guess, range(30)))
    assert all(
        answer == WRONG or answer.startswith("Sign-in is locked") for answer in answers
    )
    assert accounts.checked <= 5
    # The right password still gets in once nothing locks the account.
    accounts.tables.run("UPDATE {sign_in_failures} SET failed_at = '2000-01-01'")
    assert accounts.sign_in(
        email="pm@mind.example", password=PASSWORD, address="10.1.1.1"
    )


def test_one_persons_mistakes_do_not_lock_out_others_at_the_same_address(
    accounts, organisation_id
) -> None:
    """An office's staff, or a phone network's customers, share one address: one
    person's five wrong passwords lock their own account, not everyone's sign-in.
    Guessing across many accounts from one address is still stopped, at 20."""
    person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    person(accounts, organisation_id, "colleague@mind.example", Role.MANAGER)
    for _ in range(5):
        with pytest.raises(SignInRefused):
            accounts.sign_in(email="pm@mind.example", password="x", address="10.9.9.9")
    assert accounts.sign_in(
        email="colleague@mind.example", password=PASSWORD, address="10.9.9.9"
    )
    for attempt in range(ADDRESS_FAILURES_ALLOWED - 5):
        with pytest.raises(SignInRefused):
            accounts.sign_in(
                email=f"guess{attempt}@mind.example", password="x", address="10.9.9.9"
            )
    with pytest.raises(SignInRefused, match="locked"):
        accounts.sign_in(
            email="colleague@mind.example", password=PASSWORD, address="10.9.9.9"
        )
    assert accounts.sign_in(
        email="colleague@mind.example", password=PASSWORD, address="10.1.1.1"
    )


def test_a_right_password_takes_back_only_its_own_attempt_made_in_the_same_instant(
    accounts, organisation_id, monkeypatch
) -> None:
    """Attempts are told apart by more than their time: a clock that reads the same
    for several attempts (a coarse one, or attempts within a microsecond) must not
    let one right password wipe out the failures made alongside it."""
    person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    instant = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    monkeypatch.setattr("fourpi.accounts.now", lambda: instant)
    for attempt in range(4):
        with pytest.raises(SignInRefused, match="wrong"):
            accounts.sign_in(
                email="pm@mind.example", password="x", address=f"10.7.7.{attempt}"
            )
    assert accounts.sign_in(
        email="pm@mind.example", password=PASSWORD, address="10.7.8.1"
    )
    # The account's fifth failure in 15 minutes locks it.
    with pytest.raises(SignInRefused, match="locked"):
        accounts.sign_in(email="pm@mind.example", password="x", address="10.7.8.2")
    with pytest.raises(SignInRefused, match="locked"):
        accounts.sign_in(email="pm@mind.example", password=PASSWORD, address="10.7.8.3")


def test_a_session_ends_when_idle_too_long_too_old_signed_out_or_disabled(
    records, organisation_id
) -> None:
    accounts = Accounts(
        records, SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    )
    account_id = person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)

    def signed_in() -> str:
        return accounts.sign_in(
            email="pm@mind.example", password=PASSWORD, address="1"
        )[0]

    idle = signed_in()
    accounts.tables.run(
        "UPDATE {sessions} SET seen_at = '2000-01-01T00:00:00+00:00' WHERE id_hash = ?",
        digest(idle),
    )
    assert accounts.session(idle) is None
    old = signed_in()
    accounts.tables.run(
        "UPDATE {sessions} SET started_at = '2000-01-01T00:00:00+00:00' WHERE "
        "id_hash = ?",
        digest(old),
    )
    assert accounts.session(old) is None
    ended = signed_in()
    accounts.end_session(ended)
    assert accounts.session(ended) is None
    first, second = signed_in(), signed_in()
    assert first != second
    accounts.disable(organisation_id=organisation_id, account_id=account_id, actor="a")
    assert accounts.session(first) is None and accounts.session(second) is None
    with pytest.raises(SignInRefused):
        signed_in()


def test_a_session_is_kept_alive_by_use_and_sees_its_account_change_at_once(
    records, organisation_id
) -> None:
    """A session's last-seen time moves when it is used, at most once a minute (so
    a request writes nothing else): within the minute it stays, past it it moves
    to now. The session's account is read as it is now: a new role shows at the
    session's next request."""
    accounts = Accounts(
        records, SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    )
    account_id = person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    session_id, _ = accounts.sign_in(
        email="pm@mind.example", password=PASSWORD, address="1"
    )

    def seen_at() -> datetime:
        (row,) = accounts.tables.rows(
            "SELECT seen_at FROM {sessions} WHERE id_hash = ?", digest(session_id)
        )
        return datetime.fromisoformat(str(row["seen_at"]))

    def seen(ago: timedelta) -> datetime:
        moment = datetime.now(UTC) - ago
        accounts.tables.run(
            "UPDATE {sessions} SET seen_at = ? WHERE id_hash = ?",
            moment.isoformat(),
            digest(session_id),
        )
        return moment

    recently = seen(timedelta(seconds=20))
    live = accounts.session(session_id)
    assert live is not None and live[1].role is Role.MANAGER
    assert seen_at() == recently
    a_while_ago = seen(timedelta(minutes=25))
    assert accounts.session(session_id) is not None
    assert seen_at() > a_while_ago + timedelta(minutes=24)
    accounts.change_role(
        organisation_id=organisation_id,
        account_id=account_id,
        role=Role.EVALUATOR,
        personal_data=False,
        actor="admin",
    )
    live = accounts.session(session_id)
    assert live is not None and live[1].role is Role.EVALUATOR
    seen(timedelta(minutes=31))
    assert accounts.session(session_id) is None


def test_an_account_belongs_to_one_organisation(
    accounts, records, organisation_id
) -> None:
    other = records.register_organisation(name="Another", actor="admin")
    account_id = person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    with pytest.raises(RecordNotFound, match="does not exist"):
        accounts.disable(organisation_id=other, account_id=account_id, actor="a")
    assert [a.id for a in accounts.accounts_of(other)] == []
    assert isinstance(accounts.account(account_id), Account)
    with pytest.raises(InvalidInput, match="personal_data"):
        accounts.invite(
            organisation_id=organisation_id,
            email="ev@mind.example",
            role=Role.EVALUATOR,
            actor="a",
            personal_data=True,
        )


@pytest.mark.parametrize(
    "email",
    [
        "a\x00@b.example",
        "a@b.example\x7f",
        "a b@c.example",
        # Invisible or reordering, so shown on the accounts page as another
        # address (found inviting '\u202emanager@demo.example' over HTTP).
        "\u202emanager@demo.example",
        "man\u200bager@demo.example",
        "manager@demo.example\ufeff",
        "a\x85@b.example",
        # The same mailbox as manager@demo.example, or none, but another account.
        "manager@demo.example.",
        "manager@.demo.example",
        "manager@demo..example",
        # Read by a mail program as two addresses, or as another one: a note would
        # go to 'b@x.example' (and to 'a'), not to the address shown.
        "a,b@x.example",
        "a<b@x.example",
        "a;b@x.example",
        "(a)b@x.example",
        '"a b"@x.example',
        ".a@x.example",
        "a..b@x.example",
    ],
)
def test_an_email_address_with_control_characters_or_spaces_is_refused(
    accounts, records, organisation_id, email
) -> None:
    before = log_position(records)
    with pytest.raises(InvalidInput, match="email: must be an email address"):
        accounts.invite(
            organisation_id=organisation_id, email=email, role=Role.MANAGER, actor="a"
        )
    with pytest.raises(SignInRefused):
        accounts.sign_in(email=email, password=PASSWORD, address="\x00")
    assert log_position(records) == before


LOCAL_PARTS = st.text(string.ascii_letters + string.punctuation + "é ", max_size=12)
"""The names before the @ that a person might type, or a hostile one craft."""


@given(st.emails() | st.builds("{}@{}.example".format, LOCAL_PARTS, LOCAL_PARTS))
@example("o'brien+notes@x.example")
@example("josé@café.example")
def test_an_email_address_taken_is_one_mail_programs_send_to_as_shown(text) -> None:
    """Whatever the rule lets through, a note addressed to it goes to that one
    address and no other (Python's email package reads the To line)."""
    try:
        email = check_email("email", text)
    except InvalidInput:
        return
    message = EmailMessage()
    message["To"] = email
    assert [a.addr_spec for a in message["To"].addresses] == [email]
    assert getaddresses([email]) == [("", email)]


def admin_emails(accounts, organisation_id) -> list[str]:
    return [
        a.email
        for a in accounts.accounts_of(organisation_id)
        if a.role is Role.ADMIN and a.joined and not a.disabled
    ]


def role_changed(accounts, organisation_id, account_id, role, personal_data=False):
    accounts.change_role(
        organisation_id=organisation_id,
        account_id=account_id,
        role=role,
        personal_data=personal_data,
        actor="account:admin",
    )


def test_the_last_admin_is_kept_and_the_refusal_names_the_account_and_the_rule(
    accounts, records, organisation_id
) -> None:
    """An organisation keeps an admin who has joined and is not disabled: an
    admin invited but not yet joined, or disabled, does not count."""
    first = person(accounts, organisation_id, "first@mind.example", Role.ADMIN)
    invited(accounts, organisation_id, "pending@mind.example", Role.ADMIN)
    gone = person(accounts, organisation_id, "gone@mind.example", Role.ADMIN)
    accounts.disable(organisation_id=organisation_id, account_id=gone, actor="a")
    before = log_position(records)
    for change in (
        lambda: role_changed(accounts, organisation_id, first, Role.MANAGER, True),
        lambda: accounts.disable(
            organisation_id=organisation_id, account_id=first, actor="a"
        ),
    ):
        with pytest.raises(InvalidInput) as refusal:
            change()
        assert "first@mind.example is the organisation's last admin" in str(
            refusal.value
        )
        assert "make another account admin first" in str(refusal.value)
        assert log_position(records) == before
    assert admin_emails(accounts, organisation_id) == ["first@mind.example"]
    # The last admin's own grant may change: they stay an admin.
    role_changed(accounts, organisation_id, first, Role.ADMIN, personal_data=True)
    # With a second admin who has joined, the first may step down; then the
    # second is the last.
    second = person(accounts, organisation_id, "second@mind.example", Role.ADMIN)
    role_changed(accounts, organisation_id, first, Role.MANAGER)
    with pytest.raises(InvalidInput, match=r"second@mind\.example is the organisation"):
        accounts.disable(organisation_id=organisation_id, account_id=second, actor="a")
    assert admin_emails(accounts, organisation_id) == ["second@mind.example"]


class SavesAtOnce(Accounts):
    """Accounts whose saves wait (up to a second) for each other, so that two
    changes that both pass their checks are saved together, as two requests
    arriving at once may be."""

    barrier: threading.Barrier | None = None

    def save(self, account):
        if self.barrier is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.wait(timeout=1)
        super().save(account)


def test_two_admins_demoting_each_other_at_once_leave_one(
    records, organisation_id
) -> None:
    accounts = SavesAtOnce(records)
    first = person(accounts, organisation_id, "first@mind.example", Role.ADMIN)
    second = person(accounts, organisation_id, "second@mind.example", Role.ADMIN)
    accounts.barrier = threading.Barrier(2)

    def demote(who) -> str:
        try:
            role_changed(accounts, organisation_id, who, Role.MANAGER)
        except InvalidInput as refusal:
            return str(refusal)
        return "changed"

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(demote, (first, second)))
    accounts.barrier = None
    # One, or (when each counts after both claimed) both, refused.
    assert any("last admin" in answer for answer in answers), answers
    assert len(admin_emails(accounts, organisation_id)) >= 1
    # Nothing is left claimed: the admins left may hand over as ever.
    person(accounts, organisation_id, "third@mind.example", Role.ADMIN)
    for left in (first, second):
        if accounts.account(left).role is Role.ADMIN:
            accounts.disable(
                organisation_id=organisation_id, account_id=left, actor="a"
            )
    assert admin_emails(accounts, organisation_id) == ["third@mind.example"]


def test_joining_again_with_a_new_password_ends_every_earlier_session(
    accounts, organisation_id
) -> None:
    """Inviting again and joining is how a password is reset: a session someone
    took before the reset does not outlive it."""
    account_id = person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    earlier = [
        accounts.sign_in(email="pm@mind.example", password=PASSWORD, address="1")[0]
        for _ in range(2)
    ]
    secret = accounts.invite_again(
        organisation_id=organisation_id, account_id=account_id, actor="admin:1"
    )
    assert all(accounts.session(s) is not None for s in earlier)
    new_password = "another long passphrase"
    joined, _ = accounts.join(
        secret=secret,
        display_name="Pat",
        password=new_password,
        confirmation=new_password,
    )
    assert [accounts.session(s) for s in earlier] == [None, None]
    assert accounts.session(joined) is not None
    with pytest.raises(SignInRefused):
        accounts.sign_in(email="pm@mind.example", password=PASSWORD, address="2")


def test_a_disabled_account_invited_again_signs_in_only_by_its_new_link(
    accounts, organisation_id
) -> None:
    """Disabling and inviting again is how an admin answers a stolen password: the
    old password signed in again the moment the new link was made, before the
    person had used it."""
    account_id = person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
    accounts.disable(organisation_id=organisation_id, account_id=account_id, actor="a")
    secret = accounts.invite_again(
        organisation_id=organisation_id, account_id=account_id, actor="a"
    )
    with pytest.raises(SignInRefused):
        accounts.sign_in(email="pm@mind.example", password=PASSWORD, address="2")
    new_password = "another long passphrase"
    accounts.join(
        secret=secret,
        display_name="Pat",
        password=new_password,
        confirmation=new_password,
    )
    assert accounts.sign_in(email="pm@mind.example", password=new_password, address="3")


def test_inviting_an_address_with_an_account_answers_alike_wherever_it_is(
    accounts, records, organisation_id
) -> None:
    """One address has one account. Inviting an address that has one is refused
    in the same words whether the account is this organisation's or another's,
    and the words name nothing of the other organisation."""
    other = records.register_organisation(name="Another trust", actor="admin")
    invited(accounts, organisation_id, "here@mind.example")
    elsewhere, _ = invited(accounts, other, "there@mind.example")
    before = log_position(records)
    answers = []
    for email in ("here@mind.example", "there@mind.example"):
        with pytest.raises(InvalidInput) as refusal:
            invited(accounts, organisation_id, email)
        answers.append(str(refusal.value))
    assert answers[0] == answers[1]
    assert "Another trust" not in answers[1] and str(other) not in answers[1]
    assert str(elsewhere) not in answers[1]
    assert log_position(records) == before


def admin_lands_first(accounts, monkeypatch, change) -> None:
    """An admin's change to the account is stored just before the next save."""
    save = accounts.records.save
    landed: list[bool] = []

    def after_the_admin(*records, **kwargs):
        if not landed:
            landed.append(True)
            change()
        return save(*records, **kwargs)

    monkeypatch.setattr(accounts.records, "save", after_the_admin)


def test_an_admin_s_change_landing_as_someone_joins_is_kept_and_they_join(
    accounts, organisation_id, monkeypatch
) -> None:
    """The joining was refused as a clash after the link had been used up and the
    password set: the person could not join again, and was never joined."""
    account_id, secret = invited(accounts, organisation_id)
    admin_lands_first(
        accounts,
        monkeypatch,
        lambda: role_changed(accounts, organisation_id, account_id, Role.EVALUATOR),
    )
    session_id, _ = accounts.join(
        secret=secret, display_name="Pat", password=PASSWORD, confirmation=PASSWORD
    )
    account = accounts.session(session_id)[1]
    assert (account.display_name, account.role) == ("Pat", Role.EVALUATOR)
    assert accounts.invitation(secret) is None
    accounts.sign_in(email="pm@mind.example", password=PASSWORD, address="1")


def test_an_account_disabled_as_someone_joins_is_not_joined_and_has_no_password(
    accounts, organisation_id, monkeypatch
) -> None:
    account_id, secret = invited(accounts, organisation_id)
    admin_lands_first(
        accounts,
        monkeypatch,
        lambda: accounts.disable(
            organisation_id=organisation_id, account_id=account_id, actor="admin:1"
        ),
    )
    with pytest.raises(InvalidInput, match="invitation: is used or expired"):
        accounts.join(
            secret=secret, display_name="Pat", password=PASSWORD, confirmation=PASSWORD
        )
    assert accounts.account(account_id).display_name == ""
    assert accounts.password_matches("pm@mind.example", PASSWORD) is None


def test_a_joining_that_loses_every_race_leaves_its_link_working(monkeypatch) -> None:
    """Where a joining can still lose every race and be refused as a clash (an
    in-memory store holds no turn at the store, and races again a bounded number of
    times), the link works again and no password is set."""
    monkeypatch.setattr(application, "CONFLICT_ATTEMPTS", 3)
    monkeypatch.setattr(application, "CONFLICT_SECONDS", 0.0)
    records = open_records("sqlite:///:memory:")
    accounts = Accounts(records)
    organisation_id = records.register_organisation(name="Test Mind", actor="admin")
    account_id, secret = invited(accounts, organisation_id)
    save = records.save
    roles = itertools.cycle([Role.EVALUATOR, Role.MANAGER])
    changing: list[bool] = []

    def after_an_admin_each_time(*records, **kwargs):
        if not changing:
            changing.append(True)
            role_changed(accounts, organisation_id, account_id, next(roles))
            changing.clear()
        return save(*records, **kwargs)

    monkeypatch.setattr(records, "save", after_an_admin_each_time)
    with pytest.raises(ConcurrencyConflict):
        accounts.join(
            secret=secret, display_name="Pat", password=PASSWORD, confirmation=PASSWORD
        )
    assert accounts.password_matches("pm@mind.example", PASSWORD) is None
    monkeypatch.setattr(records, "save", save)
    session_id, _ = accounts.join(
        secret=secret, display_name="Pat", password=PASSWORD, confirmation=PASSWORD
    )
    signed_in = accounts.session(session_id)
    assert signed_in is not None and signed_in[1].display_name == "Pat"
    records.close()
