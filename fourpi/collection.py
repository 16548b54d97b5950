"""Pausing Python's cyclic garbage collector while answers are worked out.

Working out an organisation's answers makes hundreds of thousands of small objects
(rows looked up, counts, cells) beside the facts kept in memory (a 100k-event
organisation's are some 160,000 rows). Each time the collector's oldest generation
fills it walks every object the process holds, the kept facts included, so at
100k events it took most of the time: the table of counts of people took 0.9-1.2 s
collected as usual and 0.11-0.16 s with the collector paused, the report 0.2-0.9 s
against 0.14-0.26 s.

What is made in that time holds no reference cycles that outlive it, and nothing is
freed later than it would be by reference counting, which the pause leaves as it
is; cycles made meanwhile by other threads wait for the next collection after the
pause. Pauses may overlap, across threads: the collector runs again when the last
ends, as it was before the first began.

What a pause leaves behind is mostly kept until the next write: the report of the
new position, the figures and tables kept to be worked out again in part, the lists
of facts with the new rows. Left to the collector, all that is walked young (in the
first answer after a role at 100k events: 10-16 ms, in the request; a few thousand
objects, but lists and dicts of 83,000 entries each), again in the middle
generation (15-27 ms every other write) and then with everything the process holds
(0.2-0.4 s every ten or twenty writes). So when the last pause ends, everything the
collector would walk is frozen (`gc.freeze`, which moves its lists whole): it is
never walked again, and reference counting still frees each object once replaced.
Only frozen objects that end in a reference cycle are not freed; so when the frozen
objects may have grown by a quarter since the last full collection (counting them
walks them all, so only then), and have, they are all collected again, as CPython
collects its oldest generation when that has grown by a quarter: the frozen
objects, live or held only by cycles, never number more than a quarter above those
the last full collection kept, however long the process runs. The collection runs in
the thread that ended the pause, holding the lock (re-entrant: a finalizer may
pause).
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FROZEN_GROWTH = 0.25
"""How far the frozen objects may grow past those the last full collection kept
before they are all collected again."""

_lock = threading.RLock()
_paused = 0
_was_enabled = True
_frozen_after_collection = 0
"""The frozen objects the last full collection left (none before the first)."""
_frozen_counted = 0
"""The frozen objects when last counted (counting walks them all)."""
_frozen_since = 0
"""Objects frozen since they were last counted (some may have been freed since)."""


@contextmanager
def collection_paused() -> Iterator[None]:
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                _keep_what_was_made()
                gc.enable()


def _keep_what_was_made() -> None:
    """Freeze what the collector would walk next, collecting everything first when the
    frozen objects have grown by a quarter (see the module's docstring)."""
    global _frozen_after_collection, _frozen_counted, _frozen_since
    young = sum(len(gc.get_objects(generation)) for generation in range(3))
    most = _frozen_after_collection * (1 + FROZEN_GROWTH)
    if _frozen_counted + _frozen_since + young > most:
        # They may have grown by a quarter: count them (which walks them all, so
        # only when they may have), and collect them all if they have.
        _frozen_counted, _frozen_since = gc.get_freeze_count(), 0
        if _frozen_counted + young > most:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            _frozen_after_collection = _frozen_counted = gc.get_freeze_count()
            return
    gc.freeze()
    _frozen_since += young
