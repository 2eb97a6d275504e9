"""The content count: the org's binaries of each content store, as its source rows point at them,
counted under the source's root of that store; a missing one blocks."""

from __future__ import annotations

import bisect
import os
from collections.abc import Mapping
from pathlib import Path

from offboard.db.catalog import Catalog
from offboard.db.check.model import BLOCKS, NOTE, SOURCE, CheckResult, ContentCount, Side
from offboard.errors import OffboardError
from offboard.files.selection import StoreFolders, file_name

MISSING_SHOWN = 20  # missing binaries listed by name; the rest are counted


def count_content(result: CheckResult, catalog: Catalog, sources: Mapping[str, str], org_id: str,
                  roots: Mapping[str, Path]) -> None:
    """Count the org's binaries under the source's store roots; missing ones block."""
    from offboard.db.content import org_content  # the databases' content rules, loaded when counted

    side = Side(SOURCE, result)
    stores: dict[str, list[str]] = {}
    for table in catalog.tables():
        if table.content is not None:
            stores.setdefault(table.content.store, []).append(table.qualified)
    if not stores:
        return
    usable: dict[str, Path] = {}
    for store, tables in stores.items():
        root = roots.get(store)
        if root is None:
            side.add(NOTE, "content", f"store {store} ({', '.join(tables)}) has no root in the stack's source: not counted")
        elif not os.path.isdir(root):
            side.add(BLOCKS, "content", f"the root of store {store}, {root}, is not a folder: none of the org's binaries "
                                        f"({', '.join(tables)}) can be read")
        else:
            usable[store] = root
    if not usable:
        return
    folders = StoreFolders(usable)
    counts = {store: ContentCount(store, stores[store], str(root)) for store, root in usable.items()}
    seen: dict[str, set[str]] = {store: set() for store in usable}
    for store, relative in org_content(catalog, sources, org_id, roots):
        if store not in usable:
            continue
        count = counts[store]
        try:
            name = file_name(store, relative)
        except OffboardError:
            name = f"{store}/{relative}"
        if name in seen[store]:
            continue
        seen[store].add(name)
        count.binaries += 1
        try:
            exists = os.path.isfile(folders.path(name))
        except OffboardError:  # a path that climbs out of the store, or a link that leads outside it
            exists = False
        if exists:
            count.found += 1
        else:
            count.missing_count += 1
            bisect.insort(count.missing, relative)  # the first in name order, whatever order the rows come in
            del count.missing[MISSING_SHOWN:]
    for count in counts.values():
        result.content.append(count)
        tables = ", ".join(count.tables)
        if count.missing_count:
            more = f" and {count.missing_count - len(count.missing)} more" if count.missing_count > len(count.missing) else ""
            side.add(BLOCKS, "content", f"store {count.store} ({tables}): {count.missing_count} of the org's {count.binaries} "
                                        f"binaries missing under {count.root}: {', '.join(count.missing)}{more}")
