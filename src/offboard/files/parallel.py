"""Several archives at once; the first failure stops the others between two files."""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Iterable, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Cancelled(Exception):
    """Another task failed: this one stopped early."""


def run_all(task: Callable[[Item, threading.Event], Result], items: Iterable[Item], workers: int,
            done: Callable[[Result], None] | None = None) -> None:
    """`task(item, cancelled)` for every item, `workers` at a time, and `done(result)` for each as it ends.

    Items are taken from `items` in the calling thread, as workers free up, and `done` runs there
    too: neither needs to be safe across threads, and a generator of items is never read ahead.
    A task checks `cancelled` now and then and raises Cancelled; the first real error is re-raised
    once every running task has stopped (and cleaned up after itself).
    """
    cancelled = threading.Event()
    running: set[Future] = set()

    def finish(futures: set[Future]) -> None:
        for future in futures:
            result = future.result()
            if done:
                done(result)

    with ThreadPoolExecutor(workers, thread_name_prefix="archive") as pool:
        try:
            for item in items:
                if len(running) == workers:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    finish(finished)
                running.add(pool.submit(task, item, cancelled))
            finish(wait(running).done)
        except BaseException:
            cancelled.set()
            for future in running:
                future.cancel()
            raise

