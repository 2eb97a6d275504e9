"""Fewer runs of Python's cycle collector while a table's rows stream through.

Every batch allocates hundreds of thousands of lists and tuples; at the default threshold the
collector runs every 700 of them, walking the young objects each time: 10-15% of an export's or
an import's time (benchmarks/RESULTS.md). Rows hold no cycles, so collecting less often frees the
same memory, a little later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

ALLOCATIONS = 50_000  # between two collections of the youngest generation (Python's default: 700)


@contextmanager
def fewer_collections() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.set_threshold(max(previous[0], ALLOCATIONS), *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
