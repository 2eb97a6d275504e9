"""An import refuses an altered or hostile archive before anything in the target changes."""

from __future__ import annotations

import tarfile

import pytest

from offboard.errors import OffboardError
from offboard.files.layout import archive_key
from offboard.files.manifest import FileEntry
from offboard.files.members import UnsafeMember, check_member
from tests.files.conftest import member, put_delivery, snapshot, write

GOOD = b"a good file"


@pytest.fixture
def landed(targets):
    """A target that already holds a file, and its snapshot."""
    write(targets["files"], "existing.txt", b"already there")
    return snapshot(targets["files"].parent)


@pytest.mark.parametrize("offset, refusal", [
    (600, "'files/f0.txt' differs from the manifest"),  # a byte of the first file's data
    (-1, "its sha256 differs from the manifest's"),  # the padding after the last member: only the archive's hash sees it
])
def test_an_archive_altered_in_the_bucket_is_refused_and_the_target_unchanged(alpha, roots, targets, landed, offset, refusal):
    selection = [("files", f"f{i}.txt") for i in range(3)]
    for _, relative in selection:
        write(roots["files"], relative, relative.encode() * 20)
    alpha.export(roots, selection)
    key = archive_key("initial", sorted(alpha.delivered().archives)[0])
    body = bytearray(alpha.s3.get_object(Bucket=alpha.bucket, Key=key)["Body"].read())
    body[offset] ^= 0xFF
    alpha.s3.put_object(Bucket=alpha.bucket, Key=key, Body=bytes(body))

    with pytest.raises(OffboardError, match=refusal):
        alpha.import_("initial", targets)
    assert snapshot(targets["files"].parent) == landed


def hostile(tmp_path) -> dict[str, list[tuple[tarfile.TarInfo, bytes]]]:
    outside = str(tmp_path / "outside.txt")
    return {
        "absolute path": [member(outside, data=b"evil")],
        "dot-dot": [member("files/../../outside.txt", data=b"evil")],
        "symlink out": [member("files/link", tarfile.SYMTYPE, link=str(tmp_path)), member("files/link/outside.txt", data=b"evil")],
        "hard link": [member("files/hard", tarfile.LNKTYPE, link="files/existing.txt")],
        "device": [member("files/null", tarfile.CHRTYPE)],
        "fifo": [member("files/pipe", tarfile.FIFOTYPE)],
        "unlisted file": [member("files/extra.txt", data=b"not in the manifest")],
    }


@pytest.mark.parametrize("kind", ["absolute path", "dot-dot", "symlink out", "hard link", "device", "fifo", "unlisted file"])
def test_a_hostile_archive_is_refused_and_the_target_unchanged(alpha, targets, landed, tmp_path, kind):
    put_delivery(alpha, "initial", {"files/good.txt": GOOD}, members=hostile(tmp_path)[kind])
    with pytest.raises(OffboardError, match="the target was not changed"):
        alpha.import_("initial", targets)
    assert snapshot(targets["files"].parent) == landed
    assert not (tmp_path / "outside.txt").exists()


def test_the_same_archive_without_the_hostile_member_imports(alpha, targets):
    put_delivery(alpha, "initial", {"files/good.txt": GOOD})
    alpha.import_("initial", targets)
    assert (targets["files"] / "good.txt").read_bytes() == GOOD


EXPECTED = {"files/a": FileEntry(size=0, mtime_ns=0, sha256="0" * 64, archive="00001.tar")}


@pytest.mark.parametrize("unsafe", [
    member("files/sub/../../../x"), member("files/sub", tarfile.SYMTYPE, link="/etc"),
    member("files/h", tarfile.LNKTYPE, link="files/a"), member("files/d", tarfile.BLKTYPE), member("/abs/x"),
    member("files/a", tarfile.GNUTYPE_SPARSE), member("files", tarfile.DIRTYPE), member("other/a"),
], ids=lambda unsafe: f"{unsafe[0].name}:{unsafe[0].type.decode()}")
def test_check_member_refuses_everything_but_expected_files_and_folders(tmp_path, unsafe):
    with pytest.raises(UnsafeMember):
        check_member(unsafe[0], EXPECTED, set(), lambda store: tmp_path if store == "files" else None)


def test_the_data_filter_refuses_what_would_land_outside_through_a_link_in_the_way(tmp_path):
    """Our own check looks at names; tarfile's data filter also resolves the folder a member lands in."""
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "sub").symlink_to(tmp_path)
    expected = {"files/sub/a": EXPECTED["files/a"]}
    with pytest.raises(UnsafeMember, match="outside the destination"):
        check_member(member("files/sub/a")[0], expected, set(), lambda store: staging)
    check_member(member("files/a")[0], EXPECTED, set(), lambda store: staging)  # a plain expected file passes

