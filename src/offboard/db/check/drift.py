"""Drift between the source and a target, where both were read: per catalogued table the columns
the two sides hold, and the schema release each records."""

from __future__ import annotations

from offboard.db.catalog import Catalog, TableSpec
from offboard.db.check.live import LiveDatabase, LiveTable
from offboard.db.check.model import BLOCKS, NOTE, SOURCE, CheckResult, Side
from offboard.db.check.type_text import type_verdict


def drift(result: CheckResult, target: str, catalog: Catalog, source: dict[str, LiveDatabase],
          live: dict[str, LiveDatabase]) -> None:
    """Add the drift between what the source's databases hold and what a target's do."""
    side = Side(f"{SOURCE}/{target}", result)
    for name, spec in catalog.databases.items():
        ours, theirs = source.get(name), live.get(name)
        if ours is None or theirs is None:
            continue
        if ours.dialect != theirs.dialect:
            side.add(NOTE, "drift", f"source on {ours.dialect}, {target} on {theirs.dialect}: types compared with the catalog only", name)
        for table in spec.tables.values():
            a, b = ours.tables.get(table.qualified), theirs.tables.get(table.qualified)
            if a is not None and b is not None:
                _table_drift(side, target, name, table, a, b, same_dialect=ours.dialect == theirs.dialect)
        if spec.release and ours.release is not None and theirs.release is not None and ours.release != theirs.release:
            inferred = f" (where the release is recorded is inferred: {spec.release.inferred})" if spec.release.inferred else ""
            side.add(NOTE if inferred else BLOCKS, "release",
                     f"release {', '.join(ours.release) or 'empty'} in the source, {', '.join(theirs.release) or 'empty'} "
                     f"in {target}: the schemas are of different releases{inferred}", name, spec.release.table, spec.release.column)


def _table_drift(side: Side, target: str, name: str, spec: TableSpec, source: LiveTable, live: LiveTable,
                 same_dialect: bool) -> None:
    for upper in dict.fromkeys([*source.columns, *live.columns]):
        ours, theirs = source.columns.get(upper), live.columns.get(upper)
        moved = upper in spec.columns
        if ours is None or theirs is None:
            if not moved:  # a moved column missing on one side is reported there
                where = "the source" if theirs is None else target
                side.add(NOTE, "drift", f"only in {where}, not moved by the catalog", name, spec.qualified, upper)
            continue
        if not same_dialect or ours.type_text == theirs.type_text:
            continue
        if moved:
            severity, why = type_verdict(ours.type_text, theirs.type_text, widening_blocks=False)
            side.add(severity, "drift", f"{ours.type_text} in the source, {theirs.type_text} in {target}: "
                                        f"{why.replace('the catalog', 'the source')}", name, spec.qualified, upper)
        else:
            side.add(NOTE, "drift", f"{ours.type_text} in the source, {theirs.type_text} in {target}, not moved by the catalog",
                     name, spec.qualified, upper)
