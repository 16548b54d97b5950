"""Idempotency: a command repeated with the same key returns the original result and records nothing new."""

import functools
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from threading import Barrier
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.domain import application
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.contribution import Contribution
from fourpi.domain.errors import IdempotencyKeyReused, InvalidInput
from fourpi.domain.participant import Participant
from fourpi.domain.vocabulary import (
    ContributionNature,
    Gender,
    ImpactArea,
    InvolvementRole,
    ParticipantKind,
    PaymentKind,
)
from tests.helpers import ACTOR, log_position, register


def log_idea(
    records,
    organisation_id,
    initiative_id,
    contributor,
    key,
    summary="More evening sessions",
):
    return records.log_contribution(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        contributor_ids=[contributor],
        nature=ContributionNature.IDEA,
        summary=summary,
        impact_areas=(ImpactArea.DELIVERY,),
        made_on=date(2021, 3, 1),
        actor=ACTOR,
        idempotency_key=key,
    )


def test_a_repeated_command_returns_the_original_result_and_writes_nothing(
    records: InvolvementRecords, organisation_id, initiative_id
) -> None:
    advisor = register(records, organisation_id)
    first = log_idea(records, organisation_id, initiative_id, advisor, "client-42")
    position = log_position(records)
    again = log_idea(records, organisation_id, initiative_id, advisor, "client-42")
    assert again == first
    assert log_position(records) == position


def test_a_repeated_update_is_applied_once(
    records: InvolvementRecords, organisation_id, initiative_id
) -> None:
    advisor = register(records, organisation_id)
    contribution_id = log_idea(records, organisation_id, initiative_id, advisor, None)
    for _ in range(3):
        records.respond_to_contribution(
            organisation_id=organisation_id,
            contribution_id=contribution_id,
            outcome="adopted",
            responded_on=date(2021, 3, 8),
            actor=ACTOR,
            idempotency_key="respond-once",
        )
    contribution = records.load(Contribution, contribution_id, organisation_id)
    assert len(contribution.responses) == 1


def test_a_repeat_the_record_would_now_refuse_returns_the_original_result(
    records: InvolvementRecords, organisation_id, initiative_id
) -> None:
    """Sent again once what it did is done (the role it ended has ended), a command
    under its key returns what it returned the first time, not the refusal the
    same command without a key now gets; under another command's key it is refused
    as a reused key."""
    advisor = register(records, organisation_id)
    role_id = records.assign_role(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        participant_id=advisor,
        role=InvolvementRole.ADVISOR,
        paid=False,
        decision_making=False,
        started_on=date(2021, 1, 4),
        actor=ACTOR,
    )

    def end(key: str | None, on: date = date(2021, 6, 1)) -> object:
        return records.end_role(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            role_id=role_id,
            ended_on=on,
            actor=ACTOR,
            idempotency_key=key,
        )

    first = end("end-it")
    position = log_position(records)
    assert end("end-it") == first
    with pytest.raises(InvalidInput, match="already ended"):
        end(None)
    with pytest.raises(IdempotencyKeyReused):
        end("end-it", on=date(2021, 7, 1))
    log_idea(records, organisation_id, initiative_id, advisor, "an-idea")
    with pytest.raises(IdempotencyKeyReused):
        end("an-idea")
    assert log_position(records) == position + 2  # the idea and its receipt


def test_without_a_key_the_same_command_records_twice(
    records: InvolvementRecords, organisation_id, initiative_id
) -> None:
    advisor = register(records, organisation_id)
    first = log_idea(records, organisation_id, initiative_id, advisor, None)
    second = log_idea(records, organisation_id, initiative_id, advisor, None)
    assert first != second


def test_a_key_reused_for_a_different_command_is_refused(
    records: InvolvementRecords, organisation_id, initiative_id
) -> None:
    advisor = register(records, organisation_id)
    log_idea(records, organisation_id, initiative_id, advisor, "k")
    position = log_position(records)
    with pytest.raises(IdempotencyKeyReused, match="already used") as refused:
        log_idea(records, organisation_id, initiative_id, advisor, "k", summary="Other")
    assert refused.value.field == "idempotency_key"
    assert log_position(records) == position


def test_keys_belong_to_their_organisation(
    records: InvolvementRecords, organisation_id
) -> None:
    other = records.register_organisation(name="Other charity", actor="admin")
    one = register(records, organisation_id)
    two = records.register_participant(
        organisation_id=other,
        pseudonym="Advisor",
        participant_kind="service_user",
        actor=ACTOR,
        idempotency_key="same-key",
    )
    again = records.register_participant(
        organisation_id=organisation_id,
        pseudonym="Advisor",
        participant_kind="service_user",
        actor=ACTOR,
        idempotency_key="same-key",
    )
    assert len({one, two, again}) == 3


def test_a_refused_command_leaves_its_key_free(
    records: InvolvementRecords, organisation_id, initiative_id
) -> None:
    advisor = register(records, organisation_id)
    with pytest.raises(InvalidInput):
        log_idea(records, organisation_id, initiative_id, advisor, "k", summary="  ")
    assert log_idea(records, organisation_id, initiative_id, advisor, "k") is not None


def test_a_blank_key_is_refused(records: InvolvementRecords, organisation_id) -> None:
    with pytest.raises(InvalidInput, match="idempotency_key: must not be blank"):
        records.register_participant(
            organisation_id=organisation_id,
            pseudonym="A",
            participant_kind="carer",
            actor=ACTOR,
            idempotency_key=" ",
        )


def test_concurrent_retries_with_one_key_record_once(
    records: InvolvementRecords, organisation_id, initiative_id
) -> None:
    advisor = register(records, organisation_id)
    threads = 6
    barrier = Barrier(threads)

    def retry(_: int):
        barrier.wait()
        return log_idea(records, organisation_id, initiative_id, advisor, "racing-key")

    position = log_position(records)
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(retry, range(threads)))
    assert len(set(results)) == 1
    # One contribution and one receipt, however many retries raced.
    assert log_position(records) - position == 2


# A repeat from someone else: no way to test a guess of a person's personal data

OTHER_ACTOR = "a colleague without the personal-data grant"


def register_under(
    records: InvolvementRecords,
    organisation_id,
    key: str,
    pseudonym: str,
    actor: str = ACTOR,
    kind: ParticipantKind = ParticipantKind.SERVICE_USER,
):
    return records.register_participant(
        organisation_id=organisation_id,
        pseudonym=pseudonym,
        participant_kind=kind,
        actor=actor,
        idempotency_key=key,
    )


def declare_under(
    records: InvolvementRecords, organisation_id, participant_id, key, actor, **answers
):
    return records.declare_monitoring_data(
        organisation_id=organisation_id,
        participant_id=participant_id,
        monitoring=answers,
        actor=actor,
        idempotency_key=key,
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    pseudonym=st.sampled_from(["Advisor 1", "Sam", "Robin"]),
    guess=st.sampled_from(["Advisor 1", "Sam", "Robin"]),
    gender=st.sampled_from(list(Gender)),
    guessed_gender=st.sampled_from(list(Gender)),
)
def test_another_accounts_repeat_answers_alike_whatever_the_personal_data_guessed(
    records: InvolvementRecords,
    organisation_id,
    pseudonym: str,
    guess: str,
    gender: Gender,
    guessed_gender: Gender,
) -> None:
    """A workbook's keys are easy to guess (`workbook:People:advisor-1`). Were a
    repeat from someone else compared on the person's pseudonym or monitoring
    answers, a refusal, or its absence, would tell them whether a guess is right.
    It is answered with the first result, whatever was guessed, and records
    nothing."""
    key = f"workbook:People:{uuid4()}"
    person = register_under(records, organisation_id, key, pseudonym)
    declare_under(
        records, organisation_id, person, f"{key}:monitoring", ACTOR, gender=gender
    )
    position = log_position(records)
    assert register_under(records, organisation_id, key, guess, OTHER_ACTOR) == person
    declare_under(
        records,
        organisation_id,
        person,
        f"{key}:monitoring",
        OTHER_ACTOR,
        gender=guessed_gender,
    )
    assert log_position(records) == position
    kept = records.load(Participant, person, organisation_id)
    assert (kept.pseudonym, kept.monitoring.gender) == (pseudonym, gender)


def test_whoever_sent_a_command_first_is_held_to_all_of_it(
    records: InvolvementRecords, organisation_id
) -> None:
    """They know what they sent, so a change of personal data under their own key
    is refused as before."""
    register_under(records, organisation_id, "people/1", "Advisor 1")
    with pytest.raises(IdempotencyKeyReused):
        register_under(records, organisation_id, "people/1", "Advisor 2")


def test_another_accounts_repeat_is_still_compared_on_what_is_not_personal_data(
    records: InvolvementRecords, organisation_id
) -> None:
    register_under(records, organisation_id, "people/1", "Advisor 1")
    position = log_position(records)
    with pytest.raises(IdempotencyKeyReused):
        register_under(
            records,
            organisation_id,
            "people/1",
            "Advisor 1",
            OTHER_ACTOR,
            kind=ParticipantKind.CARER,
        )
    assert log_position(records) == position


def owe(records, organisation_id, person, amount, key="payment-1"):
    return records.record_payment_owed(
        organisation_id=organisation_id,
        participant_id=person,
        payment_kind=PaymentKind.FEE,
        amount=amount,
        owed_on=date(2021, 3, 1),
        actor=ACTOR,
        idempotency_key=key,
    )


def test_an_amount_repeated_as_another_spelling_of_its_value_is_the_same_command(
    records: InvolvementRecords, organisation_id
) -> None:
    """25.00 typed once and 25 the next time (a spreadsheet's number cell keeps no
    trailing zeros) were two commands: the repeat was refused as another one."""
    person = register(records, organisation_id)
    first = owe(records, organisation_id, person, Decimal("25.00"))
    position = log_position(records)
    assert owe(records, organisation_id, person, Decimal("25")) == first
    assert owe(records, organisation_id, person, Decimal("2.5E1")) == first
    assert log_position(records) == position
    with pytest.raises(IdempotencyKeyReused):
        owe(records, organisation_id, person, Decimal("25.01"))


def test_an_amount_too_large_for_any_context_is_refused_by_its_rule(
    records: InvolvementRecords, organisation_id
) -> None:
    """Comparing amounts by value must not fail on one no context can normalise: it
    raised decimal.Overflow before the command ran, a server error over the API."""
    person = register(records, organisation_id)
    position = log_position(records)
    for huge in ("1E+1000000", "1e999999999999999999", "-9E+99999999"):
        with pytest.raises(InvalidInput) as refused:
            owe(records, organisation_id, person, Decimal(huge), key=f"huge-{huge}")
        assert refused.value.field == "amount"
    assert log_position(records) == position


@given(st.decimals())
def test_equal_amounts_look_the_same_and_any_amount_has_a_canonical_form(
    amount: Decimal,
) -> None:
    """Any amount, however it is spelt, has a form (none raises), and the same value
    with trailing zeros written out has the same one."""
    written = application.canonical(amount)
    sign, digits, exponent = amount.as_tuple()
    if amount.is_finite() and isinstance(exponent, int):
        padded = Decimal((sign, (*digits, 0, 0), exponent - 2))
        assert padded == amount
        assert application.canonical(padded) == written


def test_a_receipt_stored_when_amounts_were_compared_as_written_still_takes_its_repeat(
    records: InvolvementRecords, organisation_id, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = register(records, organisation_id)
    as_written = functools.partial(application.fingerprint_of, as_written=True)
    monkeypatch.setattr(application, "fingerprint_of", as_written)
    first = owe(records, organisation_id, person, Decimal("25.00"))
    monkeypatch.undo()
    position = log_position(records)
    assert owe(records, organisation_id, person, Decimal("25.00")) == first
    assert log_position(records) == position
