"""Archive planning: bounded, deterministic, a large file alone."""

from __future__ import annotations


import pytest

from offboard.errors import OffboardError
from offboard.files.plan import plan_archives
from offboard.files.scan import SourceFile
from offboard.files.settings import MiB, TransferSettings

SETTINGS = TransferSettings(archive_bytes=100_000, archive_files=10)


def source(name: str, size: int) -> SourceFile:
    return SourceFile(name, f"/{name}", size, 0)


def test_archives_stay_within_their_bounds_and_a_larger_file_gets_its_own():
    files = [source(f"files/s{i:03d}", 9_000) for i in range(30)] + [source("files/s015-big", 500_000)]
    plans = list(plan_archives(sorted(files, key=lambda f: f.name), SETTINGS))
    assert [p.name for p in plans][:2] == ["00001.tar", "00002.tar"]
    assert all(p.size <= SETTINGS.archive_bytes and len(p.files) <= 10 for p in plans if len(p.files) > 1)
    big = next(p for p in plans if any(f.name == "files/s015-big" for f in p.files))
    assert len(big.files) == 1
    assert sorted(f.name for p in plans for f in p.files) == sorted(f.name for f in files)


def test_the_plan_is_made_as_the_files_come_and_numbered_from_the_first():
    files = iter([source(f"files/{i:02d}", 1000 * i) for i in range(40)])
    plans = plan_archives(files, SETTINGS, 7)
    first = next(plans)
    assert first.name == "00007.tar" and len(first.files) == 10
    assert next(files).name == "files/11"  # one file read ahead: the one that did not fit


def test_parts_grow_past_s3s_limit_of_ten_thousand():
    assert TransferSettings().part_size(10 * MiB) == 8 * MiB
    assert TransferSettings().part_size(200_000 * MiB) == 21 * MiB


def test_parts_below_s3s_minimum_are_refused():
    with pytest.raises(OffboardError, match="below S3's minimum"):
        TransferSettings(part_bytes=1 * MiB)
