"""What the commands share: the --database option, choosing the store, finding an organisation, reading a moment, the slice options."""

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import click

from fourpi.bootstrap import open_views
from fourpi.config import (
    DATABASE_URL_VARIABLE,
    Database,
    DatabaseURLError,
    MasterKeyError,
    database_from_environment,
    default_database_path,
    default_master_key_path,
    master_key_source,
)
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.record import is_text, parse_digits
from fourpi.domain.vocabulary import ImpactArea
from fourpi.privacy.keystore import PersonalKeyStore
from fourpi.projections.answers import CYCLE_RULE, is_cycle_number

F = TypeVar("F", bound=Callable[..., Any])


def database_option(command: F) -> F:
    return click.option(
        "--database",
        "database_url",
        metavar="URL",
        envvar=DATABASE_URL_VARIABLE,
        help=(
            # Short URLs: a help column wraps a word longer than itself mid-word.
            "Where the event store lives: sqlite:///FILE or "
            "postgresql://USER@HOST/DB (with ?schema=NAME, ?sslmode=... and other "
            f"driver parameters). Defaults to ${DATABASE_URL_VARIABLE}, else "
            "~/.local/share/fourpi/fourpi.sqlite3."
        ),
    )(command)


@contextmanager
def position_bar(head: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar over the log, moved on by telling it the position reached."""
    with click.progressbar(length=head, label=label) as bar:
        reached = 0

        def advance(position: int) -> None:
            nonlocal reached
            bar.update(position - reached)
            reached = position

        yield advance


class NotRecorded(click.ClickException):
    """What a command was told to find is not in the record: exit 1, not a usage
    error (2), since the command was used as it should be."""


def chosen_database(database_url: str | None) -> Database:
    if database_url == "":
        # Only given so (an empty $FOURPI_DATABASE_URL reads as unset): a variable
        # in `--database "$URL"` that was never set, not a wish for the default.
        raise click.BadParameter(
            "must not be empty: give sqlite:///FILE or postgresql://USER@HOST/DB, "
            "or leave --database out for the default store",
            param_hint="--database",
        )
    try:
        return database_from_environment(database_url)
    except DatabaseURLError as error:
        raise click.BadParameter(str(error), param_hint="--database") from None


def without_field(error: Exception, field: str = "as_of") -> str:
    """The message of an error about `field`, for an option that already names it."""
    return str(error).removeprefix(f"{field}: ")


def check_initiative(
    views: Any, organisation_id: UUID, initiative_id: UUID | None
) -> None:
    """Refuse an initiative that is not one of the organisation's."""
    from fourpi.listing import initiative_owner

    if initiative_id is None:
        return
    if initiative_owner(views, initiative_id) != organisation_id:
        raise NotRecorded(
            f"--initiative: no initiative {initiative_id} is recorded for "
            f"organisation {organisation_id}"
        )


def parse_as_of(text: str | None, option: str = "--as-of") -> int | datetime | None:
    """The moment given to an option, read as the answer pages read their as_of
    (fourpi.projections.views.moment_of), refused in the option's name."""
    from fourpi.projections.views import InvalidMoment, moment_of

    try:
        return moment_of(text)
    except InvalidMoment as error:
        raise click.BadParameter(error.rule, param_hint=option) from None


def a_number(given: float, option: str) -> float:
    """A float option's value, refused when it is nan, which every range lets by
    (no comparison with nan is true)."""
    if math.isnan(given):
        raise click.BadParameter("must be a number, not nan", param_hint=option)
    return given


def given_text(given: str, option: str) -> str:
    """An option's value as given, refused if it is not text: bytes that are not
    UTF-8 reach a command as lone surrogates, which no store can look up and no
    network call can take."""
    if not is_text(given):
        raise click.BadParameter(
            "must be text (it holds bytes that are not UTF-8)", param_hint=option
        )
    return given


def organisations_called(database: Database, given: str) -> list[UUID]:
    """The organisation of the given id, or every organisation of that exact name
    (none in a store that does not exist yet)."""
    given_text(given, "--organisation")
    try:
        return [UUID(given)]
    except ValueError:
        pass
    views = open_views(database)
    try:
        views.catch_up()
        matches: list[UUID] = views.store.organisations_named(given)
    finally:
        views.close()
    return matches


def organisation_named(database: Database, given: str, views: Any = None) -> UUID:
    """An organisation by its id, or by its exact name when that is unique; one
    that is not recorded is refused, by what was given."""
    given_text(given, "--organisation")
    own_views = views is None
    if own_views:
        views = open_views(database, existing=True)
    try:
        if own_views:
            views.catch_up()
        known: list[UUID] = list(views.store.organisation_ids())
        try:
            wanted = UUID(given)
        except ValueError:
            matches: list[UUID] = views.store.organisations_named(given)
        else:
            matches = [wanted] if wanted in known else []
    finally:
        if own_views:
            views.close()
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotRecorded(
            f"--organisation: no organisation is named {given!r} or has that id"
        )
    raise click.BadParameter(
        f"{len(matches)} organisations are named {given!r}; give one of their ids: "
        + ", ".join(str(m) for m in matches),
        param_hint="--organisation",
    )


def only_organisation(views: Any, initiative_id: UUID | None) -> UUID:
    """The organisation meant when none is named: the initiative's, or the only one."""
    from fourpi.listing import initiative_owner

    if initiative_id is not None:
        owner = initiative_owner(views, initiative_id)
        if owner is None:
            raise NotRecorded(
                f"--initiative: no initiative {initiative_id} is recorded"
            )
        return UUID(str(owner))
    names = views.store.organisation_ids()
    if len(names) != 1:
        raise click.UsageError("name the organisation with --organisation")
    return UUID(str(names[0]))


KEYS_OPTION_HELP = (
    "Also {} the key store (each person's key, wrapped under the master key: never a "
    "plain key) {} KEYS. Keep it with the log: without the keys, every personal field "
    "reads as erased. Restore it with the same master key."
)


def key_store(records: InvolvementRecords) -> PersonalKeyStore:
    keys = records.keys
    assert isinstance(keys, PersonalKeyStore)
    return keys


def cycle_number(context: Any, option: Any, given: str | None) -> int | None:
    """--cycle: a cycle number, by the answers' rule (is_cycle_number), read as the
    web page reads it (parse_digits)."""
    number = None if given is None else parse_digits(given)
    if given is not None and (number is None or not is_cycle_number(number)):
        raise click.BadParameter(CYCLE_RULE, context, option)
    return number


def slice_options(command: F) -> F:
    """The options that narrow the answers and choose their moment."""
    for option in reversed(
        [
            click.option(
                "--area",
                type=click.Choice([a.value for a in ImpactArea]),
                help="One 4PI impact area.",
            ),
            click.option(
                "--cycle",
                metavar="NUMBER",
                callback=cycle_number,
                help="One Act-Evaluate-Reflect-Learn cycle, by number.",
            ),
            click.option(
                "--from",
                "period_from",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Period start.",
            ),
            click.option(
                "--to",
                "period_to",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Period end.",
            ),
            click.option(
                "--as-of",
                metavar="POSITION|TIME",
                help="A log position, or an ISO time with its zone "
                "(2024-05-01T12:00:00+00:00).",
            ),
        ]
    ):
        command = option(command)
    return command


def refuse_precious(path: Path, database: Database, param_hint: str) -> None:
    """A file a command is told to write is not the event store (SQLite's file or the
    ones beside it) nor the master key file: writing either would destroy the whole
    record, or every person's data, for good."""
    stores = [default_database_path()]
    if database.backend == "sqlite":
        stores.append(Path(database.sqlite_path))
    precious = {
        Path(f"{store}{suffix}"): "the event store"
        for store in stores
        for suffix in ("", "-wal", "-shm", "-journal")
    }
    try:
        key = master_key_source(database.backend).path
    except MasterKeyError:
        key = None
    for candidate in (key, default_master_key_path()):
        if candidate is not None:
            precious[candidate] = "the master key file"
    for file, what in precious.items():
        if same_file(path, file):
            raise click.BadParameter(
                f"{path} is {what}: writing it would destroy it; name another file",
                param_hint=param_hint,
            )


def same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return one.expanduser().resolve() == other.expanduser().resolve()


@contextmanager
def writing_to(path: Path) -> Iterator[None]:
    """Writing a file: an error that does not say which file (a full disk) names
    it, so the command line tells it as `FILE: reason` and not as a traceback."""
    try:
        yield
    except OSError as error:
        if error.filename is None:
            error.filename = str(path)
        raise
