"""Outcome notes through a real SMTP server on localhost (aiosmtpd): a contributor who asked to be told by email gets one short note with a link to their page when their contribution is answered, and the record notes the feedback once, however often or in however many processes the sender runs; no email without the settings."""

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from fourpi.domain.participant import Participant
from fourpi.domain.vocabulary import (
    ChangeScope,
    ImpactArea,
    NoticePreference,
    ResponseOutcome,
)
from fourpi.graphql.app import create_app
from fourpi.notices import MailSettings, OutcomeNotes
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
) -> None:
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
    notes.after(world.views.position())
    return notes


def test_no_email_is_sent_unless_both_settings_are_given() -> None:
    assert MailSettings.from_environment({}) is None
    assert MailSettings.from_environment({"FOURPI_SMTP_URL": "smtp://h"}) is None
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
        world.records.respond_to_contribution(
            organisation_id=world.mind.organisation_id,
            contribution_id=contribution,
            outcome=ResponseOutcome.ADAPTED,
            rationale="Evening groups twice a month",
            responded_on=date(2024, 3, 1),
            actor=ACTOR,
        )
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
    assert again.after(position) == 0
    again.tables.run("DELETE FROM {outcome_notes_reached}")
    assert again.after(position) == 0
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
    assert notes.after(world.views.position()) == 0
    assert inbox.messages == []
    prefers_email(world, world.advisor, "advisor@people.example")
    a_change_to(world, contribution, "Groups also meet on Saturdays", date(2024, 4, 1))
    assert notes.after(world.views.position()) == 1
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
    assert notes.after(world.views.position()) == 1
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
    assert notes.after(world.views.position()) == 0
    assert inbox.messages == []
    assert len(feedback_of(world, contribution)) == already
