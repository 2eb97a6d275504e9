"""The manifest of a database delivery: the contract between export and import.

A delivery is a folder (`initial`, `delta-1`, `delta-2`, ...) of chunk files and a
`manifest.json` written last, atomically: a folder without a manifest is an unfinished export
and does not exist for the import.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from offboard.db.catalog import Catalog, TableShape, TableSpec
from offboard.db.delfile import FileInfo
from offboard.delivery import DELIVERY, INITIAL, delivery_number
from offboard.errors import OffboardError
from offboard.validation import describe, format_version

FORMAT = 2
MANIFEST_FILE = "manifest.json"


class TableEntry(TableShape):
    """One table of a delivery. For a delta, the chunks hold the inserted and updated rows."""

    rows: int = Field(ge=0)
    rows_before: int | None = Field(None, ge=0)  # delta: the org's rows at the previous delivery
    rows_total: int = Field(ge=0)  # the org's rows at the source when this delivery was exported
    checksum: str  # of those rows_total rows (offboard.db.digest)
    chunks: list[FileInfo]
    index: FileInfo  # digest and key of every row: what the next delta compares against
    # delta: keys of rows gone since the previous delivery (offboard.db.export.typed_key: integers
    # as numbers, bytes in hex, the rest as text)
    deleted: list[list[str | int]] = []

    @field_validator("chunks", "index")
    @classmethod
    def _inside_the_folder(cls, value):
        for info in value if isinstance(value, list) else [value]:
            for file in [info.file, *([info.lobs.file] if info.lobs else [])]:
                path = PurePosixPath(file)
                if path.is_absolute() or ".." in path.parts:
                    raise ValueError(f"file {file!r} lies outside the delivery folder")
        return value


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    format: format_version(FORMAT)
    org_id: str = Field(alias="orgId", pattern=r"^[0-9]{1,20}$")
    delivery: str = Field(pattern=DELIVERY.pattern)
    previous: str | None = None
    created: str
    tables: list[TableEntry]

    def table(self, qualified: str) -> TableEntry | None:
        return next((table for table in self.tables if table.qualified == qualified), None)


def catalogued(manifest: Manifest, catalog: Catalog, where: str) -> list[tuple[TableSpec, TableEntry]]:
    """Each table of the catalog, in its order, with its entry in the manifest (read from `where`).

    Whoever holds the bucket's key can rewrite a manifest and its chunks consistently, so the
    catalog decides the tables and their shapes: a delivery that differs from it in any table,
    column, type, tenant column or key is refused, and only the entries' files and figures are used.
    """
    entries: dict[str, TableEntry] = {}
    for entry in manifest.tables:
        if entry.qualified in entries:
            raise OffboardError(f"{where}: table {entry.qualified} is listed twice")
        entries[entry.qualified] = entry
    specs = {spec.qualified: spec for spec in catalog.tables()}
    unknown = [name for name in entries if name not in specs]
    if unknown:
        raise OffboardError(f"{where}: table {unknown[0]} is not in the catalog")
    tables = []
    for name, spec in specs.items():
        entry = entries.get(name)
        if entry is None:
            raise OffboardError(f"{where}: table {name} of the catalog is missing")
        problem = spec.difference(entry) or _deletions_problem(spec, entry)
        if problem:
            raise OffboardError(f"{where}: {name} {problem}")
        tables.append((spec, entry))
    return tables


def _deletions_problem(spec: TableSpec, entry: TableEntry) -> str | None:
    arity = next((len(key) for key in entry.deleted if len(key) != len(spec.key)), None)
    return None if arity is None else f"deletes a key of {arity} value(s), the catalog's key has {len(spec.key)}"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json_atomically(path: Path, document: dict) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    write_json_atomically(folder / MANIFEST_FILE, manifest.model_dump(mode="json", by_alias=True))


def is_committed(folder: Path) -> bool:
    return (folder / MANIFEST_FILE).is_file()


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise OffboardError(f"{folder} has no {MANIFEST_FILE}: the delivery is not committed (its export did not finish)")
    try:
        return Manifest.model_validate_json(path.read_bytes())  # not UTF-8 is a ValidationError too
    except ValidationError as error:
        raise OffboardError(f"{path}: {describe(error)}") from None


def committed_deliveries(root: Path) -> list[str]:
    """The committed deliveries under `root`, in order."""
    names = [p.name for p in root.iterdir() if p.is_dir() and DELIVERY.match(p.name) and is_committed(p)] if root.is_dir() else []
    return sorted(names, key=delivery_number)


def next_delivery(root: Path, kind: str) -> tuple[str, str | None]:
    """The name of the delivery an export of `kind` writes (or resumes), and the one before it.

    `delta` is the next delta; an explicit `delta-N` is that one: returned as it is once
    committed (so a step run again after a crash never makes an empty delta-N+1), otherwise
    it must be the next."""
    if kind == INITIAL:
        return INITIAL, None
    if kind != "delta" and not DELIVERY.match(kind):
        raise OffboardError(f"delivery {kind!r}: expected initial, delta or delta-N")
    done = committed_deliveries(root)
    if INITIAL not in done:
        raise OffboardError(f"no committed initial delivery under {root}: export the initial delivery first")
    following = f"delta-{delivery_number(done[-1]) + 1}"
    if kind == "delta" or kind == following:
        return following, done[-1]
    if kind in done:
        return kind, done[done.index(kind) - 1]
    raise OffboardError(f"delivery {kind} cannot be exported now: the next delivery is {following}")