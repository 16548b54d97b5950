"""Outcome notes through a real SMTP server on localhost (aiosmtpd): a contributor who asked to be told by email gets one short note with a link to their page when their contribution is answered, and the record notes the feedback once, however often or in however many processes the sender runs; no email without the settings."""

import dataclasses
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import EmailMessage, Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from fourpi.bootstrap import open_records, open_views
from fourpi.domain.participant import Participant
from fourpi.domain.vocabulary import (
    ChangeScope,
    ImpactArea,
    NoticePreference,
    ParticipantKind,
    ResponseOutcome,
)
from fourpi.graphql.app import create_app
from fourpi.notices import MailSettings, NoteSender, NoteTables, OutcomeNotes
from fourpi.personal_links import PAGE_PATH
from tests.helpers import ACTOR
from tests.test_personal_page import World, world  # noqa: F401 (the fixture)
from tests.web import TestClient


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox(monkeypatch) -> Iterator[Inbox]:
    received = Inbox()
    port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("FOURPI_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("FOURPI_MAIL_FROM", "involvement@mind.example")
    yield received
    controller.stop()


def contribution_of(world: World, participant_id: Any) -> Any:  # noqa: F811
    facts = world.views.cache.facts(world.mind.organisation_id, world.views.position())
    return next(
        row["contribution_id"]
        for row in facts["contributors"]
        if row["participant_id"] == participant_id
    )


def feedback_of(world: World, contribution_id: Any) -> list[dict[str, Any]]:  # noqa: F811
    world.views.catch_up()
    facts = world.views.cache.facts(world.mind.organisation_id, world.views.position())
    return [r for r in facts["feedback"] if r["contribution_id"] == contribution_id]


def a_change_to(
    world: World,  # noqa: F811
    contribution: Any,
    description: str,
    changed_on: date = date(2024, 3, 1),
    *,
    catch_up: bool = True,
) -> None:
    """A change naming the contribution (left for the projection worker to apply
    unless `catch_up`)."""
    world.records.record_change(
        organisation_id=world.mind.organisation_id,
        initiative_id=world.mind.initiative_id,
        description=description,
        impact_area=ImpactArea.DELIVERY,
        scope=ChangeScope.ACTIVITY,
        evidence="The timetable",
        changed_on=changed_on,
        contribution_ids=[contribution],
        actor=ACTOR,
    )
    if catch_up:
        world.views.catch_up()


def prefers_email(world: World, participant_id: Any, email: str) -> None:  # noqa: F811
    world.records.set_notice_preference(
        organisation_id=world.mind.organisation_id,
        participant_id=participant_id,
        notice_preference=NoticePreference.EMAIL,
        email=email,
        actor="personal-link:test",
    )


def notes_sent_so_far(world: World) -> OutcomeNotes:  # noqa: F811
    """The sender, past every outcome recorded so far."""
    world.views.catch_up()
    notes = OutcomeNotes.from_environment(world.views)
    assert notes is not None
    sent_after(notes, world.views.position())
    return notes


def sent_after(notes: OutcomeNotes, position: int) -> int:
    """The notes due up to the position, and how many of them were sent: as the
    projection worker and the sender beside it do."""
    notes.after(position)
    return notes.send_due()


def test_no_email_is_sent_unless_both_settings_are_given() -> None:
    assert MailSettings.from_environment({}) is None
    mail = MailSettings.from_environment(
        {
            "FOURPI_SMTP_URL": "smtp://me:p%40ss@mail.example:2525",
            "FOURPI_MAIL_FROM": "a@b.c",
        }
    )
    assert mail is not None
    assert (mail.host, mail.port, mail.username, mail.password) == (
        "mail.example",
        2525,
        "me",
        "p@ss",
    )
    with pytest.raises(ValueError, match="FOURPI_SMTP_URL: must be like smtp://"):
        MailSettings.from_environment(
            {"FOURPI_SMTP_URL": "http://x", "FOURPI_MAIL_FROM": "a@b.c"}
        )


def test_one_mail_setting_without_the_other_is_refused() -> None:
    """The URL alone was taken as no email at all: notes were never sent, and
    nothing said why."""
    with pytest.raises(ValueError, match=r"\$FOURPI_MAIL_FROM is not: set both"):
        MailSettings.from_environment({"FOURPI_SMTP_URL": "smtp://h.example"})
    with pytest.raises(ValueError, match=r"\$FOURPI_SMTP_URL is not: set both"):
        MailSettings.from_environment({"FOURPI_MAIL_FROM": "a@b.example"})


@pytest.mark.parametrize(
    ("given", "sent_as"),
    [
        ("notes@mind.example", "notes@mind.example"),
        ("Mind <notes@mind.example>", "Mind <notes@mind.example>"),
        ('"Mind, London" <notes@mind.example>', '"Mind, London" <notes@mind.example>'),
        ("notes@mind.example (Mind)", "Mind <notes@mind.example>"),
    ],
)
def test_the_from_address_may_be_bare_or_with_a_name(given, sent_as) -> None:
    mail = MailSettings.from_environment(
        {"FOURPI_SMTP_URL": "smtp://h.example", "FOURPI_MAIL_FROM": given}
    )
    assert mail is not None and mail.sender == sent_as


@pytest.mark.parametrize(
    "given", ["notanemail", "a@b.example, c@d.example", "Mind <notes@mind>", "<>"]
)
def test_a_from_address_that_is_not_one_address_is_refused(given) -> None:
    """Never checked: 'notanemail' was taken, and every note refused by the host."""
    with pytest.raises(ValueError) as refused:
        MailSettings.from_environment(
            {"FOURPI_SMTP_URL": "smtp://h.example", "FOURPI_MAIL_FROM": given}
        )
    assert str(refused.value) == (
        "$FOURPI_MAIL_FROM: must be one email address, as notes@mind.example or "
        f"Mind <notes@mind.example>, not {given!r}"
    )


def test_a_note_is_sent_once_per_response_and_feedback_recorded_once(
    world,  # noqa: F811
    inbox,
) -> None:
    world.link(world.neighbour, world.mind)
    prefers_email(world, world.neighbour, "neighbour@people.example")
    contribution = contribution_of(world, world.neighbour)
    already = len(feedback_of(world, contribution))
    # The server's own projection worker sends it: nothing here but the response.
    with TestClient(create_app(world.records, world.views, web=True)) as client:
        respond_to(world, contribution, "Evening groups twice a month")
        for _ in range(200):
            if inbox.messages and len(feedback_of(world, contribution)) > already:
                break
            client.get("/healthz")
            __import__("time").sleep(0.05)
    assert len(inbox.messages) == 1
    note = inbox.messages[0]
    assert note["To"] == "neighbour@people.example"
    assert note["From"] == "involvement@mind.example"
    body = note.get_payload(decode=True).decode()
    link = next(line for line in body.splitlines() if PAGE_PATH in line)
    # The note's link opens their page, which shows the new decision.
    world.views.catch_up()
    page = TestClient(
        create_app(world.records, world.views, run_projections=False, web=True)
    )
    shown = page.get(link.removeprefix("http://127.0.0.1:8000")).text
    assert "Evening groups twice a month" in shown
    told = feedback_of(world, contribution)
    assert len(told) == already + 1
    assert told[-1]["method"] == "email"
    # Run again, and as a second process would: no second note, no second feedback.
    position = world.views.position()
    again = OutcomeNotes.from_environment(world.views)
    assert again is not None
    assert sent_after(again, position) == 0
    again.tables.run("DELETE FROM {outcome_notes_reached}")
    assert sent_after(again, position) == 0
    assert len(inbox.messages) == 1
    assert len(feedback_of(world, contribution)) == already + 1


def test_a_change_sends_a_note_and_people_who_chose_another_way_get_none(
    world,  # noqa: F811
    inbox,
) -> None:
    contribution = contribution_of(world, world.advisor)
    world.records.set_notice_preference(
        organisation_id=world.mind.organisation_id,
        participant_id=world.advisor,
        notice_preference=NoticePreference.LETTER,
        actor="personal-link:test",
    )
    notes = notes_sent_so_far(world)
    a_change_to(world, contribution, "Groups now meet at 6pm")
    assert sent_after(notes, world.views.position()) == 0
    assert inbox.messages == []
    prefers_email(world, world.advisor, "advisor@people.example")
    a_change_to(world, contribution, "Groups also meet on Saturdays", date(2024, 4, 1))
    assert sent_after(notes, world.views.position()) == 1
    assert len(inbox.messages) == 1
    assert "Something has changed" in str(inbox.messages[0].get_payload())


def test_a_note_gives_the_link_s_last_day_where_the_organisation_works(
    world,  # noqa: F811
    inbox,
    monkeypatch,
) -> None:
    # Made at 00:30 BST on 2 July: ninety days on is 00:30 BST on 30 September,
    # 23:30 UTC on the 29th. The person's page and the record say the 30th.
    monkeypatch.setattr(
        "fourpi.personal_links.now", lambda: datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    )
    prefers_email(world, world.advisor, "advisor@people.example")
    notes = notes_sent_so_far(world)
    a_change_to(world, contribution_of(world, world.advisor), "Groups meet at 6pm")
    assert sent_after(notes, world.views.position()) == 1
    body = inbox.messages[0].get_payload(decode=True).decode()
    assert "The link works until 30 September 2026" in body


def test_an_address_stored_before_the_rule_refused_it_is_sent_no_note(
    world,  # noqa: F811
    inbox,
) -> None:
    # Stored as the rule stood before: a mail program reads 'advisor,other@...'
    # as two addresses, 'advisor' and 'other@people.example', neither the person's.
    participant = world.records.repository.get(world.advisor)
    participant._record(
        Participant.NoticePreferenceSet,
        recorded_by="personal-link:test",
        notice_preference=NoticePreference.EMAIL,
        email="advisor,other@people.example",
    )
    world.records.save(participant)
    notes = notes_sent_so_far(world)
    contribution = contribution_of(world, world.advisor)
    already = len(feedback_of(world, contribution))
    a_change_to(world, contribution, "Groups meet at 6pm")
    assert sent_after(notes, world.views.position()) == 0
    assert inbox.messages == []
    assert len(feedback_of(world, contribution)) == already


class SilentServer:
    """An SMTP server that accepts connections and never says a word (or, with
    `dribble`, says one byte of its greeting now and then, never a whole line):
    a mail host that is unreachable or overloaded."""

    def __init__(self, dribble: float = 0.0) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = int(self.listener.getsockname()[1])
        self.dribble = dribble
        self.held: list[socket.socket] = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)
            if self.dribble:
                threading.Thread(
                    target=self._say_little, args=(connection,), daemon=True
                ).start()

    def _say_little(self, connection: socket.socket) -> None:
        while not self.closed.wait(self.dribble):
            try:
                connection.sendall(b"2")
            except OSError:
                return

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def silent_smtp(monkeypatch) -> Iterator[SilentServer]:
    server = SilentServer()
    monkeypatch.setenv("FOURPI_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    monkeypatch.setenv("FOURPI_MAIL_FROM", "involvement@mind.example")
    yield server
    server.close()


def respond_to(world: World, contribution: Any, rationale: str) -> None:  # noqa: F811
    """A response, recorded and left for the projection worker to apply."""
    world.records.respond_to_contribution(
        organisation_id=world.mind.organisation_id,
        contribution_id=contribution,
        outcome=ResponseOutcome.ADAPTED,
        rationale=rationale,
        responded_on=date(2024, 3, 1),
        actor=ACTOR,
    )


def seconds_behind(world: World) -> float:  # noqa: F811
    """How long the views take to reach the log's head as it is now."""
    head = world.views.head()
    began = time.monotonic()
    while world.views.position() < head and time.monotonic() - began < 60:
        world.views.nudge()
        time.sleep(0.02)
    return time.monotonic() - began


def test_the_views_keep_up_with_the_log_while_the_smtp_server_hangs(
    world,  # noqa: F811
    silent_smtp,
    monkeypatch,
) -> None:
    # Each attempt at a note hangs until cut off (shortened here, so that the
    # server's shutdown, which lets the attempt under way end, is quick).
    monkeypatch.setattr("fourpi.notices.ATTEMPT_SECONDS", 2.0, raising=False)
    prefers_email(world, world.neighbour, "neighbour@people.example")
    prefers_email(world, world.advisor, "advisor@people.example")
    with TestClient(create_app(world.records, world.views, web=True)):
        seconds_behind(world)
        respond_to(world, contribution_of(world, world.neighbour), "Evening groups")
        advised = contribution_of(world, world.advisor)
        a_change_to(world, advised, "Saturday groups", catch_up=False)
        lags = []
        for n in range(5):
            time.sleep(0.2)
            world.records.register_participant(
                organisation_id=world.other.organisation_id,
                pseudonym=f"Newcomer {n}",
                participant_kind=ParticipantKind.SERVICE_USER,
                actor=ACTOR,
            )
            lags.append(seconds_behind(world))
    # Every live read waits for the views: they must not wait on the mail host.
    assert max(lags) < 2.0, lags


def arriving(inbox: Inbox, count: int, seconds: float = 15.0) -> list[Message]:
    """The inbox once it holds `count` messages, or as it is after `seconds`."""
    began = time.monotonic()
    while len(inbox.messages) < count and time.monotonic() - began < seconds:
        time.sleep(0.05)
    return inbox.messages


def test_a_note_that_failed_while_the_mail_host_was_away_is_sent_when_it_is_back(
    world,  # noqa: F811
    monkeypatch,
) -> None:
    monkeypatch.setattr("fourpi.notices.FIRST_RETRY_SECONDS", 0.2, raising=False)
    monkeypatch.setattr("fourpi.notices.SENDER_POLL_SECONDS", 0.1, raising=False)
    port = free_port()  # nothing listens there yet: the host is away
    monkeypatch.setenv("FOURPI_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("FOURPI_MAIL_FROM", "involvement@mind.example")
    prefers_email(world, world.neighbour, "neighbour@people.example")
    contribution = contribution_of(world, world.neighbour)
    already = len(feedback_of(world, contribution))
    inbox = Inbox()
    with TestClient(create_app(world.records, world.views, web=True)):
        respond_to(world, contribution, "Evening groups twice a month")
        seconds_behind(world)
        time.sleep(1.0)  # attempted, and failed, in the outage
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            arriving(inbox, 1)
            time.sleep(0.5)  # nothing more comes
        finally:
            controller.stop()
    assert [m["To"] for m in inbox.messages] == ["neighbour@people.example"]
    told = feedback_of(world, contribution)
    assert len(told) == already + 1
    assert told[-1]["method"] == "email"


def eight_notes_to_come(world: World, inbox: Inbox) -> None:  # noqa: F811
    """Four changes to each of two contributions whose contributors chose email."""
    prefers_email(world, world.neighbour, "neighbour@people.example")
    prefers_email(world, world.advisor, "advisor@people.example")
    notes_sent_so_far(world)
    inbox.messages.clear()
    for n in range(4):
        for person in (world.neighbour, world.advisor):
            a_change_to(world, contribution_of(world, person), f"Change {n}")


def test_a_sender_goes_on_at_once_while_more_notes_are_due(
    world,  # noqa: F811
    inbox,
    monkeypatch,
) -> None:
    monkeypatch.setattr("fourpi.notices.NOTES_A_ROUND", 2)
    eight_notes_to_come(world, inbox)
    notes = OutcomeNotes.from_environment(world.views)
    assert notes is not None
    notes.after(world.views.position())
    sender = NoteSender(notes, poll_seconds=60).start()
    try:
        assert len(arriving(inbox, 8, seconds=10)) == 8
    finally:
        sender.stop()


class StopLandsAtTheClear(threading.Event):
    """The sender's wake-up, with the sender told to stop at the worst moment: after
    its loop has checked whether to stop, before it clears the wake-up."""

    def __init__(self) -> None:
        super().__init__()
        self.sender: NoteSender | None = None

    def clear(self) -> None:
        sender, self.sender = self.sender, None
        if sender is not None:
            sender._stopping.set()  # as stop() does, which also sets this event
            self.set()
        super().clear()


def test_a_sender_told_to_stop_as_it_goes_round_stops_without_a_poll(
    world,  # noqa: F811
    inbox,
) -> None:
    """It slept a whole poll (5 s in `fourpi serve`) when the stop came between its
    check and its clear: serve's shutdown waited, and stop()'s join gave up at 10 s
    against a longer poll, leaving the thread running."""
    notes = OutcomeNotes.from_environment(world.views)
    assert notes is not None
    sender = NoteSender(notes, poll_seconds=3600)
    notes.due = StopLandsAtTheClear()
    notes.due.sender = sender
    sender.start()
    try:
        sender._thread.join(30)
        assert not sender._thread.is_alive()
    finally:
        sender.stop()


def test_no_note_is_sent_twice_by_two_senders_at_once(
    world,  # noqa: F811
    inbox,
) -> None:
    eight_notes_to_come(world, inbox)
    # Two processes: each its own store connections, worker and sender.
    other_records = open_records(world.url)
    other_views = open_views(world.url, other_records)
    try:
        senders = [
            OutcomeNotes.from_environment(world.views),
            OutcomeNotes.from_environment(other_views),
        ]
        for notes in senders:
            assert notes is not None
            notes.after(world.views.position())
        counts: list[int] = []
        threads = [
            threading.Thread(target=lambda n=notes: counts.append(n.send_due()))
            for notes in senders
            if notes is not None
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        other_views.close()
        other_records.close()
    assert sum(counts) == 8
    assert (
        sorted(m["To"] for m in inbox.messages)
        == ["advisor@people.example"] * 4 + ["neighbour@people.example"] * 4
    )


def test_a_sender_gives_up_after_its_attempts_and_says_so(
    world,  # noqa: F811
    silent_smtp,
    caplog,
) -> None:
    world.views.catch_up()
    notes = OutcomeNotes.from_environment(
        world.views, attempt_seconds=0.3, first_retry_seconds=0.01, attempts_allowed=3
    )
    assert notes is not None
    notes.after(world.views.position())
    prefers_email(world, world.advisor, "advisor@people.example")
    a_change_to(world, contribution_of(world, world.advisor), "Groups meet at 6pm")
    assert notes.after(world.views.position()) == 1
    began = time.monotonic()
    for _ in range(3):
        time.sleep(0.05)
        assert notes.send_due() == 0
    # Each attempt is cut off after its 0.3 s, however the host dawdles.
    assert time.monotonic() - began < 3.0
    assert notes.tables.rows("SELECT note FROM {outcome_notes_due}") == []
    gave_up = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert len(gave_up) == 1
    assert str(world.advisor) in gave_up[0]
    assert "after 3 attempts" in gave_up[0]
    # The claim stays: the note is not made due again, even by a rerun.
    notes.tables.run("DELETE FROM {outcome_notes_reached}")
    notes.after(world.views.position())
    due = notes.tables.rows("SELECT note FROM {outcome_notes_due}")
    assert not [row for row in due if str(row["note"]).startswith("change:")]


def test_an_attempt_ends_in_time_when_the_host_says_a_byte_now_and_then(
    monkeypatch,
) -> None:
    dawdler = SilentServer(dribble=0.2)
    mail = MailSettings.from_environment(
        {
            "FOURPI_SMTP_URL": f"smtp://127.0.0.1:{dawdler.port}",
            "FOURPI_MAIL_FROM": "involvement@mind.example",
        }
    )
    assert mail is not None
    message = EmailMessage()
    message["To"] = "advisor@people.example"
    message.set_content("Hello")
    began = time.monotonic()
    try:
        with pytest.raises((OSError, smtplib.SMTPException)):
            mail.send(lambda: message, within=1.0)
    finally:
        dawdler.close()
    assert time.monotonic() - began < 2.0


def test_an_upgraded_store_keeps_its_claims_and_processes_may_start_at_once(
    world,  # noqa: F811
    inbox,
) -> None:
    """A store whose notes an earlier version sent at once (its two tables, and no
    table of due notes) gains the new table from several processes starting
    together, and what was claimed then is never made due now."""
    datastore = world.records.factory.datastore
    schema = getattr(datastore, "schema", "")
    prefix = f'"{schema}".' if schema else ""
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(
            f"CREATE TABLE {prefix}fourpi_outcome_notes (note TEXT PRIMARY KEY, "
            "claimed_at TEXT NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE {prefix}fourpi_outcome_notes_reached (name TEXT PRIMARY "
            "KEY, position BIGINT NOT NULL)"
        )
    world.views.catch_up()
    answered = next(
        row
        for row in world.views.cache.facts(
            world.mind.organisation_id, world.views.position()
        )["responses"]
        if row["contribution_id"] == contribution_of(world, world.advisor)
    )
    sent_before = f"response:{answered['position']}:{world.advisor}"
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(
            f"INSERT INTO {prefix}fourpi_outcome_notes (note, claimed_at) VALUES "
            + ("(%s, %s)" if schema else "(?, ?)"),
            (sent_before, "2024-02-08T12:00:00+00:00"),
        )
    prefers_email(world, world.advisor, "advisor@people.example")
    world.views.catch_up()
    # Several processes share a store only on PostgreSQL.
    stores = [open_records(world.url) for _ in range(4 if schema else 1)]
    started = threading.Barrier(len(stores))
    failures: list[BaseException] = []

    def start(records: Any) -> None:
        started.wait()
        try:
            NoteTables(records.factory.datastore)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=start, args=(r,)) for r in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for records in stores:
        records.close()
    assert failures == []
    notes = OutcomeNotes.from_environment(world.views)
    assert notes is not None
    assert sent_after(notes, world.views.position()) == 0
    assert inbox.messages == []


def test_a_note_that_could_not_be_sent_leaves_the_person_s_link_working(
    world,  # noqa: F811
    monkeypatch,
) -> None:
    """A new link replaces the old: made for a note that never left, it would take
    away the page of someone using the link they have, each time it was tried."""
    monkeypatch.setenv("FOURPI_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    monkeypatch.setenv("FOURPI_MAIL_FROM", "involvement@mind.example")
    world.views.catch_up()
    notes = OutcomeNotes.from_environment(world.views, first_retry_seconds=0.01)
    assert notes is not None
    notes.after(world.views.position())
    prefers_email(world, world.advisor, "advisor@people.example")
    link = world.link(world.advisor, world.mind)
    a_change_to(world, contribution_of(world, world.advisor), "Groups meet at 6pm")
    assert notes.after(world.views.position()) == 1
    for _ in range(3):
        time.sleep(0.05)
        assert notes.send_due() == 0
    world.views.catch_up()
    page = world.client().get(link)
    assert page.status_code == 200
    assert "Groups meet at 6pm" in page.text


def test_a_mail_password_smtplib_cannot_send_is_named_before_anything_starts() -> None:
    """smtplib sends the user name and password as ASCII: a password with an
    accented letter was taken, then every attempt failed (below), and no note was
    ever sent, with nothing said at start."""
    for url in (
        "smtp://involvement:p%C3%A4ssword@mail.example:587",
        "smtps://s%C3%B8ren:password@mail.example",
    ):
        with pytest.raises(ValueError, match="FOURPI_SMTP_URL: the user name"):
            MailSettings.from_environment(
                {"FOURPI_SMTP_URL": url, "FOURPI_MAIL_FROM": "involvement@m.example"}
            )


class Accepting:
    """aiosmtpd's authenticator: everyone is let in."""

    def __call__(self, *args: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        return AuthResult(success=True)


def test_an_attempt_that_fails_in_a_way_of_its_own_is_counted_and_given_up(
    world,  # noqa: F811
    monkeypatch,
    caplog,
) -> None:
    """Only a network or SMTP error counted as a failed attempt: any other (here
    smtplib's UnicodeEncodeError, for a password it cannot send) ended the round
    with the note taken but never failed, so it was tried again every ten minutes
    for ever and never given up, each round stopping at it. Now it is a failed
    attempt like any other: retried later, given up after its attempts, and said
    so."""
    port = free_port()
    controller = Controller(
        Inbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=Accepting(),
        auth_require_tls=False,
    )
    controller.start()
    try:
        world.views.catch_up()
        monkeypatch.setenv("FOURPI_SMTP_URL", f"smtp://u:p@127.0.0.1:{port}")
        monkeypatch.setenv("FOURPI_MAIL_FROM", "involvement@mind.example")
        notes = OutcomeNotes.from_environment(
            world.views, first_retry_seconds=0.01, attempts_allowed=3
        )
        assert notes is not None
        # As smtplib is given a password it cannot encode (now refused at start).
        notes.mail = dataclasses.replace(notes.mail, password="pässword")
        notes.after(world.views.position())
        prefers_email(world, world.advisor, "advisor@people.example")
        a_change_to(world, contribution_of(world, world.advisor), "Groups meet at 6pm")
        assert notes.after(world.views.position()) == 1
        for _ in range(3):
            time.sleep(0.05)
            assert notes.send_due() == 0
    finally:
        controller.stop()
    assert notes.tables.rows("SELECT note FROM {outcome_notes_due}") == []
    gave_up = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert len(gave_up) == 1
    assert "UnicodeEncodeError" in gave_up[0] or "ascii" in gave_up[0]
