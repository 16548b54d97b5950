"""The lists the web pages read, for scripts too: the organisation's participants, contributions, meetings and changes, a page at a time, under the same rules of who may see what (managers and auditors; personal fields withheld unless the token is granted personal data)."""

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import strawberry

from fourpi.domain.participant import Participant
from fourpi.domain.personal import personal_fields_of
from fourpi.graphql.audit_queries import (
    AFTER,
    FIRST,
    PageInfo,
    cursor_of,
    page_size,
    position_after,
)
from fourpi.graphql.calls import in_thread
from fourpi.graphql.context import FourPIInfo
from fourpi.graphql.enums import (
    BeyondKind,
    ChangeScope,
    ContributionNature,
    ImpactArea,
    ParticipantKind,
)
from fourpi.graphql.permissions import (
    READERS_OF_RECORDS,
    may_read_personal_data,
    organisation_of,
)
from fourpi.graphql.reading import caught_up
from fourpi.privacy.redaction import REDACTED_DESCRIPTION, redacted

Row = dict[str, Any]
Node = TypeVar("Node")


@strawberry.type(description="A person who takes part, as the caller may see them.")
class ParticipantListed:
    id: strawberry.ID = strawberry.field(description="The participant's id.")
    participant_kind: ParticipantKind = strawberry.field(
        description="Service user, carer, staff, trustee or board member, or other."
    )
    pseudonym: str | None = strawberry.field(
        description="Their pseudonym (null when withheld; see redacted)."
    )
    erased: bool = strawberry.field(
        description="Whether their personal data was erased for good."
    )
    redacted: list[str] = strawberry.field(description=REDACTED_DESCRIPTION)


@strawberry.type(
    description="A page of participants, in the order they were registered."
)
class ParticipantPage:
    nodes: list[ParticipantListed] = strawberry.field(description="This page's people.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


@strawberry.type(
    description="An idea, concern or recommendation from service users or carers."
)
class ContributionListed:
    id: strawberry.ID = strawberry.field(description="The contribution's id.")
    initiative_id: strawberry.ID = strawberry.field(description="Its initiative.")
    meeting_id: strawberry.ID | None = strawberry.field(
        description="The meeting it was made at, if any."
    )
    contributor_ids: list[strawberry.ID] = strawberry.field(
        description="The service users and carers it came from."
    )
    nature: ContributionNature = strawberry.field(
        description="Idea, concern or recommendation."
    )
    summary: str = strawberry.field(description="What was put forward.")
    impact_areas: list[ImpactArea] = strawberry.field(
        description="The 4PI impact areas it concerns."
    )
    made_on: dt.date = strawberry.field(description="The day it was made.")


@strawberry.type(description="A page of contributions, in the order they were logged.")
class ContributionPage:
    nodes: list[ContributionListed] = strawberry.field(
        description="This page's contributions."
    )
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


@strawberry.type(description="A meeting of an initiative.")
class MeetingListed:
    id: strawberry.ID = strawberry.field(description="The meeting's id.")
    initiative_id: strawberry.ID = strawberry.field(description="Its initiative.")
    title: str = strawberry.field(description="What the meeting is.")
    held_at: dt.datetime = strawberry.field(description="When it is held.")
    high_level: bool = strawberry.field(description="Whether it is high-level.")
    decision_making: bool = strawberry.field(
        description="Whether decisions are made at it."
    )


@strawberry.type(description="A page of meetings, in the order they were scheduled.")
class MeetingPage:
    nodes: list[MeetingListed] = strawberry.field(description="This page's meetings.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


@strawberry.type(description="A difference made, with the contributions it came from.")
class ChangeListed:
    id: strawberry.ID = strawberry.field(description="The change's id.")
    initiative_id: strawberry.ID = strawberry.field(description="Its initiative.")
    description: str = strawberry.field(description="What changed.")
    impact_area: ImpactArea = strawberry.field(description="Its 4PI impact area.")
    scope: ChangeScope = strawberry.field(
        description="Activity, end result or beyond the activity."
    )
    beyond_kind: BeyondKind | None = strawberry.field(
        description="For a change beyond the activity, the kind of difference."
    )
    changed_on: dt.date = strawberry.field(description="The day it changed.")
    contribution_ids: list[strawberry.ID] = strawberry.field(
        description="The contributions it came from."
    )


@strawberry.type(description="A page of changes, in the order they were recorded.")
class ChangePage:
    nodes: list[ChangeListed] = strawberry.field(description="This page's changes.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


async def facts_of(info: FourPIInfo) -> dict[str, list[Row]]:
    """The caller's organisation's facts, once the views reach what it just wrote."""
    await caught_up(info)
    views = info.context.views
    position = await in_thread(views.position)
    facts: dict[str, list[Row]] = await in_thread(
        views.cache.facts, organisation_of(info), position
    )
    return facts


def one_page(
    info: FourPIInfo,
    rows: Sequence[Row],
    first: int | None,
    after: str | None,
    node: Callable[[Row], Node],
) -> tuple[list[Node], PageInfo]:
    """A page of rows (in log order) after a cursor; a cursor counts rows."""
    size = page_size(info, first)
    start = position_after(after)
    chosen = rows[start : start + size]
    end = start + len(chosen)
    return [node(row) for row in chosen], PageInfo(
        has_next_page=end < len(rows),
        end_cursor=cursor_of(end) if chosen else None,
    )


def ids(values: Sequence[UUID]) -> list[strawberry.ID]:
    return [strawberry.ID(str(v)) for v in values]


@strawberry.type
class RecordLists:
    @strawberry.field(
        description="The organisation's participants, a page at a time. Pseudonyms "
        "are withheld unless the token is granted personal data.",
        extensions=READERS_OF_RECORDS,
    )
    async def participants(
        self, info: FourPIInfo, first: FIRST = None, after: AFTER = None
    ) -> ParticipantPage:
        facts = await facts_of(info)
        granted = may_read_personal_data(info)
        erased = {r["participant_id"] for r in facts["erasures"]}
        personal = personal_fields_of(Participant.Registered)

        def node(row: Row) -> ParticipantListed:
            shown, withheld = redacted(row, personal, granted)
            return ParticipantListed(
                id=strawberry.ID(str(row["participant_id"])),
                participant_kind=ParticipantKind(str(row["participant_kind"])),
                pseudonym=None
                if shown["pseudonym"] is None
                else str(shown["pseudonym"]),
                erased=row["participant_id"] in erased,
                redacted=withheld,
            )

        nodes, page_info = one_page(info, facts["participants"], first, after, node)
        return ParticipantPage(nodes=nodes, page_info=page_info)

    @strawberry.field(
        description="The organisation's contributions, a page at a time.",
        extensions=READERS_OF_RECORDS,
    )
    async def contributions(
        self, info: FourPIInfo, first: FIRST = None, after: AFTER = None
    ) -> ContributionPage:
        facts = await facts_of(info)
        contributors: dict[UUID, list[UUID]] = {}
        for row in facts["contributors"]:
            contributors.setdefault(row["contribution_id"], []).append(
                row["participant_id"]
            )

        def node(row: Row) -> ContributionListed:
            meeting = row["meeting_id"]
            return ContributionListed(
                id=strawberry.ID(str(row["contribution_id"])),
                initiative_id=strawberry.ID(str(row["initiative_id"])),
                meeting_id=None if meeting is None else strawberry.ID(str(meeting)),
                contributor_ids=ids(contributors.get(row["contribution_id"], [])),
                nature=ContributionNature(str(row["nature"])),
                summary=str(row["summary"]),
                impact_areas=[ImpactArea(str(a)) for a in row["impact_areas"]],
                made_on=row["made_on"],
            )

        nodes, page_info = one_page(info, facts["contributions"], first, after, node)
        return ContributionPage(nodes=nodes, page_info=page_info)

    @strawberry.field(
        description="The organisation's meetings, a page at a time.",
        extensions=READERS_OF_RECORDS,
    )
    async def meetings(
        self, info: FourPIInfo, first: FIRST = None, after: AFTER = None
    ) -> MeetingPage:
        facts = await facts_of(info)

        def node(row: Row) -> MeetingListed:
            return MeetingListed(
                id=strawberry.ID(str(row["meeting_id"])),
                initiative_id=strawberry.ID(str(row["initiative_id"])),
                title=str(row["title"]),
                held_at=row["held_at"],
                high_level=bool(row["high_level"]),
                decision_making=bool(row["decision_making"]),
            )

        nodes, page_info = one_page(info, facts["meetings"], first, after, node)
        return MeetingPage(nodes=nodes, page_info=page_info)

    @strawberry.field(
        description="The organisation's changes, a page at a time.",
        extensions=READERS_OF_RECORDS,
    )
    async def changes(
        self, info: FourPIInfo, first: FIRST = None, after: AFTER = None
    ) -> ChangePage:
        facts = await facts_of(info)
        sources: dict[UUID, list[UUID]] = {}
        for row in facts["change_sources"]:
            sources.setdefault(row["change_id"], []).append(row["contribution_id"])

        def node(row: Row) -> ChangeListed:
            beyond = row["beyond_kind"]
            return ChangeListed(
                id=strawberry.ID(str(row["change_id"])),
                initiative_id=strawberry.ID(str(row["initiative_id"])),
                description=str(row["description"]),
                impact_area=ImpactArea(str(row["impact_area"])),
                scope=ChangeScope(str(row["scope"])),
                beyond_kind=None if beyond is None else BeyondKind(str(beyond)),
                changed_on=row["changed_on"],
                contribution_ids=ids(sources.get(row["change_id"], [])),
            )

        nodes, page_info = one_page(info, facts["changes"], first, after, node)
        return ChangePage(nodes=nodes, page_info=page_info)
