"""A scratch database lives in its own temporary folder and goes with it."""

from __future__ import annotations

import os

from offboard.scratch import ScratchDatabase


def test_the_folder_and_everything_in_it_go_when_it_closes():
    with ScratchDatabase("offboard-test-", "CREATE TABLE t (x INTEGER);") as scratch:
        scratch.db.execute("INSERT INTO t VALUES (1)")
        path = scratch.scratch("other.jsonl")
        open(path, "w").close()
        assert scratch.db.execute("PRAGMA journal_mode").fetchone() == ("off",)
    assert not os.path.exists(os.path.dirname(path))
