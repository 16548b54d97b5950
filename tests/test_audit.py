"""Tamper evidence: every kind of tampering done directly in the database is detected, on both backends; export and import reproduce the log exactly."""

import contextlib
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import orjson
import psycopg
import pytest
from click.testing import CliRunner

from fourpi.audit import Anchor, anchor_of, export_log, import_log, verify
from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.config import parse_database_url
from fourpi.demo import create_demo
from fourpi.domain.application import InvolvementRecords
from fourpi.privacy.keystore import new_master_key
from fourpi.projections.answers import Slice
from fourpi.storage.sealing import chain_of, digest_of
from tests.conftest import needs_postgres
from tests.helpers import ACTOR, Store, register
from tests.test_invariants import launch


class Tamperer:
    """Direct SQL on the store, as someone with database access but no fourpi would."""

    def __init__(self, records: InvolvementRecords, database_url: str) -> None:
        self.database = parse_database_url(database_url)
        self.events: str = getattr(records.recorder, "events_table_name")  # noqa: B009
        if self.database.backend == "postgresql":
            self.events = f'"{self.database.schema}".{self.events}'
            self.seals = f'"{self.database.schema}".fourpi_seals'
            self.position = "notification_id"
            self.mark = "%s"
        else:
            self.seals = "fourpi_seals"
            self.position = "rowid"
            self.mark = "?"

    @contextmanager
    def sql(self) -> Iterator[Any]:
        if self.database.backend == "postgresql":
            with psycopg.connect(self.database.url.split("?")[0], autocommit=True) as c:
                yield c
        else:
            connection = sqlite3.connect(self.database.sqlite_path)
            try:
                yield connection
                connection.commit()
            finally:
                connection.close()

    def run(self, statement: str, *parameters: Any) -> list[Any]:
        statement = statement.format(
            events=self.events, seals=self.seals, position=self.position, mark=self.mark
        )
        with self.sql() as c:
            cursor = c.execute(statement, parameters)
            try:
                return list(cursor.fetchall())
            except (sqlite3.Error, psycopg.ProgrammingError):
                return []

    def event(self, position: int) -> tuple[Any, ...]:
        (row,) = self.run(
            "SELECT originator_id, originator_version, topic, state FROM {events} "
            "WHERE {position} = {mark}",
            position,
        )
        return tuple(row)

    def change_state(self, position: int, state: bytes) -> None:
        self.run(
            "UPDATE {events} SET state = {mark} WHERE {position} = {mark}",
            state,
            position,
        )

    def delete_event(self, position: int, *, with_seal: bool) -> None:
        self.run("DELETE FROM {events} WHERE {position} = {mark}", position)
        if with_seal:
            self.run("DELETE FROM {seals} WHERE position = {mark}", position)

    def reseal_from(self, position: int) -> None:
        """Recompute every seal from a position on, as a forger who knows the scheme would."""
        previous = self.run(
            "SELECT position, chain FROM {seals} WHERE position < {mark} "
            "ORDER BY position DESC LIMIT 1",
            position,
        )
        previous_position, previous_chain = previous[0] if previous else (0, None)
        rows = self.run(
            "SELECT {position}, originator_id, originator_version, topic, state "
            "FROM {events} WHERE {position} >= {mark} ORDER BY {position}",
            position,
        )
        for at, record, version, topic, state in rows:
            digest = digest_of(at, topic, as_uuid_text(record), version, bytes(state))
            chain = chain_of(previous_chain, previous_position, digest)
            self.run(
                "UPDATE {seals} SET digest = {mark}, chain = {mark}, "
                "previous_position = {mark} WHERE position = {mark}",
                digest,
                chain,
                previous_position,
                at,
            )
            previous_position, previous_chain = at, chain


def as_uuid_text(record: Any) -> str:
    from uuid import UUID

    return str(record if not isinstance(record, str) else UUID(record))


@pytest.fixture
def sealed(
    records: InvolvementRecords, database_url: str
) -> tuple[InvolvementRecords, Tamperer]:
    create_demo(records)
    return records, Tamperer(records, database_url)


def broken_at(
    records: InvolvementRecords, anchor: Anchor | None = None
) -> tuple[int, str]:
    result = verify(records.recorder, anchor=anchor)
    assert result.broken is not None, "tampering went unnoticed"
    return result.broken.position, result.broken.kind


def test_an_untouched_log_verifies(sealed) -> None:
    records, _ = sealed
    result = verify(records.recorder)
    assert result.intact and result.events == records.recorder.max_notification_id()
    assert result.head == anchor_of(records.recorder)


def test_changed_event_data_is_detected(sealed) -> None:
    records, tamper = sealed
    state = bytes(tamper.event(100)[3])
    tamper.change_state(
        100, state.replace(b'"', b"'", 1) if b'"' in state else state + b" "
    )
    assert broken_at(records) == (100, "event-changed")


def test_an_event_deleted_from_the_middle_is_detected(sealed) -> None:
    records, tamper = sealed
    tamper.delete_event(200, with_seal=False)
    assert broken_at(records) == (200, "event-removed")


def test_an_event_deleted_with_its_seal_is_detected(sealed) -> None:
    records, tamper = sealed
    tamper.delete_event(200, with_seal=True)
    assert broken_at(records) == (200, "event-removed")


def test_an_inserted_event_is_detected(sealed) -> None:
    records, tamper = sealed
    record, version, topic, state = tamper.event(300)
    tamper.delete_event(300, with_seal=True)
    tamper.run(
        "INSERT INTO {events} ({position}, originator_id, originator_version, topic, state) "
        "VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
        300,
        record,
        version + 1000,
        topic,
        state,
    )
    assert broken_at(records) == (300, "event-inserted")


def test_an_inserted_event_with_a_forged_seal_is_detected(sealed) -> None:
    records, tamper = sealed
    record, version, topic, state = tamper.event(300)
    tamper.delete_event(300, with_seal=True)
    tamper.run(
        "INSERT INTO {events} ({position}, originator_id, originator_version, topic, state) "
        "VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
        300,
        record,
        version + 1000,
        topic,
        state,
    )
    ((chain_299,),) = tamper.run("SELECT chain FROM {seals} WHERE position = 299")
    digest = digest_of(300, topic, as_uuid_text(record), version + 1000, bytes(state))
    tamper.run(
        "INSERT INTO {seals} VALUES ({mark}, {mark}, {mark}, {mark})",
        300,
        299,
        digest,
        chain_of(chain_299, 299, digest),
    )
    position, kind = broken_at(records)
    assert position == 301 and kind == "seal-rewritten"


def test_two_swapped_events_are_detected(sealed) -> None:
    records, tamper = sealed
    first, second = tamper.event(150), tamper.event(160)
    swapped = ((150, second), (160, first))
    # Two steps, as (record, version) must stay unique at every moment.
    for position, (record, _, topic, state) in swapped:
        tamper.run(
            "UPDATE {events} SET originator_id = {mark}, originator_version = {mark}, "
            "topic = {mark}, state = {mark} WHERE {position} = {mark}",
            record,
            -position,
            topic,
            state,
            position,
        )
    for position, (_, version, _, _) in swapped:
        tamper.run(
            "UPDATE {events} SET originator_version = {mark} WHERE {position} = {mark}",
            version,
            position,
        )
    assert broken_at(records) == (150, "events-swapped")


def test_a_seal_rewritten_to_match_a_changed_event_breaks_the_chain_after_it(
    sealed,
) -> None:
    records, tamper = sealed
    record, version, topic, state = tamper.event(100)
    forged = bytes(state) + b" "
    tamper.change_state(100, forged)
    ((previous_chain,),) = tamper.run("SELECT chain FROM {seals} WHERE position = 99")
    digest = digest_of(100, topic, as_uuid_text(record), version, forged)
    tamper.run(
        "UPDATE {seals} SET digest = {mark}, chain = {mark} WHERE position = 100",
        digest,
        chain_of(previous_chain, 99, digest),
    )
    assert broken_at(records) == (101, "seal-rewritten")


def test_truncation_is_detected_only_behind_an_anchor(sealed) -> None:
    records, tamper = sealed
    anchor = anchor_of(records.recorder)
    assert anchor is not None
    for position in range(anchor.position - 4, anchor.position + 1):
        tamper.delete_event(position, with_seal=True)
    assert verify(records.recorder).intact, "the newest events can vanish unseen"
    assert broken_at(records, anchor) == (anchor.position, "truncated")


def test_a_fully_reforged_chain_is_caught_by_the_anchor(sealed) -> None:
    records, tamper = sealed
    anchor = anchor_of(records.recorder)
    tamper.change_state(50, bytes(tamper.event(50)[3]) + b" ")
    tamper.reseal_from(50)
    assert verify(records.recorder).intact, (
        "a forger who reseals everything passes alone"
    )
    assert broken_at(records, anchor) == (anchor.position, "anchor-mismatch")


def test_verify_from_the_command_line_exits_non_zero_at_a_break(
    sealed, database_url
) -> None:
    _, tamper = sealed
    runner = CliRunner()
    anchor = runner.invoke(
        main, ["audit", "anchor", "--database", database_url]
    ).output.strip()
    intact = runner.invoke(
        main, ["audit", "verify", "--database", database_url, "--anchor", anchor]
    )
    assert intact.exit_code == 0 and "Intact" in intact.output
    tamper.change_state(10, bytes(tamper.event(10)[3]) + b" ")
    broken = runner.invoke(main, ["audit", "verify", "--database", database_url])
    assert broken.exit_code == 1
    assert "BROKEN at position 10 (event-changed)" in broken.output


def exported(records: InvolvementRecords, path: Path) -> bytes:
    with path.open("wb") as out:
        export_log(records.recorder, out)
    return path.read_bytes()


def test_export_import_round_trip_is_byte_identical_across_backends(tmp_path) -> None:
    """SQLite -> NDJSON -> PostgreSQL -> NDJSON gives the same bytes and answers."""
    needs_postgres()
    store = Store("postgresql")
    database_url = store.url
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    summary = create_demo(source)
    first = exported(source, tmp_path / "first.ndjson")

    target = open_records(database_url)
    assert import_log(target.recorder, tmp_path / "first.ndjson") == summary_events(
        source
    )
    # The key store goes with the log (wrapped keys only), or personal data reads as
    # erased in the copy.
    with (tmp_path / "keys.ndjson").open("wb") as out:
        source.keys.export(out)  # type: ignore[attr-defined]
    target.keys.import_(tmp_path / "keys.ndjson")  # type: ignore[attr-defined]
    second = exported(target, tmp_path / "second.ndjson")
    assert second == first
    assert verify(target.recorder).head == anchor_of(source.recorder)

    # The same answers from every view.
    slice_ = Slice(summary.organisation_id)
    views_before = open_views(f"sqlite:///{tmp_path}/source.sqlite3", source)
    views_after = open_views(database_url, target)
    views_before.catch_up()
    views_after.catch_up()
    assert views_after.report(slice_, moment=None) == views_before.report(
        slice_, moment=None
    )
    for views in (views_before, views_after):
        views.close()

    # New writes after an import carry on the numbering and the chain.
    target.register_organisation(name="After the import", actor=ACTOR)
    assert verify(target.recorder).intact
    target.close()
    source.close()
    store.remove()


def summary_events(records: InvolvementRecords) -> int:
    return records.recorder.max_notification_id() or 0


def test_import_refuses_an_altered_file_and_a_non_empty_store(
    tmp_path, database_url
) -> None:
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    create_demo(source)
    exported(source, tmp_path / "log.ndjson")
    lines = (tmp_path / "log.ndjson").read_bytes().splitlines(keepends=True)
    altered = tmp_path / "altered.ndjson"
    altered.write_bytes(
        b"".join(
            [*lines[:5], lines[5].replace(b"fourpi demo", b"fourpi dem0"), *lines[6:]]
        )
    )

    target = open_records(database_url)
    with pytest.raises(ValueError, match="does not verify at position"):
        import_log(target.recorder, altered)
    assert (target.recorder.max_notification_id() or 0) == 0, (
        "nothing of it was imported"
    )

    half = tmp_path / "half.ndjson"
    half.write_bytes(b"".join(lines[:300]))
    rest = tmp_path / "rest.ndjson"
    rest.write_bytes(b"".join(lines[300:]))
    import_log(target.recorder, half)
    with pytest.raises(ValueError, match="already holds events"):
        import_log(target.recorder, rest)
    import_log(target.recorder, rest, append=True)
    assert verify(target.recorder).head == anchor_of(source.recorder)
    target.close()
    source.close()


FOURPI = str(Path(sys.executable).parent / "fourpi")


def fourpi(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The real command, as a user runs it."""
    return subprocess.run(
        [FOURPI, *arguments], capture_output=True, text=True, timeout=120, check=False
    )


def resealed(events: list[dict[str, Any]], path: Path) -> Path:
    """Events numbered and sealed afresh, as anyone can (the chain is no secret):
    a file that verifies, whatever it holds."""
    previous_position, previous_chain = 0, None
    with path.open("wb") as out:
        for position, event in enumerate(events, start=1):
            sealed = sealed_at(event, position, previous_position, previous_chain)
            out.write(orjson.dumps(sealed) + b"\n")
            previous_position, previous_chain = position, sealed["chain"]
    return path


def sealed_at(
    event: dict[str, Any],
    position: int,
    previous_position: int,
    previous_chain: str | None,
) -> dict[str, Any]:
    """An exported event at a position, sealed after the one given."""
    digest = digest_of(
        position,
        event["topic"],
        event["record_id"],
        event["version"],
        event["state"].encode(),
    )
    return event | {
        "position": position,
        "previous_position": previous_position,
        "digest": digest,
        "chain": chain_of(previous_chain, previous_position, digest),
    }


def test_an_import_that_fails_halfway_leaves_the_store_as_it_was(
    tmp_path, database_url
) -> None:
    """The log went in a thousand events a transaction: a file refused by the store
    after the first thousand left them behind, with a traceback, and the import
    could then be neither run again (the store holds events) nor continued. A
    version recorded twice is now refused by its line as the file is checked,
    before the store sees any of it."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    source.register_organisation(name="Mind", actor=ACTOR)
    exported(source, tmp_path / "one.ndjson")
    source.close()
    registered = orjson.loads((tmp_path / "one.ndjson").read_bytes())
    events = [registered | {"record_id": str(uuid4())} for _ in range(1_200)]
    events[1_099] = events[0]  # the same version of one record, twice
    crafted = resealed(events, tmp_path / "crafted.ndjson")

    ran = fourpi("import", "--database", database_url, str(crafted))
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    assert ran.stderr.strip() == (
        f"Error: {crafted}, line 1100: not an exported event (topic: "
        "Organisation.Registered cannot follow the events of Organisation record "
        f"{events[0]['record_id']})"
    )
    target = open_records(database_url)
    assert anchor_of(target.recorder) is None, "nothing of it was imported"
    target.close()

    whole = resealed(events[:1_099], tmp_path / "whole.ndjson")
    again = fourpi("import", "--database", database_url, str(whole))
    assert again.returncode == 0, again.stderr
    assert "Imported 1099 events" in again.stdout


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b"[1, 2]", "each line must be a JSON object"),
        (b'"text"', "each line must be a JSON object"),
        (b"\xff\xfe", "each line must be JSON in UTF-8"),
        (b"{", "each line must be JSON in UTF-8"),
        (b'{"position": 1}', "it has no record_id"),
        (b"{}", "it has no position"),
        (None, "version: must be a whole number"),
        (None, "record_id: must be a UUID"),
    ],
)
def test_a_line_that_is_not_an_exported_event_is_named_by_its_field(
    tmp_path, line: bytes | None, why: str
) -> None:
    """A missing field was told as `('record_id')` (a KeyError's text), a list as
    'list indices must be integers or slices, not str', and a bad version as
    int()'s 'invalid literal for int() with base 10'."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    source.register_organisation(name="Mind", actor=ACTOR)
    exported(source, tmp_path / "one.ndjson")
    source.close()
    if line is None:
        event = orjson.loads((tmp_path / "one.ndjson").read_bytes())
        field = why.split(":")[0]
        line = orjson.dumps(event | {field: "x"})
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes((tmp_path / "one.ndjson").read_bytes() + line + b"\n")
    url = f"sqlite:///{tmp_path}/target.sqlite3"
    ran = fourpi("import", "--database", url, str(bad))
    assert ran.returncode == 1, ran.stderr
    assert ran.stderr.strip() == (
        f"Error: {bad}, line 2: not an exported event ({why})"
    )


def test_a_key_file_that_is_refused_is_refused_before_the_log_goes_in(
    tmp_path, database_url
) -> None:
    """The key file was read after the log had gone in: a wrong one was refused,
    and the right one then could not be restored (the store holds events)."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    create_demo(source)
    log = tmp_path / "log.ndjson"
    exported(source, log)
    keys = tmp_path / "keys.ndjson"
    with keys.open("wb") as out:
        source.keys.export(out)  # type: ignore[attr-defined]
    source.close()

    ran = fourpi("import", "--database", database_url, "--keys", str(log), str(log))
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    assert f"{log}: not a key store exported by `fourpi export --keys`" in ran.stderr
    target = open_records(database_url)
    assert anchor_of(target.recorder) is None, "nothing of it was imported"
    target.close()

    again = fourpi("import", "--database", database_url, "--keys", str(keys), str(log))
    assert again.returncode == 0, again.stderr
    assert "Restored" in again.stdout


def test_history_and_replay_from_the_command_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    records = open_records(url)
    summary = create_demo(records)
    runner = CliRunner()
    initiative = str(summary.initiatives[0].initiative_id)
    history = runner.invoke(main, ["audit", "history", "--database", url, initiative])
    assert history.exit_code == 0
    assert (
        "v1  " in history.output
        and "Initiative.Launched  by fourpi demo" in history.output
    )
    replay = runner.invoke(
        main,
        [
            "audit",
            "replay",
            "--database",
            url,
            "--until",
            "300",
            "--initiative",
            initiative,
        ],
    )
    assert replay.exit_code == 0 and "As of log position 300" in replay.output
    exported_file = tmp_path / "log.ndjson"
    assert (
        runner.invoke(main, ["export", "--database", url, str(exported_file)]).exit_code
        == 0
    )
    other = f"sqlite:///{tmp_path}/other.sqlite3"
    imported = runner.invoke(main, ["import", "--database", other, str(exported_file)])
    assert imported.exit_code == 0 and "Imported 678 events" in imported.output
    again = runner.invoke(main, ["import", "--database", other, str(exported_file)])
    assert again.exit_code == 1 and "already holds events" in again.output


def test_the_integrity_query_reports_the_break(sealed, database_url) -> None:
    """Auditors get the same verification through the API, with an anchor."""
    import asyncio

    from fourpi.domain.access import Role
    from tests.api import api_store, client, data_of, graphql

    records, tamper = sealed
    anchor = str(anchor_of(records.recorder))
    with api_store(database_url) as store:
        auditor = store.token(first_organisation(store.records), Role.AUDITOR)
        query = "query($a: String) { integrity(anchor: $a) { intact events head broken { position kind } } }"

        async def ask() -> dict:
            async with client(store) as c:
                return data_of(await graphql(c, query, {"a": anchor}, auditor))[
                    "integrity"
                ]

        intact = asyncio.run(ask())
        assert intact["intact"] and intact["broken"] is None
        tamper.change_state(42, bytes(tamper.event(42)[3]) + b" ")
        broken = asyncio.run(ask())
        assert not broken["intact"]
        assert broken["broken"] == {"position": 42, "kind": "event-changed"}


def first_organisation(records: InvolvementRecords) -> Any:
    (first,) = records.recorder.select_notifications(start=1, limit=1)
    return first.originator_id


def continued(line: bytes, after: dict[str, Any], position: int) -> bytes:
    """An exported event renumbered to a position and sealed after another: a file
    that continues a log past a gap, as a PostgreSQL log's positions may leave."""
    sealed = sealed_at(orjson.loads(line), position, after["position"], after["chain"])
    return orjson.dumps(sealed) + b"\n"


def until_closed_by(pid: int, path: Path, seconds: float = 60) -> None:
    """Wait until the process holds the file open no more (by its open files in
    /proc): a reader blocked opening a pipe again holds none until a writer comes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        held = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                held.append(os.readlink(fd))
        if str(path) not in held:
            return
        time.sleep(0.01)
    raise AssertionError(f"{path} still open after {seconds} s")


def test_a_log_that_moved_on_while_the_file_was_checked_is_not_forked(
    tmp_path, database_url
) -> None:
    """The import read the store's head, checked the file against it, and only then
    began writing: an event stored in between (a writer, or a second import) and a
    file continuing past a gap gave two events sealed after the same one, a chain
    that no longer verified, for good. Here the file is a named pipe, so the event is
    stored just after the file is checked and before it is read again to be written."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    source.register_organisation(name="Mind", actor=ACTOR)
    source.register_organisation(name="Rethink", actor=ACTOR)
    first, second = exported(source, tmp_path / "two.ndjson").splitlines(True)
    source.close()
    (tmp_path / "first.ndjson").write_bytes(first)
    rest = continued(second, orjson.loads(first), position=5)

    target = open_records(database_url)
    import_log(target.recorder, tmp_path / "first.ndjson")
    pipe = tmp_path / "rest.ndjson"
    os.mkfifo(pipe)
    importing = subprocess.Popen(
        [FOURPI, "import", "--append", "--database", database_url, str(pipe)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pipe.write_bytes(rest)  # read to check it against the store's head
        # Once the check has read it all and closed it: a second write while it
        # still reads would be read as more of the same file (a loaded machine).
        until_closed_by(importing.pid, pipe)
        target.register_organisation(name="Meanwhile", actor=ACTOR)
        pipe.write_bytes(rest)  # read again to write it
        out, err = importing.communicate(timeout=60)
    finally:
        importing.kill()
    assert importing.returncode == 1, out + err
    assert "Traceback" not in err
    assert err.strip() == (
        f"Error: {pipe}: the store's log moved on while the file was being checked "
        "(it now ends at position 2), as another import or a writer stored events: "
        "nothing was imported"
    )
    assert verify(target.recorder).intact, "one chain, as before the import"
    assert (target.recorder.max_notification_id() or 0) == 2
    target.close()


def test_an_import_shows_its_progress_through_each_stage(tmp_path) -> None:
    """Checking the file, writing it and bringing the views up to it showed nothing:
    200,000 events were 35 silent seconds on SQLite, 85 on PostgreSQL."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    create_demo(source)
    exported(source, tmp_path / "log.ndjson")
    source.close()
    url = f"sqlite:///{tmp_path}/target.sqlite3"
    ran = CliRunner().invoke(
        main, ["import", "--database", url, f"{tmp_path}/log.ndjson"]
    )
    assert ran.exit_code == 0, ran.output
    stages = ran.output.split("Imported")[0].split()
    assert " ".join(stages) == " ".join(
        [
            "Checking the file",
            "Importing",
            "Bringing the impact views up to date",
        ]
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"topic": "antigravity:geohash"}, "topic: must name one of fourpi's events"),
        (
            {"topic": "fourpi.domain.organisation:Organisation.Nope"},
            "topic: must name one of fourpi's events",
        ),
        ({"state": "not JSON"}, "state: must be an event's fields as JSON"),
        ({"state": "[]"}, "state: must be an event's fields as JSON"),
        (
            {"state": "{}"},
            "state: has no name, which every Organisation.Registered holds",
        ),
        (
            {"name": 5},
            "state: name is not text, as every Organisation.Registered holds it",
        ),
        (
            {"organisation_id": "Rethink"},
            "state: organisation_id is not an id, as every Organisation.Registered "
            "holds it",
        ),
        (
            {"timestamp": {"_type_": "date", "_data_": "2026-12-07"}},
            "state: timestamp is not a moment with its time zone, as every "
            "Organisation.Registered holds it",
        ),
        (
            {"name": {"_type_": "enum", "_data_": ["this:s", "Rethink"]}},
            "state: names 'this:s', which is not one of fourpi's",
        ),
        (
            {"name": {"_type_": "dataclass", "_data_": ["fourpi.nothing:X", {}]}},
            "state: must be an event's fields as JSON",
        ),
        (
            {"state": '{"name": ' + "[" * 1000 + "]" * 1000 + "}"},
            "state: nests values more than 64 deep, as no event of fourpi's does",
        ),
        (
            {"state": '{"name": ' + '{"a": ' * 1000 + "1" + "}" * 1001},
            "state: nests values more than 64 deep, as no event of fourpi's does",
        ),
    ],
)
def test_a_file_that_verifies_with_an_event_the_views_cannot_read_is_refused(
    tmp_path, change: dict[str, Any], why: str
) -> None:
    """The chain is no secret, so a file can verify and hold anything: an event of
    no known kind, a state that was not its fields, or a field of another type
    (an initiative's start date that was text), went in, and the views stopped at
    it for good (a traceback from import, then from every answer). A value naming
    a topic outside fourpi imported its module as the file was checked (here
    `this`, which prints), and one naming no module was a traceback, as was a
    state nested a thousand deep (RecursionError), which orjson reads."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    source.register_organisation(name="Mind", actor=ACTOR)
    source.register_organisation(name="Rethink", actor=ACTOR)
    events = [
        orjson.loads(line)
        for line in exported(source, tmp_path / "two.ndjson").splitlines()
    ]
    source.close()
    if change.keys() <= {"topic", "state"}:
        events[1] |= change
    else:
        # Fields of the state changed, as the file's JSON holds them.
        state = orjson.loads(events[1]["state"])
        events[1]["state"] = orjson.dumps(state | change).decode()
    open_records_refusing(tmp_path, events, why).close()


def open_records_refusing(
    tmp_path: Path, events: list[dict[str, Any]], why: str
) -> InvolvementRecords:
    """`fourpi import` refuses the events, resealed, by the last line's field, and
    imports nothing: the empty store it was given."""
    crafted = resealed(events, tmp_path / "crafted.ndjson")
    url = f"sqlite:///{tmp_path}/target.sqlite3"
    ran = fourpi("import", "--database", url, str(crafted))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert ran.stderr.strip().splitlines()[-1] == (
        f"Error: {crafted}, line {len(events)}: not an exported event ({why})"
    )
    assert "Zen of Python" not in ran.stdout, "a module outside fourpi was imported"
    target = open_records(url)
    assert anchor_of(target.recorder) is None, "nothing of it was imported"
    return target


def forged_history(events: list[dict[str, Any]], forgery: str) -> tuple[list, str]:
    """The log of an organisation whose person was erased, with one event added
    that carries on no record's history as the domain writes it; and the refusal."""
    by_kind = {event["topic"].partition(":")[2]: event for event in events}
    person = by_kind["Participant.Registered"]
    launched, erased = by_kind["Initiative.Launched"], by_kind["Participant.Erased"]
    if forgery == "the erased person registered again":
        added = person | {"version": erased["version"] + 1}
        why = (
            "topic: Participant.Registered cannot follow the events of Participant "
            f"record {person['record_id']}"
        )
    elif forgery == "an initiative launched as a person's next version":
        added = launched | {
            "record_id": person["record_id"],
            "version": erased["version"] + 1,
        }
        why = (
            "topic: Initiative.Launched cannot follow the events of Participant "
            f"record {person['record_id']}"
        )
    elif forgery == "a version skipped":
        added = erased | {"version": erased["version"] + 2}
        why = (
            f"version: {erased['version'] + 2} cannot follow version "
            f"{erased['version']} of record {person['record_id']}: each version "
            "follows the one before"
        )
    elif forgery == "an event of a record never made":
        added = erased | {"record_id": str(uuid4()), "version": 1}
        why = (
            f"version: Participant.Erased cannot be version 1 of record "
            f"{added['record_id']}, which has no earlier event: a record starts "
            "with the event that makes it, as version 1"
        )
    else:
        state = orjson.loads(launched["state"]) | {"originator_topic": "this:s"}
        added = launched | {
            "record_id": str(uuid4()),
            "state": orjson.dumps(state).decode(),
        }
        why = (
            "state: originator_topic must be 'fourpi.domain.initiative:Initiative', "
            "the kind of record Initiative.Launched makes"
        )
    return [*events, added], why


@pytest.mark.parametrize(
    "forgery",
    [
        "the erased person registered again",
        "an initiative launched as a person's next version",
        "a version skipped",
        "an event of a record never made",
        "a record that makes a class outside fourpi",
    ],
)
def test_a_file_that_verifies_with_an_event_that_carries_on_no_history_is_refused(
    tmp_path, forgery: str
) -> None:
    """The chain is no secret and the store keeps each version of a record once, no
    more: an initiative launched as a person's next version went in, the person's
    record was replayed as an initiative, and its page and every report of the
    organisation failed (500); a record whose first event named the class `this:s`
    imported that module (printing the Zen of Python) when it was read."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    mind = source.register_organisation(name="Mind", actor=ACTOR)
    person = register(source, mind)
    launch(source, mind)
    source.erase_participant(participant_id=person, actor=ACTOR)
    events = [
        orjson.loads(line)
        for line in exported(source, tmp_path / "log.ndjson").splitlines()
    ]
    source.close()
    forged, why = forged_history(events, forgery)
    target = open_records_refusing(tmp_path, forged, why)
    crafted = tmp_path / "crafted.ndjson"

    # Appended to a store that holds the rest, the same event is refused as well.
    whole = tmp_path / "whole.ndjson"
    whole.write_bytes(b"".join(crafted.read_bytes().splitlines(keepends=True)[:-1]))
    last = tmp_path / "last.ndjson"
    last.write_bytes(crafted.read_bytes().splitlines(keepends=True)[-1])
    import_log(target.recorder, whole)
    with pytest.raises(ValueError, match="not an exported event"):
        import_log(target.recorder, last, append=True)
    assert anchor_of(target.recorder).position == len(forged) - 1
    target.close()


@pytest.mark.parametrize(
    "arguments",
    [
        ["export", "{store}"],
        ["export", "{tmp}/log.ndjson", "--keys", "{store}"],
        ["export", "{store}-wal"],
        ["export", "{key}"],
        ["export", "{tmp}/log.ndjson", "--keys", "{tmp}/log.ndjson"],
        ["report", "--organisation", "Mind", "--format", "html", "--output", "{store}"],
        ["workbook", "export", "{store}", "--organisation", "Mind"],
    ],
)
def test_a_file_written_over_the_store_or_its_key_is_refused(
    tmp_path, arguments: list[str]
) -> None:
    """`fourpi export fourpi.sqlite3` (the store taken for the command's input) wrote
    the log over the store itself, and --keys there, or at the master key file,
    removed it first: the whole record, or every person's data, gone for good."""
    store = tmp_path / "fourpi.sqlite3"
    key = tmp_path / "master.key"
    key.write_text(new_master_key())
    url = f"sqlite:///{store}"
    environment = {**os.environ, "FOURPI_MASTER_KEY_FILE": str(key)}
    environment.pop("FOURPI_MASTER_KEY", None)
    made = subprocess.run(
        [FOURPI, "organisations", "create", "--database", url, "Mind"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    given = [a.format(store=store, key=key, tmp=tmp_path) for a in arguments]
    ran = subprocess.run(
        [FOURPI, *given, "--database", url],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr
    assert "writing it would destroy" in ran.stderr, ran.stderr
    listed = subprocess.run(
        [FOURPI, "organisations", "list", "--database", url],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.stdout == made.stdout, "the store and its key as they were"


def test_the_exported_log_is_readable_by_its_owner_alone(tmp_path) -> None:
    """The log was written 644 (the keys file beside it 600): encrypted personal
    fields, but the organisation's whole record, readable by every local user;
    a file already there kept its own, looser, mode."""
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    records = open_records(url)
    register(records, records.register_organisation(name="Mind", actor=ACTOR))
    records.close()
    log, keys = tmp_path / "log.ndjson", tmp_path / "keys.ndjson"
    old = tmp_path / "old.ndjson"
    old.write_text("an earlier export\n")
    old.chmod(0o644)
    for file in (log, old):
        result = CliRunner().invoke(
            main, ["export", str(file), "--keys", str(keys), "--database", url]
        )
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert old.read_bytes() == log.read_bytes()
