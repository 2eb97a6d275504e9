"""The previous delivery's index, on disk: each key looked up once, the keys never seen again are the rows gone."""

from __future__ import annotations

import pytest

from offboard.db.digest import DIGEST_BYTES
from offboard.db.previous import PreviousIndex, index_batches

from .support import catalog_of, export


@pytest.mark.one_engine
@pytest.mark.parametrize("table", ["FILES.MEDIA", "SNCOMM.MEMBER"], ids=["one key column", "a composite key"])
def test_unchanged_rows_are_not_sent_changed_ones_are_and_the_rest_are_gone(sample, org, table):
    delivery = export(sample, org)
    spec, entry = catalog_of(sample).table(table), delivery.manifest.table(table)
    rows = [row for batch in index_batches(delivery.folder, spec, entry) for row in batch]
    keys = [row[1] if len(spec.key) == 1 else tuple(row[1:]) for row in rows]
    assert len(rows) >= 3 and len(spec.key) == (1 if table == "FILES.MEDIA" else 2)

    with PreviousIndex(delivery.folder, spec, entry) as previous:
        same, changed = previous.changed(keys[:1], [rows[0][0]]), previous.changed(keys[1:2], ["0" * 2 * DIGEST_BYTES])
        assert (same, changed) == ([False], [True])
        assert previous.changed(keys[:1], [rows[0][0]]) == [True]  # a key is looked up once: seen twice, it is new
        assert sorted(previous.gone()) == sorted(keys[2:])
