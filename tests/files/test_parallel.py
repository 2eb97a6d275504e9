"""Archives in flight: taken from a stream only as workers free up, results handled in the caller's thread."""

from __future__ import annotations

import threading

import pytest

from offboard.files.parallel import Cancelled, run_all


def test_items_are_taken_as_workers_free_up_and_results_come_back_in_the_callers_thread():
    taken, done, threads = [], [], set()

    def items():
        for number in range(10):
            taken.append(number)
            assert len(taken) - len(done) <= 3  # never read ahead of the workers (2) and the one being handed over
            yield number

    def task(number, cancelled):
        return number * 10

    def finished(result):
        threads.add(threading.current_thread())
        done.append(result)

    run_all(task, items(), 2, finished)
    assert sorted(done) == [n * 10 for n in range(10)]
    assert threads == {threading.current_thread()}


def test_the_first_failure_stops_the_others_and_is_raised():
    stopped = []

    def task(number, cancelled):
        if number == 0:
            raise ValueError("archive 0 failed")
        cancelled.wait(5)
        stopped.append(number)
        raise Cancelled

    with pytest.raises(ValueError, match="archive 0 failed"):
        run_all(task, iter(range(100)), 2)
    assert len(stopped) <= 2  # the one running beside it, and at most one handed over before the failure was seen
