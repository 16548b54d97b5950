"""A read of our own tables on PostgreSQL (a person's key, a session, a token): one statement, prepared, in autocommit, tried again on another connection when the server dropped the one the pool gave, as the library's own reads are."""

from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import retry

READ_ATTEMPTS = 10
"""As the library's recorders try their reads (eventsourcing.postgres): a restart or
failover drops every pooled connection, and the pool lets a broken one go as it is
given back, so each attempt takes another."""
PAUSE_SECONDS = 0.2


@retry(
    (InterfaceError, OperationalError), max_attempts=READ_ATTEMPTS, wait=PAUSE_SECONDS
)
def read_rows(datastore: Any, statement: str, values: tuple[Any, ...]) -> list[Any]:
    """The rows of one read statement: a single round trip (a transaction around it
    would add two, and every signed-in request reads)."""
    with datastore.get_connection() as connection:
        return list(connection.execute(statement, values, prepare=True).fetchall())
