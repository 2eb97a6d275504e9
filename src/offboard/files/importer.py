"""Import: one committed delivery into the target's content-store roots.

The target's stores are shared with other orgs: before anything is written, every file the
delivery would write or delete must be absent or the org's (`offboard.files.owners`). Every
archive then lands in staging and is verified; only then are the files claimed for the org,
moved into place (renames), and the delivery's deletions applied. Running it again lands the
same files again: the result is the same, but for a file the fix-up rewrote (a wiki page holding
links): while the delivery brings the very file the fix-up rewrote, and the target still holds
what the fix-up made of it, it is left so; another version is written, and the fix-up, which runs
after the import, rewrites that in turn.

The delivery's names are never all in memory: they come from the manifest's on-disk index
(`offboard.files.index`) in batches, an archive's members as it is landed.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from offboard.errors import OffboardError
from offboard.files.deliveries import required_manifest
from offboard.files.index import FileIndex, Manifest
from offboard.files.landing import land_archive
from offboard.files.manifest import ArchiveEntry, FileEntry
from offboard.files.owners import Ownership, TargetOrg
from offboard.files.parallel import run_all
from offboard.files.progress import Progress, Silent
from offboard.files.selection import StoreFolders, StoreRoots
from offboard.files.settings import TransferSettings
from offboard.files.staging import Staging
from offboard.files.verify import differences, lstat
from offboard.fixup.report import RewrittenFile


@dataclass(frozen=True)
class ImportResult:
    delivery: str
    files: int
    bytes: int
    deleted: int
    kept: int = 0  # files left as the fix-up rewrote them


def import_files(s3, bucket: str, org_id: str, delivery: str, roots: StoreRoots, target: TargetOrg, *,
                 rewritten: Mapping[str, RewrittenFile] | None = None, settings: TransferSettings = TransferSettings(),
                 progress: Progress | None = None) -> ImportResult:
    """Land a committed delivery (`initial`, `delta-N`) of org `org_id` under the target roots, per
    store, as the files of `target` (the org in the target); `rewritten`: what the target's last
    fix-up made of the files it rewrote, by `<store>/<path>`."""
    folders = StoreFolders(roots)
    ownership = Ownership(folders.roots, target)
    with FileIndex() as index:
        manifest = required_manifest(s3, bucket, delivery, org_id, index)
        with ownership.writing():
            check_owned(manifest, folders, ownership)
            kept = as_rewritten(manifest, folders, rewritten or {})
            archives = manifest.archives()
            progress = progress or Silent()
            progress.start(sum(entry.size for entry in archives.values()), manifest.counts.files)
            staging = Staging(folders.roots, org_id, delivery)
            staging.reset()
            try:
                land_all(s3, bucket, manifest, archives, staging, settings, progress)
                ownership.claim(manifest.files(), delivery)
                move_into_place(manifest, folders, staging, kept)
                ownership.release(manifest.deleted())
            finally:
                staging.remove()
    counts = manifest.counts
    return ImportResult(delivery, counts.files, counts.bytes, counts.deleted, len(kept))


def check_owned(manifest: Manifest, folders: StoreFolders, ownership: Ownership) -> None:
    """Refuse the delivery in one line unless every file it writes or deletes is absent from the
    target or the org's (what a dry run checks too)."""
    names = itertools.chain((name for name, _ in manifest.files()), manifest.deleted())
    ownership.refuse_foreign(((name, folders.path(name)) for name in names), manifest.delivery)


def as_rewritten(manifest: Manifest, folders: StoreFolders, rewritten: Mapping[str, RewrittenFile]) -> list[str]:
    """The delivery's files that the fix-up rewrote from this very content and that the target still
    holds as the fix-up left them: writing them again would undo the fix-up."""
    return [name for name, fixed in rewritten.items()
            if (entry := manifest.entry(name)) and fixed.delivered == entry.sha256
            and (info := lstat(path := folders.path(name))) and not differences(path, info, fixed, checksum=True)]


def land_all(s3, bucket: str, manifest: Manifest, archives: Mapping[str, ArchiveEntry], staging: Staging,
             settings: TransferSettings, progress: Progress) -> None:
    """Every archive staged and verified; an archive's members are read from the index (in this
    thread) as a worker frees up, so only the archives in flight are in memory."""

    def land(item: tuple[str, ArchiveEntry, dict[str, FileEntry]], cancelled: threading.Event) -> None:
        archive, entry, members = item
        land_archive(s3, bucket, manifest.delivery, archive, entry, members, staging, progress, cancelled)

    items = ((archive, entry, manifest.members(archive)) for archive, entry in sorted(archives.items()))
    run_all(land, items, settings.archives_in_flight)


def move_into_place(manifest: Manifest, folders: StoreFolders, staging: Staging, kept: list[str]) -> None:
    """The staged files but those `kept`, then the deletions; a failure here is mended by running the import again."""
    try:
        for name in kept:
            os.unlink(staging.path(name))
        staging.move_into_place()
        for name in manifest.deleted():
            path = folders.path(name)
            if os.path.lexists(path):
                os.unlink(path)
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        raise OffboardError(f"could not put{where} into place ({error.strerror or error}); run the import again") from None
