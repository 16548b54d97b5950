"""fourpi serve: the web app and the API, in one process or several."""

import contextlib
import errno
import os
import socket
import sys
from typing import Any

import click

from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.cli.common import (
    chosen_database,
    database_option,
    given_text,
)
from fourpi.config import (
    DATABASE_URL_VARIABLE,
    Database,
)
from fourpi.operations.observability import configure_logging


@main.command()
@database_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    callback=lambda _, __, host: given_host(host),
    help="The address to listen on.",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="The port to listen on.",
)
@click.option(
    "--projections/--no-projections",
    default=None,
    help="Keep the impact views caught up in this process (the default, or "
    "$FOURPI_PROJECTIONS). Turn it off for extra API processes when one "
    "`fourpi projections run` worker serves the database.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="API processes on this port (PostgreSQL only). With projections on, this "
    "process keeps the views and the API processes leave them to it.",
)
@click.option(
    "--metrics/--no-metrics",
    default=None,
    help="Serve Prometheus metrics at /metrics (off by default, or $FOURPI_METRICS).",
)
@click.option(
    "--graphiql/--no-graphiql",
    default=None,
    help="Serve GraphiQL to a browser opening /graphql (off by default, or "
    "$FOURPI_GRAPHIQL). Its scripts come from the unpkg.com CDN.",
)
def serve(
    database_url: str | None,
    host: str,
    port: int,
    projections: bool | None,
    workers: int,
    metrics: bool | None,
    graphiql: bool | None,
) -> None:
    """Serve the web app at / and the GraphQL API at /graphql, with liveness at /healthz and readiness at /readyz.

    Every request needs 'Authorization: Bearer <token>' from `fourpi tokens create`.
    The proxy settings and the API's limits come from the environment (README,
    Configuration)."""
    import dataclasses

    import uvicorn

    from fourpi.operations.serving import build_app, server_settings

    configure_logging()
    database = chosen_database(database_url)
    try:
        settings = server_settings()
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if projections is not None:
        settings = dataclasses.replace(settings, projections=projections)
    if metrics is not None:
        settings = dataclasses.replace(settings, metrics=metrics)
    if graphiql is not None:
        settings = dataclasses.replace(settings, graphiql=graphiql)
    from fourpi.operations.connections import BoundedHttp

    served = dict(
        host=host, port=port, log_config=None, proxy_headers=False, http=BoundedHttp
    )
    raise_open_file_limit()
    if workers == 1:
        app = build_app(settings, database.url)
        listener = listening(host, port)
        port = listener.getsockname()[1]  # the one given, or the free one 0 chose
        click.echo(f"Serving {database.display}: the web app at http://{host}:{port}/")
        click.echo(f"The API at http://{host}:{port}/graphql")
        server = uvicorn.Server(uvicorn.Config(app, **served))  # type: ignore[arg-type]
        try:
            server.run(sockets=[listener])
        except KeyboardInterrupt:
            if not server.started:
                # Ctrl-C before it was serving: the person stopped it, as
                # Ctrl-C earlier does (fourpi.command), not a failure to start.
                raise click.Abort from None
            return
        if not server.started:
            sys.exit(3)  # as uvicorn.run: the app did not start
        return
    if database.backend == "sqlite":
        raise click.UsageError(
            f"--workers {workers}: several API processes need PostgreSQL. On one "
            "SQLite file they would queue behind its single writer, and an erasure "
            "could not clear the write-ahead log while they hold it open."
        )
    serve_several(database, settings, workers, served)


def given_host(host: str) -> str:
    """--host as given, refused when empty: the empty address is every address of
    the machine, so `--host "$HOST"` with $HOST never set served the world."""
    if not given_text(host, "--host").strip():
        raise click.BadParameter(
            "must not be empty: give an address of this machine, as 127.0.0.1, or "
            "0.0.0.0 for every one",
            param_hint="--host",
        )
    return host


MOST_OPEN_FILES = 1_048_576
"""The soft limit asked for where the hard one is unlimited."""


def raise_open_file_limit() -> None:
    """Raise this process's limit of open files (each connection holds one) from its
    soft value to its hard one. Under the common soft limit of 1,024, one client
    holding 1,100 slow connections made every other request fail until they
    closed; the hard limit (often 524,288 or more) is what the system allows."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MOST_OPEN_FILES if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def listening(host: str, port: int) -> socket.socket:
    """A socket bound to the address, as uvicorn binds one; or a one-line refusal
    saying why not, before anything says it is serving there (uvicorn's own error
    came after "Serving ... at", in a log line)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            reason = (
                "another program is listening there; stop it, or choose another --port"
            )
        elif error.errno == errno.EACCES:
            reason = "this user may not listen on that port; choose one above 1023"
        elif isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
            reason = "that is not an address of this machine; check --host"
        else:
            reason = error.strerror or str(error)
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {reason}"
        ) from None
    listener.set_inheritable(True)
    return listener


def serve_several(
    database: Database, settings: Any, workers: int, served: dict[str, Any]
) -> None:
    """uvicorn's worker processes, each building the app from the environment, and
    (with projections on) one projection worker in this process for them all."""
    import uvicorn

    from fourpi.operations.serving import FACTORY
    from fourpi.operations.worker import ProjectionWorker

    open_records(database).close()  # refuse here, plainly, a store that cannot be used
    listening(served["host"], served["port"]).close()  # and a port that is taken
    os.environ[DATABASE_URL_VARIABLE] = database.url
    os.environ["FOURPI_PROJECTIONS"] = "off"
    os.environ["FOURPI_METRICS"] = "on" if settings.metrics else "off"
    os.environ["FOURPI_GRAPHIQL"] = "on" if settings.graphiql else "off"
    worker = (
        ProjectionWorker(open_views(database)).start() if settings.projections else None
    )
    click.echo(
        f"Serving {database.display} at http://{served['host']}:{served['port']}/ "
        f"with {workers} processes"
        + (" and the projection worker in this one." if worker else ".")
    )
    try:
        uvicorn.run(FACTORY, factory=True, workers=workers, **served)
    finally:
        if worker is not None:
            worker.stop()
