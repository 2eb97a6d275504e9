"""Verify: the target against the org's files after all committed deliveries."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest
from rich.console import Console

from offboard.errors import OffboardError
from offboard.files import verify
from offboard.files.deliveries import committed_manifests
from offboard.files.index import FileIndex
from offboard.files.verify import ORG_ROWS, WHOLE_STORE, report_table, verify_files
from offboard.fixup.report import RewrittenFile
from tests.files.conftest import MTIME_NS, write


@pytest.fixture
def index():
    with FileIndex() as index:
        yield index


@pytest.fixture
def imported(alpha, roots, targets, index):
    selection = [("files", "a.txt"), ("files", "b.txt"), ("files", "c.txt"), ("wikis", "[bold]w.html")]
    for store, relative in selection:
        write(roots[store], relative, relative.encode())
    alpha.export(roots, selection)
    alpha.import_("initial", targets)
    return committed_manifests(alpha.s3, alpha.bucket, alpha.org_id, index)


def test_a_faithful_target_is_ok(targets, imported):
    report = verify_files(targets, imported)
    assert report.ok and report.expected == 4
    proof = json.loads(json.dumps(report.to_json()))
    assert proof["ok"] is True and proof["truncated"] == [] and proof["missing_count"] == 0


def test_missing_extra_and_different_files_are_reported(targets, imported):
    (targets["files"] / "a.txt").unlink()
    write(targets["files"], "stray.txt", b"not the org's")
    write(targets["files"], "b.txt", b"B.TXT")  # same size and mtime: only the content differs
    os.utime(targets["files"] / "c.txt", ns=(MTIME_NS + 1, MTIME_NS + 1))

    report = verify_files(targets, imported)
    assert not report.ok and (report.missing_count, report.extra_count, report.different_count) == (1, 1, 2)
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

    owned = (pair for pair in [("files", "stray.txt"), ("files", "a.txt"), ("files", "gone.txt")])  # read once, as a stream
    report = verify_files(targets, imported, owned=owned)
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
    with FileIndex() as index:
        manifests = committed_manifests(alpha.s3, alpha.bucket, alpha.org_id, index)
        assert verify_files(targets, manifests, owned=iter([])).ok
        write(targets["files"], "c.txt", kept)  # put back by hand, or left by an import that went wrong
        assert verify_files(targets, manifests, owned=iter([])).extra == ["files/c.txt"]


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


def test_a_report_names_the_first_of_each_kind_and_counts_them_all(targets, imported, monkeypatch):
    monkeypatch.setattr(verify, "EXAMPLES", 1)
    for name in ("a.txt", "c.txt"):
        (targets["files"] / name).unlink()
    for name in ("z.txt", "y.txt"):
        write(targets["files"], name, b"not the org's")
    write(targets["files"], "b.txt", b"B.TXT")
    write(targets["wikis"], "[bold]w.html", b"W")

    report = verify_files(targets, imported)
    assert (report.missing, report.extra, report.different) == (["files/a.txt"], ["files/y.txt"], {"files/b.txt": ["sha256"]})
    assert (report.missing_count, report.extra_count, report.different_count) == (2, 2, 2)
    proof = report.to_json()
    assert proof["truncated"] == ["missing", "extra", "different"] and proof["names_at_most"] == 1
    console = Console(record=True, width=100)
    console.print(report_table(report, examples=1))
    assert "│ missing   │     2 │ files/a.txt" in console.export_text()


def test_a_name_that_is_not_utf8_is_reported_as_extra(targets, imported):
    (targets["files"] / os.fsdecode(b"caf\xe9.txt")).write_bytes(b"latin-1")
    assert verify_files(targets, imported).extra == ["files/caf\\xe9.txt"]


def test_without_a_delivery_every_file_of_the_store_is_extra(targets):
    write(targets["files"], "a.txt", b"a")
    report = verify_files(targets, [])
    assert (report.deliveries, report.expected, report.extra) == ([], 0, ["files/a.txt"])


VERIFY_IN_A_CHILD = r"""
import hashlib, json, re, sys, tempfile
from pathlib import Path
from offboard.files.index import FileIndex
from offboard.files.manifest import ArchiveEntry, FileEntry, Header, now, write_manifest
from offboard.files.verify import verify_files
count, target = json.loads(sys.argv[1])
names = lambda: (("files", f"{n // 1000:04d}/{n:08d}") for n in range(count))
files = ((f"{store}/{path}", FileEntry(8, 0, hashlib.sha256(path.encode()).hexdigest(), "00001.tar")) for store, path in names())
with tempfile.TemporaryFile() as manifest, FileIndex() as index:
    write_manifest(manifest, Header("20011111", "initial", now()), [("00001.tar", ArchiveEntry(1, "0" * 64, count))], files)
    manifest.seek(0)
    report = verify_files({"files": Path(target)}, [index.load(manifest, "manifest", "20011111", "initial")], owned=names())
print(report.missing_count, len(report.missing), report.to_json()["truncated"])
# VmHWM: this process's own peak; ru_maxrss would carry the peak of the pytest process that forked it
print(int(re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())[1]) // 1024)
"""


def test_verify_of_100_000_files_holds_none_of_them_in_memory(tmp_path):
    """An empty target, so no file need be made: every name is still folded, streamed from the
    org's rows, looked up (one lstat) and counted; about 1.4 KB a file in Python objects would
    take the peak far over the bound."""
    child = subprocess.run([sys.executable, "-c", VERIFY_IN_A_CHILD, json.dumps([100_000, str(tmp_path)])],
                           capture_output=True, text=True, check=True)
    counted, peak_mb = child.stdout.splitlines()
    assert counted == "100000 1000 ['missing']"
    assert int(peak_mb) < 150


def test_a_link_out_of_a_store_is_never_followed(targets, tmp_path):
    outside = tmp_path / "outside"
    write(outside, "secret.txt", b"not in any store")
    (targets["files"] / "linked").symlink_to(outside)
    assert verify_files(targets, []).extra == ["files/linked"]  # the link itself, as a file that is not the org's
    with pytest.raises(OffboardError, match=r"^files/linked/secret.txt resolves outside the root of store files$"):
        verify_files(targets, [], owned=iter([("files", "linked/secret.txt")]))
