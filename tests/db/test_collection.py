"""The cycle collector runs less often while rows stream through, and as before afterwards."""

from __future__ import annotations

import gc

import pytest

from offboard.db.collection import ALLOCATIONS, fewer_collections


def test_the_collectors_thresholds_come_back_even_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        assert gc.get_threshold() == (max(before[0], ALLOCATIONS), *before[1:])
        raise RuntimeError
    assert gc.get_threshold() == before
