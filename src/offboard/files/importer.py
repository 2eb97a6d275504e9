"""Import: one committed delivery into the target's content-store roots.

The target's stores are shared with other orgs: before anything is written, every file the
delivery would write or delete must be absent or the org's (`offboard.files.owners`). Every
archive then lands in staging and is verified; only then are the files claimed for the org,
moved into place (renames), and the delivery's deletions applied. Running it again lands the
same files again: the result is the same, but for a file the fix-up rewrote (a wiki page holding
links): while the delivery brings the very file the fix-up rewrote, and the target still holds
what the fix-up made of it, it is left so; another version is written, and the fix-up, which runs
after the import, rewrites that in turn.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from offboard.errors import OffboardError
from offboard.files.deliveries import required_manifest
from offboard.files.landing import land_archive
from offboard.files.manifest import Manifest
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
    manifest = required_manifest(s3, bucket, delivery, org_id)
    folders = StoreFolders(roots)
    ownership = Ownership(folders.roots, target)
    with ownership.writing():
        targets = owned_targets(manifest, folders, ownership)
        kept = as_rewritten(manifest, targets, rewritten or {})
        progress = progress or Silent()
        progress.start(sum(entry.size for entry in manifest.archives.values()), len(manifest.files))
        staging = Staging(folders.roots, org_id, delivery)
        staging.reset()
        try:
            land_all(s3, bucket, manifest, staging, settings, progress)
            ownership.claim(manifest.files, delivery)
            move_into_place(manifest, staging, targets, kept)
            ownership.release(manifest.deleted)
        finally:
            staging.remove()
    return ImportResult(delivery, len(manifest.files), sum(e.size for e in manifest.files.values()), len(manifest.deleted), len(kept))


def owned_targets(manifest: Manifest, folders: StoreFolders, ownership: Ownership) -> dict[str, str]:
    """Where each file the delivery writes or deletes lies in the target, once every one of them
    is proven absent or the org's; refused in one line otherwise."""
    targets = {name: folders.path(name) for name in [*manifest.files, *manifest.deleted]}
    ownership.refuse_foreign(targets, manifest.delivery)
    return targets


def as_rewritten(manifest: Manifest, targets: Mapping[str, str], rewritten: Mapping[str, RewrittenFile]) -> list[str]:
    """The delivery's files that the fix-up rewrote from this very content and that the target still
    holds as the fix-up left them: writing them again would undo the fix-up."""
    return [name for name, entry in manifest.files.items()
            if (fixed := rewritten.get(name)) and fixed.delivered == entry.sha256
            and (info := lstat(targets[name])) and not differences(targets[name], info, fixed, checksum=True)]


def land_all(s3, bucket: str, manifest: Manifest, staging: Staging, settings: TransferSettings, progress: Progress) -> None:
    """Every archive staged and verified."""
    members = manifest.by_archive()

    def land(archive: str, cancelled: threading.Event) -> None:
        land_archive(s3, bucket, manifest.delivery, archive, manifest.archives[archive], members[archive], staging,
                     progress, cancelled)

    run_all(land, sorted(manifest.archives), settings.archives_in_flight)


def move_into_place(manifest: Manifest, staging: Staging, targets: dict[str, str], kept: list[str]) -> None:
    """The staged files but those `kept`, then the deletions; a failure here is mended by running the import again."""
    try:
        for name in kept:
            os.unlink(staging.path(name))
        staging.move_into_place()
        for name in manifest.deleted:
            if os.path.lexists(targets[name]):
                os.unlink(targets[name])
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        raise OffboardError(f"could not put{where} into place ({error.strerror or error}); run the import again") from None
