"""Several archives at once; the first failure stops the others between two files."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Callable, Iterable, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Cancelled(Exception):
    """Another task failed: this one stopped early."""


def run_all(task: Callable[[Item, threading.Event], Result], items: Iterable[Item], workers: int) -> list[Result]:
    """`task(item, cancelled)` for every item, `workers` at a time; results in completion order.

    A task checks `cancelled` now and then and raises Cancelled; the first real error is re-raised
    once every running task has stopped (and cleaned up after itself).
    """
    cancelled = threading.Event()
    with ThreadPoolExecutor(workers, thread_name_prefix="archive") as pool:
        futures = [pool.submit(task, item, cancelled) for item in items]
        try:
            return [future.result() for future in as_completed(futures)]
        except BaseException:
            cancelled.set()
            for future in futures:
                future.cancel()
            raise
