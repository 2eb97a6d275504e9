"""Customers provisioned on the embedded endpoint, source trees, and small transfer settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from offboard.files.export import export_files
from offboard.files.importer import import_files
from offboard.files.settings import MiB, TransferSettings
from offboard.transfer.session import customer_s3

# Small bounds so a few files make several archives; 5 MiB is S3's smallest part.
SMALL = TransferSettings(archive_bytes=64 * 1024, archive_files=4, part_bytes=5 * MiB, parts_in_flight=4, archives_in_flight=2)
MTIME_NS = 1_600_000_000_123_456_789


class Transfer:
    """One customer's bucket through its own key, with the small settings."""

    def __init__(self, outputs, org_id: str, admin) -> None:
        self.outputs, self.org_id, self.admin = outputs, org_id, admin
        self.bucket = outputs.bucket
        self.s3 = customer_s3(outputs)
        self.settings = SMALL

    def export(self, roots, selection, delivery="initial", **options):
        return export_files(self.s3, self.bucket, self.org_id, roots, selection, delivery, settings=self.settings, **options)

    def import_(self, delivery, roots, **options):
        return import_files(self.s3, self.bucket, self.org_id, delivery, roots, settings=self.settings, **options)

    def keys(self, prefix: str = "") -> list[str]:
        return [item["Key"] for item in self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix).get("Contents", [])]


@pytest.fixture
def alpha(provisioned, customers, endpoint_session) -> Transfer:
    return Transfer(provisioned["alpha"], customers["alpha"].org_id, endpoint_session[1].client("s3", customers["alpha"].region))


@pytest.fixture
def beta(provisioned, customers, endpoint_session) -> Transfer:
    return Transfer(provisioned["beta"], customers["beta"].org_id, endpoint_session[1].client("s3", customers["beta"].region))


def write(root: Path, relative: str, data: bytes, mtime_ns: int = MTIME_NS) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def snapshot(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Everything below a folder by relative path: a file's content and mtime, None for a folder."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.lstat().st_mtime_ns) if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def store_roots(folder: Path) -> dict[str, Path]:
    """The roots of two content stores under `folder`, made empty."""
    found = {store: folder / store for store in ("files", "wikis")}
    for root in found.values():
        root.mkdir(parents=True)
    return found


@pytest.fixture
def roots(tmp_path) -> dict[str, Path]:
    return store_roots(tmp_path / "source")


@pytest.fixture
def targets(tmp_path) -> dict[str, Path]:
    return store_roots(tmp_path / "target")
