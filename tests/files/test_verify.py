"""Verify: the target against the org's files after all committed deliveries."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from rich.console import Console

from offboard.files.deliveries import committed_manifests
from offboard.files.verify import ORG_ROWS, WHOLE_STORE, report_table, verify_files
from offboard.fixup.report import RewrittenFile
from tests.files.conftest import MTIME_NS, write


@pytest.fixture
def imported(alpha, roots, targets):
    selection = [("files", "a.txt"), ("files", "b.txt"), ("files", "c.txt"), ("wikis", "[bold]w.html")]
    for store, relative in selection:
        write(roots[store], relative, relative.encode())
    alpha.export(roots, selection)
    alpha.import_("initial", targets)
    return committed_manifests(alpha.s3, alpha.bucket, alpha.org_id)


def test_a_faithful_target_is_ok(targets, imported):
    report = verify_files(targets, imported)
    assert report.ok and report.expected == 4
    assert json.loads(json.dumps(report.to_json()))["ok"] is True


def test_missing_extra_and_different_files_are_reported(targets, imported):
    (targets["files"] / "a.txt").unlink()
    write(targets["files"], "stray.txt", b"not the org's")
    write(targets["files"], "b.txt", b"B.TXT")  # same size and mtime: only the content differs
    os.utime(targets["files"] / "c.txt", ns=(MTIME_NS + 1, MTIME_NS + 1))

    report = verify_files(targets, imported)
    assert not report.ok
    assert report.missing == ["files/a.txt"] and report.extra == ["files/stray.txt"]
    assert report.different == {"files/b.txt": ["sha256"], "files/c.txt": ["mtime"]}
    assert verify_files(targets, imported, checksum=False).different == {"files/c.txt": ["mtime"]}

    console = Console(record=True, width=100)
    console.print(report_table(report))
    shown = console.export_text()
    assert "not equal" in shown and "files/stray.txt" in shown and "files/b.txt (sha256)" in shown


def test_in_a_store_shared_with_other_orgs_only_the_orgs_own_files_can_be_extra(targets, imported):
    write(targets["files"], "other-org/theirs.txt", b"another org's file")
    write(targets["files"], "stray.txt", b"a row of the org points here; no delivery has it")
    assert verify_files(targets, imported).extra == ["files/other-org/theirs.txt", "files/stray.txt"]
    assert verify_files(targets, imported).scope == WHOLE_STORE

    report = verify_files(targets, imported, owned=[("files", "stray.txt"), ("files", "a.txt"), ("files", "gone.txt")])
    assert report.scope == ORG_ROWS and report.extra == ["files/stray.txt"] and not report.missing
    assert verify_files(targets, imported, owned=[]).ok
    (targets["files"] / "a.txt").unlink()
    write(targets["files"], "b.txt", b"B.TXT")
    shared = verify_files(targets, imported, owned=[])
    assert shared.missing == ["files/a.txt"] and shared.different == {"files/b.txt": ["sha256"]}


def test_in_a_shared_store_a_file_a_delta_deleted_is_extra_when_left_behind(alpha, roots, targets, imported):
    (roots["files"] / "c.txt").unlink()
    alpha.export(roots, [("files", "a.txt"), ("files", "b.txt"), ("wikis", "[bold]w.html")], "delta")
    kept = (targets["files"] / "c.txt").read_bytes()
    alpha.import_("delta-1", targets)
    manifests = committed_manifests(alpha.s3, alpha.bucket, alpha.org_id)
    assert verify_files(targets, manifests, owned=[]).ok
    write(targets["files"], "c.txt", kept)  # put back by hand, or left by an import that went wrong
    assert verify_files(targets, manifests, owned=[]).extra == ["files/c.txt"]


def test_a_file_name_is_never_read_as_markup(targets, imported):
    (targets["wikis"] / "[bold]w.html").unlink()
    console = Console(record=True, width=100)
    console.print(report_table(verify_files(targets, imported)))
    assert "wikis/[bold]w.html" in console.export_text()


def test_a_file_the_fixup_rewrote_is_expected_as_the_fixup_left_it(targets, imported):
    page, name = targets["wikis"] / "[bold]w.html", "wikis/[bold]w.html"
    delivered = hashlib.sha256(page.read_bytes()).hexdigest()
    page.write_bytes(b"<a href=msp>")  # what the fix-up made of it: the same size here, its own mtime
    fixed = RewrittenFile(store="wikis", path="[bold]w.html", size=12, sha256=hashlib.sha256(b"<a href=msp>").hexdigest(),
                          delivered=delivered, links=1)

    report = verify_files(targets, imported, rewritten={name: fixed, "wikis/gone.html": fixed})
    assert report.ok and report.rewritten == 1 and report.to_json()["rewritten"] == 1
    console = Console(record=True, width=100)
    console.print(report_table(report))
    assert "as the fix-up rewrote them" in console.export_text()
    assert verify_files(targets, imported).different == {name: ["mtime", "sha256"]}  # the delivery's digest no longer holds

    page.write_bytes(b"<a href=xyz>")  # changed again after the fix-up, same size
    assert verify_files(targets, imported, rewritten={name: fixed}, checksum=False).different == {name: ["sha256"]}
    older = fixed.model_copy(update={"delivered": "0" * 64})  # rewritten from a version a later delivery replaced
    assert verify_files(targets, imported, rewritten={name: older}).different == {name: ["mtime", "sha256"]}
