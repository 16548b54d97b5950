"""The library's PostgreSQL persistence, with the database URL's own parameters (sslmode, connect_timeout, ...) passed to the driver; imported only for a PostgreSQL store."""

from typing import Any
from urllib.parse import parse_qsl

from eventsourcing.postgres import PostgresFactory

CONNECTION_OPTIONS = "POSTGRES_CONNECTION_OPTIONS"
"""The URL's parameters other than schema, URL-encoded (fourpi.config.Database)."""


class OptionsPostgresFactory(PostgresFactory):
    """eventsourcing.postgres, whose connections also carry the URL's parameters."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        options = dict(parse_qsl(self.env.get(CONNECTION_OPTIONS) or ""))
        # The pool connects lazily, with these keyword arguments: psycopg turns them
        # into the connection string, so libpq judges them (an unknown one is refused
        # by name, sslmode=require fails against a server without SSL).
        kwargs = self.datastore.pool.kwargs
        assert isinstance(kwargs, dict)
        kwargs.update(options)
