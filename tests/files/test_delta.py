"""A delta sends what was added or changed since the earlier deliveries and records deletions."""

from __future__ import annotations

import os

import pytest

from offboard.errors import OffboardError
from offboard.files.deliveries import committed_deliveries
from tests.files.conftest import MTIME_NS, write

LATER_NS = MTIME_NS + 3_600_000_000_000


@pytest.fixture
def initial(alpha, roots, targets):
    """An initial delivery of four files, exported and imported."""
    selection = [("files", "a.txt"), ("files", "b.txt"), ("files", "c.txt"), ("wikis", "w.html")]
    for store, relative in selection:
        write(roots[store], relative, f"first {relative}".encode())
    alpha.export(roots, selection)
    alpha.import_("initial", targets)
    return selection


def test_a_delta_carries_the_added_and_changed_files_and_records_the_deleted(alpha, roots, targets, initial):
    write(roots["files"], "new/d.txt", b"added")
    write(roots["files"], "b.txt", b"changed b, longer", LATER_NS)
    (roots["files"] / "c.txt").unlink()
    selection = [("files", "a.txt"), ("files", "b.txt"), ("files", "new/d.txt"), ("wikis", "w.html")]

    assert alpha.export(roots, selection, "delta").delivery == "delta-1"
    delta = alpha.delivered("delta-1")
    assert set(delta.files) == {"files/new/d.txt", "files/b.txt"}
    assert delta.deleted == ["files/c.txt"]

    alpha.import_("delta-1", targets)
    assert (targets["files"] / "b.txt").read_bytes() == b"changed b, longer"
    assert (targets["files"] / "new/d.txt").read_bytes() == b"added"
    assert not (targets["files"] / "c.txt").exists()
    report = alpha.verify(targets)
    assert report.ok and report.deliveries == ["initial", "delta-1"] and report.expected == 4


def test_a_second_delta_compares_with_all_earlier_deliveries(alpha, roots, initial):
    write(roots["files"], "b.txt", b"changed once", LATER_NS)
    alpha.export(roots, initial, "delta")
    assert alpha.export(roots, initial, "delta").delivery == "delta-2"
    second = alpha.delivered("delta-2")
    assert second.files == {} and second.deleted == []


def test_checksum_finds_a_change_that_size_and_mtime_hide(alpha, roots, initial):
    write(roots["files"], "a.txt", b"FIRST a.txt")  # same size, same mtime
    assert alpha.export(roots, initial, "delta-1").files == 0
    alpha.export(roots, initial, "delta-2", checksum=True)
    assert set(alpha.delivered("delta-2").files) == {"files/a.txt"}


def test_a_file_the_database_names_but_the_store_lacks_is_missing_not_deleted(alpha, roots, initial):
    os.remove(roots["files"] / "a.txt")
    alpha.export(roots, initial, "delta")
    delta = alpha.delivered("delta-1")
    assert delta.missing == ["files/a.txt"] and delta.deleted == []


def test_a_delta_needs_the_earlier_deliveries_committed(alpha, roots):
    write(roots["files"], "a.txt", b"a")
    with pytest.raises(OffboardError, match="export the initial delivery first"):
        alpha.export(roots, [("files", "a.txt")], "delta")
    with pytest.raises(OffboardError, match="delivery delta-1 is not committed"):
        alpha.export(roots, [("files", "a.txt")], "delta-2")


def test_a_named_delta_exported_again_is_the_committed_one_not_a_new_one(alpha, roots, initial):
    write(roots["files"], "b.txt", b"changed once", LATER_NS)
    first = alpha.export(roots, initial, "delta-1")
    again = alpha.export(roots, initial, "delta-1")  # the runbook's step, run again after a crash
    assert again.already_committed and (again.files, again.archives) == (first.files, first.archives)
    assert committed_deliveries(alpha.s3, alpha.bucket) == ["initial", "delta-1"]
