"""Which rows of a person table are the org's: those whose key a delivery holds.

The MSP's directory sync (or the product, on a person's first visit) may have made rows for the
org's people in the target before the import; they carry the target org id like the org's own
rows. A row of a person table (the catalog's `person`) is the org's when its key is in the index
of a delivery of the org, else it is the target's own: never counted, checked or merged away as
the org's. The index comes from the bucket like the rest of a delivery, and a forged one
could move rows between the two kinds: so the import refuses a row whose key the index lacks, a
row or a deletion naming a key of the target's own, and a deletion of a key no earlier delivery
held (offboard.db.persons).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from offboard.db.catalog import Catalog
from offboard.db.export import read_index
from offboard.db.manifest import MANIFEST_FILE, catalogued, read_manifest
from offboard.delivery import DELIVERY, delivery_number

PersonKeys = dict[str, set[str]]  # SCHEMA.TABLE -> the keys (as DEL text) of the org's rows in it


def keys_by_delivery(catalog: Catalog, folder: Path, org_id: str) -> dict[str, PersonKeys]:
    """Delivery -> the keys of every person table in its index, for the org's committed deliveries
    in `folder` (the import folder: one subfolder per delivery), in delivery order."""
    people = [spec.qualified for spec in catalog.tables() if spec.person]
    found: dict[str, PersonKeys] = {}
    if not people or not folder.is_dir():
        return found
    for delivery in sorted((path for path in folder.iterdir() if (path / MANIFEST_FILE).is_file() and DELIVERY.match(path.name)),
                           key=lambda path: delivery_number(path.name)):
        manifest = read_manifest(delivery)
        if manifest.org_id != org_id:
            continue
        keys = found.setdefault(manifest.delivery, dict.fromkeys(people, set()))
        for spec, entry in catalogued(manifest, catalog, str(delivery / MANIFEST_FILE)):
            if spec.person:
                keys[spec.qualified] = set(read_index(delivery, spec, entry))
    return found


def union(deliveries: Iterable[PersonKeys], catalog: Catalog) -> PersonKeys:
    """Every key any of `deliveries` holds, per person table of the catalog."""
    keys: PersonKeys = {spec.qualified: set() for spec in catalog.tables() if spec.person}
    for delivered in deliveries:
        for table, found in delivered.items():
            keys[table] |= found
    return keys


def delivered_keys(catalog: Catalog, folder: Path, org_id: str) -> PersonKeys:
    """The keys of every person table over the org's committed deliveries in `folder`."""
    return union(keys_by_delivery(catalog, folder, org_id).values(), catalog)
