"""An initial delivery out of the source stores and into the target stores, unchanged."""

from __future__ import annotations

import hashlib
import os

from offboard.files.layout import manifest_key
from tests.files.conftest import MTIME_NS, snapshot, write

BIG = 11 * 1024 * 1024 + 123  # three parts of 5 MiB


def make_tree(roots):
    files = {
        ("files", "ab/cd/Prüfbericht – März.pdf"): b"%PDF unicode name",
        ("files", "ab/empty.bin"): b"",
        ("files", "/".join(f"level{i}" for i in range(30)) + "/deep.txt"): b"deep",
        ("files", "big/video.mp4"): os.urandom(BIG),
        ("wikis", "日本語/ページ.html"): "<p>wiki</p>".encode(),
    }
    files.update({("wikis", f"pages/p{i:02d}.html"): f"page {i}".encode() * 100 for i in range(9)})
    for (store, relative), data in files.items():
        write(roots[store], relative, data)
    return files


def test_a_round_trip_lands_every_file_unchanged(alpha, roots, targets):
    files = make_tree(roots)
    result = alpha.export(roots, list(files))

    assert result.delivery == "initial" and result.files == len(files)
    manifest = alpha.delivered()
    assert set(manifest.files) == {f"{store}/{relative}" for store, relative in files}
    big = manifest.files["files/big/video.mp4"]
    assert big.sha256 == hashlib.sha256(files[("files", "big/video.mp4")]).hexdigest() and big.mtime_ns == MTIME_NS
    assert manifest.files["files/ab/empty.bin"].size == 0
    assert len(manifest.archives) >= 4  # bounded archives; the big file has one of its own
    assert [n for n, e in manifest.files.items() if e.archive == big.archive] == ["files/big/video.mp4"]
    assert alpha.keys(manifest_key("initial"))

    imported = alpha.import_("initial", targets)
    assert imported.files == len(files)
    for (store, relative), data in files.items():
        landed = targets[store] / relative
        assert landed.read_bytes() == data
        assert landed.stat().st_mtime_ns == MTIME_NS
    report = alpha.verify(targets)
    assert report.ok, report.to_json()


def test_export_and_import_again_change_nothing(alpha, roots, targets):
    files = make_tree(roots)
    first = alpha.export(roots, list(files))
    alpha.import_("initial", targets)
    landed = snapshot(targets["files"].parent)

    again = alpha.export(roots, list(files))
    assert again.already_committed and again.archives_sent == 0 and (again.files, again.archives) == (first.files, first.archives)
    alpha.import_("initial", targets)
    assert snapshot(targets["files"].parent) == landed
