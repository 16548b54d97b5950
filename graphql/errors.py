"""How failures reach a client: domain errors with a stable code and the field they concern; anything else masked and logged with an id."""

import logging
import uuid
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from fourpi.domain.errors import DomainError, IdempotencyKeyReused
from fourpi.operations.observability import note_error_id
from fourpi.storage.store_access import store_refusal
from graphql import FieldNode, GraphQLError, get_operation_ast

log = logging.getLogger("fourpi.graphql")

BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
CONFLICT = "CONFLICT"
FORBIDDEN = "FORBIDDEN"
UNAUTHENTICATED = "UNAUTHENTICATED"
INTERNAL = "INTERNAL_SERVER_ERROR"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
STORE_BUSY_CODE = "STORE_BUSY"
SERVER_BUSY = "SERVER_BUSY"
"""Heavy work (an integrity check) refused as others' fill the server's queue
(fourpi.threads.ServerBusy): nothing done; HTTP 503 with Retry-After."""
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
EXPECTED_CODES = frozenset(
    {
        BAD_USER_INPUT,
        NOT_FOUND,
        CONFLICT,
        FORBIDDEN,
        UNAUTHENTICATED,
        QUERY_TOO_COSTLY,
        TOO_MANY_REQUESTS,
        STORE_BUSY_CODE,
        SERVER_BUSY,
        REQUEST_TIMEOUT,
    }
)


def client_error(message: str, code: str, field: str | None = None) -> GraphQLError:
    """An error meant for the client, which passes the mask untouched. A message
    about a field starts with it as the client sent it (input.contributorIds: ...),
    so a refusal of one of several ids ('participant ... does not exist') says which."""
    extensions: dict[str, Any] = {"code": code}
    if field is not None:
        extensions["field"] = field
        if not message.startswith(f"{field}: "):
            message = f"{field}: {message}"
    return GraphQLError(message, extensions=extensions)


def from_domain(error: DomainError, under: str | None = None) -> GraphQLError:
    """A domain error for the client; `under` names the input object its field sits in,
    so the field reads as the client sent it (initiative_id -> input.initiativeId),
    in the message as in its extensions, and the write a reused key first carried
    by its mutation (record_intended_outcome -> recordIntendedOutcome)."""
    if isinstance(error, IdempotencyKeyReused) and under is not None:
        error = IdempotencyKeyReused(error.key, camel_case(error.first_command))
    field, message = error.field, error.message
    if field is not None and under is not None:
        named = ".".join([under, *(camel_case(part) for part in field.split("."))])
        if message.startswith(f"{field}: "):
            message = f"{named}: {message.removeprefix(f'{field}: ')}"
        field = named
    return client_error(message, error.code, field)


def camel_case(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def come_back_later(response: Any, status: int, retry_after: int) -> None:
    """The request's HTTP answer (`response`, None outside HTTP) made a refusal to
    come back later: `status`, with Retry-After saying in how many seconds."""
    if response is not None:
        response.status_code = status
        response.headers["Retry-After"] = str(retry_after)


class MaskUnexpectedErrors(SchemaExtension):
    """Only errors with an expected code reach the client as they are; any other is
    replaced by a message and an id, and logged in full under that id."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        if not self.recorded_some(result.errors):
            self.answered_as_busy(result.errors)
        result.errors = [self.masked(e) for e in result.errors]

    def recorded_some(self, errors: list[GraphQLError]) -> bool:
        """Whether a mutation may have recorded some of its writes: one of its
        fields (each a write, run one after another) came to no error. Its answer
        then stays 200, whatever refused the others: a client told 503 would send
        the whole request again, and record those twice. (Its `data` cannot say:
        a refused write's field, never null, nulls all of it.)"""
        context = self.execution_context
        if context.operation_type is not OperationType.MUTATION:
            return False
        document = context.graphql_document
        operation = (
            None
            if document is None
            else get_operation_ast(document, context.operation_name)
        )
        if operation is None:
            return True  # not known: as if some were
        refused = {error.path[0] for error in errors if error.path}
        for selection in operation.selection_set.selections:
            if not isinstance(selection, FieldNode):
                return True  # a fragment's fields: not worked out here
            key = (selection.alias or selection.name).value
            if key != "__typename" and key not in refused:
                return True
        return False

    def answered_as_busy(self, errors: list[GraphQLError]) -> None:
        """A field refused as the store was busy or did not answer makes the HTTP
        answer 503 with Retry-After, as it is when that happens before any field
        ran: it was 200 with no Retry-After, which clients' retry logic does not
        read. The longest wait of them, if several. Not for a mutation that
        recorded some of its writes (`recorded_some`)."""
        waits = [
            refused[1]
            for error in errors
            if (error.extensions or {}).get("code") not in EXPECTED_CODES
            and error.path is not None
            and (refused := store_refusal(error.original_error)) is not None
        ]
        if waits:
            response = getattr(self.execution_context.context, "response", None)
            come_back_later(response, 503, max(waits))

    @staticmethod
    def masked(error: GraphQLError) -> GraphQLError:
        code = (error.extensions or {}).get("code")
        if code in EXPECTED_CODES:
            return error
        if error.path is None:
            # No field ran: parse, validation and variable errors describe the
            # client's own request.
            return client_error(error.message, BAD_USER_INPUT)
        refused = store_refusal(error.original_error)
        if refused is not None:
            # Another held the store's write lock for longer than a request waits
            # (a long import), or the store did not answer (restarting): the same
            # request later will be done.
            log.warning(
                "the store was busy or away at %s: %s", error.path, error.original_error
            )
            busy = client_error(refused[0], STORE_BUSY_CODE)
            return GraphQLError(
                busy.message,
                path=error.path,
                nodes=error.nodes,
                extensions=busy.extensions,
            )
        message, extensions = unexpected(error.original_error or error, error.path)
        return GraphQLError(
            message, path=error.path, nodes=error.nodes, extensions=extensions
        )


def unexpected(error: BaseException, where: object) -> tuple[str, dict[str, str]]:
    """An unexpected error logged in full under a new id (the request's log line
    carries it too): what the client is told instead, and its extensions."""
    error_id = uuid.uuid4().hex[:12]
    note_error_id(error_id)
    log.error("unexpected error %s at %s", error_id, where, exc_info=error)
    return (
        f"An unexpected error happened (error id {error_id}); "
        "it has been logged for the operators.",
        {"code": INTERNAL, "errorId": error_id},
    )
