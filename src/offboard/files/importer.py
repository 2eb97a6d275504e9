"""Import: one committed delivery into the target's content-store roots.

Every archive lands in staging and is verified first; only then are the files moved into place
(renames) and the delivery's deletions applied. Running it again lands the same files again:
the result is the same.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from offboard.errors import OffboardError
from offboard.files.deliveries import required_manifest
from offboard.files.landing import land_archive
from offboard.files.manifest import Manifest
from offboard.files.parallel import run_all
from offboard.files.progress import Progress, Silent
from offboard.files.selection import StoreFolders, StoreRoots
from offboard.files.settings import TransferSettings
from offboard.files.staging import Staging


@dataclass(frozen=True)
class ImportResult:
    delivery: str
    files: int
    bytes: int
    deleted: int


def import_files(s3, bucket: str, org_id: str, delivery: str, roots: StoreRoots, *,
                 settings: TransferSettings = TransferSettings(), progress: Progress | None = None) -> ImportResult:
    """Land a committed delivery (`initial`, `delta-N`) under the target roots, per store."""
    manifest = required_manifest(s3, bucket, delivery, org_id)
    folders = StoreFolders(roots)
    targets = {name: folders.path(name) for name in [*manifest.files, *manifest.deleted]}
    progress = progress or Silent()
    progress.start(sum(entry.size for entry in manifest.archives.values()), len(manifest.files))
    staging = Staging(folders.roots, org_id, delivery)
    staging.reset()
    try:
        land_all(s3, bucket, manifest, staging, settings, progress)
        move_into_place(manifest, staging, targets)
    finally:
        staging.remove()
    return ImportResult(delivery, len(manifest.files), sum(e.size for e in manifest.files.values()), len(manifest.deleted))


def land_all(s3, bucket: str, manifest: Manifest, staging: Staging, settings: TransferSettings, progress: Progress) -> None:
    """Every archive staged and verified."""
    members = manifest.by_archive()

    def land(archive: str, cancelled: threading.Event) -> None:
        land_archive(s3, bucket, manifest.delivery, archive, manifest.archives[archive], members[archive], staging,
                     progress, cancelled)

    run_all(land, sorted(manifest.archives), settings.archives_in_flight)


def move_into_place(manifest: Manifest, staging: Staging, targets: dict[str, str]) -> None:
    """The staged files, then the deletions; a failure here is mended by running the import again."""
    try:
        staging.move_into_place()
        for name in manifest.deleted:
            if os.path.lexists(targets[name]):
                os.unlink(targets[name])
    except OSError as error:
        where = f" {error.filename}" if error.filename else ""
        raise OffboardError(f"could not put{where} into place ({error.strerror or error}); run the import again") from None
