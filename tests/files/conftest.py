"""Customers provisioned on the embedded endpoint, source trees, and small transfer settings."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from offboard.files.deliveries import committed_manifests, required_manifest
from offboard.files.export import export_files
from offboard.files.index import FileIndex
from offboard.files.importer import import_files
from offboard.files.layout import archive_key, manifest_key
from offboard.files.manifest import ArchiveEntry, FileEntry, Header, now, write_manifest
from offboard.files.owners import LOCK, TargetOrg
from offboard.files.settings import MiB, TransferSettings
from offboard.files.verify import verify_files
from offboard.transfer.session import customer_s3

# Small bounds so a few files make several archives; 5 MiB is S3's smallest part.
SMALL = TransferSettings(archive_bytes=64 * 1024, archive_files=4, part_bytes=5 * MiB, parts_in_flight=4, archives_in_flight=2)
MTIME_NS = 1_600_000_000_123_456_789


def no_rows(files):
    """A target database whose rows point at none of `files`."""
    return {}


@dataclass(frozen=True)
class Delivered:
    archives: dict[str, ArchiveEntry]
    files: dict[str, FileEntry]
    deleted: list[str]
    missing: list[str]


class Transfer:
    """One customer's bucket through its own key, with the small settings."""

    def __init__(self, outputs, org_id: str, admin) -> None:
        self.outputs, self.org_id, self.admin = outputs, org_id, admin
        self.bucket = outputs.bucket
        self.s3 = customer_s3(outputs)
        self.settings = SMALL

    def export(self, roots, selection, delivery="initial", **options):
        return export_files(self.s3, self.bucket, self.org_id, roots, selection, delivery, settings=self.settings, **options)

    def import_(self, delivery, roots, target=None, **options):
        """Into a target whose rows point at no file, unless `target` says otherwise."""
        target = target or TargetOrg(self.org_id, no_rows)
        return import_files(self.s3, self.bucket, self.org_id, delivery, roots, target, settings=self.settings, **options)

    def delivered(self, delivery: str = "initial") -> Delivered:
        """The committed manifest of a delivery, whole (tests are small)."""
        with FileIndex() as index:
            manifest = required_manifest(self.s3, self.bucket, delivery, self.org_id, index)
            return Delivered(manifest.archives(), dict(manifest.files()), list(manifest.deleted()), list(manifest.missing()))

    def verify(self, targets, **options):
        """The target's stores against every committed delivery, the whole stores the org's."""
        with FileIndex() as index:
            return verify_files(targets, committed_manifests(self.s3, self.bucket, self.org_id, index), **options)

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


def member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname, info.mtime = kind, len(data), link, MTIME_NS // 10**9
    return info, data


def manifest_bytes(org_id: str, delivery: str, archives: dict[str, ArchiveEntry], files: dict[str, FileEntry],
                   deleted=(), missing=()) -> bytes:
    """A well-formed manifest of these parts (any order: they are sorted)."""
    out = io.BytesIO()
    write_manifest(out, Header(org_id, delivery, now()), sorted(archives.items()), sorted(files.items()), sorted(deleted), sorted(missing))
    return out.getvalue()


def put_delivery(transfer, delivery: str, files: dict[str, bytes], deleted: list[str] = (),
                 members: list[tuple[tarfile.TarInfo, bytes]] = ()) -> dict[str, FileEntry]:
    """A committed delivery written straight into the bucket, as anyone holding the key could: one
    archive of `members` and then `files`, and a manifest that lists `files` and `deleted`, every
    sha256 consistent; returns the manifest's files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in [*members, *(member(name, data=data) for name, data in files.items())]:
            tar.addfile(info, io.BytesIO(data))
    blob = buffer.getvalue()
    transfer.s3.put_object(Bucket=transfer.bucket, Key=archive_key(delivery, "00001.tar"), Body=blob)
    entries = {name: FileEntry(len(data), MTIME_NS, hashlib.sha256(data).hexdigest(), "00001.tar") for name, data in files.items()}
    archives = {"00001.tar": ArchiveEntry(len(blob), hashlib.sha256(blob).hexdigest(), len(files))}
    body = manifest_bytes(transfer.org_id, delivery, archives, entries, deleted)
    transfer.s3.put_object(Bucket=transfer.bucket, Key=manifest_key(delivery), Body=body)
    return entries


def snapshot(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Everything below a folder by relative path: a file's content and mtime, None for a folder;
    but the empty lock file an import takes in a store (the owner record is kept)."""
    return {
        str(path.relative_to(root)): (path.read_bytes(), path.lstat().st_mtime_ns) if path.is_file() else None
        for path in sorted(root.rglob("*")) if path.name != LOCK
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
