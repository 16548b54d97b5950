"""The audit's fast scan (plain rows, big batches, digests inlined) finds every break where the
event-by-event definition does: across batch edges, deep in a large log, and in rows
not stored as the library writes them; on both backends."""

from collections.abc import Iterator
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from fourpi import audit
from fourpi.audit import anchor_of, verify
from fourpi.bootstrap import open_records
from fourpi.demo import create_demo
from fourpi.domain.application import InvolvementRecords
from fourpi.storage.sealing import chain_of, digest_of
from tests.test_audit import Tamperer, as_uuid_text

SMALL_BATCH = 10


@pytest.fixture
def small_batches(
    records: InvolvementRecords, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[InvolvementRecords, Tamperer]:
    """The demo log, scanned ten rows a query, so breaks fall on batch edges."""
    create_demo(records)
    monkeypatch.setattr(audit, "SCAN_BATCH", SMALL_BATCH)
    return records, Tamperer(records, database_url)


def broken_at(records: InvolvementRecords) -> tuple[int, str]:
    result = verify(records.recorder)
    assert result.broken is not None, "tampering went unnoticed"
    return result.broken.position, result.broken.kind


def test_the_scan_computes_the_digests_the_seals_were_made_with(
    records: InvolvementRecords,
) -> None:
    """Every odd event the schema allows: non-ASCII topic and state, empty state,
    negative and large versions."""
    stored = [
        StoredEvent(uuid4(), 1, "fourpi.domain:Été.Changé", "état ✓".encode()),
        StoredEvent(uuid4(), 2**62, "t", b""),
        StoredEvent(uuid4(), -3, "x" * 300, bytes(range(256)) * 40),
    ]
    records.recorder.insert_events(stored)
    rows = list(audit.event_rows(records.recorder))
    assert [row[2] for row in rows] == [str(s.originator_id) for s in stored]
    for (position, _, _, _, _), seal in zip(
        rows, audit.seal_rows(records.recorder), strict=True
    ):
        assert seal[0] == position
    assert verify(records.recorder).intact


@pytest.mark.parametrize("position", [10, 11, 20, 21, 678])
def test_a_change_on_a_batch_edge_is_found_there(small_batches, position) -> None:
    records, tamper = small_batches
    tamper.change_state(position, bytes(tamper.event(position)[3]) + b" ")
    assert broken_at(records) == (position, "event-changed")
    result = verify(records.recorder)
    assert result.events == position - 1
    assert result.head is not None and result.head.position == position - 1


@pytest.mark.parametrize("position", [10, 11, 678])
@pytest.mark.parametrize("with_seal", [False, True])
def test_a_deletion_on_a_batch_edge_is_found_there(
    small_batches, position, with_seal
) -> None:
    records, tamper = small_batches
    tamper.delete_event(position, with_seal=with_seal)
    if position == 678 and with_seal:
        # The newest event gone with its seal: only an anchor tells (as before).
        assert verify(records.recorder).intact
        return
    assert broken_at(records) == (position, "event-removed")


@pytest.mark.parametrize("position", [10, 11])
def test_an_event_without_a_seal_on_a_batch_edge_is_found_there(
    small_batches, position
) -> None:
    records, tamper = small_batches
    tamper.run("DELETE FROM {seals} WHERE position = {mark}", position)
    assert broken_at(records) == (position, "event-inserted")


def test_an_event_appended_without_a_seal_is_found(small_batches) -> None:
    records, tamper = small_batches
    record, version, topic, state = tamper.event(678)
    tamper.run(
        "INSERT INTO {events} ({position}, originator_id, originator_version, topic, state) "
        "VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
        700,
        record,
        version + 1000,
        topic,
        state,
    )
    assert broken_at(records) == (700, "event-inserted")


def test_events_swapped_across_batches_are_found(small_batches) -> None:
    records, tamper = small_batches
    first, second = tamper.event(15), tamper.event(95)
    swapped = ((15, second), (95, first))
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
    assert broken_at(records) == (15, "events-swapped")


def test_a_forged_seal_on_a_batch_edge_breaks_the_chain_after_it(
    small_batches,
) -> None:
    records, tamper = small_batches
    record, version, topic, state = tamper.event(20)
    forged = bytes(state) + b" "
    tamper.change_state(20, forged)
    ((previous_chain,),) = tamper.run("SELECT chain FROM {seals} WHERE position = 19")
    digest = digest_of(20, topic, as_uuid_text(record), version, forged)
    tamper.run(
        "UPDATE {seals} SET digest = {mark}, chain = {mark} WHERE position = 20",
        digest,
        chain_of(previous_chain, 19, digest),
    )
    assert broken_at(records) == (21, "seal-rewritten")


def test_a_seal_pointing_elsewhere_on_a_batch_edge_is_found(small_batches) -> None:
    records, tamper = small_batches
    tamper.run("UPDATE {seals} SET previous_position = 5 WHERE position = 11")
    assert broken_at(records) == (10, "event-inserted")
    tamper.run("UPDATE {seals} SET previous_position = 12 WHERE position = 11")
    assert broken_at(records) == (12, "event-removed")


def test_a_break_deep_in_a_large_log_is_found_at_its_position(
    records: InvolvementRecords, database_url: str
) -> None:
    """More events than three full batches at the real batch size; every thousandth
    position is reported to the progress callback."""
    count = 3 * audit.SCAN_BATCH + 1_234
    recorder = records.recorder
    positions: list[int] = []
    for start in range(0, count, 1_000):
        stored = [
            StoredEvent(
                uuid4(), version, f"bench:Event{version % 7}", b"x" * (version % 99)
            )
            for version in range(start, min(start + 1_000, count))
        ]
        positions.extend(recorder.insert_events(stored) or [])
    assert len(positions) == count

    reported: list[int] = []
    result = verify(recorder, anchor=anchor_of(recorder), progress=reported.append)
    assert result.intact and result.events == count
    assert result.head == anchor_of(recorder)
    assert reported == positions[audit.BATCH - 1 :: audit.BATCH]

    tamper = Tamperer(records, database_url)
    deep = positions[2 * audit.SCAN_BATCH + 567]
    tamper.change_state(deep, b"y")
    result = verify(recorder)
    assert result.broken is not None
    assert (result.broken.position, result.broken.kind) == (deep, "event-changed")
    assert result.events == 2 * audit.SCAN_BATCH + 567

    earlier = positions[audit.SCAN_BATCH]  # the first of the second batch
    tamper.delete_event(earlier, with_seal=True)
    assert broken_at(records) == (earlier, "event-removed")


@pytest.fixture
def sqlite_small_batches(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[InvolvementRecords, Tamperer]]:
    """As small_batches, on SQLite alone: PostgreSQL keeps record ids as UUIDs, and
    versions as integers, so only SQLite can hold these rows."""
    url = f"sqlite:///{tmp_path}/respelled.sqlite3"
    records = open_records(url)
    create_demo(records)
    monkeypatch.setattr(audit, "SCAN_BATCH", SMALL_BATCH)
    yield records, Tamperer(records, url)
    records.close()


@pytest.mark.parametrize(
    "respell",
    [
        str.upper,
        lambda hex_: str(as_uuid_text(hex_)),
        lambda hex_: "{" + as_uuid_text(hex_) + "}",
    ],
)
def test_a_record_id_stored_in_another_spelling_reads_as_the_library_reads_it(
    sqlite_small_batches, respell
) -> None:
    """The library reads any spelling of a UUID as that UUID, so the event is still
    the one sealed (as before the scan read plain rows)."""
    records, tamper = sqlite_small_batches
    (stored,) = tamper.run("SELECT originator_id FROM {events} WHERE rowid = 11")
    tamper.run(
        "UPDATE {events} SET originator_id = {mark} WHERE rowid = 11",
        respell(stored[0]),
    )
    assert verify(records.recorder).intact


def test_a_version_stored_as_text_is_a_changed_event(sqlite_small_batches) -> None:
    records, tamper = sqlite_small_batches
    tamper.run("UPDATE {events} SET originator_version = 'one' WHERE rowid = 12")
    assert broken_at(records) == (12, "event-changed")
