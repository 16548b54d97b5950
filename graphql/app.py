"""The ASGI app: GraphQL over HTTP on Starlette, with bearer tokens, a body limit, a health check, and the projection worker alongside."""

import asyncio
import contextlib
import hashlib
import logging
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from functools import partial
from typing import Any
from uuid import UUID

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.types import HTTPMethod
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperation

from fourpi import threads
from fourpi.client_network import guesser_of
from fourpi.config import SLOWEST_BODY_BYTES_PER_SECOND, ApiLimits
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.record import parse_digits
from fourpi.graphql.calls import run_in_thread
from fourpi.graphql.context import Caller, Context, Settings
from fourpi.graphql.errors import (
    INTERNAL,
    REQUEST_TIMEOUT,
    STORE_BUSY_CODE,
    TOO_MANY_REQUESTS,
    unexpected,
)
from fourpi.graphql.request_body import BadRequest, decoded, request_parts
from fourpi.graphql.schema import build_schema
from fourpi.kept import Kept
from fourpi.local_time import local_date
from fourpi.memo import Memo
from fourpi.operations.graphiql import API_STYLE_SOURCE, api_page, graphiql_page
from fourpi.operations.headers import SecurityHeaders
from fourpi.operations.observability import (
    Metrics,
    RequestLog,
    note_role,
    readiness_endpoint,
)
from fourpi.operations.worker import ProjectionWorker
from fourpi.projections.views import ImpactViews
from fourpi.storage.store_access import store_refusal
from fourpi.threads import health_check
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

log = logging.getLogger("fourpi.serve")

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
CALLERS_KEPT = 1024
ANSWERS_KEPT = 256
"""Evaluators' query results kept whole (see FourPIGraphQL.answer_key)."""


def preferred_media_type(accept: str | None) -> str:
    """GraphQL over HTTP: the new media type when the client prefers it, else JSON."""
    best, best_quality = JSON, -1.0
    for part in (accept or "").split(","):
        media, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                with contextlib.suppress(ValueError):
                    quality = float(value)
        media = media.strip().lower()
        if media in (JSON, GRAPHQL_RESPONSE) and quality > best_quality:
            best, best_quality = media, quality
        elif media == GRAPHQL_RESPONSE and quality == best_quality:
            best = media
    return best


GET_AND_POST = "GET, HEAD, POST"
"""The methods /graphql takes: GET for queries (and HEAD, answered as GET is),
POST for anything."""


class HeadAsGet:
    """A HEAD answered as a GET is, status and headers, without the body (RFC 9110,
    9.3.2): GraphQL's own app refused it 405, though a GET of the same address is
    answered, so a monitor or a link checker was told the address did not work."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class MutationOverGet(HTTPException):
    """A mutation sent as a GET: only POST would have done (GraphQL over HTTP)."""


class FourPIGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, answering with orjson and the negotiated media type."""

    def __init__(
        self,
        records: InvolvementRecords,
        views: ImpactViews,
        limits: ApiLimits,
        graphiql: bool = False,
    ) -> None:
        super().__init__(build_schema(limits), graphql_ide="graphiql")
        self.graphiql = graphiql
        """Whether a browser opening /graphql gets GraphiQL (its scripts come from a
        CDN), or the plain page that says how to use the API (`api_page`)."""
        self.records = records
        self.views = views
        self.callers: Memo[Caller | None] = Memo(CALLERS_KEPT)
        self.answered: OrderedDict[Hashable, ExecutionResult] = OrderedDict()
        """Evaluators' results by answer_key, all at `answered_head`; touched only on
        the event loop."""
        self.answered_head = -1
        """The log head the kept results were worked out at. Every request reads the
        head as it is then, which only moves on, so a result at an earlier head is
        never asked for again: kept whole until ANSWERS_KEPT others pushed it out,
        the results of the last 256 writes held some 1.8 MB each at 100k events
        (460 MB)."""
        self.operations: Memo[OperationType | None] = Memo(ANSWERS_KEPT)
        self.settings = Settings(
            max_page_size=limits.max_page_size,
            read_wait_seconds=limits.read_wait_seconds,
        )
        self.bad_tokens = BadTokenCounter(limits.max_bad_tokens)
        self.tokens = KnownTokens(records, CALLERS_KEPT)

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_page() if self.graphiql else api_page()

    async def get_context(self, request: Any, response: Any) -> Context:
        """The request's context; who the caller is is worked out with the request
        (execute_single), in the worker thread that runs it."""
        return Context(
            records=self.records,
            views=self.views,
            settings=self.settings,
            caller=None,
            request=request,
            response=response,
            bearer_given=bool(bearer_secret(request)),
        )

    def identified(
        self, context: Context, head: int | None, caller: Caller | None
    ) -> None:
        context.head, context.caller = head, caller
        note_role(caller.role if caller else None)

    def admit(self, context: Context, caller: Caller | None) -> None:
        """Count the request's bearer token if it is wrong, and refuse the request if
        its address has now sent too many: decided once the caller is known and before
        anything runs, so guesses sent all at once are answered no more often than
        guesses sent one by one, and a right token among them is refused alike."""
        address = guesser_of(context.request)
        if context.bearer_given and caller is None:
            allowed = self.bad_tokens.failed(address)
        else:
            allowed = not self.bad_tokens.wait(address)
        if not allowed:
            raise TooManyBadTokens(self.bad_tokens.wait(address))

    def caller_at_head(self, secret: str) -> tuple[int, Caller | None]:
        """The log's head, and who the secret belongs to with the log there.

        A token changes only by an event (issued, revoked), so who a secret belongs
        to is looked up once per log head, not once per request.
        """
        head = self.views.head()
        if not secret:
            return head, None

        def looked_up() -> Caller | None:
            token = self.records.authenticate(secret)
            return None if token is None else Caller.of(token)

        digest = hashlib.sha256(secret.encode()).digest()
        return head, self.callers.get((digest, head), looked_up)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        wait = self.bad_tokens.wait(guesser_of(request))
        try:
            if wait:
                raise TooManyBadTokens(wait)
            response = await self.run(request)
        except TooManyBadTokens as error:
            response = refusal(429, error.reason, code=TOO_MANY_REQUESTS)
            response.headers["retry-after"] = str(error.wait)
        except BadRequest as error:
            response = refusal(error.status_code, error.reason, field=error.field)
        except HTTPException as error:
            response = refusal(
                error.status_code,
                error.reason,
                allow="POST" if isinstance(error, MutationOverGet) else GET_AND_POST,
            )
        except Exception as error:
            # Before any field ran (the store failing as the token is looked up):
            # busy or away, said so; else masked and logged with an id, as a
            # field's unexpected error is.
            refused = store_refusal(error)
            if refused is not None:
                log.warning("the store was busy or away for the request: %s", error)
                response = refusal(503, refused[0], code=STORE_BUSY_CODE)
                response.headers["retry-after"] = str(refused[1])
            else:
                message, extensions = unexpected(error, "the request")
                response = refusal(
                    500, message, code=INTERNAL, error_id=extensions["errorId"]
                )
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return decoded(data, "query parameter")

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        """A GET request's parameters, its JSON ones read as strictly as a body and
        a mistake in one named by its parameter."""
        parsed: dict[str, Any] = dict(params)
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = decoded(parsed[name], f"{name} parameter", name)
        return parsed

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        """The request's parts, each of the type GraphQL over HTTP requires; a JSON
        body is read strictly (fourpi.graphql.request_body), never guessed at."""
        method: HTTPMethod = request.method
        content_type = (request.content_type or "").partition(";")[0].strip().lower()
        if method == "POST" and content_type == "application/json":
            data = decoded(await request.get_body())
        elif method == "GET":
            data = self.parse_query_params(request.query_params)
        else:
            raise HTTPException(400, "Unsupported content type")
        query, variables, operation_name, extensions = request_parts(data)
        return GraphQLRequestData(
            query=query,
            variables=variables,
            operation_name=operation_name,
            extensions=extensions,
        )

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        context: Context = kwargs["context"]
        request_data: GraphQLRequestData = kwargs["request_data"]
        secret = bearer_secret(kwargs["request"])
        try:
            if self.operation_of(request_data) is OperationType.MUTATION:
                # A write: who the caller is, the whole execution and the use case
                # itself in one worker thread, one hand-off from the event loop.
                result, caller = await run_in_thread(
                    partial(
                        self.execute_write,
                        context,
                        secret,
                        request_data,
                        kwargs["request_adapter"].method,
                        kwargs["root_value"],
                    )
                )
                self.identified(context, None, caller)
                return result
            head, caller = await run_in_thread(partial(self.caller_at_head, secret))
            self.admit(context, caller)
            self.identified(context, head, caller)
            key = self.answer_key(context, request_data)
            if key is not None and key in self.answered:
                self.answered.move_to_end(key)
                return self.answered[key]
            result = await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            if "not allowed when using GET" in error.reason:
                # GraphQL over HTTP: a mutation over GET is a wrong method, not a bad request.
                raise MutationOverGet(405, error.reason) from error
            raise
        if key is not None and result.data is not None and not result.errors:
            self.keep_answered(key, context.head, result)
        return result

    def keep_answered(
        self, key: Hashable, head: int | None, result: ExecutionResult
    ) -> None:
        """Keep an evaluator's result for the same request at the same head, dropping
        those at earlier heads (see `answered_head`)."""
        assert head is not None  # answer_key gives no key without one
        if head < self.answered_head:
            return
        if head > self.answered_head:
            self.answered.clear()
            self.answered_head = head
        self.answered[key] = result
        while len(self.answered) > ANSWERS_KEPT:
            self.answered.popitem(last=False)

    def execute_write(
        self,
        context: Context,
        secret: str,
        request_data: GraphQLRequestData,
        method: HTTPMethod,
        root_value: Any,
    ) -> tuple[ExecutionResult, Caller | None]:
        """A mutation, run synchronously in this worker thread: the caller is the
        token's holder as the store says now (KnownTokens: a token revoked a moment
        ago writes nothing), then strawberry executes it with every extension, as it
        does a query (parser and validation caches, the request limits, the error
        mask), and the resolvers run the use case where they are.

        Measured in instructions per write (SQLite): a hand-off for the caller and
        another for the use case, with the async execution, cost 5% more than this
        one hand-off; reading and rebuilding the token for each write, 9% more than
        KnownTokens' check."""
        context.caller = self.tokens.caller(secret) if secret else None
        self.admit(context, context.caller)
        allowed = StrawberryOperation.from_http(method)
        try:
            result = self.schema.execute_sync(
                request_data.query,
                variable_values=request_data.variables,
                context_value=context,
                root_value=root_value,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason(method)) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error
        return result, context.caller

    def operation_of(self, request: GraphQLRequestData) -> OperationType | None:
        query, name = request.query, request.operation_name
        if not isinstance(query, str):
            return None
        return self.operations.get((query, name), partial(operation_type, query, name))

    def answer_key(self, context: Context, request: Any) -> Hashable | None:
        """What an evaluator's query result is a function of, or None if it is not
        to be kept.

        An evaluator reads only answers and the records they are about, which change
        only by events: the same query with the same variables from the same token,
        with the log at the same head, on the same day (which decides what is
        overdue), gets the same result. A new event, a revoked token, a new
        threshold or an erasure all move the head, so the result is worked out
        again. Nothing else is kept: a mutation, any other role's request (an
        auditor's integrity proof reads the database as it is now), a request that
        failed.
        """
        caller = context.caller
        if caller is None or caller.role is not Role.EVALUATOR or context.head is None:
            return None
        if self.operation_of(request) is not OperationType.QUERY:
            return None
        query, name = request.query, request.operation_name
        try:
            variables = orjson.dumps(request.variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        return (query, name, variables, caller, context.head, local_date())

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = preferred_media_type(request.headers.get("accept"))
        return sub_response

    async def process_result(
        self, request: Any, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        if is_request_error(result):
            # The spec: a request that failed before execution has no data entry.
            response.pop("data", None)
        errors: list[dict[str, Any]] = list(response.get("errors") or [])  # type: ignore[arg-type]
        for error in errors:
            # Errors raised while parsing never reach the masking extension.
            error.setdefault("extensions", {}).setdefault("code", "BAD_USER_INPUT")
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = sub_response.media_type or JSON
        response = super().create_response(response_data, sub_response)
        response.media_type = media_type
        response.headers["content-type"] = media_type
        failed_before_execution = (
            isinstance(response_data, dict) and "data" not in response_data
        )
        if media_type == GRAPHQL_RESPONSE and failed_before_execution:
            response.status_code = 400
        return response


def operation_type(query: str, name: str | None) -> OperationType | None:
    """The type of the operation a request runs, or None if it names none clearly
    (the request then fails in strawberry, with the reason).

    A document of several operations with no operationName is refused: strawberry
    would run the first, where GraphQL requires the name, and a mutation run that
    way would miss the write path (`execute_write`)."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if name is None and len(operations) > 1:
        raise BadRequest(
            f"operationName: required when the query holds more than one operation "
            f"(it holds {len(operations)})",
            "operationName",
        )
    if name is not None:
        operations = [o for o in operations if o.name and o.name.value == name]
    return operations[0].operation if len(operations) == 1 else None


def bearer_secret(request: Any) -> str:
    """The bearer token a request sends ('' for none)."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def refusal(
    status_code: int,
    reason: str,
    *,
    code: str = "BAD_USER_INPUT",
    field: str | None = None,
    error_id: str | None = None,
    allow: str = GET_AND_POST,
) -> Response:
    """A request refused before any GraphQL ran, in the shape GraphQL clients read
    (a 405 naming in Allow the methods the request could have used)."""
    extensions = {"code": code}
    if field is not None:
        extensions["field"] = field
    if error_id is not None:
        extensions["errorId"] = error_id
    response = Response(
        orjson.dumps({"errors": [{"message": reason, "extensions": extensions}]}),
        status_code=status_code,
        media_type=JSON,
    )
    if status_code == 405:
        response.headers["allow"] = allow
    return response


class KnownTokens:
    """Who each bearer secret belongs to, as a write needs to know it: the token's
    record as last read, kept with its version. A token changes only by an event on
    its own record (revoked), so for each write the store is asked only whether any
    event followed that version (one indexed read that finds nothing, rather than
    the record read and rebuilt); if one did, the token is read again. Kept by a
    hash of the secret, so one caller's token never answers for another's."""

    def __init__(self, records: InvolvementRecords, capacity: int) -> None:
        self.records = records
        self.known: Kept[Caller] = Kept(records, capacity)

    def caller(self, secret: str) -> Caller | None:
        """The live token's caller, as the store says now; None if there is none."""

        def read() -> tuple[Caller, UUID, int] | None:
            token = self.records.authenticate(secret)
            if token is None:
                return None
            return Caller.of(token), token.id, token.version

        return self.known.get(hashlib.sha256(secret.encode()).digest(), read)


class TooManyBadTokens(HTTPException):
    """A request from an address that has sent too many wrong bearer tokens."""

    def __init__(self, wait: int) -> None:
        self.wait = max(1, wait)
        super().__init__(
            429,
            f"too many requests with a wrong bearer token from this address: "
            f"try again in {self.wait} seconds",
        )


class BadTokenCounter:
    """Wrong bearer tokens by client address: after `limit` in a minute, that address
    is refused until the minute that began with its first failure is over, so
    guessing tokens is slow. Kept in memory, per process."""

    WINDOW_SECONDS = 60
    ADDRESSES_KEPT = 10_000

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.windows: dict[str, tuple[float, int]] = {}
        self.lock = threading.Lock()

    def failed(self, address: str) -> bool:
        """Count a wrong token from the address: whether it is within the limit."""
        now = time.monotonic()
        with self.lock:
            started, count = self.windows.get(address, (now, 0))
            if now - started >= self.WINDOW_SECONDS:
                started, count = now, 0
            self.windows[address] = (started, count + 1)
            if len(self.windows) > self.ADDRESSES_KEPT:
                self.windows = {
                    a: w
                    for a, w in self.windows.items()
                    if now - w[0] < self.WINDOW_SECONDS
                }
            return count < self.limit

    def wait(self, address: str) -> int:
        """Seconds until this address may try again; 0 when it may now."""
        window = self.windows.get(address)
        if window is None or window[1] < self.limit:
            return 0
        left = self.WINDOW_SECONDS - (time.monotonic() - window[0])
        return max(0, int(left + 0.999))


def is_request_error(result: ExecutionResult) -> bool:
    """Parse and validation errors: no data, and no error belongs to a field."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or [])
    )


class BodySizeLimit:
    """Refuses a request body larger than the limit, before any of it is parsed:
    the API's limit, or a larger one for a path named in `larger` (the web app's
    workbook upload) or, for any path outside the API, `web_bytes` (the web app's
    forms); and one that does not arrive in time, which held a connection and its
    memory for as long as its client liked: it has FOURPI_REQUEST_WAIT_SECONDS, and
    a second more for each SLOWEST_BODY_BYTES_PER_SECOND bytes that arrive (what
    arrives, not what is declared: a client could declare 10 MB, send a little and
    stop). `web_refusal` and `web_too_slow`, when the web app is served, answer a
    path outside the API with a page instead of GraphQL's JSON."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        *,
        request_wait_seconds: float = ApiLimits.request_wait_seconds,
        larger: Mapping[str, int] | None = None,
        web_bytes: int = 0,
        web_refusal: Callable[[int], ASGIApp] | None = None,
        web_too_slow: Callable[[float], ASGIApp] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.request_wait_seconds = request_wait_seconds
        self.larger = larger or {}
        self.web_bytes = web_bytes
        self.web_refusal = web_refusal
        self.web_too_slow = web_too_slow

    def limit_of(self, scope: Scope) -> int:
        path = path_of(scope)
        web = 0 if path in API_PATHS else self.web_bytes
        return max(self.max_bytes, self.larger.get(path, 0), web)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope)
        declared = declared_lengths(scope)
        if len(declared) > 1 or None in declared:
            response = refusal(400, MALFORMED_LENGTH)
            await response(scope, receive, closing(send))
            return
        if any(length is not None and length > limit for length in declared):
            await self.refuse(scope, receive, send)
            return
        # Read the body first, never more than the limit, so a refusal can still be
        # sent before the app has begun to answer. Past the largest form (an
        # upload) it waits on disk: many uploads under way hold no more memory
        # than posts.
        in_memory = max(self.max_bytes, self.web_bytes)
        with tempfile.SpooledTemporaryFile(max_size=in_memory) as body:
            received = 0
            began = asyncio.get_running_loop().time()
            try:
                async with asyncio.timeout_at(
                    began + self.request_wait_seconds
                ) as deadline:
                    while True:
                        message = await receive()
                        if message["type"] == "http.disconnect":
                            return
                        chunk = message.get("body", b"")
                        received += len(chunk)
                        if received > limit:
                            break
                        body.write(chunk)
                        if not message.get("more_body", False):
                            break
                        deadline.reschedule(
                            began
                            + self.request_wait_seconds
                            + received / SLOWEST_BODY_BYTES_PER_SECOND
                        )
            except TimeoutError:
                await self.refuse_slow(scope, receive, send)
                return
            if received > limit:
                await self.refuse(scope, receive, send)
                return
            body.seek(0)
            delivered = False

            async def replay() -> Message:
                nonlocal delivered
                if delivered:
                    return await receive()
                chunk = body.read(REPLAYED_CHUNK_BYTES)
                delivered = body.tell() >= received
                return {
                    "type": "http.request",
                    "body": chunk,
                    "more_body": not delivered,
                }

            await self.app(scope, replay, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """413, and the connection closed: what is left of the body is not wanted,
        and kept open, the connection was held for as long as it went on coming."""
        send = closing(send)
        limit = self.limit_of(scope)
        if self.web_refusal is not None and path_of(scope) not in API_PATHS:
            await self.web_refusal(limit)(scope, receive, send)
            return
        response = refusal(413, f"the request body is larger than {limit} bytes")
        await response(scope, receive, send)

    async def refuse_slow(self, scope: Scope, receive: Receive, send: Send) -> None:
        """408, and the connection closed: what is left of the body may never
        come, so the connection can serve no other request."""
        send = closing(send)
        if self.web_too_slow is not None and path_of(scope) not in API_PATHS:
            await self.web_too_slow(self.request_wait_seconds)(scope, receive, send)
            return
        response = refusal(
            408,
            f"the request body did not arrive in time: it must begin within "
            f"{self.request_wait_seconds:g} seconds and then come at "
            f"{SLOWEST_BODY_BYTES_PER_SECOND:,} bytes a second or more; send it "
            "again, whole, at once",
            code=REQUEST_TIMEOUT,
        )
        await response(scope, receive, send)


def closing(send: Send) -> Send:
    """`send`, its response saying the server closes the connection after it."""

    async def closing_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower() != b"connection"
            ]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)

    return closing_send


MALFORMED_LENGTH = (
    "the Content-Length header must be the size of the body in bytes, "
    "given once, in digits 0 to 9"
)


def declared_lengths(scope: Scope) -> set[int | None]:
    """The body's sizes as its Content-Length headers say, each read by the one
    rule for a number given as text (parse_digits): None for one that breaks it.
    Well formed, this is empty or one number."""
    return {
        parse_digits(value.decode("latin-1"))
        for name, value in scope.get("headers") or []
        if name.lower() == b"content-length"
    }


API_POLICY = (
    f"default-src 'none'; style-src {API_STYLE_SOURCE}; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
"""The content security policy of the API's responses: they load nothing (the page a
browser gets at /graphql has no script or image, and one inline style, allowed by
its hash). The web app's pages carry their own (fourpi.web.pages)."""

GRAPHIQL_POLICY = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
"""The policy with GraphiQL on (FOURPI_GRAPHIQL): its page runs inline script and
scripts from a CDN (fourpi.operations.graphiql), so it says no more."""

API_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
REPLAYED_CHUNK_BYTES = 64 * 1024


def path_of(scope: Scope) -> str:
    """A request's path below the prefix a reverse proxy serves the app under."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


def create_app(
    records: InvolvementRecords,
    views: ImpactViews,
    *,
    limits: ApiLimits | None = None,
    run_projections: bool = True,
    metrics: bool = False,
    web: bool = False,
    graphiql: bool = False,
) -> ASGIApp:
    """The whole HTTP interface; with run_projections, this process also keeps the
    views caught up (turn it off when a separate `fourpi projections run` does);
    with metrics, /metrics serves them (fourpi.operations.observability); with web, the web
    app's pages are served at / beside the API (fourpi.web.app); with graphiql, a
    browser opening /graphql gets GraphiQL, whose scripts come from a CDN."""
    limits = limits or ApiLimits.from_environment()
    graphql = FourPIGraphQL(records, views, limits, graphiql)
    worker = ProjectionWorker(views) if run_projections else None
    counted = Metrics(views, records) if metrics else None

    async def healthz(request: Request) -> Response:
        """Whether the service is up and its store answers: nothing that moves with
        writes, since anyone may ask (the log is shared by every organisation)."""
        try:
            await health_check("healthz", views.head)
        except TimeoutError:
            log.error(
                "health check failed: the store did not answer within %g s",
                threads.HEALTH_CHECK_SECONDS,
            )
            return JSONResponse({"status": "unavailable"}, status_code=503)
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            views.stop()
            if worker is not None:
                await run_in_threadpool(worker.stop)

    readyz = readiness_endpoint(views, lambda: worker is not None and worker.alive())
    routes: list[BaseRoute] = [
        # Every method: the API answers those it does not take itself, in JSON.
        Route("/graphql", HeadAsGet(graphql)),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if counted:
        routes.append(Route("/metrics", counted.endpoint, methods=["GET"]))
    if web:
        from fourpi.web.app import create_web_app

        routes.append(
            Mount(
                "/",
                app=create_web_app(
                    records,
                    views,
                    read_wait_seconds=limits.read_wait_seconds,
                    beside=list(routes),
                ),
            )
        )
    app = Starlette(routes=routes, lifespan=lifespan)
    if web:
        from fourpi.web.app import LARGER_BODIES, form_body_bytes, too_large, too_slow

        limited = BodySizeLimit(
            app,
            limits.max_body_bytes,
            request_wait_seconds=limits.request_wait_seconds,
            larger=LARGER_BODIES,
            web_bytes=form_body_bytes(limits.max_body_bytes),
            web_refusal=too_large,
            web_too_slow=too_slow,
        )
    else:
        limited = BodySizeLimit(
            app, limits.max_body_bytes, request_wait_seconds=limits.request_wait_seconds
        )
    # An answer may hold personal data, and a query may come as a GET: no browser
    # or proxy keeps one; and GraphiQL, a page on the same site as the web app's,
    # is framed by no other site.
    policy = GRAPHIQL_POLICY if graphiql else API_POLICY
    return RequestLog(SecurityHeaders(limited, policy), counted)
