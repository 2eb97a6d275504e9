"""A delivery writes and deletes only what is absent from the shared target store or the org's."""

from __future__ import annotations

import pytest

from offboard.errors import OffboardError
from offboard.files import importer, owners
from offboard.files.owners import RECORD, OwnerRecord, Ownership, TargetOrg
from tests.files.conftest import put_delivery, snapshot, write


class Crash(Exception):
    pass


@pytest.fixture
def shared(alpha, beta, roots, targets):
    """One target store holding a file of each org, each imported by its own delivery."""
    write(roots["files"], "a1/alpha.bin", b"alpha's")
    write(roots["files"], "b1/beta.bin", b"beta's")
    alpha.export(roots, [("files", "a1/alpha.bin")])
    alpha.import_("initial", targets)
    beta.export(roots, [("files", "b1/beta.bin")])
    beta.import_("initial", targets)
    return snapshot(targets["files"].parent)


def refused(transfer, targets, before, match, target=None):
    with pytest.raises(OffboardError, match=match) as caught:
        transfer.import_("delta-1", targets, target)
    assert "\n" not in str(caught.value) and "nothing written" in str(caught.value)
    assert snapshot(targets["files"].parent) == before


def test_a_consistent_delta_cannot_overwrite_another_orgs_file(alpha, beta, targets, shared):
    put_delivery(alpha, "delta-1", {"files/a1/alpha.bin": b"alpha's, changed", "files/b1/beta.bin": b"replaced"})
    refused(alpha, targets, shared, f"files/b1/beta.bin is another org's: a delivery of org {beta.org_id} wrote it")


def test_a_consistent_delta_cannot_delete_another_orgs_file(alpha, beta, targets, shared):
    put_delivery(alpha, "delta-1", {}, deleted=["files/b1/beta.bin"])
    refused(alpha, targets, shared, "files/b1/beta.bin is another org's")


def test_names_are_checked_in_batches_and_every_batch_counts_before_the_refusal(alpha, beta, targets, shared, monkeypatch):
    monkeypatch.setattr(owners, "CHECK_BATCH", 2)
    write(targets["files"], "b1/beta2.bin", b"beta's too")  # no record, no rows: not the org's either
    before = snapshot(targets["files"].parent)
    put_delivery(alpha, "delta-1", {"files/a1/new.bin": b"new", "files/a2/new.bin": b"new", "files/b1/beta.bin": b"replaced",
                                    "files/b1/beta2.bin": b"replaced", "files/c1/new.bin": b"new"})
    refused(alpha, targets, before, rf"files/b1/beta.bin is another org's: a delivery of org {beta.org_id} wrote it \(and 1 more\)")


def test_a_file_that_other_orgs_rows_point_at_is_theirs(alpha, targets, shared):
    write(targets["files"], "legacy/old.bin", b"put there before any delivery")
    before = snapshot(targets["files"].parent)
    put_delivery(alpha, "delta-1", {"files/legacy/old.bin": b"replaced"})
    mixed = TargetOrg(alpha.org_id, lambda files: {("files", "legacy/old.bin"): {alpha.org_id, "700099"}})
    refused(alpha, targets, before, "files/legacy/old.bin is another org's: rows of org 700099 in the target point at it", mixed)


def test_a_name_other_orgs_rows_point_at_is_theirs_even_while_its_file_is_absent(alpha, targets, shared):
    put_delivery(alpha, "delta-1", {"files/c1/not-yet-there.bin": b"planted"})
    theirs = TargetOrg(alpha.org_id, lambda files: {("files", "c1/not-yet-there.bin"): {"700099"}})
    refused(alpha, targets, shared, "files/c1/not-yet-there.bin is another org's: rows of org 700099", theirs)


def test_a_name_the_target_cannot_hold_is_refused_in_one_line(alpha, targets, shared):
    put_delivery(alpha, "delta-1", {f"files/a1/{'x' * 300}": b"a name too long for the file system"})
    refused(alpha, targets, shared, "cannot be looked up in the target \\(File name too long\\)")


def test_one_import_at_a_time_writes_into_a_store(alpha, targets, shared):
    put_delivery(alpha, "delta-1", {"files/a1/new.bin": b"new"})
    other = Ownership({"files": str(targets["files"].resolve())}, TargetOrg("700099", lambda files: {}))
    with other.writing():  # another stack's import, between its check and its last move
        with pytest.raises(OffboardError, match="another import is writing into the store at .*; run this one again"):
            alpha.import_("delta-1", targets)
    alpha.import_("delta-1", targets)


def test_an_existing_file_nothing_shows_is_the_orgs_is_not_touched(alpha, targets, shared):
    write(targets["files"], "legacy/old.bin", b"put there before any delivery")
    before = snapshot(targets["files"].parent)
    put_delivery(alpha, "delta-1", {}, deleted=["files/legacy/old.bin"])
    refused(alpha, targets, before, "files/legacy/old.bin exists in the target, and neither a delivery of org")


def test_an_existing_file_the_orgs_own_rows_point_at_is_the_orgs(alpha, targets, shared):
    write(targets["files"], "legacy/old.bin", b"put there before any delivery")
    put_delivery(alpha, "delta-1", {"files/legacy/old.bin": b"the org's new version"})
    own = TargetOrg(alpha.org_id, lambda files: {("files", "legacy/old.bin"): {alpha.org_id}})
    alpha.import_("delta-1", targets, own)
    assert (targets["files"] / "legacy/old.bin").read_bytes() == b"the org's new version"
    assert OwnerRecord(str(targets["files"])).owners(["legacy/old.bin"]) == {"legacy/old.bin": alpha.org_id}


def test_the_orgs_own_files_are_replaced_and_deleted_and_a_deleted_name_is_free_again(alpha, beta, targets, shared):
    put_delivery(alpha, "delta-1", {"files/a1/new.bin": b"new"}, deleted=["files/a1/alpha.bin"])
    alpha.import_("delta-1", targets)
    assert not (targets["files"] / "a1/alpha.bin").exists()
    assert OwnerRecord(str(targets["files"])).owners(["a1/alpha.bin", "a1/new.bin"]) == {"a1/new.bin": alpha.org_id}

    put_delivery(beta, "delta-1", {"files/a1/alpha.bin": b"beta's now"})
    beta.import_("delta-1", targets)
    assert OwnerRecord(str(targets["files"])).owners(["a1/alpha.bin"]) == {"a1/alpha.bin": beta.org_id}


def test_a_file_below_another_orgs_file_is_refused_before_anything_moves(alpha, targets, shared):
    put_delivery(alpha, "delta-1", {"files/a1/new.bin": b"new", "files/b1/beta.bin/inside.bin": b"below a file"})
    refused(alpha, targets, shared, "files/b1/beta.bin/inside.bin would lie below a file of the target")


def test_a_name_the_tool_keeps_for_itself_is_refused(alpha, targets, shared):
    put_delivery(alpha, "delta-1", {f"files/{RECORD}": b"a forged record"})
    refused(alpha, targets, shared, f"files/{RECORD} is a name offboard keeps for itself")


def test_an_import_stopped_after_its_moves_is_the_orgs_when_run_again(alpha, targets, shared, monkeypatch):
    put_delivery(alpha, "delta-1", {"files/a1/alpha.bin": b"alpha's, changed", "files/a1/more.bin": b"more"})
    real_move = importer.move_into_place

    def move_then_crash(*args):
        real_move(*args)
        raise Crash

    monkeypatch.setattr(importer, "move_into_place", move_then_crash)
    with pytest.raises(Crash):
        alpha.import_("delta-1", targets)
    monkeypatch.setattr(importer, "move_into_place", real_move)
    alpha.import_("delta-1", targets)  # no rows point at the files yet (production before its import): the record does
    assert (targets["files"] / "a1/more.bin").read_bytes() == b"more"
