"""What an operator sees: a log line per request (plain or JSON), /readyz that follows the projection worker, /metrics in the Prometheus format, the GraphiQL page, and the app factory with its proxy settings."""

import asyncio
import contextlib
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eventsourcing.persistence import OperationalError

from fourpi.bootstrap import open_records
from fourpi.domain.access import Role
from fourpi.graphql.app import create_app
from fourpi.graphql.schema import build_schema
from fourpi.operations.graphiql import EXAMPLES, api_page, graphiql_page
from fourpi.operations.observability import HANDLER_NAME, configure_logging
from fourpi.operations.worker import ProjectionWorker, WorkerReports, describe_worker
from fourpi.threads import DATABASE_CALLS_AT_ONCE, database_calls, run_in_thread
from graphql import parse, validate
from tests.api import ApiStore, api_store, data_of, graphql
from tests.helpers import ACTOR, register

WHO = "query WhoAmI { me { role } }"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Whatever a test configures, the root logger is as it was afterwards."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    root.setLevel(level)


def over(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    )


def served(store: ApiStore, **options: Any) -> Any:
    return create_app(
        store.records,
        store.views,
        limits=store.limits,
        run_projections=False,
        **options,
    )


# The request line


def test_each_request_is_logged_once_with_what_an_operator_needs(
    tmp_path, caplog, monkeypatch
) -> None:
    caplog.set_level(logging.INFO, logger="fourpi.requests")
    with api_store(f"sqlite:///{tmp_path}/log.sqlite3") as store:
        mind = store.records.register_organisation(name="Mind", actor=ACTOR)
        evaluator = store.token(mind, Role.EVALUATOR)

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the views broke")

        async def requests() -> list[httpx.Response]:
            async with over(store.app) as client:
                answers = [
                    await graphql(client, WHO, token=evaluator),
                    await graphql(client, "{ me { role } }", token="not a token"),
                    await client.get("/healthz"),
                ]
                monkeypatch.setattr(store.views, "report", broken)
                answers.append(
                    await graphql(
                        client, "{ differences { contributions } }", token=evaluator
                    )
                )
                return answers

        answers = asyncio.run(requests())
    lines = [r for r in caplog.records if r.name == "fourpi.requests"]
    assert len(lines) == 4
    who, anonymous, health, failed = lines
    assert re.fullmatch(
        r"POST /graphql WhoAmI role=evaluator status=200 \d+\.\dms client=\S+",
        who.getMessage(),
    ), who.getMessage()
    assert (anonymous.role, anonymous.operation) == ("anonymous", "query me")
    assert (health.path, health.operation, health.status) == (
        "/healthz",
        "/healthz",
        200,
    )
    error_id = answers[3].json()["errors"][0]["extensions"]["errorId"]
    assert failed.errorIds == [error_id]
    assert failed.getMessage().endswith(f"errorId={error_id}")
    assert failed.operation == "query differences"


def test_a_store_failing_before_any_field_runs_is_logged_with_an_id(
    tmp_path, caplog, monkeypatch
) -> None:
    """The store failing as a request's token is looked up (PostgreSQL restarting,
    a SQLite file's write-ahead log deleted under the server) is an unexpected
    error like any other: the client gets a GraphQL error with an errorId, and the
    request's log line carries it. Before, it escaped the API as a plain-text
    'Internal Server Error' with no id (found by deleting a served SQLite file's
    write-ahead log)."""
    caplog.set_level(logging.INFO, logger="fourpi.requests")
    with api_store(f"sqlite:///{tmp_path}/gone.sqlite3") as store:
        mind = store.records.register_organisation(name="Mind", actor=ACTOR)
        manager = store.token(mind, Role.MANAGER)

        def unreachable(secret: str) -> Any:
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(store.records, "authenticate", unreachable)

        async def ask() -> httpx.Response:
            transport = httpx.ASGITransport(app=store.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test"
            ) as client:
                return await graphql(client, WHO, token=manager)

        answer = asyncio.run(ask())
    assert answer.status_code == 500
    (error,) = answer.json()["errors"]
    error_id = error["extensions"]["errorId"]
    assert error == {
        "message": f"An unexpected error happened (error id {error_id}); "
        "it has been logged for the operators.",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
    }
    (line,) = [r for r in caplog.records if r.name == "fourpi.requests"]
    assert line.errorIds == [error_id]


def test_json_logs_are_one_object_a_line(tmp_path, capsys, restored_logging) -> None:
    configure_logging({"FOURPI_LOG_FORMAT": "json", "FOURPI_LOG_LEVEL": "info"})
    with api_store(f"sqlite:///{tmp_path}/json.sqlite3") as store:
        mind = store.records.register_organisation(name="Mind", actor=ACTOR)
        manager = store.token(mind, Role.MANAGER)

        async def ask() -> None:
            async with over(store.app) as client:
                await graphql(client, WHO, token=manager)

        asyncio.run(ask())
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (request,) = [line for line in lines if line["logger"] == "fourpi.requests"]
    assert request["level"] == "INFO" and request["time"].endswith("+00:00")
    assert {
        k: request[k] for k in ("method", "path", "operation", "role", "status")
    } == {
        "method": "POST",
        "path": "/graphql",
        "operation": "WhoAmI",
        "role": "manager",
        "status": 200,
    }
    assert request["ms"] >= 0 and request["errorIds"] == []


def test_plain_logs_carry_the_time_and_the_level_chosen(
    capsys, restored_logging
) -> None:
    configure_logging({"FOURPI_LOG_LEVEL": "WARNING"})
    logging.getLogger("fourpi.test").info("not shown")
    logging.getLogger("fourpi.test").warning("shown")
    (line,) = capsys.readouterr().err.splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z WARNING fourpi\.test: shown", line
    ), line


def test_printing_a_report_adds_no_lines_to_the_log_at_info(
    capsys, restored_logging
) -> None:
    """WeasyPrint logs each step of each PDF at INFO: some twenty lines a report
    among the request lines (5906 in one hostile session). They come back with
    FOURPI_LOG_LEVEL=DEBUG."""
    from fourpi.web.report import pdf_of

    configure_logging({})
    assert pdf_of("<p>A report</p>").startswith(b"%PDF-")
    assert "weasyprint" not in capsys.readouterr().err
    configure_logging({"FOURPI_LOG_LEVEL": "DEBUG"})
    pdf_of("<p>A report</p>")
    assert "weasyprint.progress" in capsys.readouterr().err


# Readiness


def ready(app: Any) -> httpx.Response:
    async def ask() -> httpx.Response:
        async with over(app) as client:
            return await client.get("/readyz")

    return asyncio.run(ask())


def until(app: Any, status: int, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        response = ready(app)
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.05)


def test_readiness_follows_the_projection_worker(
    database_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("FOURPI_READY_MAX_LAG", "0")
    with api_store(database_url) as store:
        mind = store.records.register_organisation(name="Mind", actor=ACTOR)
        app = served(store)
        assert until(app, 503)["checks"]["worker"] == (
            "no projection worker has reported in the last 30 s"
        )
        worker = ProjectionWorker(store.views, poll_seconds=0.02).start()
        try:
            body = until(app, 200)
            assert body == {
                "status": "ready",
                "checks": {"store": "ok", "views": "ok", "worker": "ok"},
            }
            assert "alive" in describe_worker(WorkerReports(store.views).latest())
        finally:
            worker.stop()
        stopped = until(app, 503)
        assert stopped["status"] == "not ready"
        assert stopped["checks"]["worker"].startswith("no projection worker")
        assert "stopped" in describe_worker(WorkerReports(store.views).latest())

        register(store.records, mind)
        behind = until(app, 503)["checks"]
        assert behind["views"] == "the views are more than 0 events behind the log"
        worker = ProjectionWorker(store.views, poll_seconds=0.02).start()
        try:
            until(app, 200)
        finally:
            worker.stop()


class HeldAtStart(logging.Handler):
    """Holds a projection worker's thread at its first log line until released."""

    def __init__(self) -> None:
        super().__init__()
        self.reached = threading.Event()
        self.let_go = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "started at log position" in record.getMessage():
            self.reached.set()
            self.let_go.wait(10)


def test_a_worker_stopped_before_its_thread_begins_to_run_stops_all_the_same(
    database_url: str,
) -> None:
    """A server shut down as it starts (or a test over in a moment) stops its worker
    before the worker's thread has begun to run the views. That run must end, not
    go on reading a store about to be closed."""
    logger = logging.getLogger("fourpi.operations.worker")
    hold = HeldAtStart()
    level = logger.level
    logger.addHandler(hold)
    logger.setLevel(logging.INFO)
    with api_store(database_url) as store:
        worker = ProjectionWorker(store.views, poll_seconds=0.02).start()
        try:
            assert hold.reached.wait(10)
            worker.stop(timeout=0.2)  # its thread is still held, so it is not yet
            hold.let_go.set()  # running the views; now it goes on to them
            deadline = time.monotonic() + 10
            while worker.alive() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not worker.alive(), "the worker's run went on after its stop"
        finally:
            logger.removeHandler(hold)
            logger.setLevel(level)
            hold.let_go.set()
            store.views.stop()
            worker.stop()


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """The app's lifespan, started and shut down as a server does."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    task = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put)
    )
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await task


def test_a_server_keeping_its_own_views_is_ready(tmp_path) -> None:
    with api_store(f"sqlite:///{tmp_path}/own.sqlite3") as store:
        app = create_app(store.records, store.views, run_projections=True)

        async def ready_soon() -> None:
            async with running(app), over(app) as client:
                deadline = time.monotonic() + 20
                while (await client.get("/readyz")).status_code != 200:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.05)

        asyncio.run(ready_soon())


def test_the_health_checks_are_answered_while_every_database_thread_is_busy(
    tmp_path,
) -> None:
    """A load balancer asks /healthz (or /readyz) whether a server is up: while
    answers fill every database thread, it is answered rather than queued behind
    them and taken for down."""
    with api_store(f"sqlite:///{tmp_path}/busy.sqlite3") as store:
        app = served(store)
        let_go = threading.Event()

        async def ask() -> list[int]:
            busy = [
                asyncio.ensure_future(run_in_thread(lambda: let_go.wait(30)))
                for _ in range(DATABASE_CALLS_AT_ONCE + 2)
            ]
            try:
                while database_calls().borrowed_tokens < DATABASE_CALLS_AT_ONCE:
                    await asyncio.sleep(0.01)
                async with over(app) as client:
                    # Far longer than either takes; without threads of their own
                    # they wait for the busy ones, which wait for `let_go`.
                    answers = [
                        await asyncio.wait_for(client.get(path), 20)
                        for path in ("/healthz", "/readyz")
                    ]
            finally:
                let_go.set()
                await asyncio.gather(*busy)
            return [a.status_code for a in answers]

        # Ready is 503 here (no projection worker): what counts is an answer.
        assert asyncio.run(ask()) == [200, 503]


async def checks_ended() -> None:
    """Wait for the health checks still running in their threads (they run on past
    their answer) to end, before the test closes the store under them: closing a
    SQLite connection another thread is reading from crashed the test's process
    (a segmentation fault, seen once in CI)."""
    from fourpi import threads

    under_way = threads._health_checks.get(asyncio.get_running_loop(), {})
    await asyncio.gather(*under_way.values(), return_exceptions=True)


def test_the_health_checks_answer_when_the_store_stops_answering(
    tmp_path, monkeypatch
) -> None:
    """Found by pointing `fourpi serve` on PostgreSQL through a proxy and stopping
    the proxy: each read of the store waits 30 s for a connection, ten times over,
    so /healthz answered 503 after 152 s and /readyz no sooner, while a load
    balancer's probes queued behind them. Now each says the store does not answer
    within HEALTH_CHECK_SECONDS, and probes asked meanwhile wait for the check
    under way rather than each starting one (so no more threads are held)."""
    from fourpi import threads

    monkeypatch.setattr(threads, "HEALTH_CHECK_SECONDS", 0.2)
    with api_store(f"sqlite:///{tmp_path}/down.sqlite3") as store:
        app = served(store)
        back = threading.Event()
        stalled = []

        def no_answer(read: Any) -> Any:
            def stalled_read() -> Any:
                stalled.append(read)
                back.wait(60)
                return read()

            return stalled_read

        for name in ("head", "position"):
            monkeypatch.setattr(
                store.views, name, no_answer(getattr(store.views, name))
            )

        async def ask() -> tuple[list[httpx.Response], int]:
            async with over(app) as client:
                try:
                    answers = [
                        await asyncio.wait_for(client.get(path), 20)
                        for path in ("/healthz", "/readyz") * 3
                    ]
                    return answers, len(stalled)
                finally:
                    back.set()
                    await checks_ended()

        answers, held = asyncio.run(ask())
        assert [a.status_code for a in answers] == [503] * 6
        assert answers[0].json() == {"status": "unavailable"}
        assert answers[1].json()["checks"]["store"] == (
            "the store did not answer within 0.2 s"
        )
        assert held == 2  # one check of each kind, shared by the probes


def test_metrics_are_served_when_the_store_stops_answering(
    tmp_path, monkeypatch
) -> None:
    """The same stopped proxy held every scrape of /metrics for minutes, each in a
    database thread: now a scrape leaves out the figures read from the store and
    serves the rest (the requests counted, their times) within
    HEALTH_CHECK_SECONDS."""
    from fourpi import threads

    monkeypatch.setattr(threads, "HEALTH_CHECK_SECONDS", 0.2)
    with api_store(f"sqlite:///{tmp_path}/down.sqlite3") as store:
        app = served(store, metrics=True)
        back = threading.Event()
        head = store.views.head
        monkeypatch.setattr(store.views, "head", lambda: back.wait(60) and head())

        async def ask() -> list[httpx.Response]:
            async with over(app) as client:
                try:
                    return [
                        await asyncio.wait_for(client.get("/metrics"), 20)
                        for _ in range(2)
                    ]
                finally:
                    back.set()
                    await checks_ended()

        scrapes = asyncio.run(ask())
        assert [s.status_code for s in scrapes] == [200, 200]
        assert 'fourpi_requests_total{operation="/metrics",status="200"} 1.0' in (
            scrapes[1].text
        )
        assert "fourpi_log_head" not in scrapes[1].text


# Metrics


def test_metrics_are_off_unless_asked_for(tmp_path) -> None:
    async def ask(app: Any) -> httpx.Response:
        async with over(app) as client:
            return await client.get("/metrics")

    with api_store(f"sqlite:///{tmp_path}/off.sqlite3") as store:
        assert asyncio.run(ask(store.app)).status_code == 404


def test_metrics_count_a_request(database_url: str) -> None:
    with api_store(database_url, worker=True) as store:
        mind = store.records.register_organisation(name="Mind", actor=ACTOR)
        evaluator = store.token(mind, Role.EVALUATOR)
        app = served(store, metrics=True)
        register(store.records, mind)

        async def scrape() -> str:
            async with over(app) as client:
                data_of(await graphql(client, WHO, token=evaluator))
                ask = "{ differences { contributions } }"
                for _ in range(2):
                    data_of(await graphql(client, ask, token=evaluator))
                response = await client.get("/metrics")
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/plain")
                return response.text

        text = asyncio.run(scrape())
        head = store.head()
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert all(line.startswith("fourpi_") for line in samples), samples
    assert 'fourpi_requests_total{operation="WhoAmI",status="200"} 1.0' in samples
    assert 'fourpi_request_seconds_count{operation="WhoAmI"} 1.0' in samples
    value = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in samples}
    assert value["fourpi_log_head"] == head
    assert value["fourpi_views_position"] + value["fourpi_views_lag"] == head
    assert value["fourpi_answer_cache_misses_total"] >= 1
    assert value["fourpi_group_commit_batches_count"] >= 1


def test_clients_cannot_grow_the_metrics_without_end(tmp_path) -> None:
    with api_store(f"sqlite:///{tmp_path}/names.sqlite3") as store:
        mind = store.records.register_organisation(name="Mind", actor=ACTOR)
        evaluator = store.token(mind, Role.EVALUATOR)
        app = served(store, metrics=True)

        async def scrape() -> str:
            async with over(app) as client:
                for n in range(210):
                    await client.post(
                        "/graphql",
                        json={"query": WHO, "operationName": f"Op{n}"},
                        headers={"Authorization": f"Bearer {evaluator}"},
                    )
                # A stranger's names, with no token or a wrong one, are one label
                # and take none of the callers' (found from outside: 200 made-up
                # names from anyone left every real operation counted as "other").
                for n in range(300):
                    await client.post(
                        "/graphql",
                        json={"query": WHO, "operationName": f"Stranger{n}"},
                        headers={"Authorization": "Bearer wrong"} if n % 2 else {},
                    )
                return (await client.get("/metrics")).text

        text = asyncio.run(scrape())
    assert 'operation="Op199"' in text and 'operation="Op200"' not in text
    assert "Stranger" not in text
    others = re.findall(
        r'fourpi_requests_total\{operation="other",status="\d+"\} (\S+)', text
    )
    assert sum(float(n) for n in others) == 10
    strangers = re.findall(
        r'fourpi_requests_total\{operation="no valid token",status="\d+"\} (\S+)',
        text,
    )
    assert sum(float(n) for n in strangers) == 300


# GraphiQL


def test_graphiql_says_where_its_scripts_come_from_and_keeps_no_token() -> None:
    page = graphiql_page()
    first_comment = page[page.index("<!--") : page.index("-->")]
    assert "unpkg.com CDN" in first_comment
    assert "Headers pane" in first_comment
    assert "shouldPersistHeaders: false" in page
    assert "shouldPersistHeaders: true" not in page
    assert "parameters.q || FOURPI_EXAMPLES" in page


async def browser_opens_graphql(app: Any) -> httpx.Response:
    async with over(app) as client:
        return await client.get("/graphql", headers={"Accept": "text/html"})


def test_graphiql_is_served_at_the_api_address_when_turned_on(tmp_path) -> None:
    with api_store(f"sqlite:///{tmp_path}/page.sqlite3") as store:
        response = asyncio.run(browser_opens_graphql(served(store, graphiql=True)))
    assert response.status_code == 200 and response.text == graphiql_page()


def test_by_default_a_browser_at_the_api_gets_a_page_that_loads_nothing(
    tmp_path,
) -> None:
    """GraphiQL's page loads React and GraphiQL from the unpkg.com CDN, and it was
    what anyone opening /graphql got. Pages load nothing from a CDN: by default the
    page says how to use the API, with no script, image or stylesheet, under a
    policy that would refuse them."""
    with api_store(f"sqlite:///{tmp_path}/page.sqlite3") as store:
        response = asyncio.run(browser_opens_graphql(store.app))
    assert response.status_code == 200
    assert response.text == api_page()
    page = response.text.lower()
    assert not re.search(r"<script|<link|<img|<iframe|\bsrc=|style=|url\(", page)
    assert "fourpi_graphiql=on" in page and "unpkg.com" not in page.split("<h2>")[0]
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_fourpi_graphiql_turns_graphiql_on(tmp_path, monkeypatch) -> None:
    from fourpi.operations.serving import ServeSettings, build_app

    assert ServeSettings.from_environment({}).graphiql is False
    monkeypatch.setenv("FOURPI_PROJECTIONS", "off")
    for setting, page in (("on", graphiql_page()), ("off", api_page())):
        monkeypatch.setenv("FOURPI_GRAPHIQL", setting)
        app = build_app(
            ServeSettings.from_environment(), f"sqlite:///{tmp_path}/{setting}.sqlite3"
        )
        assert asyncio.run(browser_opens_graphql(app)).text == page


EXAMPLE_ROLES = {
    "WhoAmI": (Role.EVALUATOR, Role.MANAGER, Role.AUDITOR, Role.ADMIN),
    "Differences": (Role.EVALUATOR, Role.MANAGER, Role.AUDITOR),
    "LaunchInitiative": (Role.MANAGER,),
    "Integrity": (Role.AUDITOR,),
    "IssueEvaluatorToken": (Role.ADMIN,),
}


def test_every_graphiql_example_is_valid_and_runs_for_its_roles(tmp_path) -> None:
    document = parse(EXAMPLES)
    assert validate(build_schema()._schema, document) == []
    operations: list[Any] = list(document.definitions)
    names = [operation.name.value for operation in operations]
    assert names == list(EXAMPLE_ROLES)
    with api_store(f"sqlite:///{tmp_path}/examples.sqlite3", worker=True) as store:
        mind = store.records.register_organisation(name="Mind", actor=ACTOR)

        async def run_all() -> None:
            async with over(store.app) as client:
                for name, roles in EXAMPLE_ROLES.items():
                    for role in roles:
                        response = await client.post(
                            "/graphql",
                            json={"query": EXAMPLES, "operationName": name},
                            headers={
                                "Authorization": f"Bearer {store.token(mind, role)}"
                            },
                        )
                        data_of(response)

        asyncio.run(run_all())


# The app factory


def test_the_app_factory_refuses_a_time_zone_that_is_not_one(
    tmp_path, monkeypatch, capsys, restored_logging
) -> None:
    """Before it serves anything: otherwise every page with a date on it fails. The
    exit code is the one uvicorn and gunicorn stop for, not start again."""
    from fourpi.operations.serving import LASTING, app_from_environment

    monkeypatch.setenv("FOURPI_DATABASE_URL", f"sqlite:///{tmp_path}/f.sqlite3")
    monkeypatch.setenv("FOURPI_PROJECTIONS", "off")
    monkeypatch.setenv("FOURPI_TIME_ZONE", "Mars/Olympus")
    with pytest.raises(SystemExit) as exited:
        app_from_environment()
    assert exited.value.code == LASTING
    assert capsys.readouterr().err.startswith("$FOURPI_TIME_ZONE: must be a time zone")


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("FOURPI_GROUP_COMMIT", "maybe", "$FOURPI_GROUP_COMMIT: must be on or off"),
        ("FOURPI_MAX_QUERY_DEPTH", "0", "$FOURPI_MAX_QUERY_DEPTH: must be at least 2"),
        ("FOURPI_SMTP_URL", "smtp://mail.example", "$FOURPI_MAIL_FROM is not"),
        ("FOURPI_PUBLIC_URL", "notaurl", "$FOURPI_PUBLIC_URL: must be where"),
    ],
)
def test_uvicorn_with_the_app_factory_names_a_bad_setting_in_one_line(
    tmp_path, variable, value, complaint
) -> None:
    """What an operator saw was uvicorn's traceback, the setting named at its end
    (the group commit setting is read when the store opens); the API's limits and
    the mail settings were not read at all until a query or a note needed them."""
    store = tmp_path / "f.sqlite3"
    environment = {
        name: given for name, given in os.environ.items() if name != "FOURPI_MAIL_FROM"
    } | {"FOURPI_DATABASE_URL": f"sqlite:///{store}", variable: value}
    started = subprocess.run(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "--factory",
            "fourpi.operations.serving:app_from_environment",
            "--port",
            "9301",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode != 0
    assert "Traceback" not in started.stderr, started.stderr
    assert complaint in started.stderr.splitlines()[-1], started.stderr
    assert not store.exists()


def test_the_app_factory_reads_the_environment(
    tmp_path, monkeypatch, caplog, restored_logging
) -> None:
    from fourpi.operations.serving import app_from_environment

    url = f"sqlite:///{tmp_path}/factory.sqlite3"
    records = open_records(url)
    mind = records.register_organisation(name="Mind", actor=ACTOR)
    _, token = records.issue_token(organisation_id=mind, role=Role.MANAGER, actor="t")
    records.close()
    for name, value in {
        "FOURPI_DATABASE_URL": url,
        "FOURPI_PROJECTIONS": "off",
        "FOURPI_METRICS": "on",
        "FOURPI_ROOT_PATH": "/fourpi",
        "FOURPI_PROXY_HEADERS": "on",
        "FOURPI_FORWARDED_ALLOW_IPS": "*",
    }.items():
        monkeypatch.setenv(name, value)
    app = app_from_environment()
    caplog.set_level(logging.INFO, logger="fourpi.requests")

    async def ask() -> tuple[httpx.Response, httpx.Response]:
        async with over(app) as client:
            who = await client.post(
                "/graphql",
                json={"query": WHO},
                headers={
                    "Authorization": f"Bearer {token}",
                    "X-Forwarded-For": "203.0.113.7",
                },
            )
            return who, await client.get("/fourpi/metrics")

    who, metrics = asyncio.run(ask())
    assert data_of(who) == {"me": {"role": "MANAGER"}}
    assert metrics.status_code == 200 and "fourpi_requests_total" in metrics.text
    line = next(r for r in caplog.records if r.name == "fourpi.requests")
    assert line.path == "/fourpi/graphql" and line.client == "203.0.113.7"


def test_a_bad_serving_setting_is_named(monkeypatch) -> None:
    from fourpi.operations.serving import ServeSettings

    with pytest.raises(ValueError, match=r"\$FOURPI_ROOT_PATH: must start with /"):
        ServeSettings.from_environment({"FOURPI_ROOT_PATH": "fourpi"})
    with pytest.raises(ValueError, match=r"\$FOURPI_METRICS: must be on or off"):
        ServeSettings.from_environment({"FOURPI_METRICS": "sometimes"})


def test_no_log_line_or_metric_label_carries_a_secret_from_a_path() -> None:
    import secrets
    from uuid import uuid4

    from fourpi.operations.observability import path_for_log, path_for_metrics

    secret = secrets.token_urlsafe(32)
    record = str(uuid4())
    assert path_for_log(f"/invitations/{secret}") == "/invitations/{secret}"
    assert secret not in path_for_metrics(f"/p/{secret}/answers")
    # Record ids stay in the log (they sign no one in), but not in metric labels.
    assert path_for_log(f"/initiatives/{record}") == f"/initiatives/{record}"
    assert path_for_metrics(f"/initiatives/{record}") == "/initiatives/{id}"
    assert path_for_log("/sign-in") == "/sign-in"
