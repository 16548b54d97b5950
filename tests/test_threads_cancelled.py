"""A request's work in a worker thread holds its turn (the database threads, a caller's one answer at a time, the one completion at a time, the heavy work) until the thread has ended, however the request is cancelled: graphql-core cancels a query's other fields when one fails (gather_with_cancel), and a web page's fields when its client leaves."""

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from graphql.pyutils import gather_with_cancel

from fourpi.threads import (
    database_calls,
    in_answer_thread,
    in_completion_thread,
    in_heavy_thread,
    run_in_thread,
)

WAIT = 10.0
"""The most a test waits for something it expects at once."""


def in_turn(
    ask: Callable[[Callable[[], None]], Awaitable[None]],
) -> tuple[list[str], int]:
    """The order in which a piece of work cancelled as graphql-core cancels a
    field (another field of the query failed) ends, and the next piece asked
    after it begins; and how many database threads were counted as taken while
    the cancelled piece still ran."""
    order: list[str] = []
    begun, release, failed, second_began = (threading.Event() for _ in range(4))

    def first() -> None:
        begun.set()
        release.wait(WAIT)
        order.append("first ended")

    def second() -> None:
        order.append("second began")
        second_began.set()

    async def failing() -> None:
        await asyncio.to_thread(begun.wait, WAIT)
        failed.set()
        raise ValueError("another field of the query failed")

    async def attack() -> int:
        query = asyncio.ensure_future(gather_with_cancel(ask(first), failing()))
        await asyncio.to_thread(failed.wait, WAIT)
        # The failure reaches gather_with_cancel, which cancels the first.
        for _ in range(10):
            await asyncio.sleep(0)
        taken = database_calls().borrowed_tokens
        following = asyncio.ensure_future(ask(second))
        # The second is given every chance to begin while the first still runs:
        # each hop through a worker thread lets another thread's work go on.
        for _ in range(50):
            if second_began.is_set():
                break
            await asyncio.to_thread(lambda: None)
        release.set()
        with pytest.raises(ValueError):
            await query
        await asyncio.wait_for(following, WAIT)
        return taken

    taken = asyncio.run(attack())
    return order, taken


def answer(function: Callable[[], None]) -> Awaitable[Any]:
    return in_answer_thread("an evaluator", object(), function)


@pytest.mark.parametrize(
    "ask",
    [in_completion_thread, answer, in_heavy_thread],
    ids=["completion", "caller's answer", "heavy work"],
)
def test_a_cancelled_piece_holds_its_turn_until_its_thread_ends(
    ask: Callable[[Callable[[], None]], Awaitable[None]],
) -> None:
    """A query whose other field failed while its answer was being completed:
    graphql-core cancelled the completion, its turn was given to the next at
    once while its thread went on completing, and the next began beside it (one
    completion at a time, one answer of a caller's at a time: each bound broken
    by as many as cancel). Now the next begins once it has ended."""
    order, _ = in_turn(ask)
    assert order == ["first ended", "second began"]


def test_a_cancelled_database_call_counts_until_its_thread_ends() -> None:
    """As a cancelled completion: a database call cancelled as its query's other
    field failed no longer counted among the DATABASE_CALLS_AT_ONCE while its
    thread still used a connection, so that more threads than the store's pool
    could serve were started. Now it counts until it has ended."""
    order, taken = in_turn(run_in_thread)
    assert taken == 1
    assert order[-1] == "first ended"
