"""Pausing the garbage collector while answers are worked out leaves it as it was, however the pauses of several threads overlap."""

import gc
import threading

from hypothesis import given
from hypothesis import strategies as st

from fourpi.collection import collection_paused


@given(threads=st.integers(1, 6), enabled=st.booleans())
def test_overlapping_pauses_leave_the_collector_as_it_was(
    threads: int, enabled: bool
) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        inside = threading.Barrier(threads)
        seen: list[bool] = []

        def work() -> None:
            with collection_paused():
                inside.wait()  # every pause has begun before any ends
                seen.append(gc.isenabled())
                with collection_paused():
                    seen.append(gc.isenabled())

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert seen == [False] * (2 * threads)
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_pause_ends_when_the_work_fails() -> None:
    assert gc.isenabled()
    try:
        with collection_paused():
            raise RuntimeError("the work failed")
    except RuntimeError:
        pass
    assert gc.isenabled()


class Kept:
    """Something a pause leaves behind, held in a reference cycle (as a report's
    parts might be), with enough objects in it to count."""

    alive = 0

    def __init__(self) -> None:
        self.itself = self
        self.parts = [[number] for number in range(5_000)]
        Kept.alive += 1

    def __del__(self) -> None:
        Kept.alive -= 1


def test_what_a_pause_leaves_is_not_walked_by_later_collections() -> None:
    with collection_paused():
        kept = Kept()
    walked = {id(thing) for thing in gc.get_objects()}
    assert id(kept) not in walked
    assert not any(id(part) in walked for part in kept.parts)
    del kept


def test_cycles_a_pause_left_are_freed_once_dropped_however_many_pauses() -> None:
    """Frozen objects are never walked, so a cycle among them is not freed when
    dropped until everything is collected again: that must keep happening, or a
    server giving answers after every write would hold more and more."""
    Kept.alive = 0
    kept = None
    for _ in range(200):
        with collection_paused():
            kept = Kept()  # the last one, frozen by the last pause, is dropped
    # Each pause froze one; all but a few of those dropped since have been freed.
    assert Kept.alive < 40
    del kept
