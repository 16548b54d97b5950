"""Serving the API with one process or several: the app built from the environment (for `uvicorn --factory` and gunicorn's uvicorn worker), and the settings that place it behind a proxy."""

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from starlette.types import ASGIApp, Receive, Scope, Send

from fourpi.config import database_from_environment, public_url, switch, time_zone

PROJECTIONS_VARIABLE = "FOURPI_PROJECTIONS"
METRICS_VARIABLE = "FOURPI_METRICS"
GRAPHIQL_VARIABLE = "FOURPI_GRAPHIQL"
ROOT_PATH_VARIABLE = "FOURPI_ROOT_PATH"
PROXY_HEADERS_VARIABLE = "FOURPI_PROXY_HEADERS"
FORWARDED_ALLOW_IPS_VARIABLE = "FOURPI_FORWARDED_ALLOW_IPS"

ROOT_PATH = re.compile(r"(/(?!\.\.?(/|$))[A-Za-z0-9._~-]+)+")
"""A prefix a proxy can serve under and every link can carry as it is: no space,
? or # (which would end the path), no . or .. part, no empty one."""

FACTORY = "fourpi.operations.serving:app_from_environment"
"""What `uvicorn --factory` and gunicorn's uvicorn worker load."""


@dataclass(frozen=True)
class ServeSettings:
    """How the API process runs, each from its environment variable."""

    projections: bool = True
    """FOURPI_PROJECTIONS: keep the views caught up in this process (on); turn it
    off when a `fourpi projections run` worker serves the database."""
    metrics: bool = False
    """FOURPI_METRICS: serve /metrics (off)."""
    graphiql: bool = False
    """FOURPI_GRAPHIQL: a browser opening /graphql gets GraphiQL, whose scripts come
    from the unpkg.com CDN (off: a plain page saying how to use the API)."""
    root_path: str = ""
    """FOURPI_ROOT_PATH: the prefix a proxy serves the API under, as /fourpi."""
    proxy_headers: bool = False
    """FOURPI_PROXY_HEADERS: take the client's address and scheme from
    X-Forwarded-For and X-Forwarded-Proto (off)."""
    forwarded_allow_ips: str = "127.0.0.1"
    """FOURPI_FORWARDED_ALLOW_IPS: the proxies whose forwarded headers are believed
    (comma-separated addresses or networks; * for any)."""

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None
    ) -> "ServeSettings":
        environ = os.environ if environ is None else environ
        root_path = (environ.get(ROOT_PATH_VARIABLE) or "").strip().rstrip("/")
        if root_path and not ROOT_PATH.fullmatch(root_path):
            raise ValueError(
                f"${ROOT_PATH_VARIABLE}: must start with /, as /fourpi, and each part "
                "after a / be letters, digits, '-', '_', '.' or '~' (not . or ..), "
                f"not {root_path!r}"
            )
        public_url(environ)  # every link given is built on it
        return cls(
            projections=switch(PROJECTIONS_VARIABLE, cls.projections, environ),
            metrics=switch(METRICS_VARIABLE, cls.metrics, environ),
            graphiql=switch(GRAPHIQL_VARIABLE, cls.graphiql, environ),
            root_path=root_path,
            proxy_headers=switch(PROXY_HEADERS_VARIABLE, cls.proxy_headers, environ),
            forwarded_allow_ips=forwarded_allow_ips(
                environ.get(FORWARDED_ALLOW_IPS_VARIABLE) or cls.forwarded_allow_ips
            ),
        )


def forwarded_allow_ips(given: str) -> str:
    """FOURPI_FORWARDED_ALLOW_IPS as given, once each entry is read as uvicorn reads
    it: `*`, an address, or a network (10.0.0.0/24). uvicorn keeps any other entry
    as a name to compare with the client's address, which never matches: a typo
    would have the proxy's headers ignored without a word."""
    if given.strip() == "*":
        return given
    for entry in (part.strip() for part in given.split(",")):
        try:
            if "/" in entry:
                ipaddress.ip_network(entry)
            else:
                ipaddress.ip_address(entry)
        except ValueError:
            raise ValueError(
                f"${FORWARDED_ALLOW_IPS_VARIABLE}: {entry!r} is not an address or a "
                "network (as 127.0.0.1, or 10.0.0.0/24 with no bits set past the "
                "prefix), nor * for any"
            ) from None
    return given


class RootPath:
    """Tells the app the prefix it is served under, whichever server runs it."""

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope)
            scope["root_path"] = self.root_path
            path: str = scope["path"]
            if not (path == self.root_path or path.startswith(self.root_path + "/")):
                # A proxy that strips the prefix: ASGI's path includes the root path.
                scope["path"] = self.root_path + path
        await self.app(scope, receive, send)


def behind_proxy(app: ASGIApp, settings: ServeSettings) -> ASGIApp:
    """The app with the proxy settings applied (the same under any ASGI server)."""
    if settings.root_path:
        app = RootPath(app, settings.root_path)
    if settings.proxy_headers:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        proxied: Any = ProxyHeadersMiddleware
        app = proxied(app, trusted_hosts=settings.forwarded_allow_ips)
    return app


def build_app(settings: ServeSettings, database_url: str | None = None) -> ASGIApp:
    """The web app and the API on the configured store, as the settings say."""
    from fourpi.bootstrap import making_tables_alone, open_records, open_views, reaching
    from fourpi.graphql.app import create_app

    database = database_from_environment(database_url)
    # Every table this process makes (the log's, the views', the accounts' and the
    # personal links'), one process at a time.
    with reaching(database), making_tables_alone(database):
        records = open_records(database)
        views = open_views(database, records)
        app = create_app(
            records,
            views,
            run_projections=settings.projections,
            metrics=settings.metrics,
            web=True,
            graphiql=settings.graphiql,
        )
    return behind_proxy(app, settings)


def server_settings() -> ServeSettings:
    """Every setting a server reads, each refused by name (a ValueError) before
    anything starts: the API's limits and the mail settings are otherwise read only
    when a query or a note needs them, and the group commit one when the store opens."""
    from fourpi.config import (
        ApiLimits,
        check_contributor_settings,
        group_commit_enabled,
    )
    from fourpi.operations.observability import ready_max_lag

    time_zone()
    group_commit_enabled()
    public_url()
    ApiLimits.from_environment()
    ready_max_lag()
    check_contributor_settings()
    return ServeSettings.from_environment()


def app_from_environment() -> ASGIApp:
    """The app factory: everything from the environment (FOURPI_DATABASE_URL, the
    master key, FOURPI_PROJECTIONS, FOURPI_METRICS, FOURPI_GRAPHIQL, the proxy settings, the API's
    limits), with logging configured (FOURPI_LOG_FORMAT, FOURPI_LOG_LEVEL). A bad
    setting ends the process with one line naming it (SystemExit), before anything is
    opened or served: uvicorn and gunicorn would show a traceback. So does a store
    that cannot be used, or a master key that is not the store's."""
    from fourpi.config import MasterKeyError
    from fourpi.operations.observability import configure_logging
    from fourpi.storage.store_access import StoreUnavailable

    configure_logging()
    try:
        settings = server_settings()
        database_from_environment()
    except ValueError as error:
        not_started(str(error), LASTING)
    try:
        return build_app(settings)
    except StoreUnavailable as error:
        not_started(str(error), PASSING if error.passing else LASTING)
    except MasterKeyError as error:
        not_started(str(error), LASTING)


LASTING = 3
"""The exit code of a process whose start failed for a reason that starting it again
will not mend (a setting, the master key, a database or role that is not there):
uvicorn's and gunicorn's supervisors then stop, rather than start the same worker
again and again."""
PASSING = 1
"""The exit code for a store that did not answer or ended the connection: a
supervisor starts the worker again, and it serves once the store is back."""


def not_started(message: str, code: int) -> NoReturn:
    """End the process with the message on standard error, not a traceback."""
    print(message, file=sys.stderr)
    raise SystemExit(code)
