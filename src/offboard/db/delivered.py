"""Which rows of a person table are the org's: those whose key a delivery holds.

The MSP's directory sync (or the product, on a person's first visit) may have made rows for the
org's people in the target before the import; they carry the target org id like the org's own
rows. A row of a person table (the catalog's `person`) is the org's when its key is in the index
of a delivery of the org, else it is the target's own: never counted, checked or merged away as
the org's. The index comes from the bucket like the rest of a delivery, but a forged one only
moves rows between the org's own tenant's two kinds: a key it claims that the target's row holds
makes an initial import refuse, a key it hides fails the import's count.
"""

from __future__ import annotations

from pathlib import Path

from offboard.db.catalog import Catalog
from offboard.db.export import read_index
from offboard.db.manifest import MANIFEST_FILE, catalogued, read_manifest

PersonKeys = dict[str, set[str]]  # SCHEMA.TABLE -> the keys (as DEL text) of the org's rows in it


def delivered_keys(catalog: Catalog, folder: Path, org_id: str) -> PersonKeys:
    """The keys of every person table over the org's committed deliveries in `folder` (the import
    folder: one subfolder per delivery)."""
    keys: PersonKeys = {spec.qualified: set() for spec in catalog.tables() if spec.person}
    if not keys or not folder.is_dir():
        return keys
    for delivery in sorted(path for path in folder.iterdir() if (path / MANIFEST_FILE).is_file()):
        manifest = read_manifest(delivery)
        if manifest.org_id != org_id:
            continue
        for spec, entry in catalogued(manifest, catalog, str(delivery / MANIFEST_FILE)):
            if spec.person:
                keys[spec.qualified].update(read_index(delivery, spec, entry))
    return keys
