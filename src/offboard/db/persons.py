"""The org's rows of a target as an import sees them, where a person table needs more than the
tenant column to tell them (offboard.db.delivered) and the fix-up may have merged people.

In a person table the org's rows are those whose key a delivery's index holds; the target's own
(the directory sync's) are never written by an import: a delivered row or deletion naming one is
refused, and so is a row its delivery's index lacks or a deletion of a key no earlier delivery
held. A person the fix-up merged into the target's own (offboard.fixup.people) stays merged: a
delta's row of that person is not loaded again, rows and deleted keys pointing at it point at
the target's person, and the counts leave the merged rows out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa

from offboard.db.catalog import Catalog, TableSpec
from offboard.db.delivered import PersonKeys, keys_by_delivery, union
from offboard.db.manifest import Manifest, TableEntry
from offboard.db.digest import Checksum, row_digests
from offboard.db.scan import State, count_rows, org_batches, table_state
from offboard.db.values import driver_value, key_text, shown_value
from offboard.delivery import delivery_number
from offboard.errors import OffboardError

Merged = Mapping[str, Mapping[str, str]]  # person table -> the org's key merged away -> the target's key (as shown)


@dataclass(frozen=True)
class OrgRows:
    """The org in a target while one delivery is imported: its id there, the person tables' keys
    of every delivery (`current`: the one imported, `before`: all earlier), the people merged."""

    id: str
    current: PersonKeys
    before: PersonKeys
    previous: PersonKeys  # the delivery the current one follows (a delta's base)
    merged: Merged

    @classmethod
    def of(cls, catalog: Catalog, delivery_dir: Path, manifest: Manifest, target_org_id: str, merged: Merged | None) -> OrgRows:
        """The org's rows as seen with the delivery in `delivery_dir`, from every delivery in its folder."""
        deliveries = keys_by_delivery(catalog, delivery_dir.parent, manifest.org_id)
        number, empty = delivery_number(manifest.delivery), union([], catalog)
        return cls(target_org_id, deliveries.get(manifest.delivery, empty),
                   union((keys for name, keys in deliveries.items() if delivery_number(name) < number), catalog),
                   deliveries.get(manifest.previous, empty) if manifest.previous else empty,
                   merged or {})

    @cached_property
    def delivered(self) -> PersonKeys:
        return {table: self.before.get(table, set()) | keys for table, keys in self.current.items()}

    def state(self, connection: sa.Connection, spec: TableSpec) -> State:
        return table_state(connection, spec, self.id, keys=self.delivered.get(spec.qualified))

    def present(self, connection: sa.Connection, spec: TableSpec) -> int:
        """The org's rows in the table: in a person table, those a delivery holds."""
        return self.state(connection, spec).rows if spec.person else count_rows(connection, spec, self.id)

    def merged_among(self, spec: TableSpec, keys: Collection[str]) -> int:
        """How many of `keys` (DEL text) are of people merged away."""
        return len(self._merged_texts(spec) & set(keys)) if spec.person else 0

    def expected(self, spec: TableSpec, entry: TableEntry) -> int:
        """The org's rows the table holds once the delivery is in."""
        return entry.rows_total - self.merged_among(spec, self.current.get(spec.qualified, ()))

    def states(self, spec: TableSpec, entry: TableEntry, deleted: list[tuple]) -> tuple[int, int, int]:
        """The counts a delta's table may show: before it, between its rows and its deletions, after it."""
        gone = [key_text(spec.types[spec.key[0]])(key[0]) for key in deleted] if spec.person else []
        current = self.current.get(spec.qualified, set())
        return (entry.rows_before - self.merged_among(spec, self.previous.get(spec.qualified, ())),
                entry.rows_total + len(deleted) - self.merged_among(spec, current | set(gone)),
                self.expected(spec, entry))

    def survey(self, connection: sa.Connection, spec: TableSpec) -> tuple[State | None, dict[str, bytes]]:
        """One read of a person table: the state of the org's rows (as `state`), and the rows
        present under a key no earlier delivery held, key -> row digest (`contested`: the target's
        own people, or rows an interrupted run of this very delivery wrote already, which a run
        again writes identically). (None, {}) for another table, which it does not read."""
        if not spec.person:
            return None, {}
        text, position = key_text(spec.types[spec.key[0]]), spec.key_positions[0]
        delivered, earlier = self.delivered[spec.qualified], self.before.get(spec.qualified, set())
        checksum, contested = Checksum(), {}
        for batch in org_batches(connection, spec, self.id):
            keys, digests = [text(row[position]) for row in batch], row_digests(spec, batch)
            checksum.add([digest for key, digest in zip(keys, digests) if key in delivered])
            contested.update((key, digest) for key, digest in zip(keys, digests) if key not in earlier)
        return State(checksum.rows, checksum.hexdigest()), contested

    def check_rows(self, spec: TableSpec, rows: list, contested: Mapping[str, bytes], where: str) -> None:
        """Refuse a person-table row its delivery's index lacks, or one that would change a row of
        the target's own people (`contested`)."""
        if not spec.person:
            return
        text, position, indexed = key_text(spec.types[spec.key[0]]), spec.key_positions[0], self.current.get(spec.qualified, set())
        for row, digest in zip(rows, row_digests(spec, rows)):
            key = text(row[position])
            if key not in indexed:
                raise OffboardError(f"{where}: a row of {spec.qualified} with key {shown_value(row[position])} that the delivery's "
                                    "index lacks: the delivery is inconsistent; ask for a new export")
            if contested.get(key, digest) != digest:
                raise OffboardError(f"{where}: a row of {spec.qualified} would change {shown_value(row[position])}, a person the "
                                    "target made itself, not the org's: the delivery is refused")

    def check_deleted(self, spec: TableSpec, keys: list[tuple], where: str) -> None:
        """Refuse a deletion in a person table of a key no earlier delivery held (the target's own)."""
        if not spec.person:
            return
        text, earlier = key_text(spec.types[spec.key[0]]), self.before.get(spec.qualified, set())
        for (value, *_) in keys:
            if text(value) not in earlier:
                raise OffboardError(f"{where}: deletes {shown_value(value)} of {spec.qualified}, which no earlier delivery of the "
                                    "org holds: the delivery is refused")

    def onto_merged(self, spec: TableSpec) -> Callable[[list], list] | None:
        """For a delta's rows: drop the rows of people merged into the target's own, and point the
        columns that reference them at the target's person (None: nothing of the table is merged)."""
        drop = set(self.merged.get(spec.qualified, {})) if spec.person else set()
        moves = {spec.column_names.index(column): moved for column, moved in self._moves(spec).items()}
        if not drop and not moves:
            return None
        position = spec.key_positions[0]

        def onto(rows: list) -> list:
            kept = [list(row) for row in rows if shown_value(row[position]) not in drop]
            for row in kept:
                for i, moved in moves.items():
                    if row[i] is not None:
                        row[i] = moved.get(shown_value(row[i]), row[i])
            return kept

        return onto

    def keys_onto_merged(self, spec: TableSpec, keys: list[tuple]) -> list[tuple]:
        """A delta's deleted keys as the target holds them: a key column pointing at a merged
        person points at the target's person there."""
        moves = {spec.key.index(column): moved for column, moved in self._moves(spec).items() if column in spec.key}
        if not moves:
            return keys
        return [tuple(moves[i].get(shown_value(value), value) if i in moves else value for i, value in enumerate(key)) for key in keys]

    def _moves(self, spec: TableSpec) -> dict[str, dict[str, object]]:
        """Column pointing at a person table -> the org's key merged away (as shown) -> the target's (driver value)."""
        return {column: {removed: driver_value(spec.types[column], kept) for removed, kept in self.merged[parent].items()}
                for column, parent in spec.parents.items() if self.merged.get(parent)}

    def _merged_texts(self, spec: TableSpec) -> set[str]:
        column_type = spec.types[spec.key[0]]
        return {key_text(column_type)(driver_value(column_type, removed)) for removed in self.merged.get(spec.qualified, {})}
