"""The memo behind cached reports and suppression patterns: one computation per key however many ask at once, errors not kept, least recently used dropped first."""

import threading
import time

import pytest

from fourpi.memo import Memo


def test_concurrent_callers_share_one_computation() -> None:
    memo: Memo[int] = Memo(4)
    calls: list[int] = []
    started = threading.Barrier(16)

    def slow() -> int:
        calls.append(1)
        time.sleep(0.05)
        return 42

    results: list[int] = []

    def ask() -> None:
        started.wait()
        results.append(memo.get("answer", slow))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 16
    assert len(calls) == 1


def test_an_error_reaches_the_caller_and_is_not_kept() -> None:
    memo: Memo[int] = Memo(4)

    def failing() -> int:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        memo.get("k", failing)
    assert memo.get("k", lambda: 7) == 7


def test_the_least_recently_used_key_is_dropped_first() -> None:
    memo: Memo[str] = Memo(2)
    memo.get("a", lambda: "A")
    memo.get("b", lambda: "B")
    memo.get("a", lambda: "never")  # a is now the most recently used
    memo.get("c", lambda: "C")
    assert len(memo) == 2
    assert memo.get("a", lambda: "recomputed") == "A"
    assert memo.get("b", lambda: "recomputed") == "recomputed"


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        Memo(0)
