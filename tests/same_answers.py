"""Every answer of an organisation in a form two stores can be compared in: record ids named by the workbook keys that made them, slices by initiative name, lists as sorted bags."""

import dataclasses
import hashlib
from datetime import date
from typing import Any
from uuid import UUID

import orjson

from fourpi.bootstrap import open_views
from fourpi.domain.initiative import Initiative
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.vocabulary import ImpactArea
from fourpi.projections.answers import Slice
from fourpi.workbook.exporting import organisation_events

MOMENT = date(2023, 1, 1)
ADDED_SINCE_RECORDED = frozenset({"broad_rows"})
"""Fields the answers gained after tests/data/demo_answers.json was recorded (the
diversity answer's broad groups, issue 14): left out of the digests, so the demo
is still checked against the answers the coded demo gave."""
ROWS_OF_0_SINCE_RECORDED = frozenset({"by_level", "scores"})
"""Lists that gained rows of 0 after the digests were recorded (every level and
every respondent kind and dimension is listed, 0 where nobody is, so that which
are listed tells nothing of a suppressed count): their rows of 0 are left out of
the digests, as above."""


def without_rows_of_0(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: count for key, count in value.items() if count != 0}
    return tuple(row for row in value if row.count != 0)


def workbook_names(records: Any, organisation_id: UUID) -> dict[UUID, str]:
    """Each record id the organisation's workbook imports made, as 'Sheet:key'."""
    names: dict[UUID, str] = {organisation_id: "organisation"}
    for event in organisation_events(records, organisation_id, None):
        if isinstance(event, CommandReceipt.Issued) and isinstance(event.result, UUID):
            parts = event.idempotency_key.split(":", 2)
            if parts[0] == "workbook" and len(parts) == 3:
                names[event.result] = f"{parts[1]}:{parts[2]}"
    return names


def canonical(value: Any, names: dict[UUID, str]) -> Any:
    if isinstance(value, UUID):
        return names.get(value, f"unnamed {value}")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: canonical(
                without_rows_of_0(getattr(value, f.name))
                if f.name in ROWS_OF_0_SINCE_RECORDED
                else getattr(value, f.name),
                names,
            )
            for f in dataclasses.fields(value)
            if f.name not in ADDED_SINCE_RECORDED
        }
    if isinstance(value, dict):
        return sorted(
            ([canonical(k, names), canonical(v, names)] for k, v in value.items()),
            key=repr,
        )
    if isinstance(value, list | tuple | set | frozenset):
        return sorted((canonical(v, names) for v in value), key=repr)
    if isinstance(value, int | str | bool) or value is None:
        return value
    return str(value)


def answers(
    database: Any, records: Any, organisation_id: UUID, names: dict[UUID, str]
) -> Any:
    """The answers for the organisation, each initiative, each of its cycles and
    each impact area, on MOMENT, with ids named (the log position left out)."""
    initiatives = sorted(
        (e.name, e.originator_id)
        for e in organisation_events(records, organisation_id, None)
        if isinstance(e, Initiative.Launched)
    )
    slices: dict[str, Slice] = {"organisation": Slice(organisation_id)}
    named = [name for name, _ in initiatives]
    for name, initiative_id in initiatives:
        if named.count(name) > 1:
            # Initiatives of one name (random histories') told apart by their key.
            name = f"{name} {canonical(initiative_id, names)}"
        slices[name] = Slice(organisation_id, initiative_id)
        for cycle in (1, 2, 3):
            slices[f"{name}, cycle {cycle}"] = Slice(
                organisation_id, initiative_id, cycle=cycle
            )
    for area in ImpactArea:
        slices[area.value] = Slice(organisation_id, impact_area=area.value)
    views = open_views(database, records)
    try:
        views.catch_up()
        result = {}
        for label, chosen in slices.items():
            report = views.report(chosen, moment=MOMENT)
            report = dataclasses.replace(report, position=0)
            result[label] = canonical(report, names)
    finally:
        views.close()
    # Through JSON, so a stored copy compares equal to a fresh one.
    return orjson.loads(orjson.dumps(result))


def digests(result: Any) -> dict[str, str]:
    """A digest of each answer of each slice, as tests/data/demo_answers.json keeps them."""
    return {
        f"{label} / {name}": hashlib.sha256(
            orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        ).hexdigest()
        for label, report in result.items()
        for name, value in report.items()
    }
