"""Reading a record as it stood: versions that exist, one way of asking at a time, and no credential ever shown."""

import asyncio

from fourpi.demo import create_demo
from fourpi.domain.access import Role
from tests.api import api_store, client, code_of, data_of, graphql

RECORD = "query($id: ID!, $v: Int, $t: DateTime) { record(id: $id, version: $v, asOf: $t) { version state } }"


def test_record_versions_and_moments(tmp_path) -> None:
    with api_store(f"sqlite:///{tmp_path}/records.sqlite3") as store:
        summary = create_demo(store.records)
        store.views.catch_up()
        auditor = store.token(summary.organisation_id, Role.AUDITOR)
        initiative = str(summary.initiatives[0].initiative_id)

        async def ask() -> None:
            async with client(store) as c:
                first = await graphql(c, RECORD, {"id": initiative, "v": 1}, auditor)
                assert data_of(first)["record"]["version"] == 1
                beyond = await graphql(
                    c, RECORD, {"id": initiative, "v": 9999}, auditor
                )
                assert code_of(beyond) == "NOT_FOUND"
                both = await graphql(
                    c,
                    RECORD,
                    {"id": initiative, "v": 1, "t": "2030-01-01T00:00:00+00:00"},
                    auditor,
                )
                assert code_of(both) == "BAD_USER_INPUT"

        asyncio.run(ask())


def test_no_one_reads_a_token_hash_back(tmp_path) -> None:
    with api_store(f"sqlite:///{tmp_path}/tokens.sqlite3") as store:
        organisation = store.records.register_organisation(name="Mind", actor="admin")
        auditor = store.token(organisation, Role.AUDITOR)
        store.views.catch_up()

        async def ask() -> str:
            async with client(store) as c:
                log = await graphql(
                    c,
                    "{ eventLog(first: 10) { edges { node { type data } } } }",
                    None,
                    auditor,
                )
                assert "AccessToken.Issued" in log.text
                return log.text

        assert "secret_hash" not in asyncio.run(ask())
