"""The API's lists of an organisation's participants, contributions, meetings and changes: a page at a time, only the caller's organisation's, pseudonyms withheld without the personal-data grant, and refused to evaluators."""

import asyncio

from fourpi.domain.access import Role
from tests.api import api_store, client, code_of, data_of, graphql
from tests.web import organisation_with_a_chain

LISTS = """query ($first: Int, $after: String) {
  participants(first: $first, after: $after) {
    nodes { id pseudonym participantKind redacted }
    pageInfo { hasNextPage endCursor }
  }
  contributions { nodes { summary contributorIds } pageInfo { hasNextPage } }
  meetings { nodes { title } }
  changes { nodes { description contributionIds } }
}"""


def test_lists_are_paged_and_show_only_what_the_caller_may_see(tmp_path) -> None:
    with api_store(f"sqlite:///{tmp_path}/lists.sqlite3", worker=True) as store:
        mind = organisation_with_a_chain(store.records, "Mind")
        organisation_with_a_chain(store.records, "Elsewhere")
        second = store.records.register_participant(
            organisation_id=mind.organisation_id,
            pseudonym="Mind second",
            participant_kind="carer",
            actor="test",
        )
        granted = store.token(mind.organisation_id, Role.MANAGER, personal_data=True)
        plain = store.token(mind.organisation_id, Role.MANAGER)
        evaluator = store.token(mind.organisation_id, Role.EVALUATOR)

        async def run() -> None:
            async with client(store) as http:
                first = data_of(await graphql(http, LISTS, {"first": 1}, granted))
                people = first["participants"]
                assert [p["pseudonym"] for p in people["nodes"]] == ["Mind advisor"]
                assert people["pageInfo"]["hasNextPage"] is True
                after = people["pageInfo"]["endCursor"]
                rest = data_of(
                    await graphql(http, LISTS, {"first": 1, "after": after}, granted)
                )
                assert [p["id"] for p in rest["participants"]["nodes"]] == [str(second)]
                assert rest["participants"]["pageInfo"]["hasNextPage"] is False
                assert [c["summary"] for c in first["contributions"]["nodes"]] == [
                    "Mind said: meet in the evening"
                ]
                withheld = data_of(await graphql(http, LISTS, None, plain))
                for node in withheld["participants"]["nodes"]:
                    assert node["pseudonym"] is None
                    assert node["redacted"] == ["pseudonym"]
                refused = await graphql(http, LISTS, None, evaluator)
                assert code_of(refused) == "FORBIDDEN"
                bad = await graphql(http, LISTS, {"after": "nonsense"}, granted)
                assert code_of(bad) == "BAD_USER_INPUT"

        asyncio.run(run())
