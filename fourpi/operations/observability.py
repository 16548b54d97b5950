"""What an operator sees of a running fourpi: logging configured in one place, a line per request, readiness (/readyz) and Prometheus metrics (/metrics)."""

import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fourpi.config import environment_int

LOG_FORMAT_VARIABLE = "FOURPI_LOG_FORMAT"
LOG_LEVEL_VARIABLE = "FOURPI_LOG_LEVEL"
READY_MAX_LAG_VARIABLE = "FOURPI_READY_MAX_LAG"
DEFAULT_READY_MAX_LAG = 1_000

request_log = logging.getLogger("fourpi.requests")

# Logging


RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({})))
"""What every log record has: anything else on a record was given in `extra`."""


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {k: v for k, v in vars(record).items() if k not in RECORD_ATTRIBUTES}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record arrives (a test's capture, or
    the command line runner's, may replace it after logging is configured)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


HANDLER_NAME = "fourpi"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    environ: Mapping[str, str] | None = None, *, default_level: str = "INFO"
) -> None:
    """Every logger (fourpi's, uvicorn's, the libraries') to standard error through
    one handler: plain text, or JSON lines with FOURPI_LOG_FORMAT=json; the level
    from FOURPI_LOG_LEVEL (DEBUG, INFO, WARNING, ERROR), else `default_level`."""
    environ = os.environ if environ is None else environ
    format_name = (environ.get(LOG_FORMAT_VARIABLE) or "plain").strip().lower()
    if format_name not in ("plain", "json"):
        raise ValueError(
            f"${LOG_FORMAT_VARIABLE}: must be plain or json, not {format_name!r}"
        )
    level_name = (environ.get(LOG_LEVEL_VARIABLE) or default_level).strip().upper()
    if level_name not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError(
            f"${LOG_LEVEL_VARIABLE}: must be DEBUG, INFO, WARNING or ERROR, "
            f"not {level_name!r}"
        )
    handler = StandardError()
    if format_name == "json":
        handler.setFormatter(JsonLines())
    else:
        formatter = logging.Formatter(PLAIN_FORMAT)
        formatter.converter = time.gmtime
        formatter.default_msec_format = "%s.%03dZ"
        handler.setFormatter(formatter)
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in list(root.handlers):
        # Ours from an earlier call goes; another's (a test's capture) stays.
        if old.get_name() == HANDLER_NAME:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level_name)
    # WeasyPrint logs every step of every PDF at INFO, some twenty lines a report:
    # shown only when debugging.
    logging.getLogger("weasyprint.progress").setLevel(
        logging.NOTSET if level_name == "DEBUG" else logging.WARNING
    )
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own configuration is skipped (log_config=None): its records
        # reach the one handler above; the per-request line is ours.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


# What a request did, gathered while it runs


@dataclass
class RequestNotes:
    role: str = "-"
    error_ids: list[str] = field(default_factory=list)
    unknown_path: bool = False


current_request: ContextVar[RequestNotes | None] = ContextVar(
    "fourpi_request", default=None
)


def note_role(role: object | None) -> None:
    """The caller's role, for the request's log line (None: no valid token)."""
    notes = current_request.get()
    if notes is not None:
        notes.role = str(role) if role is not None else "anonymous"


def note_unknown_path() -> None:
    """The request's path is no page's: counted in the metrics as UNKNOWN_PATH."""
    notes = current_request.get()
    if notes is not None:
        notes.unknown_path = True


def note_error_id(error_id: str) -> None:
    """An unexpected error's id, for the request's log line."""
    notes = current_request.get()
    if notes is not None:
        notes.error_ids.append(error_id)


OPERATION_NAME = re.compile(r"^\s*(query|mutation|subscription)\b\s*([_A-Za-z]\w*)?")
FIRST_FIELD = re.compile(r"{\s*(?:[_A-Za-z]\w*\s*:\s*)?([_A-Za-z]\w*)")
NAME_READ_BYTES = 65_536
"""How much of a body is kept to read the operation's name from."""


def operation_of(method: str, query_string: bytes, body: bytes) -> str:
    """The GraphQL operation a request names, for logs and metrics: its
    operationName, else the operation's own name, else its type and first field."""
    if method == "GET":
        given = {k: v[0] for k, v in parse_qs(query_string.decode("latin-1")).items()}
    else:
        try:
            given = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            return "unreadable"
        if isinstance(given, list):
            return "batch"
    if not isinstance(given, dict):
        return "unreadable"
    name = given.get("operationName")
    query = given.get("query")
    if isinstance(name, str) and name:
        return clean_name(name)
    if not isinstance(query, str):
        return "page" if method == "GET" and not given else "no-query"
    named = OPERATION_NAME.match(query)
    kind = named.group(1) if named else "query"
    if named and named.group(2):
        return clean_name(named.group(2))
    first = FIRST_FIELD.search(query)
    return f"{kind} {clean_name(first.group(1))}" if first else kind


def clean_name(name: str) -> str:
    return re.sub(r"[^\w]", "_", name)[:64]


# Metrics


class Metrics:
    """Prometheus metrics, each prefixed fourpi_, in a registry of this app's own."""

    MAX_OPERATIONS = 200
    """Distinct operation names counted apart; clients choose them, so later ones
    are counted as 'other' (a label a client could grow without end is a leak)."""

    def __init__(self, views: Any, records: Any) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "fourpi_requests",
            "HTTP requests answered, by GraphQL operation (or path) and status.",
            ["operation", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fourpi_request_seconds",
            "Time to answer a request, by GraphQL operation (or path).",
            ["operation"],
            registry=self.registry,
        )
        self.group_commit = Histogram(
            "fourpi_group_commit_batches",
            "Saves committed together in one transaction (group commit).",
            buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64),
            registry=self.registry,
        )
        self.heavy_work_waiting = Gauge(
            "fourpi_heavy_work_waiting",
            "Reports, XLSX workbooks, workbook uploads and integrity checks "
            "waiting their turn in this process (one more is refused with 503).",
            registry=self.registry,
        )
        self.operations: set[str] = set()
        committer = getattr(records.recorder, "group_commit", None)
        if committer is not None:
            committer.observers.append(self.group_commit.observe)
        self.views = views

    def label(self, operation: str) -> str:
        if operation in self.operations or operation in (UNKNOWN_PATH, NO_VALID_TOKEN):
            return operation  # the labels every stranger shares are always counted
        if len(self.operations) >= self.MAX_OPERATIONS:
            return "other"
        self.operations.add(operation)
        return operation

    def observe(self, operation: str, status: int, seconds: float) -> None:
        label = self.label(operation)
        self.requests.labels(label, str(status)).inc()
        self.latency.labels(label).observe(seconds)

    async def endpoint(self, request: Request) -> Response:
        """The metrics, with those read from the store (StoreCollector) left out
        when it does not answer within HEALTH_CHECK_SECONDS: the requests counted
        are worth most while it is away."""
        from prometheus_client import (
            CONTENT_TYPE_LATEST,
            CollectorRegistry,
            generate_latest,
        )

        from fourpi import threads

        store = CollectorRegistry()
        try:
            store.register(
                await threads.health_check(
                    "metrics", lambda: StoreCollector(self.views)
                )
            )
        except TimeoutError:
            request_log.error(
                "metrics: the store did not answer within %g s; its figures are left out",
                threads.HEALTH_CHECK_SECONDS,
            )
        # Read on this process's event loop, whose queue it is.
        self.heavy_work_waiting.set(threads.heavy_work_waiting())
        body = generate_latest(self.registry) + generate_latest(store)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class StoreCollector:
    """What is read from the store at each scrape, read when the collector is made:
    the log's head, the views' position and lag, the answer cache's hits and
    misses, the worker's last report."""

    def __init__(self, views: Any) -> None:
        from fourpi.operations.worker import WorkerReports

        self.views = views
        self.position = views.position()
        self.head = views.head()  # read second, so the lag is never negative
        self.latest = WorkerReports(views).latest()

    def describe(self) -> list[Any]:
        return []  # read only at scrape time, never when registered

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        position, head = self.position, self.head
        yield GaugeMetricFamily(
            "fourpi_log_head", "The event log's last position.", head
        )
        yield GaugeMetricFamily(
            "fourpi_views_position",
            "The log position the views have reached.",
            position,
        )
        yield GaugeMetricFamily(
            "fourpi_views_lag",
            "Events recorded but not yet in the views.",
            head - position,
        )
        reports = self.views.reports
        yield CounterMetricFamily(
            "fourpi_answer_cache_hits",
            "Answers served from those already computed.",
            reports.hits,
        )
        yield CounterMetricFamily(
            "fourpi_answer_cache_misses", "Answers computed.", reports.misses
        )
        latest = self.latest
        if latest is not None:
            yield GaugeMetricFamily(
                "fourpi_worker_report_age_seconds",
                "Seconds since a projection worker last reported.",
                latest.age(),
            )


# The request line


SECRET_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{24,}$")
UNSAFE_IN_LOG = re.compile(r"[\x00-\x20\x7f-\xa0\u2028\u2029]")
UNKNOWN_PATH = "unknown path"
NO_VALID_TOKEN = "no valid token"
"""The one label of every GraphQL request from a caller without a valid token:
anyone can name an operation, so a stranger's names would otherwise take every
label (Metrics.MAX_OPERATIONS) from the callers the API serves."""
NOT_ROUTED = "refused before routing"
"""The one label of every request refused before a route took it (too large, too
slow): its path is the caller's to make up."""
CLIENT_WENT_AWAY = 499
"""The status logged for a request whose client left before any answer: nginx's."""
UUID_SEGMENT = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def path_for_log(path: str) -> str:
    """The path as logs and metrics may show it: a segment that looks like a secret
    (an invitation's or a personal link's, long and random) is replaced by
    `{secret}`, so no log line or metric label can be used to sign in; a space or
    a control character (%0A in the URL) as it was sent, so no path can begin a
    line or a field of its own."""
    return UNSAFE_IN_LOG.sub(
        lambda found: f"%{ord(found.group()):02X}",
        "/".join(
            "{secret}"
            if SECRET_SEGMENT.match(part) and not UUID_SEGMENT.match(part)
            else part
            for part in path.split("/")
        ),
    )


def path_for_metrics(path: str) -> str:
    """The logged path with record ids as `{id}` too, so labels stay few."""
    return "/".join(
        "{id}" if UUID_SEGMENT.match(part) else part
        for part in path_for_log(path).split("/")
    )


def route_label(scope: Scope, asked: Scope) -> str:
    """A page's metric label: its address as the route table names it
    (`/initiatives/{initiative_id}`), never as sent, whose parts a caller chooses;
    NOT_ROUTED for a request refused before any route took it. `scope` is the
    request's scope once answered, `asked` a copy of it as it came."""
    route = scope.get("route")
    if route is None and "router" in scope:
        route = route_taken(scope["router"], asked)
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    if isinstance(route, Route):
        return route.path
    return NOT_ROUTED


def route_taken(router: Router, asked: Scope) -> BaseRoute | None:
    """The route the router took for a request as it came, as the router chooses:
    the first that matches it fully, else the first that matches it in part (a
    method it does not take). Starlette records it in the scope (`route`) only from
    1.x; before, every page was counted as NOT_ROUTED."""
    partly = None
    for route in router.routes:
        match, _ = route.matches(asked)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partly is None:
            partly = route
    return partly


class RequestLog:
    """Logs a line per request (method, path or operation, role, status, time, error
    ids) and counts it in the metrics when they are on."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # As it came, for its metric label (the router adds to the scope as it
        # routes): only when the metrics are on.
        asked = dict(scope) if self.metrics is not None else scope
        notes = RequestNotes()
        token = current_request.set(notes)
        body = bytearray()
        status = 500
        answered = False

        async def reading() -> Message:
            nonlocal status
            message = await receive()
            if message["type"] == "http.request" and len(body) < NAME_READ_BYTES:
                body.extend(message.get("body", b"")[: NAME_READ_BYTES - len(body)])
            if message["type"] == "http.disconnect" and not answered:
                status = CLIENT_WENT_AWAY
            return message

        async def sending(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                if status != CLIENT_WENT_AWAY:  # else an answer to no one
                    status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, reading, sending)
        finally:
            current_request.reset(token)
            seconds = time.perf_counter() - started
            path = path_for_log(scope.get("path", ""))
            method: str = scope.get("method", "")
            operation = (
                operation_of(method, scope.get("query_string", b""), bytes(body))
                if path.endswith("/graphql")
                else path_for_metrics(path)
            )
            if operation == "page":
                # GraphiQL, or the page saying how to use the API (FOURPI_GRAPHIQL).
                operation = f"{path} (page)"
            client = (scope.get("client") or ("-",))[0]
            request_log.info(
                "%s %s%s role=%s status=%d %.1fms client=%s%s",
                method,
                path,
                "" if operation == path else f" {operation}",
                notes.role,
                status,
                seconds * 1000,
                client,
                "".join(f" errorId={e}" for e in notes.error_ids),
                extra={
                    "method": method,
                    "path": path,
                    "operation": operation,
                    "role": notes.role,
                    "status": status,
                    "ms": round(seconds * 1000, 1),
                    "client": client,
                    "errorIds": notes.error_ids,
                },
            )
            if self.metrics is not None:
                # Paths no page has are one label: a stranger's made-up paths
                # would otherwise take every label (MAX_OPERATIONS) from the pages;
                # so are methods no page takes (405) at a path with a made-up part.
                unknown = notes.unknown_path or status in (404, 405)
                if unknown:
                    label = UNKNOWN_PATH
                elif not path.endswith("/graphql"):
                    label = route_label(scope, asked)
                elif notes.role in ("-", "anonymous"):
                    label = NO_VALID_TOKEN
                else:
                    label = operation
                self.metrics.observe(label, status, seconds)


# Readiness


def ready_max_lag() -> int:
    return environment_int(READY_MAX_LAG_VARIABLE, DEFAULT_READY_MAX_LAG)


def readiness_checks(
    views: Any, max_lag: int, worker_alive: Callable[[], bool]
) -> dict[str, str]:
    """Each check's verdict: 'ok', or what is wrong (no count that reveals activity)."""
    from fourpi.operations.worker import ALIVE_WITHIN_SECONDS, WorkerReports

    try:
        # The views' position first: the log's head read after it is never behind
        # it, so the lag is never negative.
        position = views.position()
        head = views.head()
    except Exception:
        request_log.exception("readiness: the store did not answer")
        return {
            "store": "the store does not answer",
            "views": "unknown",
            "worker": "unknown",
        }
    checks = {"store": "ok"}
    checks["views"] = (
        "ok"
        if head - position <= max_lag
        else f"the views are more than {max_lag} events behind the log"
    )
    if worker_alive():
        checks["worker"] = "ok"
    else:
        latest = WorkerReports(views).latest()
        checks["worker"] = (
            "ok"
            if latest is not None and latest.alive()
            else f"no projection worker has reported in the last {ALIVE_WITHIN_SECONDS:g} s"
        )
    return checks


def readiness_endpoint(
    views: Any, worker_alive: Callable[[], bool]
) -> Callable[[Request], Any]:
    max_lag = ready_max_lag()

    async def readyz(request: Request) -> Response:
        from fourpi import threads

        try:
            checks = await threads.health_check(
                "readyz", lambda: readiness_checks(views, max_lag, worker_alive)
            )
        except TimeoutError:
            request_log.error(
                "readiness: the store did not answer within %g s",
                threads.HEALTH_CHECK_SECONDS,
            )
            checks = {
                "store": "the store did not answer within "
                f"{threads.HEALTH_CHECK_SECONDS:g} s",
                "views": "unknown",
                "worker": "unknown",
            }
        ready = all(verdict == "ok" for verdict in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    return readyz
