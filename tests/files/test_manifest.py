"""The streamed manifest: what is written is read back whole, and anything else than a whole,
consistent manifest of the awaited org and delivery is refused in one line naming the line."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from offboard.errors import OffboardError
from offboard.files.index import FileIndex
from offboard.files.manifest import MAX_LINE, ArchiveEntry, Counts, FileEntry, Header, now, write_manifest

ORG, DELIVERY = "20011111", "delta-1"
DIGEST = "ab" * 32
HEADER = {"format": 2, "orgId": ORG, "delivery": DELIVERY, "created": "2026-01-01T00:00:00Z"}


@pytest.fixture
def index():
    with FileIndex() as index:
        yield index


def load(index: FileIndex, data: bytes):
    return index.load(io.BytesIO(data), "s3://bucket/delta-1/files/manifest.jsonl", ORG, DELIVERY)


def archive(name: str = "00001.tar", files: int = 2) -> dict:
    return {"archive": name, "size": 10, "sha256": DIGEST, "files": files}


def file(name: str, archive: str = "00001.tar", size: int = 3) -> dict:
    return {"file": name, "size": size, "mtimeNs": 7, "sha256": DIGEST, "archive": archive}


def forged(*lines: dict, header: dict = HEADER) -> bytes:
    """A manifest of these lines as anyone holding the bucket's key could write it: any lines, in
    any order, with an end line whose counts and sha256 agree with them."""
    body = b"".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for line in [header, *lines])
    counts = {kind: sum(next(iter(line)) == kind for line in lines) for kind in ("archive", "file", "deleted", "missing")}
    end = {"archives": counts["archive"], "files": counts["file"], "deleted": counts["deleted"], "missing": counts["missing"],
           "bytes": sum(line["size"] for line in lines if "file" in line), "sha256": hashlib.sha256(body).hexdigest()}
    return body + json.dumps({"end": end}).encode() + b"\n"


GOOD = (archive(), file("files/a"), file("files/b"), {"deleted": "files/c"}, {"missing": "wikis/d"})


def refused(data: bytes, match: str) -> str:
    """The refusal of `data`, read into an index of its own (a refused manifest ends the command that reads it)."""
    with FileIndex() as index, pytest.raises(OffboardError, match=match) as refusal:
        load(index, data)
    message = str(refusal.value)
    assert "\n" not in message and message.startswith("s3://bucket/delta-1/files/manifest.jsonl")
    return message


def test_a_manifest_of_many_lines_reads_back_as_it_was_written(index):
    """More files than the reader puts into the index at a time; every section; names in code-point order."""
    names = sorted(f"{store}/{n // 1000:03d}/{n:06d}{'é' if n % 7 else ''}" for store in ("files", "wikis") for n in range(12_500))
    files = [(name, FileEntry(n % 50, 1_600_000_000_000_000_000 + n, hashlib.sha256(name.encode()).hexdigest(), f"{n % 3 + 1:05d}.tar"))
             for n, name in enumerate(names)]
    archives = [(f"{n:05d}.tar", ArchiveEntry(1000 + n, DIGEST, sum(1 for _, e in files if e.archive == f"{n:05d}.tar"))) for n in (1, 2, 3)]
    deleted, missing = ["files/gone/1", "files/gone/2"], ["wikis/lost"]
    out = io.BytesIO()
    counts = write_manifest(out, Header(ORG, DELIVERY, now()), archives, files, deleted, missing)
    assert counts == Counts(3, 25_000, 2, 1, sum(entry.size for _, entry in files))

    manifest = load(index, out.getvalue())
    assert (manifest.org_id, manifest.delivery, manifest.counts) == (ORG, DELIVERY, counts)
    assert list(manifest.files()) == files
    assert manifest.archives() == dict(archives)
    assert manifest.members("00002.tar") == {name: entry for name, entry in files if entry.archive == "00002.tar"}
    assert manifest.entry(names[-1]) == files[-1][1] and manifest.entry("files/none") is None
    assert (list(manifest.deleted()), list(manifest.missing())) == (deleted, missing)


def test_a_truncated_manifest_is_refused():
    whole = forged(*GOOD)
    lines = whole.splitlines(keepends=True)
    refused(b"".join(lines[:-1]), r"\(line 6\): it has no end line: the manifest is truncated")
    refused(b"".join(lines[:3]), r"\(line 3\): it has no end line")
    refused(whole[:-5], r"\(line 7\): the last line is cut short: the manifest is truncated")
    refused(b"".join(lines[:2]) + lines[2][:20], r"\(line 3\): the last line is cut short")
    refused(b"", r": it is empty")


def test_a_reordered_manifest_is_refused():
    refused(forged(archive(), file("files/b"), file("files/a")),
            r"\(line 4\): file 'files/a' is not after 'files/b': names are not in order \(reordered or repeated\)")
    refused(forged(archive(), file("files/a"), {"deleted": "files/c"}, file("files/b")),
            r"\(line 5\): file 'files/b' after the deleted lines: the manifest is reordered")
    refused(forged(file("files/a"), archive()), r"\(line 2\): 'files/a' lies in '00001.tar', which the manifest does not list")
    refused(forged(archive(), archive(), file("files/a"), file("files/b")), r"\(line 3\): archive '00001.tar' is not after")
    refused(forged(archive(), file("files/a"), file("files/a")), r"\(line 4\): file 'files/a' is not after 'files/a'")


def test_an_altered_manifest_is_refused():
    whole = forged(*GOOD)
    lines = whole.splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"sha256":"abab', b'"sha256":"abac')  # still a digest, and in order
    refused(b"".join(lines), r"\(line 7\): the end line's sha256 differs from the lines': the manifest was altered")
    refused(whole.replace(b'"files/b"', b'"files/B"'), r"\(line 4\): file 'files/B' is not after 'files/a'")
    refused(whole.replace(b'"files": 2', b'"files": 3'), r"\(line 7\): the end line counts 1 archives, 3 files, 1 deleted and 1 missing, the lines 1, 2, 1 and 1: lines are missing")
    end = whole.splitlines(keepends=True)[-1]
    refused(whole + end, r"\(line 7\): lines after the end line")


@pytest.mark.parametrize("lines, match", [
    ((archive(files=3), file("files/a"), file("files/b")), r"\(line 5\): archive 00001.tar should carry 3 files, the manifest gives it 2"),
    ((archive(), file("files/a"), file("files/b", archive="00002.tar")), r"\(line 4\): 'files/b' lies in '00002.tar', which the manifest"),
    ((archive(), file("files/a"), file("files/b"), {"deleted": "files/b"}), r": files/b is both carried and deleted"),
    ((archive(files=1), file("files/../etc/passwd")), r"\(line 3\): files: '../etc/passwd' climbs out of the store"),
    ((archive(), file("files/a"), {**file("files/b"), "size": -1}), r"\(line 4\): -1 is not a count"),
    ((archive(), file("files/a"), {**file("files/b"), "owner": "x"}), r"\(line 4\): expected the fields file, size, mtimeNs, sha256, archive"),
], ids=["archive count", "unlisted archive", "carried and deleted", "not canonical", "negative size", "unknown field"])
def test_a_consistent_forgery_is_refused(lines, match):
    refused(forged(*lines), match)


def test_a_line_longer_than_any_manifest_line_is_refused():
    refused(forged(archive(files=1), file("files/" + "x" * MAX_LINE)), rf"\(line 3\): a line longer than {MAX_LINE} bytes")


@pytest.mark.parametrize("header, match", [
    ({**HEADER, "orgId": "20099999"}, r"manifest.jsonl is delivery delta-1 of org 20099999, not delta-1 of org 20011111$"),
    ({**HEADER, "delivery": "delta-2"}, r"manifest.jsonl is delivery delta-2 of org 20011111, not delta-1 of org 20011111$"),
    ({**HEADER, "format": 1}, r"\(line 1\): format 1 is not supported \(expected 2\)"),
], ids=["another org", "another delivery", "another format"])
def test_another_orgs_or_deliverys_manifest_is_refused(header, match):
    refused(forged(*GOOD, header=header), match)


@pytest.mark.parametrize("header, lines, match", [
    ({**HEADER, "orgId": "٢٠٠١١١١١"}, GOOD, r"\(line 1\): orgId '٢٠٠١١١١١' is not an org id"),  # Python's \d and int() take them
    ({**HEADER, "delivery": "delta-1٠"}, GOOD, r"\(line 1\): delivery 'delta-1٠' is not a delivery name"),  # an Arabic-Indic zero
    (HEADER, (archive("٠٠٠٠١.tar", files=0),), r"\(line 2\): '٠٠٠٠١.tar' is not an archive name"),
], ids=["org", "delivery", "archive"])
def test_a_manifest_counts_in_ascii_digits_only(header, lines, match):
    refused(forged(*lines, header=header), match)
