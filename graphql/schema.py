"""The GraphQL schema: the queries and mutations of every kind of user, with security and limits declared where it is built."""

import datetime as dt
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import strawberry
from strawberry.schema.schema import (
    StrawberryGraphQLCoreExecutionContext,
    validate_document,
)

from fourpi.config import ApiLimits
from fourpi.domain.organisation import Organisation
from fourpi.graphql.answer_queries import AnswerQueries
from fourpi.graphql.audit_queries import AuditQueries
from fourpi.graphql.calls import in_thread
from fourpi.graphql.context import Context, FourPIInfo
from fourpi.graphql.enums import InvolvementKind, InvolvementLevel, Role
from fourpi.graphql.errors import MaskUnexpectedErrors, camel_case
from fourpi.graphql.limits import QueryLimits, limit_rule
from fourpi.graphql.mutations import Mutation
from fourpi.graphql.permissions import READERS_OF_ANSWERS, caller_of, organisation_of
from fourpi.graphql.reading import caught_up
from fourpi.graphql.record_lists import RecordLists
from fourpi.memo import Memo
from fourpi.threads import in_completion_thread
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationType,
    parse,
)

DOCUMENTS_KEPT = 512
"""Parsed documents, and their validation results, kept for the most recent texts."""


@strawberry.type(description="Who the bearer token belongs to.")
class Me:
    token_id: strawberry.ID = strawberry.field(
        description="The token's id (for revoking it)."
    )
    role: Role = strawberry.field(description="What the token may do.")
    organisation_id: strawberry.ID | None = strawberry.field(
        description="The organisation it belongs to; none for a global admin."
    )
    personal_data: bool = strawberry.field(
        description="Whether the token is granted personal data: without it, personal "
        "fields are withheld and answers that name people are refused."
    )


@strawberry.type(description="An organisation: the tenant every record belongs to.")
class OrganisationInfo:
    id: strawberry.ID = strawberry.field(description="The organisation's id.")
    name: str = strawberry.field(description="Its name.")


@strawberry.type(description="An involvement activity, project or programme.")
class InitiativeInfo:
    id: strawberry.ID = strawberry.field(description="The initiative's id.")
    name: str = strawberry.field(description="Its name.")
    level: InvolvementLevel = strawberry.field(
        description="Where involvement happens (4PI)."
    )
    involvement_kind: InvolvementKind = strawberry.field(
        description="Influence, participation or co-production."
    )
    started_on: dt.date = strawberry.field(description="When it started.")


@strawberry.type(
    description="Everything one can ask: the five 4PI impact questions and their "
    "indicators (evaluators, managers, auditors), histories and the event log "
    "(auditors), and the caller's own organisation."
)
class Query(AnswerQueries, AuditQueries, RecordLists):
    @strawberry.field(description="Who the bearer token belongs to.")
    def me(self, info: FourPIInfo) -> Me:
        caller = caller_of(info)
        return Me(
            token_id=strawberry.ID(str(caller.token_id)),
            role=caller.role,
            organisation_id=None
            if caller.organisation_id is None
            else strawberry.ID(str(caller.organisation_id)),
            personal_data=caller.personal_data,
        )

    @strawberry.field(
        description="The caller's organisation.", extensions=READERS_OF_ANSWERS
    )
    async def organisation(self, info: FourPIInfo) -> OrganisationInfo:
        organisation: Organisation = await in_thread(
            info.context.records.organisation, organisation_of(info)
        )
        return OrganisationInfo(
            id=strawberry.ID(str(organisation.id)), name=organisation.name
        )

    @strawberry.field(
        description="The organisation's initiatives, in the order they were launched.",
        extensions=READERS_OF_ANSWERS,
    )
    async def initiatives(self, info: FourPIInfo) -> list[InitiativeInfo]:
        await caught_up(info)
        views = info.context.views
        organisation = organisation_of(info)
        position = await in_thread(views.position)
        facts = await in_thread(views.cache.facts, organisation, position)
        return [
            InitiativeInfo(
                id=strawberry.ID(str(row["initiative_id"])),
                name=str(row["name"]),
                level=InvolvementLevel(str(row["level"])),
                involvement_kind=InvolvementKind(str(row["involvement_kind"])),
                started_on=row["started_on"],  # type: ignore[arg-type]
            )
            for row in facts["initiatives"]
        ]


class FourPISchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Client errors are the client's to read; MaskUnexpectedErrors logs the rest."""


class KnownDocuments:
    """Each query text's document, parsed once, and its validation errors, worked
    out once, for the most recent DOCUMENTS_KEPT texts.

    The parse is kept by the text (and the parser's options): the same text gives
    the same document object while it is kept. Its validation is kept by that
    object's identity, not by its value as strawberry's ValidationCache keeps it:
    a document's hash walks its whole tree on every request (graphql-core's nodes
    are frozen dataclasses), which cost a write over HTTP 83,000 instructions
    (callgrind, 2.8%). Each entry holds its document, so no other document can take
    its id while the entry is kept, and it answers only that very object."""

    def __init__(self, capacity: int = DOCUMENTS_KEPT) -> None:
        self.parsed: Callable[..., DocumentNode] = lru_cache(maxsize=capacity)(parse)
        self.validated: Memo[tuple[GraphQLSchema, DocumentNode, list[GraphQLError]]] = (
            Memo(capacity)
        )
        """By the schema's and the document's ids and the rules: each entry holds
        the schema and the document (as a computation under way does), so neither
        id names another object while it is kept."""

    def errors(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        """The document's validation errors against the schema and rules (strawberry's
        validate_document, as its ValidationCache calls it)."""
        return self.validated.get(
            (id(schema), id(document), rules),
            lambda: (schema, document, validate_document(schema, document, rules)),
        )[2]


class HeldToLimits(MaskUnexpectedErrors):
    """What every request is held to, set as it begins: the most tokens its document
    may have (graphql-core's parser option, as strawberry's MaxTokensLimiter sets it),
    the depth, alias and cost rule among the validation rules (as AddValidationRules
    adds it), and, as it ends, the mask on unexpected errors. It also parses and
    validates the document, once per text (KnownDocuments, in place of strawberry's
    ParserCache and ValidationCache), before strawberry's parse and validation
    steps, which then find both done.

    One extension rather than five, and one hook: strawberry enters and leaves every
    hook of every extension on each request. Each extension cost a write about
    85,000 instructions (callgrind), 5% of a write over HTTP for the two limits
    folded in here; folding in the two caches saved another 37,000, and parsing and
    validating in this hook, not in on_parse and on_validate, another 80,000 (2.7%).

    Answers are as they were with the caches in their own hooks: a parse error
    raised here leaves strawberry's operation step as one raised in on_parse did (a
    request error, unmasked); strawberry checks the operation's type (the operation
    named, none over GET that writes) before it reads the validation errors, as it
    did before it validated; and an empty query is left for strawberry to refuse."""

    def __init__(
        self, max_tokens: int, rules: tuple[Any, ...], documents: KnownDocuments
    ) -> None:
        super().__init__()
        self.max_tokens = max_tokens
        self.rules = rules
        self.documents = documents

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = (*context.validation_rules, *self.rules)
        if context.query:
            documents = self.documents
            document = documents.parsed(context.query, **context.parse_options)
            context.graphql_document = document
            context.pre_execution_errors = documents.errors(
                context.schema._schema, document, context.validation_rules
            )
        yield from super().on_operation()


def answer_fields() -> frozenset[str]:
    """The Query fields that answer impact questions: each takes a slice."""
    return frozenset(
        camel_case(field.python_name)
        for field in Query.__strawberry_definition__.fields  # type: ignore[attr-defined]
        if any(argument.python_name == "slice" for argument in field.arguments)
    )


class AnswersCompletedApart(StrawberryGraphQLCoreExecutionContext):
    """An execution that completes each impact answer a query asks (graphql-core
    checks and lays out every value the query selects of it) in a completion thread
    (fourpi.threads.in_completion_thread), not on the event loop.

    Before, the API's answers and every answer page, CSV, workbook and report
    completed them on the event loop: some 0.45 s of CPU for an answer page's
    document at 100k events, in which nothing else was answered. Only the
    completion moves: the resolvers, and with them every limit on the caller's
    answers and database calls, run on the event loop as before, and the answer is
    completed once they have given it."""

    answers = answer_fields()

    def complete_awaitable_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: "GraphQLResolveInfo[Context]",
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        given = (return_type, field_details_list, info, path, result, position_context)
        if (
            path.prev is not None
            or info.field_name not in self.answers
            or info.operation.operation is not OperationType.QUERY
        ):
            return super().complete_awaitable_value(*given)
        return self.completed_apart(given)

    async def completed_apart(self, given: tuple[Any, ...]) -> Any:
        """As graphql-core's complete_awaitable_value (`given`: its arguments), the
        answer completed in a completion thread. Overriding complete_value instead
        would add a call to each of its some 200,000 calls for an answer page's
        document (13% more CPU)."""
        return_type, field_details_list, info, path, result, position_context = given
        try:
            answer = await self.with_abort_signal(result)
            completed = await in_completion_thread(
                self.complete_value,
                return_type,
                field_details_list,
                info,
                path,
                answer,
                position_context,
            )
            # A value that is itself awaited (none of the answers' is): on the loop.
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            completed = None
        return completed


def build_schema(limits: ApiLimits | None = None) -> strawberry.Schema:
    limits = limits or ApiLimits()
    # The depth, alias and cost limits are one validation rule, made once here: the
    # validation cache is keyed by the rule classes, so a rule made per request would
    # miss it every time (measured: validation was then 13% of a busy server's time).
    # strawberry's own depth and alias limiters walk every fragment spread again, so a
    # short document whose fragments spread each other twice over took seconds.
    limit_rules = (
        limit_rule(
            QueryLimits(
                max_depth=limits.max_depth,
                max_aliases=limits.max_aliases,
                max_cost=limits.max_query_cost,
                max_page_size=limits.max_page_size,
                report_fields=answer_fields(),
            )
        ),
    )
    # Measured: without these caches, validation is most of a small query's cost.
    # Shared by this schema's requests; a factory, so each request gets its own
    # extension object.
    documents = KnownDocuments()
    extensions: list[Any] = [
        lambda: HeldToLimits(limits.max_tokens, limit_rules, documents),
    ]
    return FourPISchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        execution_context_class=AnswersCompletedApart,
    )
