"""The application service: one method per use case of the 4PI record; each loads, asks the aggregates, and saves atomically."""

import functools
import hashlib
import hmac
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import MAX_PREC, Context, Decimal
from enum import Enum
from typing import Any, ClassVar, Concatenate, Generic, ParamSpec, TypeVar, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import orjson
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProjectorFunction,
    project_aggregate,
)
from eventsourcing.domain import (
    Aggregate,
    CanMutateAggregate,
    DomainEventProtocol,
    MutableOrImmutableAggregate,
)
from eventsourcing.persistence import (
    ApplicationRecorder,
    EventStore,
    IntegrityError,
    Mapper,
    PersistenceError,
    Recording,
)
from eventsourcing.utils import get_topic

from fourpi.domain.access import AccessToken, Role, new_secret, token_id_for
from fourpi.domain.change import Change
from fourpi.domain.contribution import Contribution
from fourpi.domain.errors import (
    ConcurrencyConflict,
    CrossOrganisationReference,
    IdempotencyKeyReused,
    InvalidInput,
    RecordNotFound,
)
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.organisation import Organisation
from fourpi.domain.participant import MonitoringData, Participant
from fourpi.domain.payment import Payment
from fourpi.domain.personal import (
    PERSONAL_FIELDS,
    Erasure,
    PersonalKeys,
    PersonalRecordSnapshotted,
)
from fourpi.domain.policy import DEFAULT_REVIEW_INTERVAL_MONTHS, InvolvementPolicy
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.receipt import CommandReceipt, CommandResult
from fourpi.domain.record import (
    NONCHARACTERS,
    NONCHARACTERS_REFUSED,
    OrganisationRecord,
    is_text,
)
from fourpi.domain.reference_population import ReferencePopulation, Shares
from fourpi.domain.support import Support
from fourpi.domain.vocabulary import (
    BeyondKind,
    ChangeScope,
    ContributionNature,
    EarningsPeriod,
    FeedbackMethod,
    ImpactArea,
    InvolvementDifference,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    InvolvementRole,
    NoticePreference,
    OutcomeAssessment,
    ParticipantKind,
    PaymentKind,
    PaymentPreference,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
    ResponseOutcome,
    SupportKind,
)

log = logging.getLogger("fourpi.records")

P = ParamSpec("P")
R = TypeVar("R", bound=CommandResult)
T = TypeVar("T")
K = TypeVar("K", bound=OrganisationRecord)

# Organisations are registered before they exist, so their keys live here.
NO_ORGANISATION = uuid5(NAMESPACE_URL, "https://fourpi.invalid/no-organisation")
GLOBAL = UUID(int=0)
"""The organisation id of a global admin token, which belongs to no organisation."""
MAX_IDEMPOTENCY_KEY_LENGTH = 200
CONFLICT_ATTEMPTS = 32
"""How many times at least a command is decided and saved while other commands keep
changing a record it changes first. Each clash means another command on that record
was stored. The clash was never the client's to resolve: a command is decided on the
records as they are when it runs, not as the client last saw them, so deciding it
again is what "reload and try again" did. Since a command that lost once is decided
again in its turn (`_turn`), where it cannot lose, this bounds only an in-memory
store's retries."""
CONFLICT_SECONDS = 10.0
"""And for at least this long: racing again, under a steady stream of writers on
one record (two server processes of ten threads each, all on one initiative), a
writer could lose 32 races in a row and be refused while every other landed; 2-5%
were, before turns."""
CONFLICT_PAUSE_SECONDS = 0.002
"""After its nth lost race (n > 1: only where no turn is held), a command waits a
random moment of up to n times this (at most 16 times) before it is decided again,
so the writers that lost do not clash again in step."""
SNAPSHOT_INTERVAL = 20
"""Every this many events an initiative's state is stored as a snapshot, and a
command reads it from its latest snapshot and the events after it rather than from
its first event: every role, outcome and cycle phase lengthens an initiative's
history, so a write to one would otherwise cost more with each (BENCHMARKS.md).
The events stay the record: a snapshot is only a shortcut to the state they give.
A load reads on average half an interval of events (about 0.25M instructions
each); each snapshot holds the whole state (about 480 bytes a role), so a longer
interval trades writes' cost for the snapshots' room."""


class RaceLost(Exception):
    """A command's save was refused: another command stored a record it read
    after it read it (or its idempotency key's receipt is already stored).
    `read`: every record it read, with the version it read (InvolvementRecords
    .decided_again looks at them)."""

    def __init__(self, read: tuple[tuple[UUID, int], ...]) -> None:
        super().__init__(", ".join(str(i) for i, _ in read))
        self.read = read


@dataclass(frozen=True)
class Decision(Generic[R]):
    """What a use case decided: the records with new facts to save, and its result."""

    records: tuple[OrganisationRecord, ...]
    result: R


def use_case(
    *, needs_organisation: bool = True
) -> Callable[
    [Callable[Concatenate["InvolvementRecords", P], Decision[R]]],
    Callable[Concatenate["InvolvementRecords", P], R],
]:
    """Runs a use case once per idempotency key and saves what it decided in one transaction."""

    def decorate(
        method: Callable[Concatenate["InvolvementRecords", P], Decision[R]],
    ) -> Callable[Concatenate["InvolvementRecords", P], R]:
        def run(app: "InvolvementRecords", /, *args: P.args, **kwargs: P.kwargs) -> R:
            if args:
                raise TypeError(f"{method.__name__} takes keyword arguments only")
            return app._run(method, needs_organisation, dict(kwargs))

        functools.update_wrapper(run, method)
        return run

    return decorate


EXACT = Context(prec=MAX_PREC)
"""Normalises a decimal without rounding it."""


def canonical(value: Any, *, as_written: bool = False) -> Any:
    """A JSON-able form in which equal command arguments always look the same: an
    amount is its value (25 and 25.00 are one amount: a workbook's number cell
    keeps no trailing zeros). `as_written` keeps a decimal as it was written, as
    receipts stored before compared it."""

    def of(part: Any) -> Any:
        return canonical(part, as_written=as_written)

    if isinstance(value, Enum):
        return of(value.value)
    if isinstance(value, Decimal) and not as_written and value.is_finite():
        try:
            return str(EXACT.normalize(value))
        except ArithmeticError:
            # Beyond any exponent a context takes (1E+1000000): no amount the
            # record holds, refused by its rule once the command runs.
            return str(value)
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return sorted((str(of(k)), of(v)) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return [of(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: of(getattr(value, f.name)) for f in fields(value)}
    return value


PERSONAL_ARGUMENTS: frozenset[str] = frozenset().union(*PERSONAL_FIELDS.values())
"""A command's arguments that are a person's personal data: those named as the
personal fields of the facts they become (domain.personal)."""
BESIDE_PERSONAL_DATA = ";"
"""Between a receipt's two fingerprints: all the arguments, and all but the
personal data (for a command that carries some)."""


def fingerprint_of(
    command: str, arguments: dict[str, Any], key: bytes, *, as_written: bool = False
) -> str:
    """A keyed hash (HMAC-SHA256) of the command and its arguments: equal commands
    give equal fingerprints, and without the key nothing of the arguments (such as
    monitoring data) can be guessed back from one. For a command that carries
    personal data, a second hash follows, of the arguments but that data: what a
    repeat from someone else is compared by (see `_earlier_result`)."""

    def keyed(chosen: dict[str, Any]) -> str:
        written = _command_bytes(command, chosen, as_written=as_written)
        return hmac.new(key, written, "sha256").hexdigest()

    whole = "hmac-sha256:" + keyed(arguments)
    if PERSONAL_ARGUMENTS.isdisjoint(arguments):
        return whole
    others = {k: v for k, v in arguments.items() if k not in PERSONAL_ARGUMENTS}
    return whole + BESIDE_PERSONAL_DATA + keyed(others)


def unkeyed_fingerprint_of(command: str, arguments: dict[str, Any]) -> str:
    """How receipts recorded before fingerprints were keyed compare (never written now)."""
    return hashlib.sha256(_command_bytes(command, arguments)).hexdigest()


def _command_bytes(
    command: str, arguments: dict[str, Any], *, as_written: bool = True
) -> bytes:
    relevant = {
        k: v for k, v in arguments.items() if k not in ("idempotency_key", "actor")
    }
    return orjson.dumps(
        [command, canonical(relevant, as_written=as_written)],
        option=orjson.OPT_SORT_KEYS,
    )


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("idempotency_key", "must not be blank when given")
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInput(
            "idempotency_key",
            f"must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
        )
    if any(c < " " or c == "\x7f" for c in key) or not is_text(key):
        # A key is stored as text (PostgreSQL text holds no NUL) and typed by no one
        # with controls in it.
        raise InvalidInput("idempotency_key", "must not contain control characters")
    if not NONCHARACTERS.isdisjoint(key):
        raise InvalidInput("idempotency_key", NONCHARACTERS_REFUSED)
    return key


class InvolvementRecords(Application[UUID]):
    """The 4PI record of every organisation: the write API the GraphQL layer calls."""

    name = "fourpi"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Initiative: SNAPSHOT_INTERVAL
    }
    """Only records whose state holds no personal data may be snapshotted
    (fourpi.domain.personal.PERSONAL_RECORDS: the mapper refuses the others). A
    later change to the shape of Initiative's state raises its class_version with
    an upcast, as an event's would, or empties the snapshots table (stored_snapshots
    on SQLite, fourpi_snapshots on PostgreSQL): every snapshot can be taken again
    from the events."""
    keys: PersonalKeys
    """Each person's key, apart from the events (fourpi.privacy.keystore)."""
    saves_refuse_a_repeat: ClassVar[bool] = True
    """Whether saving what a command already run under its idempotency key decided
    fails (its receipt is in the store), so that the receipt need be looked for only
    when a command fails. An application whose saves are held back (the workbook's
    StagedRecords) looks for it first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.organisations_known: set[UUID] = set()
        """Organisations this process has loaded: an organisation is never removed,
        so a command need not load it again to know it exists."""
        self._saved = threading.local()
        """The log position of the last event each thread saved (see with_position)."""
        self._read = threading.local()
        """The people each thread's command has read so far, by id, at the version
        read (see `load`), while a command is decided."""
        super().__init__(*args, **kwargs)

    def construct_mapper(self) -> Mapper[UUID]:
        """Every store encrypts personal fields per person (fourpi.privacy.shredding); the key
        store sits beside the events in the same database."""
        from fourpi.privacy.keystore import open_key_store
        from fourpi.privacy.shredding import PersonalDataMapper

        try:
            keys = open_key_store(self.env, self.factory)
        except BaseException:
            # A refused master key: close the connections opened so far, rather than
            # leave them to be collected as the interpreter exits.
            self.factory.close()
            raise
        self.keys = keys
        return PersonalDataMapper(
            transcoder=self.construct_transcoder(),
            keys=keys,
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
        )

    def construct_recorder(self) -> ApplicationRecorder:
        """The sealing recorder (fourpi.storage.sealing), committing concurrent saves together
        unless $FOURPI_GROUP_COMMIT is off (fourpi.config.group_commit_enabled)."""
        from fourpi.config import group_commit_enabled

        recorder = super().construct_recorder()
        enable = getattr(recorder, "enable_group_commit", None)
        if enable is not None and group_commit_enabled(self.env):
            enable()
        return recorder

    def construct_event_store(self) -> EventStore[UUID]:
        """Events are stored with the new personal keys they are encrypted under, in
        one transaction (fourpi.privacy.shredding.PersonalEventStore)."""
        from fourpi.privacy.shredding import PersonalDataMapper, PersonalEventStore

        assert isinstance(self.mapper, PersonalDataMapper)
        return PersonalEventStore(mapper=self.mapper, recorder=self.recorder)

    def changed_since(self, record_id: UUID, version: int) -> bool:
        """Whether the record has an event after this version: one statement that
        finds nothing while it is as it was, rather than the record read and rebuilt
        (how a write checks that its token is not revoked, and a page that its
        session's account has not changed)."""
        # The sealing recorder (construct_recorder) of either backend.
        recorder: Any = self.recorder
        return bool(recorder.has_events_after(record_id, version))

    # Running commands

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        recordings = super().save(*objs, **kwargs)
        if recordings:
            self._saved.position = max(r.notification.id for r in recordings)
        return recordings

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        """Taken after the events that reach a snapshotting interval are stored, in
        a transaction of its own: a failure is the command's no more, as its events
        are stored, and a client told of an error would send it again. Two processes
        taking the same one store the same state, and the second is refused
        (IntegrityError); one not stored (that, or a state the transcoder cannot
        encode) is taken at the next interval, and loads meanwhile read a few more
        events. Only a snapshot of a person's own record is refused aloud: it is
        never to be asked for (PERSONAL_RECORDS)."""
        try:
            super().take_snapshot(aggregate_id, version, projector_func)
        except PersonalRecordSnapshotted:
            raise
        except PersistenceError as error:
            log.warning(
                "no snapshot of record %s at version %s: %s",
                aggregate_id,
                version,
                type(error).__name__,
            )
        except Exception:
            log.exception(
                "no snapshot of record %s at version %s", aggregate_id, version
            )

    def snapshots_due(self) -> "SnapshotsDue":
        """For events stored apart from their records (an import's): the snapshots a
        save of the records would have taken."""
        return SnapshotsDue(self)

    def with_position(self, command: Callable[[], T]) -> tuple[T, int]:
        """Runs a command in this thread: its result, and the log position just after
        it, which is that of the last event it saved (read from the save, with no
        second query), or the log's head when it saved nothing (a command repeated
        under its idempotency key). Answers asked for as of that position include
        the command's events."""
        self._saved.position = None
        result = command()
        position: int | None = self._saved.position
        if position is None:
            position = self.recorder.max_notification_id() or 0
        return result, position

    def _run(
        self,
        method: Callable[..., Decision[R]],
        needs_organisation: bool,
        arguments: dict[str, Any],
    ) -> R:
        command = method.__name__
        actor = arguments.get("actor")
        if not isinstance(actor, str) or not actor.strip():
            raise InvalidInput("actor", "must name who is recording this")
        if "organisation_id" in arguments:
            organisation_id = arguments["organisation_id"]
        else:
            # Before an organisation exists, its registering actor scopes the key.
            organisation_id = uuid5(NO_ORGANISATION, actor)
        key = arguments.get("idempotency_key")
        fingerprint = ""
        if key is not None:
            key = check_idempotency_key(key)
            fingerprint = fingerprint_of(command, arguments, self.keys.receipt_key)
            if not self.saves_refuse_a_repeat:
                earlier = self._receipt(organisation_id, key)
                if earlier is not None:
                    return cast(
                        R,
                        self._earlier_result(earlier, fingerprint, command, arguments),
                    )
        # Otherwise a key's receipt is looked for only when the command fails: a
        # command already run under the key fails, either here (it no longer
        # applies) or as it saves, since its receipt, whose id the key decides,
        # already exists. A new key, the usual case, costs no read (measured: 6% of a
        # write with a key, such as every web form post); a repeat costs a decision
        # and a refused save rather than a read (0.43 ms against 0.10 ms, SQLite).
        outer = getattr(self._read, "people", None)

        def run_before(error: Exception) -> R:
            """The result of the command already run under its key, if it was;
            otherwise the error it failed with."""
            earlier = None if key is None else self._receipt(organisation_id, key)
            if earlier is None:
                raise error
            return cast(
                R, self._earlier_result(earlier, fingerprint, command, arguments)
            )

        def decided_and_saved() -> R:
            people_read: dict[UUID, int] = {}
            self._read.people = people_read
            try:
                if (
                    needs_organisation
                    and organisation_id not in self.organisations_known
                ):
                    self.organisation(organisation_id)
                    self.organisations_known.add(organisation_id)
                decision: Decision[R] = method(self, **arguments)
            except Exception as error:
                return run_before(error)
            finally:
                self._read.people = outer
            records = list(decision.records)
            # The people it names but does not change must be as it read them when
            # it is stored: otherwise a role, an attendance or a contribution could
            # be recorded about a person erased meanwhile.
            saved = {r.id for r in records}
            unchanged = tuple((i, v) for i, v in people_read.items() if i not in saved)
            if key is not None:
                records.append(
                    CommandReceipt.issue(
                        organisation_id=organisation_id,
                        idempotency_key=key,
                        command=command,
                        fingerprint=fingerprint,
                        result=decision.result,
                        recorded_by=arguments["actor"],
                    )
                )
            try:
                self.save_decided(*records, unchanged=unchanged)
            except RaceLost as lost:
                return run_before(lost)
            return decision.result

        return self.decided_again(decided_and_saved)

    def decided_again(self, decided_and_saved: Callable[[], T]) -> T:
        """Runs a command: `decided_and_saved` decides it on the records as they are
        and saves what it decided (`save_decided`). When a record it read was
        changed by another command meanwhile (RaceLost), it is decided again on the
        record as that left it, and either applies still, and is stored, or is
        refused by the rule it now breaks, as if the two had come one after the
        other. The clash was never the client's to resolve: deciding again is what
        "reload and try again" did. Decided again in its turn (see `_turn`), it
        cannot lose again: it waits for the turns asked before it, no longer. Every
        command that changes records goes through here: the use cases (`_run`) and
        the accounts' (fourpi.accounts)."""
        started = time.monotonic()
        turn: AbstractContextManager[object] = nullcontext()
        for attempt in itertools.count(1):
            with turn:
                try:
                    return decided_and_saved()
                except RaceLost as lost:
                    trying = (
                        attempt < CONFLICT_ATTEMPTS
                        or time.monotonic() - started < CONFLICT_SECONDS
                    )
                    if not trying or not any(
                        self.changed_since(i, v) for i, v in lost.read
                    ):
                        raise ConcurrencyConflict([i for i, _ in lost.read]) from None
            if attempt > 1:
                pause = CONFLICT_PAUSE_SECONDS * min(attempt, 16)
                time.sleep(random.uniform(0, pause))
            turn = self._turn()
        raise AssertionError("unreachable")  # pragma: no cover

    def save_decided(
        self,
        *records: OrganisationRecord,
        unchanged: tuple[tuple[UUID, int], ...] = (),
    ) -> None:
        """Saves what a command decided, in one transaction, with the records in
        `unchanged` (id, version read) as it read them; RaceLost when the store
        refused it (IntegrityError), naming every record it read at the version it
        read, for `decided_again` to look at."""
        read_at = [
            (r.id, r.version - len(r.pending_events))
            for r in records
            if r.version > len(r.pending_events)
        ]
        pending = [e for r in records for e in r.pending_events]
        try:
            self.save(*records, unchanged=unchanged)
        except IntegrityError:
            if pending and self._stored(pending[-1]):
                # Its own transaction committed, but the answer was lost with the
                # connection, and storing it again was refused (with an idempotency
                # key, its receipt tells the same).
                return
            raise RaceLost((*read_at, *unchanged)) from None

    def _turn(self) -> AbstractContextManager[object]:
        """A command's turn at the store, taken once it has lost a race: the store's
        write lock, which every writer in every process takes to store anything, is
        held while it is decided again and until it is saved (fourpi.storage.sealing,
        GroupCommitting.turn). Only a command that lost waits so: one that has not
        is decided without a lock, as most are, on records no one else is writing.
        Before, it raced again, and under a steady stream of writers on one record
        could lose CONFLICT_ATTEMPTS races and be refused while the others landed.
        An in-memory SQLite store holds no turn (its connection for writing shuts
        out the reads a decision makes): there it races again, as before."""
        recorder: Any = self.recorder
        turn = getattr(recorder, "turn", None)
        return (
            nullcontext()
            if turn is None
            else cast(AbstractContextManager[object], turn())
        )

    def _stored(self, event: CanMutateAggregate[UUID]) -> bool:
        """Whether this very event is in the store (the same record, version and
        moment it was made): a save's events are stored all together or not at all,
        so its last event tells whether the save committed."""
        version = event.originator_version
        return any(
            isinstance(stored, CanMutateAggregate)
            and stored.timestamp == event.timestamp
            for stored in self.events.get(
                event.originator_id, gt=version - 1, lte=version
            )
        )

    def _receipt(self, organisation_id: UUID, key: str) -> CommandReceipt | None:
        receipt_id = CommandReceipt.id_for(organisation_id, key)
        try:
            receipt: Aggregate = self.repository.get(receipt_id)
        except AggregateNotFoundError:
            return None
        assert isinstance(receipt, CommandReceipt)
        return receipt

    def _earlier_result(
        self,
        receipt: CommandReceipt,
        fingerprint: str,
        command: str,
        arguments: dict[str, Any],
    ) -> Any:
        """The first result of a command repeated under its key, or
        IdempotencyKeyReused if the repeat is another command.

        Whoever sent the command first is held to all of it. Anyone else repeating
        a command that carries personal data is compared by everything but that
        data, which is neither compared nor recorded again: were it compared, the
        refusal or its absence would tell someone without the personal-data grant
        whether their guess of a person's pseudonym or monitoring answers is right
        (a workbook's keys are easy to guess)."""
        if not self._same_command(receipt, fingerprint, command, arguments):
            # A receipt stored before amounts were compared by value (25 and 25.00
            # were two commands) is compared as it was then.
            as_written = fingerprint_of(
                command, arguments, self.keys.receipt_key, as_written=True
            )
            if not self._same_command(receipt, as_written, command, arguments):
                raise IdempotencyKeyReused(receipt.idempotency_key, receipt.command)
        return receipt.result

    @staticmethod
    def _same_command(
        receipt: CommandReceipt,
        fingerprint: str,
        command: str,
        arguments: dict[str, Any],
    ) -> bool:
        whole, _, others = fingerprint.partition(BESIDE_PERSONAL_DATA)
        earlier, _, earlier_others = receipt.fingerprint.partition(BESIDE_PERSONAL_DATA)
        if others and receipt.recorded_by != arguments["actor"]:
            return earlier_others == others
        return earlier == whole or (
            not earlier.startswith("hmac-sha256:")
            and earlier == unkeyed_fingerprint_of(command, arguments)
        )

    # Reading records

    def load(
        self, kind: type[K], record_id: UUID, organisation_id: UUID, field: str = "id"
    ) -> K:
        """A record of the given kind belonging to the given organisation."""
        if not isinstance(record_id, UUID):
            raise InvalidInput(field, "must be a record id (a UUID)")
        try:
            record: Aggregate = self.repository.get(record_id)
        except AggregateNotFoundError:
            raise RecordNotFound(kind.kind, record_id, field=field) from None
        if not isinstance(record, kind):
            raise RecordNotFound(kind.kind, record_id, field=field)
        if record.organisation_id != organisation_id:
            raise CrossOrganisationReference(field, kind.kind, record_id)
        people_read = getattr(self._read, "people", None)
        if people_read is not None and kind is Participant:
            people_read.setdefault(record.id, record.version)
        return record

    def load_all(
        self, kind: type[K], ids: list[UUID], organisation_id: UUID, field: str
    ) -> list[K]:
        if not isinstance(ids, list | tuple):
            raise InvalidInput(field, "must be a list of record ids")
        # Each record once, in the order first named: every list a write takes is
        # of distinct records (check_unique_ids), and 2,000 copies of one id would
        # otherwise read it 2,000 times.
        return [self.load(kind, i, organisation_id, field) for i in dict.fromkeys(ids)]

    def replayed(self, record_id: UUID, version: int | None = None) -> Aggregate:
        """The record at a version (by default its latest) from its events alone,
        past any snapshot: what an auditor is shown, which is then the log's word,
        proved by its seals, and nothing kept beside it."""
        record = project_aggregate(None, self.events.get(record_id, lte=version))
        if not isinstance(record, Aggregate):
            raise AggregateNotFoundError(record_id)
        return record

    def organisation(self, organisation_id: UUID) -> Organisation:
        return self.load(
            Organisation, organisation_id, organisation_id, "organisation_id"
        )

    # Access tokens (no idempotency key: a receipt would keep the secret in the log)

    def issue_token(
        self,
        *,
        organisation_id: UUID | None,
        role: Role,
        actor: str,
        label: str = "",
        personal_data: bool = False,
    ) -> tuple[UUID, str]:
        """A new bearer token; its secret is returned here once and never stored.

        With `personal_data` the token reads people's personal fields; only a
        manager, auditor or admin token may be granted it."""
        if organisation_id is None:
            if role is not Role.ADMIN:
                raise InvalidInput(
                    "organisation_id", f"a {role} token belongs to an organisation"
                )
            owner = GLOBAL
        else:
            owner = self.organisation(organisation_id).id
        if not isinstance(actor, str) or not actor.strip():
            raise InvalidInput("actor", "must name who is recording this")
        secret = new_secret()
        token = AccessToken.issue(
            secret=secret,
            organisation_id=owner,
            role=role,
            label=label,
            recorded_by=actor,
            personal_data=personal_data,
        )
        self.save(token)
        return token.id, secret

    def revoke_token(
        self, *, token_id: UUID, actor: str, organisation_id: UUID | None = None
    ) -> None:
        """End a token; an organisation's admin may end only its own organisation's.

        Revoked by someone else meanwhile (the one event that follows a token's
        issue), it is read again and refused as already revoked, as if the two had
        come one after the other, rather than with a clash to retry."""

        def revoked() -> None:
            try:
                token: Aggregate = self.repository.get(token_id)
            except AggregateNotFoundError:
                raise RecordNotFound(
                    "access token", token_id, field="token_id"
                ) from None
            if not isinstance(token, AccessToken):
                raise RecordNotFound("access token", token_id, field="token_id")
            if organisation_id is not None and token.organisation_id != organisation_id:
                raise CrossOrganisationReference("token_id", "access token", token_id)
            token.revoke(recorded_by=actor)
            self.save_decided(token)

        self.decided_again(revoked)

    def authenticate(self, secret: str) -> AccessToken | None:
        """The live token this secret belongs to, if any."""
        if not isinstance(secret, str) or not secret:
            return None
        try:
            token: Aggregate = self.repository.get(token_id_for(secret))
        except AggregateNotFoundError:
            return None
        if isinstance(token, AccessToken) and token.matches(secret):
            return token
        return None

    # Organisations and their involvement policy

    @use_case(needs_organisation=False)
    def register_organisation(
        self, *, name: str, actor: str, idempotency_key: str | None = None
    ) -> Decision[UUID]:
        organisation = Organisation.register(
            organisation_id=uuid4(), name=name, recorded_by=actor
        )
        return Decision((organisation,), organisation.id)

    @use_case()
    def set_suppression_threshold(
        self,
        *,
        organisation_id: UUID,
        threshold: int,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        """Counts of people from 1 to below the threshold are suppressed for callers
        without the personal-data grant."""
        organisation = self.organisation(organisation_id)
        organisation.set_suppression_threshold(threshold=threshold, recorded_by=actor)
        return Decision((organisation,), organisation.id)

    @use_case()
    def adopt_involvement_policy(
        self,
        *,
        organisation_id: UUID,
        version_label: str,
        adopted_on: date,
        summary: str = "",
        review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        policy_id = InvolvementPolicy.id_for(organisation_id)
        if policy_id in self.repository:
            policy = self.load(InvolvementPolicy, policy_id, organisation_id)
            policy.revise(
                version_label=version_label,
                adopted_on=adopted_on,
                review_interval_months=review_interval_months,
                summary=summary,
                recorded_by=actor,
            )
        else:
            policy = InvolvementPolicy.adopt(
                organisation_id=organisation_id,
                version_label=version_label,
                adopted_on=adopted_on,
                review_interval_months=review_interval_months,
                summary=summary,
                recorded_by=actor,
            )
        return Decision((policy,), policy.id)

    @use_case()
    def review_involvement_policy(
        self,
        *,
        organisation_id: UUID,
        reviewed_on: date,
        notes: str = "",
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        policy_id = InvolvementPolicy.id_for(organisation_id)
        policy = self.load(
            InvolvementPolicy, policy_id, organisation_id, "organisation_id"
        )
        policy.review(reviewed_on=reviewed_on, notes=notes, recorded_by=actor)
        return Decision((policy,), None)

    # Initiatives: purpose, intended outcomes, roles, cycles

    @use_case()
    def launch_initiative(
        self,
        *,
        organisation_id: UUID,
        name: str,
        level: InvolvementLevel,
        involvement_kind: InvolvementKind,
        methods: tuple[InvolvementMethod, ...],
        purpose: str,
        limits_of_influence: str,
        started_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        initiative = Initiative.launch(
            initiative_id=uuid4(),
            organisation_id=organisation_id,
            name=name,
            level=level,
            involvement_kind=involvement_kind,
            methods=tuple(methods),
            purpose=purpose,
            limits_of_influence=limits_of_influence,
            started_on=started_on,
            recorded_by=actor,
        )
        return Decision((initiative,), initiative.id)

    @use_case()
    def record_intended_outcome(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        description: str,
        impact_areas: tuple[ImpactArea, ...],
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        outcome_id = uuid4()
        initiative.record_intended_outcome(
            outcome_id=outcome_id,
            description=description,
            impact_areas=tuple(impact_areas),
            recorded_by=actor,
        )
        return Decision((initiative,), outcome_id)

    @use_case()
    def assess_intended_outcome(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        outcome_id: UUID,
        assessment: OutcomeAssessment,
        involvement_difference: InvolvementDifference,
        evidence: str,
        assessed_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        initiative.assess_intended_outcome(
            outcome_id=outcome_id,
            assessment=assessment,
            involvement_difference=involvement_difference,
            evidence=evidence,
            assessed_on=assessed_on,
            recorded_by=actor,
        )
        return Decision((initiative,), None)

    @use_case()
    def assign_role(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        participant_id: UUID,
        role: InvolvementRole,
        paid: bool,
        decision_making: bool,
        started_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        role_id = uuid4()
        initiative.assign_role(
            role_id=role_id,
            participant=participant,
            role=role,
            paid=paid,
            decision_making=decision_making,
            started_on=started_on,
            recorded_by=actor,
        )
        return Decision((initiative,), role_id)

    @use_case()
    def end_role(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        role_id: UUID,
        ended_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        initiative.end_role(role_id=role_id, ended_on=ended_on, recorded_by=actor)
        return Decision((initiative,), None)

    @use_case()
    def start_cycle(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        focus_areas: tuple[ImpactArea, ...],
        started_on: date,
        actions_taken_up: tuple[str, ...] = (),
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[int]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        number = initiative.start_cycle(
            focus_areas=tuple(focus_areas),
            actions_taken_up=tuple(actions_taken_up),
            started_on=started_on,
            recorded_by=actor,
        )
        return Decision((initiative,), number)

    @use_case()
    def evaluate_cycle(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        number: int,
        findings: str,
        entered_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        initiative.evaluate_cycle(
            number=number, findings=findings, entered_on=entered_on, recorded_by=actor
        )
        return Decision((initiative,), None)

    @use_case()
    def reflect_on_cycle(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        number: int,
        reflections: str,
        entered_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        initiative.reflect_on_cycle(
            number=number,
            reflections=reflections,
            entered_on=entered_on,
            recorded_by=actor,
        )
        return Decision((initiative,), None)

    @use_case()
    def learn_from_cycle(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        number: int,
        lessons: str,
        planned_actions: tuple[str, ...],
        entered_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        initiative.learn_from_cycle(
            number=number,
            lessons=lessons,
            planned_actions=tuple(planned_actions),
            entered_on=entered_on,
            recorded_by=actor,
        )
        return Decision((initiative,), None)

    # Participants

    @use_case()
    def register_participant(
        self,
        *,
        organisation_id: UUID,
        pseudonym: str,
        participant_kind: ParticipantKind,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        participant = Participant.register(
            participant_id=uuid4(),
            organisation_id=organisation_id,
            pseudonym=pseudonym,
            participant_kind=participant_kind,
            recorded_by=actor,
        )
        return Decision((participant,), participant.id)

    @use_case()
    def declare_monitoring_data(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        monitoring: dict[str, str | None],
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        participant.declare_monitoring_data(
            monitoring=MonitoringData.checked(**monitoring), recorded_by=actor
        )
        return Decision((participant,), None)

    @use_case()
    def set_payment_preference(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        payment_preference: PaymentPreference,
        earnings_limit: Decimal | None = None,
        earnings_period: EarningsPeriod | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        participant.set_payment_preference(
            payment_preference=payment_preference,
            earnings_limit=earnings_limit,
            earnings_period=earnings_period,
            recorded_by=actor,
        )
        return Decision((participant,), None)

    def erase_participant(
        self,
        *,
        participant_id: UUID,
        actor: str,
        organisation_id: UUID | None = None,
        idempotency_key: str | None = None,
    ) -> Erasure:
        """Erase a person's personal data for good: record Participant.Erased, then
        destroy their key, so every personal field of their facts reads as erased.

        The events stay (their seals hold only ciphertext, so the log still verifies).
        Erasing an erased participant records nothing and makes sure the key is gone.
        Without organisation_id the participant's own organisation is meant (a global
        admin); with it, the participant must belong to it.
        """
        if organisation_id is None:
            organisation_id = self.organisation_of_participant(participant_id)
        already = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        ).erased
        self.record_erasure(
            organisation_id=organisation_id,
            participant_id=participant_id,
            actor=actor,
            idempotency_key=idempotency_key,
        )
        destroyed = self.keys.destroy(participant_id, organisation_id)
        return Erasure(
            participant_id=participant_id,
            organisation_id=organisation_id,
            recorded=not already,
            key_destroyed=destroyed,
            storage=self.keys.scrub(),
        )

    def organisation_of_participant(self, participant_id: UUID) -> UUID:
        if not isinstance(participant_id, UUID):
            raise InvalidInput("participant_id", "must be a record id (a UUID)")
        try:
            record: Aggregate = self.repository.get(participant_id)
        except AggregateNotFoundError:
            raise RecordNotFound(
                Participant.kind, participant_id, field="participant_id"
            ) from None
        if not isinstance(record, Participant):
            raise RecordNotFound(
                Participant.kind, participant_id, field="participant_id"
            )
        return record.organisation_id

    @use_case()
    def record_erasure(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        """Record that the participant is erased (erase_participant also destroys the
        key: call that)."""
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        participant.erase(recorded_by=actor)
        return Decision((participant,), None)

    # A service user's or carer's own page (fourpi.personal_links keeps the secret)

    @use_case()
    def make_personal_link(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        expires_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        participant.make_personal_link(expires_on=expires_on, recorded_by=actor)
        return Decision((participant,), None)

    @use_case()
    def revoke_personal_link(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        participant.revoke_personal_link(recorded_by=actor)
        return Decision((participant,), None)

    @use_case()
    def set_notice_preference(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        notice_preference: NoticePreference,
        email: str = "",
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        participant.set_notice_preference(
            notice_preference=notice_preference, email=email, recorded_by=actor
        )
        return Decision((participant,), None)

    @use_case()
    def request_erasure(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        requested_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        participant.request_erasure(requested_on=requested_on, recorded_by=actor)
        return Decision((participant,), None)

    # Meetings

    @use_case()
    def schedule_meeting(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        title: str,
        held_at: datetime,
        high_level: bool,
        decision_making: bool,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        meeting = Meeting.schedule(
            meeting_id=uuid4(),
            initiative=initiative,
            title=title,
            held_at=held_at,
            high_level=high_level,
            decision_making=decision_making,
            recorded_by=actor,
        )
        return Decision((meeting,), meeting.id)

    @use_case()
    def send_meeting_papers(
        self,
        *,
        organisation_id: UUID,
        meeting_id: UUID,
        sent_at: datetime,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        meeting = self.load(Meeting, meeting_id, organisation_id, "meeting_id")
        meeting.send_papers(sent_at=sent_at, recorded_by=actor)
        return Decision((meeting,), None)

    @use_case()
    def record_attendance(
        self,
        *,
        organisation_id: UUID,
        meeting_id: UUID,
        participant_ids: list[UUID],
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        meeting = self.load(Meeting, meeting_id, organisation_id, "meeting_id")
        attendees = self.load_all(
            Participant, participant_ids, organisation_id, "participant_ids"
        )
        meeting.record_attendance(attendees=attendees, recorded_by=actor)
        return Decision((meeting,), None)

    @use_case()
    def name_meeting_reserve(
        self,
        *,
        organisation_id: UUID,
        meeting_id: UUID,
        participant_id: UUID,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        meeting = self.load(Meeting, meeting_id, organisation_id, "meeting_id")
        reserve = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        meeting.name_reserve(reserve=reserve, recorded_by=actor)
        return Decision((meeting,), None)

    @use_case()
    def make_reasonable_adjustment(
        self,
        *,
        organisation_id: UUID,
        meeting_id: UUID,
        description: str,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        meeting = self.load(Meeting, meeting_id, organisation_id, "meeting_id")
        meeting.make_reasonable_adjustment(description=description, recorded_by=actor)
        return Decision((meeting,), None)

    # Contributions, responses, feedback

    @use_case()
    def log_contribution(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        contributor_ids: list[UUID],
        nature: ContributionNature,
        summary: str,
        impact_areas: tuple[ImpactArea, ...],
        made_on: date,
        meeting_id: UUID | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        contributors = self.load_all(
            Participant, contributor_ids, organisation_id, "contributor_ids"
        )
        meeting = (
            None
            if meeting_id is None
            else self.load(Meeting, meeting_id, organisation_id, "meeting_id")
        )
        contribution = Contribution.log(
            contribution_id=uuid4(),
            initiative=initiative,
            meeting=meeting,
            contributors=contributors,
            nature=nature,
            summary=summary,
            impact_areas=tuple(impact_areas),
            made_on=made_on,
            recorded_by=actor,
        )
        return Decision((contribution,), contribution.id)

    @use_case()
    def respond_to_contribution(
        self,
        *,
        organisation_id: UUID,
        contribution_id: UUID,
        outcome: ResponseOutcome,
        rationale: str = "",
        responded_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        contribution = self.load(
            Contribution, contribution_id, organisation_id, "contribution_id"
        )
        contribution.respond(
            outcome=outcome,
            rationale=rationale,
            responded_on=responded_on,
            recorded_by=actor,
        )
        return Decision((contribution,), None)

    @use_case()
    def give_feedback(
        self,
        *,
        organisation_id: UUID,
        contribution_id: UUID,
        given_on: date,
        method: FeedbackMethod,
        summary: str,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        contribution = self.load(
            Contribution, contribution_id, organisation_id, "contribution_id"
        )
        contribution.give_feedback(
            given_on=given_on, method=method, summary=summary, recorded_by=actor
        )
        return Decision((contribution,), None)

    # Changes

    @use_case()
    def record_change(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        description: str,
        impact_area: ImpactArea,
        scope: ChangeScope,
        evidence: str,
        changed_on: date,
        contribution_ids: list[UUID] | tuple[UUID, ...] = (),
        beyond_kind: BeyondKind | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        contributions = self.load_all(
            Contribution, list(contribution_ids), organisation_id, "contribution_ids"
        )
        change = Change.record(
            change_id=uuid4(),
            initiative=initiative,
            contributions=contributions,
            description=description,
            impact_area=impact_area,
            scope=scope,
            beyond_kind=beyond_kind,
            evidence=evidence,
            changed_on=changed_on,
            recorded_by=actor,
        )
        return Decision((change,), change.id)

    # Process experience

    @use_case()
    def record_process_experience(
        self,
        *,
        organisation_id: UUID,
        initiative_id: UUID,
        respondent_kind: RespondentKind,
        stage: QuestionnaireStage,
        scores: dict[ProcessDimension, int],
        answered_on: date,
        participant_id: UUID | None = None,
        free_text: str = "",
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        initiative = self.load(
            Initiative, initiative_id, organisation_id, "initiative_id"
        )
        respondent = (
            None
            if participant_id is None
            else self.load(
                Participant, participant_id, organisation_id, "participant_id"
            )
        )
        answer = ProcessExperienceAnswer.record(
            answer_id=uuid4(),
            initiative=initiative,
            respondent=respondent,
            respondent_kind=respondent_kind,
            stage=stage,
            scores=dict(scores),
            free_text=free_text,
            answered_on=answered_on,
            recorded_by=actor,
        )
        return Decision((answer,), answer.id)

    # Payments

    @use_case()
    def record_payment_owed(
        self,
        *,
        organisation_id: UUID,
        participant_id: UUID,
        payment_kind: PaymentKind,
        amount: Decimal,
        owed_on: date,
        initiative_id: UUID | None = None,
        description: str = "",
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        participant = self.load(
            Participant, participant_id, organisation_id, "participant_id"
        )
        initiative = (
            None
            if initiative_id is None
            else self.load(Initiative, initiative_id, organisation_id, "initiative_id")
        )
        payment = Payment.owe(
            payment_id=uuid4(),
            participant=participant,
            initiative=initiative,
            payment_kind=payment_kind,
            amount=amount,
            owed_on=owed_on,
            description=description,
            recorded_by=actor,
        )
        return Decision((payment,), payment.id)

    @use_case()
    def record_payment_made(
        self,
        *,
        organisation_id: UUID,
        payment_id: UUID,
        paid_on: date,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[None]:
        payment = self.load(Payment, payment_id, organisation_id, "payment_id")
        payment.pay(paid_on=paid_on, recorded_by=actor)
        return Decision((payment,), None)

    # Support and training

    @use_case()
    def record_support(
        self,
        *,
        organisation_id: UUID,
        support_kind: SupportKind,
        given_on: date,
        initiative_id: UUID | None = None,
        participant_ids: list[UUID] | tuple[UUID, ...] = (),
        hours: Decimal | None = None,
        description: str = "",
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        initiative = (
            None
            if initiative_id is None
            else self.load(Initiative, initiative_id, organisation_id, "initiative_id")
        )
        participants = self.load_all(
            Participant, list(participant_ids), organisation_id, "participant_ids"
        )
        support = Support.give(
            support_id=uuid4(),
            organisation_id=organisation_id,
            initiative=initiative,
            participants=participants,
            support_kind=support_kind,
            given_on=given_on,
            hours=hours,
            description=description,
            recorded_by=actor,
        )
        return Decision((support,), support.id)

    # Reference populations

    @use_case()
    def define_reference_population(
        self,
        *,
        organisation_id: UUID,
        description: str,
        shares: Shares,
        initiative_id: UUID | None = None,
        actor: str,
        idempotency_key: str | None = None,
    ) -> Decision[UUID]:
        if initiative_id is not None:
            self.load(Initiative, initiative_id, organisation_id, "initiative_id")
        population_id = ReferencePopulation.id_for(organisation_id, initiative_id)
        if population_id in self.repository:
            population = self.load(ReferencePopulation, population_id, organisation_id)
            population.revise(description=description, shares=shares, recorded_by=actor)
        else:
            population = ReferencePopulation.define(
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                description=description,
                shares=shares,
                recorded_by=actor,
            )
        return Decision((population,), population.id)


class SnapshotsDue:
    """The snapshots due for events stored without their records, as a workbook's
    (held back to its end) and an imported log's are: a save of the records takes
    one at each event that reaches its interval, so each record's latest such
    version is noted, and its snapshot taken once the events are stored. Without
    it, the next writes to a long initiative an import made read its whole history
    again, until one reached the next interval."""

    def __init__(self, records: InvolvementRecords) -> None:
        self.records = records
        self.intervals = {
            get_topic(kind): interval
            for kind, interval in records.snapshotting_intervals.items()
        }
        self.due: dict[UUID, int] = {}

    def note(self, record_id: UUID, topic: str, version: int) -> None:
        """An event stored (or to be), by its record, its topic and its version."""
        interval = self.intervals.get(topic.rpartition(".")[0])
        if interval and version % interval == 0:
            self.due[record_id] = max(version, self.due.get(record_id, 0))

    def take(self) -> int:
        """Take every snapshot due (each in a transaction of its own, a failure
        logged: see take_snapshot); how many were due."""
        due, self.due = self.due, {}
        if self.records.snapshots is not None:
            for record_id, version in due.items():
                self.records.take_snapshot(record_id, version)
        return len(due)
