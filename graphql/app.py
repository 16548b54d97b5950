"""The ASGI app: GraphQL over HTTP on Starlette, with bearer tokens, a body limit, a health check, and the projection worker alongside."""

import contextlib
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from fourpi.config import ApiLimits
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.graphql.calls import run_in_thread
from fourpi.graphql.context import Caller, Context, Settings
from fourpi.graphql.schema import build_schema
from fourpi.memo import Memo
from fourpi.projections.views import ImpactViews
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


class FourPIGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, answering with orjson and the negotiated media type."""

    def __init__(
        self,
        records: InvolvementRecords,
        views: ImpactViews,
        limits: ApiLimits,
    ) -> None:
        super().__init__(build_schema(limits), graphql_ide="graphiql")
        self.records = records
        self.views = views
        self.callers: Memo[Caller | None] = Memo(CALLERS_KEPT)
        self.answered: OrderedDict[Hashable, ExecutionResult] = OrderedDict()
        """Evaluators' results by answer_key; touched only on the event loop."""
        self.operations: Memo[OperationType | None] = Memo(ANSWERS_KEPT)
        self.settings = Settings(
            max_page_size=limits.max_page_size,
            read_wait_seconds=limits.read_wait_seconds,
        )

    async def get_context(self, request: Any, response: Any) -> Context:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        given = secret.strip() if scheme.lower() == "bearer" else ""
        head, caller = await run_in_thread(partial(self.caller_at_head, given))
        return Context(
            records=self.records,
            views=self.views,
            settings=self.settings,
            caller=caller,
            head=head,
            request=request,
            response=response,
        )

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
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = refusal(error.status_code, error.reason)
        await response(scope, receive, send)

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        key = self.answer_key(kwargs["context"], kwargs["request_data"])
        if key is not None and key in self.answered:
            self.answered.move_to_end(key)
            return self.answered[key]
        try:
            result = await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            if "not allowed when using GET" in error.reason:
                # GraphQL over HTTP: a mutation over GET is a wrong method, not a bad request.
                raise HTTPException(405, error.reason) from error
            raise
        if key is not None and result.data is not None and not result.errors:
            self.answered[key] = result
            while len(self.answered) > ANSWERS_KEPT:
                self.answered.popitem(last=False)
        return result

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
        query, name = request.query, request.operation_name
        if not isinstance(query, str):
            return None
        kind = self.operations.get((query, name), partial(operation_type, query, name))
        if kind is not OperationType.QUERY:
            return None
        try:
            variables = orjson.dumps(request.variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        today = datetime.now(UTC).date()
        return (query, name, variables, caller, context.head, today)

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
    (the request then fails in strawberry, with the reason)."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if name is not None:
        operations = [o for o in operations if o.name and o.name.value == name]
    return operations[0].operation if len(operations) == 1 else None


def refusal(status_code: int, reason: str) -> Response:
    """A request refused before any GraphQL ran, in the shape GraphQL clients read."""
    response = Response(
        orjson.dumps(
            {"errors": [{"message": reason, "extensions": {"code": "BAD_USER_INPUT"}}]}
        ),
        status_code=status_code,
        media_type=JSON,
    )
    if status_code == 405:
        response.headers["allow"] = "POST"
    return response


def is_request_error(result: ExecutionResult) -> bool:
    """Parse and validation errors: no data, and no error belongs to a field."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or [])
    )


class BodySizeLimit:
    """Refuses a request body larger than the limit, before any of it is parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if (
            declared is not None
            and declared.isdigit()
            and int(declared) > self.max_bytes
        ):
            await self.refuse(scope, receive, send)
            return
        # Read the body first, never more than the limit, so a refusal can still be
        # sent before the app has begun to answer.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self.refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = refusal(
            413, f"the request body is larger than {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


def create_app(
    records: InvolvementRecords,
    views: ImpactViews,
    *,
    limits: ApiLimits | None = None,
    run_projections: bool = True,
    web: bool = False,
) -> ASGIApp:
    """The whole HTTP interface; with run_projections, this process also keeps the
    views caught up (turn it off when a separate `fourpi projections run` does); with
    web, the web app's pages are served at / beside the API (fourpi.web.app)."""
    limits = limits or ApiLimits.from_environment()
    graphql = FourPIGraphQL(records, views, limits)

    async def healthz(request: Request) -> Response:
        try:
            head, position = await run_in_thread(
                lambda: (views.head(), views.position())
            )
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "logHead": head,
                "viewsPosition": position,
                "lag": head - position,
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        worker = None
        if run_projections:
            worker = threading.Thread(
                target=views.run, name="fourpi-projections", daemon=True
            )
            worker.start()
        try:
            yield
        finally:
            views.stop()
            if worker is not None:
                await run_in_threadpool(worker.join, 10)

    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if web:
        from fourpi.web.app import create_web_app

        routes.append(
            Mount(
                "/",
                app=create_web_app(
                    records, views, read_wait_seconds=limits.read_wait_seconds
                ),
            )
        )
    app = Starlette(routes=routes, lifespan=lifespan)
    return BodySizeLimit(app, limits.max_body_bytes)
