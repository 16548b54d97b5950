"""Small numbers on every surface an evaluator reads: the answer pages' tables (and so their CSV, XLSX and report), their charts, and the initiative page show a count of people only where the API shows it, with the API's value, and never one from 1 to below the threshold; no total is left beside a single hidden part."""

import asyncio
import tempfile
from datetime import date
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.domain.access import Role
from fourpi.domain.vocabulary import ImpactArea
from fourpi.graphql.context import Caller
from fourpi.web import answers as web
from fourpi.web.charts import charts
from fourpi.web.reading import initiative_page
from tests.api import ApiStore, api_store
from tests.test_suppression import histories, record_history

PEOPLE_COLUMNS = {
    "presence-by-level": (1,),
    "meetings": (4,),
    "process-scores": (2, 4, 5, 6, 7, 8),
    "support": (2,),
}
"""The columns of counts of people in each answer table (diversity tables: column 1)."""


def people_columns(key: str) -> tuple[int, ...]:
    return (1,) if key.startswith("diversity-") else PEOPLE_COLUMNS.get(key, ())


def caller(store: ApiStore, organisation: UUID, role: Role, granted: bool) -> Caller:
    secret = store.token(organisation, role, personal_data=granted)
    token = store.records.authenticate(secret)
    assert token is not None
    return Caller.of(token)


def counts_of(answers: web.Answers) -> dict[tuple[str, int, int], web.Cell]:
    """Every count of people in the answer's tables, by table, row and column."""
    return {
        (table.key, r, c): row[c]
        for table in web.all_tables(answers)
        for r, row in enumerate(table.rows)
        for c in people_columns(table.key)
    }


narrowings = st.fixed_dictionaries(
    {
        "initiative": st.none() | st.integers(0, 2),
        "impact_area": st.none() | st.sampled_from([a.value for a in ImpactArea]),
        "period": st.booleans(),
    }
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(history=histories, narrowing=narrowings)
def test_every_surface_shows_the_apis_counts_and_no_small_number(
    history: dict[str, Any], narrowing: dict[str, Any]
) -> None:
    folder = tempfile.mkdtemp(prefix="surfaces")
    with api_store(f"sqlite:///{folder}/fourpi.sqlite3") as store:
        organisation, initiatives = record_history(store.records, history)
        evaluator = caller(store, organisation, Role.EVALUATOR, False)
        exact = caller(store, organisation, Role.MANAGER, True)
        # Reads the records, so knows every count but those by monitoring value.
        record_reader = caller(store, organisation, Role.AUDITOR, False)
        store.views.catch_up()
        chosen = web.AnswerSlice(
            None
            if narrowing["initiative"] is None
            else initiatives[narrowing["initiative"] % len(initiatives)],
            narrowing["impact_area"],
            None,
            date(2024, 1, 1) if narrowing["period"] else None,
        )
        seen = asyncio.run(
            web.gather(store.records, store.views, evaluator, chosen, None)
        )
        truth = asyncio.run(web.gather(store.records, store.views, exact, chosen, None))
        assert seen.position == truth.position
        # The records tell every count but those by monitoring value to a caller
        # who reads them without the grant: it sees none of those, and the rest
        # as an evaluator does.
        read = counts_of(
            asyncio.run(
                web.gather(store.records, store.views, record_reader, chosen, None)
            )
        )
        evaluated = counts_of(seen)
        for where, cell in read.items():
            if where[0].startswith("diversity-"):
                assert isinstance(cell, web.Hidden), where
            else:
                assert cell == evaluated[where], where
        threshold = history["threshold"]
        shown_counts = counts_of(seen)
        true_counts = counts_of(truth)
        assert shown_counts.keys() == true_counts.keys()
        for where, cell in shown_counts.items():
            true = true_counts[where]
            assert isinstance(true, int), where
            if isinstance(cell, web.Hidden):
                continue
            assert cell == true, where
            small = 0 < true < threshold or (
                where[0] == "meetings" and true < threshold
            )
            assert not small, f"{where}: {true} shown at threshold {threshold}"
        # A share or mean is shown only beside every count it is worked out from.
        for table in web.all_tables(seen):
            for row in table.rows:
                if table.key.startswith("diversity-"):
                    if "counted: fewer" in table.caption or "withheld" in table.caption:
                        assert not isinstance(row[2], web.Ratio), table.caption
                    if isinstance(row[1], web.Hidden):
                        assert not isinstance(row[2], web.Ratio), table.caption
                        assert not isinstance(row[4], web.Ratio), table.caption
                elif table.key == "process-scores" and isinstance(row[3], web.Ratio):
                    assert not any(isinstance(c, web.Hidden) for c in row), row
        # An impact area narrows no count of people, so two narrowings differ in
        # none (periods and cycles are withheld).
        if chosen.impact_area is not None and not narrowing["period"]:
            whole = asyncio.run(
                web.gather(
                    store.records,
                    store.views,
                    evaluator,
                    web.AnswerSlice(chosen.initiative_id),
                    None,
                )
            )
            assert counts_of(whole) == shown_counts
        # No total shown beside exactly one hidden part: the part would be the
        # total less the others.
        for table in web.all_tables(seen):
            if table.key.startswith("diversity-") and "counted: fewer" not in (
                table.caption
            ):
                hidden = [row for row in table.rows if isinstance(row[1], web.Hidden)]
                assert len(hidden) != 1, table.caption
        # A chart draws only what its table shows.
        for key, chart in charts(seen).items():
            table = next(t for t in web.all_tables(seen) if t.key == key)
            visible = {
                float(cell) if isinstance(cell, int) else cell
                for row in table.rows
                for cell in row
                if not isinstance(cell, web.Hidden)
            } | {
                float(cell.exact)
                for row in table.rows
                for cell in row
                if isinstance(cell, web.Ratio)
            }
            for value in chart.spec["data"]["values"] + [
                v
                for layer in chart.spec.get("layer", [])
                for v in layer.get("data", {}).get("values", [])
            ]:
                for field in ("value", "people", "mean", "share"):
                    if isinstance(value.get(field), float) and field != "share":
                        assert value[field] in visible, (key, value)
        # The initiative page shows the counts the answer page shows for it.
        if chosen.initiative_id is not None and chosen == web.AnswerSlice(
            chosen.initiative_id
        ):
            page = asyncio.run(
                initiative_page(
                    store.records,
                    store.views,
                    evaluator,
                    organisation,
                    chosen.initiative_id,
                    seen.position,
                )
            )
            level_rows = [r for r in seen.data["presence"]["byLevel"]]
            (only,) = level_rows
            assert page.people.value == only["count"]["value"]
            assert [m.service_users_and_carers.value for m in page.meetings] == [
                m["serviceUsersAndCarers"]["value"]
                for m in seen.data["presence"]["meetings"]
            ]
