"""The selection: the org's own files by name, never a folder, never outside a store."""

from __future__ import annotations

import io
import tarfile

import pytest

from offboard.errors import OffboardError
from offboard.files.layout import archive_key
from offboard.files.owners import RESERVED
from offboard.files.index import FileIndex
from offboard.files.scan import scan
from offboard.files.selection import StoreFolders, file_name, split_name
from tests.files.conftest import write


@pytest.mark.parametrize("relative, problem", [
    ("/etc/passwd", "absolute"), ("a/../../b", "climbs out"), ("..", "climbs out"), ("", "not a relative path"),
    (".", "names the store itself"), ("a\x00b", "not a relative path"), ("bad\udcff", "not valid UTF-8"),
])
def test_a_path_that_could_leave_its_store_is_refused(relative, problem):
    with pytest.raises(OffboardError, match=problem):
        file_name("files", relative)


def locate(roots, selection) -> list[str]:
    """The names a scan of `selection` finds, in the index's order."""
    with FileIndex() as index:
        scan(index, StoreFolders(roots), selection)
        return [name for name, in index.rows("SELECT name FROM source ORDER BY name")]


def test_names_are_canonical():
    assert file_name("files", "./a//b/./c.pdf") == "files/a/b/c.pdf"
    assert split_name("wikis/x/y") == ("wikis", "x/y")
    with pytest.raises(OffboardError):
        split_name("files/a//b")


def test_a_path_that_resolves_outside_its_root_through_a_link_is_refused(roots, tmp_path):
    write(tmp_path, "secret.txt", b"secret")
    (roots["files"] / "escape").symlink_to(tmp_path)
    with pytest.raises(OffboardError, match="resolves outside the root of store files"):
        locate(roots, [("files", "escape/secret.txt")])


def test_unknown_stores_and_absent_roots_are_refused(roots, tmp_path):
    with pytest.raises(OffboardError, match="no root is configured for store 'blogs'"):
        locate(roots, [("blogs", "a.txt")])
    with pytest.raises(OffboardError, match="is not a folder"):
        locate({"files": tmp_path / "absent"}, [])


def test_the_selection_is_deduplicated_and_ordered(roots):
    assert locate(roots, [("wikis", "b"), ("files", "z"), ("files", "./z"), ("files", "a")]) == [
        "files/a", "files/z", "wikis/b"]


def test_files_of_another_org_in_the_same_store_are_never_exported(alpha, roots, targets):
    """All orgs' binaries lie side by side; only the rows of this org select files."""
    ours = [("files", "0a/1f/alpha-contract.pdf"), ("files", "3c/alpha-photo.jpg")]
    theirs = [("files", "0a/1f/beta-salaries.xlsx"), ("files", "3c/beta-plan.doc")]
    for store, relative in ours + theirs:
        write(roots[store], relative, relative.encode())

    alpha.export(roots, ours)
    manifest = alpha.delivered()
    assert set(manifest.files) == {"files/0a/1f/alpha-contract.pdf", "files/3c/alpha-photo.jpg"}
    carried = set()
    for archive in manifest.archives:
        body = alpha.s3.get_object(Bucket=alpha.bucket, Key=archive_key("initial", archive))["Body"].read()
        carried |= set(tarfile.open(fileobj=io.BytesIO(body)).getnames())
    assert carried == set(manifest.files)
    alpha.import_("initial", targets)
    imported = sorted(p.name for p in targets["files"].rglob("*") if p.is_file() and not p.name.startswith(RESERVED))
    assert imported == ["alpha-contract.pdf", "alpha-photo.jpg"]
