"""Helpers for the database tests: the sample's stages run end to end, and raw views of SQLite."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import jinja2

from offboard.db.catalog import Catalog, load_catalog
from offboard.db.delfile import DelWriter
from offboard.db.export import Delivery, export_org
from offboard.db.fixup import FixupReport, fixup_target, parse_rules
from offboard.db.load import ImportResult, import_delivery
from offboard.db.manifest import MANIFEST_FILE
from offboard.sample import OrgSample, SampleLayout

MSP_HOST = "connections.msp.example.com"


def export(sample: SampleLayout, org: OrgSample, kind: str = "initial", **options) -> Delivery:
    return export_org(load_catalog(sample.catalog), sample.sources, org.org_id, sample.root / "deliveries", kind, **options)


def load(sample: SampleLayout, org: OrgSample, delivery: str | Path, target: str = "staging") -> ImportResult:
    folder = delivery if isinstance(delivery, Path) else sample.root / "deliveries" / delivery
    return import_delivery(catalog_of(sample), folder, sample.targets[target], org_id=org.org_id, target_org_id=org.target_org_id)


def forge(folder: Path, table: str, entry: Callable[[dict], None] | None = None,
          rows: Callable[[list[list[str]]], list[list[str]]] | None = None) -> None:
    """Rewrite one table of the delivery in `folder` as whoever holds the bucket's key can: the rows
    of its chunks (`rows` maps them, every value as text) and its manifest entry (`entry` edits
    it), with every size and sha256 recomputed so that they match."""
    path = folder / MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    [found] = [t for t in manifest["tables"] if f"{t['schema']}.{t['name']}" == table]
    for chunk in found["chunks"] if rows else []:
        text = gzip.decompress((folder / chunk["file"]).read_bytes()).decode()
        writer = DelWriter(folder, chunk["file"])
        writer.write(rows(list(csv.reader(io.StringIO(text, newline="")))))
        chunk.update(dataclasses.asdict(writer.close()))
    if entry:
        entry(found)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def rules_text(sample: SampleLayout, org: OrgSample, mapping: Path | None = None) -> str:
    """The repository's rules template rendered for the sample org, as the CLI would."""
    template = (Path(__file__).resolve().parents[2] / "runbooks" / "fixup" / "rules.yaml.j2").read_text(encoding="utf-8")
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(
        cloud_hosts=sample.cloud_hosts, msp_host=MSP_HOST, cloud_org_id=org.org_id,
        target_org_id=org.target_org_id, user_mapping=mapping or sample.user_mapping(org.org_id),
    )


def fixup(sample: SampleLayout, org: OrgSample, target: str = "staging", dry_run: bool = False) -> FixupReport:
    rules = parse_rules(rules_text(sample, org), "rules.yaml")
    return fixup_target(catalog_of(sample), sample.targets[target], rules, dry_run=dry_run)


def catalog_of(sample: SampleLayout) -> Catalog:
    return load_catalog(sample.catalog)


def path_of(url: str) -> str:
    return url.removeprefix("sqlite:///")


def query(url: str, sql: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(path_of(url))) as connection:
        return connection.execute(sql, params).fetchall()


def execute(url: str, sql: str, *params) -> None:
    with closing(sqlite3.connect(path_of(url))) as connection, connection:
        connection.execute(sql, params)


def snapshot(urls: dict[str, str]) -> dict[str, list]:
    """Every row of every table of the given databases, all tenants: to prove nothing changed."""
    found = {}
    for database, url in urls.items():
        for (table,) in query(url, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            found[f"{database}.{table}"] = sorted(query(url, f'SELECT * FROM "{table}"'), key=repr)
    return found


def tenant_rows(sample: SampleLayout, target: str, catalog: Catalog) -> dict[str, set[str]]:
    """The tenant values present per table of a target."""
    return {
        spec.qualified: {value for (value,) in query(sample.targets[target][spec.database], f'SELECT DISTINCT "{spec.tenant}" FROM "{spec.name}"')}
        for spec in catalog.tables()
    }
