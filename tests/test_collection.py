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
