"""Export: one org's rows of every catalog table into a delivery folder, manifest last.

Initial: every row of the org. Delta: what changed since the previous committed delivery.

How a delta finds the changes. Every delivery stores, per table, an index of all the org's rows
at export time: each row's key and digest. A delta reads all the org's rows again, digests
them, and compares with the previous index: a key not seen before is an insert, a key whose
row digest differs is an update, a key of the index that no longer comes back is a delete. The change-time column alone would not do: a deleted row leaves nothing whose time
could be compared; a transaction that commits after the cut-off but stamped its rows earlier
(clock skew between application servers, long transactions) would be missed for good; several
tables have no change-time column (members, tags, links); and bulk fixes by administrators
often do not touch it. The price is one full read of the org's rows per delta, which a
read-only org at cut-over can afford, and a look-up of each key in the previous index, which
is kept on disk (`offboard.db.previous`) so that memory stays flat however large the table.

Re-running is safe: a committed delivery is returned as it is; an unfinished one resumes,
keeping the tables whose files are complete and intact (each has a `.done.json` record).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import sqlalchemy as sa
from pydantic import ValidationError

from offboard.db.catalog import Catalog, TableShape
from offboard.db.collection import fewer_collections
from offboard.db.connect import database_errors, opened_engines
from offboard.db.delfile import SUFFIX, ChunkWriter, DelWriter, check_file
from offboard.db.digest import Checksum, row_digests
from offboard.db.manifest import (
    FORMAT,
    Manifest,
    TableEntry,
    is_committed,
    next_delivery,
    now,
    read_manifest,
    write_json_atomically,
    write_manifest,
)
from offboard.db.previous import PreviousIndex, index_batches
from offboard.db.scan import Progress, org_batches
from offboard.db.statements import ORG_ID
from offboard.db.types import ColumnType
from offboard.db.values import key_text, text_bytes
from offboard.errors import OffboardError

CHUNK_ROWS = 500_000
CHUNK_BYTES = 128 << 20
INTENT_FILE = "delivery.json"
DONE_SUFFIX = ".done.json"


@dataclass(frozen=True)
class Delivery:
    folder: Path
    manifest: Manifest
    already_committed: bool = False


@dataclass(frozen=True)
class _Limits:
    chunk_rows: int
    chunk_bytes: int


@dataclass(frozen=True)
class _Baseline:
    """What a delta compares against: the previous delivery's folder and entry (None: a new table)."""

    folder: Path
    entry: TableEntry | None


def export_org(
    catalog: Catalog,
    sources: Mapping[str, str],
    org_id: str,
    out_root: Path,
    kind: str = "initial",
    *,
    chunk_rows: int = CHUNK_ROWS,
    chunk_bytes: int = CHUNK_BYTES,
    progress: Progress | None = None,
) -> Delivery:
    """Export the org into `out_root/<delivery>`; `sources` maps Connections database names to URLs."""
    if not ORG_ID.match(org_id):
        raise OffboardError(f"org id {org_id!r} must be digits")
    name, previous_name = next_delivery(out_root, kind)
    folder = out_root / name
    if is_committed(folder):
        manifest = _own(read_manifest(folder), org_id, folder)
        return Delivery(folder, manifest, already_committed=True)
    previous = _own(read_manifest(out_root / previous_name), org_id, out_root / previous_name) if previous_name else None
    tables = catalog.tables()
    with opened_engines(sources, dict.fromkeys(t.database for t in tables), "source") as engines:
        _claim(folder, org_id, name, previous_name)
        limits = _Limits(chunk_rows, chunk_bytes)
        entries = []
        for spec in tables:
            shape = spec.shape()
            entry = _finished(folder, shape)
            if entry is None:
                baseline = _Baseline(out_root / previous_name, previous.table(shape.qualified)) if previous else None
                entry = _export_table(engines[shape.database], shape, org_id, folder, baseline, limits, progress)
            entries.append(entry)
        manifest = Manifest(format=FORMAT, orgId=org_id, delivery=name, previous=previous_name, created=now(), tables=entries)
        write_manifest(folder, manifest)
        return Delivery(folder, manifest)


def _own(manifest: Manifest, org_id: str, folder: Path) -> Manifest:
    if manifest.org_id != org_id:
        raise OffboardError(f"{folder} holds a delivery of org {manifest.org_id}, not {org_id}")
    return manifest


def _claim(folder: Path, org_id: str, name: str, previous: str | None) -> None:
    """Mark an unfinished folder with what it is for; resuming someone else's is refused."""
    intent = {"orgId": org_id, "delivery": name, "previous": previous}
    path = folder / INTENT_FILE
    if path.is_file():
        found = json.loads(path.read_text(encoding="utf-8"))
        if found != intent:
            raise OffboardError(f"{folder} holds an unfinished export of {found}; remove the folder to start over")
        return
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, intent)


def _done_record(folder: Path, shape: TableShape) -> Path:
    return folder / shape.schema_name / f"{shape.name}{DONE_SUFFIX}"


def _finished(folder: Path, shape: TableShape) -> TableEntry | None:
    """The table's entry from an earlier, interrupted run, if its files are complete and intact."""
    record = _done_record(folder, shape)
    if not record.is_file():
        return None
    try:
        entry = TableEntry.model_validate_json(record.read_bytes())
        if entry.shape() != shape:
            return None  # the catalog changed since
        for info in [*entry.chunks, entry.index]:
            check_file(folder, info)  # and its LOB file
    except (ValidationError, OffboardError):
        return None
    return entry


def _export_table(
    engine: sa.Engine,
    shape: TableShape,
    org_id: str,
    folder: Path,
    baseline: _Baseline | None,
    limits: _Limits,
    progress: Progress | None,
) -> TableEntry:
    stem = f"{shape.schema_name}/{shape.name}"
    previous = _previous(baseline, shape) if baseline else None
    chunks = ChunkWriter(folder, stem, limits.chunk_rows, limits.chunk_bytes, list(shape.types.values()))
    index = DelWriter(folder, f"{stem}.index{SUFFIX}")
    checksum = Checksum()
    try:
        with (previous or nullcontext(), fewer_collections(), database_errors(engine, f"exporting {shape.qualified}"),
              engine.connect() as connection):
            for batch in org_batches(connection, shape, org_id):
                _require_tenant(shape, batch, org_id)
                digests = row_digests(shape, batch)
                checksum.add(digests)
                row_hex = list(map(bytes.hex, digests))
                key_columns = _key_columns(shape, batch)
                index.write(list(zip(row_hex, *key_columns)))
                chunks.write(_changed(batch, _keys(key_columns), row_hex, previous) if baseline else batch)
                if progress:
                    progress(shape.qualified, checksum.rows)
            deleted = _typed_keys(shape, previous.gone() if previous else ())
        written = chunks.close()
        entry = TableEntry(
            **shape.model_dump(by_alias=True),
            rows=sum(chunk.rows for chunk in written),
            rows_before=(baseline.entry.rows_total if baseline.entry else 0) if baseline else None,
            rows_total=checksum.rows,
            checksum=checksum.hexdigest(),
            chunks=written,
            index=index.close(),
            deleted=deleted,
        )
    except BaseException:
        chunks.discard()
        index.discard()
        raise
    write_json_atomically(_done_record(folder, shape), entry.model_dump(mode="json", by_alias=True))
    return entry


def _require_tenant(shape: TableShape, batch: list, org_id: str) -> None:
    """Fail loudly if any row of another tenant came back: it must never reach a file."""
    strangers = shape.foreign_tenants(batch, org_id)
    if strangers:
        shown = ", ".join(sorted(repr(v) for v in strangers))
        raise OffboardError(f"{shape.qualified}: the source returned rows of tenant {shown} when asked for org {org_id}; the table's files were removed")


def _key_columns(shape: TableShape, batch: list) -> list[list]:
    """Each key column of a batch as the text a DEL reader gets back: what the index holds."""
    return [list(map(key_text(shape.types[name]), map(itemgetter(i), batch))) for name, i in zip(shape.key, shape.key_positions)]


def _keys(key_columns: list[list]) -> list:
    """One key per row: the value, or a tuple of values for a composite key."""
    return key_columns[0] if len(key_columns) == 1 else list(zip(*key_columns))


def _changed(batch: list, keys: list, row_hex: list[str], previous: PreviousIndex | None) -> list:
    """Rows that are new or differ from the previous delivery (every row of a table new since)."""
    if previous is None:
        return batch
    return [row for row, changed in zip(batch, previous.changed(keys, row_hex)) if changed]


def _previous(baseline: _Baseline, shape: TableShape) -> PreviousIndex | None:
    """The previous delivery's index of the table, or None for a table new since."""
    entry = baseline.entry
    if entry is None:
        return None
    if entry.shape() != shape:
        raise OffboardError(f"{shape.qualified} changed shape since {baseline.folder.name}: export an initial delivery again")
    return PreviousIndex(baseline.folder, shape, entry)


def read_index(folder: Path, shape: TableShape, entry: TableEntry) -> dict:
    """key -> row digest of a delivery's index of one table, keys as DEL text (a tuple for a
    composite key), once its file is checked against the manifest."""
    known: dict = {}
    for batch in index_batches(folder, shape, entry):
        known.update(zip(_keys([list(map(itemgetter(i + 1), batch)) for i in range(len(shape.key))]), map(itemgetter(0), batch)))
    return known


def _typed_keys(shape: TableShape, keys: Iterable) -> list[list[str | int]]:
    """The keys of rows gone since the previous delivery, for the manifest (JSON)."""
    types = [shape.types[k] for k in shape.key]
    return [[typed_key(t, value) for t, value in zip(types, key if len(types) > 1 else (key,))] for key in keys]


def typed_key(column_type: ColumnType, text: str) -> str | int:
    """A key value of the index (DEL text) as the manifest records it: integers as numbers,
    bytes in hex, the rest as text."""
    if column_type.is_integer:
        return int(text)
    return text_bytes(text).hex() if column_type.is_binary else text
