"""Calling the synchronous services from async resolvers (fourpi.threads), with domain errors turned into client errors."""

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from fourpi.domain.errors import DomainError
from fourpi.graphql.errors import from_domain
from fourpi.threads import database_calls, run_in_thread

T = TypeVar("T")

__all__ = ["database_calls", "for_input", "in_thread", "run_in_thread"]


async def in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    try:
        return await run_in_thread(partial(function, *args, **kwargs))
    except DomainError as error:
        raise from_domain(error) from error


def for_input(function: Callable[[], T]) -> T:
    """Runs a mutation's use case (already in a worker thread): an error names its
    field inside the `input` argument."""
    try:
        return function()
    except DomainError as error:
        raise from_domain(error, under="input") from error
