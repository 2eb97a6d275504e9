"""Database benchmark: one org's table exported and imported on SQLite and PostgreSQL, beside their own tools.

One run, per engine, at 100k and 1M rows of a six-column table (key, tenant, two texts, a
number, a timestamp; some NULLs): this project's export (SELECT by tenant -> gzip'd DEL chunks,
digests, manifest) and import (DEL -> executemany, or COPY on PostgreSQL, in one transaction,
count check), each timed inside a child process of its own; beside them the engine's peer
writing the same rows as CSV and loading that CSV into an empty copy of the table, timed as a
whole process: the sqlite3 shell (`.once`, `.import`) and psql (`\\copy ... TO/FROM ... CSV`).
Every process's peak RSS is its own, as GNU time reports it. On PostgreSQL the server's time
is in both sides' times, its memory in neither; the server is a throwaway cluster in the work
folder, removed at the end. Prints a Markdown table per engine.

    python benchmarks/db.py [--rows 100000 1000000] [--engines sqlite postgresql] [--keep DIR] [--profile]

--keep keeps the work files (databases of SQLite, CSV, deliveries); the cluster is removed anyway.
--profile prints where this project's stages spend their time (cProfile; its figures are then slower).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))
from measure import ITEM_TABLE, measured  # noqa: E402  (a process timed as a whole, with its own peak)

ORG = "1001"
PROFILE_LINES = 14
TARGET_ORG = "2002"
CATALOG = """format: 2
content_stores: {}
databases:
  BENCH:
    application: Benchmark
    schema: BENCH
    tables:
""" + ITEM_TABLE
COLUMNS = '("ID" CHAR(36) PRIMARY KEY, "ORG_ID" VARCHAR(36), "TITLE" VARCHAR(256), "DESCRIPTION" VARCHAR(1024), "ITEM_SIZE" BIGINT, "LAST_UPDATE" TIMESTAMP)'
DATABASES = ("source", "target", "peer")  # this project imports into target, the peer into peer
STAGES = (("export", "source"), ("import", "target"))
# The same rows on both engines, in key order.
SQLITE_FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
INSERT INTO ITEM SELECT printf('%08x-%04x-4%03x-a%03x-%012x', i, i % 65536, i % 4096, i % 4096, i * 7919),
  '{org}', 'Quarterly report ' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'Notes on "item" ' || i || ', draft' END,
  i * 13, printf('2024-%02d-%02d 10:%02d:%02d.%06d', 1 + i % 12, 1 + i % 28, i % 60, i % 60, i % 1000000) FROM n;
"""
POSTGRESQL_FILL = """
INSERT INTO "BENCH"."ITEM" SELECT lpad(to_hex(i), 8, '0') || '-' || lpad(to_hex(i % 65536), 4, '0') || '-4'
  || lpad(to_hex(i % 4096), 3, '0') || '-a' || lpad(to_hex(i % 4096), 3, '0') || '-' || lpad(to_hex(i * 7919), 12, '0'),
  '{org}', 'Quarterly report ' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'Notes on "item" ' || i || ', draft' END,
  i * 13, format('2024-%s-%s 10:%s:%s.%s', to_char(1 + i % 12, 'FM00'), to_char(1 + i % 28, 'FM00'),
  to_char(i % 60, 'FM00'), to_char(i % 60, 'FM00'), to_char(i % 1000000, 'FM000000'))::timestamp
FROM generate_series(1::bigint, {rows}) AS i;
"""


class SQLite:
    """A file per database in the work folder; the peer is the sqlite3 shell."""

    name, peer = "SQLite", "sqlite3 shell"
    peer_does = {"export": "`.once` CSV", "import": "`.import` CSV"}

    def make(self, work: Path, rows: int) -> None:
        for database in DATABASES:
            fill = SQLITE_FILL.format(rows=rows, org=ORG) if database == "source" else ""
            measured(self._shell(work, database, f"CREATE TABLE ITEM {COLUMNS};{fill}"))

    def url(self, work: Path, database: str) -> str:
        return f"sqlite:///{work / database}.db"

    def peer_command(self, work: Path, stage: str) -> list[str]:
        if stage == "export":
            return self._shell(work, "source", f".mode csv\n.once {work / 'rows.csv'}\nSELECT * FROM ITEM WHERE ORG_ID = '{ORG}';\n")
        return self._shell(work, "peer", f".import --csv {work / 'rows.csv'} ITEM\n")

    def version(self) -> str:
        return "sqlite3 shell " + subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]

    @staticmethod
    def _shell(work: Path, database: str, script: str) -> list[str]:
        script_file = work / f"{database}.sql"
        script_file.write_text(script)
        return ["sqlite3", "-bail", str(work / f"{database}.db"), f".read {script_file}"]


class PostgreSQL:
    """Databases bench_<name> in a throwaway cluster, the table as "BENCH"."ITEM"; the peer is psql."""

    name, peer = "PostgreSQL", "psql"
    peer_does = {"export": "`\\copy` TO CSV", "import": "`\\copy` FROM CSV"}

    def __init__(self, cluster, psql: Path) -> None:
        self.cluster = cluster
        self.psql = psql

    def make(self, work: Path, rows: int) -> None:
        names = [f"bench_{database}" for database in DATABASES]
        measured(self._psql("postgres", "SET client_min_messages TO warning",
                            *(f"DROP DATABASE IF EXISTS {name}" for name in names), *(f"CREATE DATABASE {name}" for name in names)))
        for database in DATABASES:
            measured(self._psql(f"bench_{database}", f'CREATE SCHEMA "BENCH"; CREATE TABLE "BENCH"."ITEM" {COLUMNS};'))
        # VACUUM: the first reader of freshly inserted rows would otherwise pay for setting their hint bits.
        measured(self._psql("bench_source", POSTGRESQL_FILL.format(rows=rows, org=ORG), "VACUUM ANALYZE"))

    def url(self, work: Path, database: str) -> str:
        return self.cluster.url.replace("/postgres?", f"/bench_{database}?")

    def peer_command(self, work: Path, stage: str) -> list[str]:
        if stage == "export":
            return self._psql("bench_source", f"""\\copy (SELECT * FROM "BENCH"."ITEM" WHERE "ORG_ID" = '{ORG}' ORDER BY "ID") TO '{work / 'rows.csv'}' CSV""")
        return self._psql("bench_peer", f"""\\copy "BENCH"."ITEM" FROM '{work / 'rows.csv'}' CSV""")

    def version(self) -> str:
        return "PostgreSQL " + measured(self._psql("postgres", "SHOW server_version")).stdout.split()[0] + " (server and psql)"

    def _psql(self, database: str, *commands: str) -> list[str]:
        return [str(self.psql), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.cluster.folder), "-U", "offboard", "-d", database,
                *(part for command in commands for part in ("-c", command))]


def child(stage: str, work: Path, url: str, profile: bool) -> None:
    """Runs in its own process: one stage of this project, timed from the inside; with `profile`,
    under cProfile, its busiest functions printed to stderr (and its time the profiler's too)."""
    from offboard.db.catalog import load_catalog
    from offboard.db.export import export_org
    from offboard.db.load import import_delivery

    def run_stage() -> int:
        catalog = load_catalog(work / "catalog.yaml")
        if stage == "export":
            return export_org(catalog, {"BENCH": url}, ORG, work / "out").manifest.tables[0].rows
        return import_delivery(catalog, work / "out" / "initial", {"BENCH": url}, org_id=ORG, target_org_id=TARGET_ORG).tables[0].rows

    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    rows = profiler.runcall(run_stage) if profiler else run_stage()
    seconds = time.perf_counter() - started
    if profiler:
        print(f"\n{stage} of {rows:,} rows at {url.split(':')[0]}, by own time:", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(PROFILE_LINES)
    print(json.dumps({"seconds": seconds, "rows": rows}))


def run(engine: SQLite | PostgreSQL, rows: int, work: Path, profile: bool) -> list[dict]:
    work.mkdir(parents=True)
    (work / "catalog.yaml").write_text(CATALOG)
    engine.make(work, rows)
    results = []
    for stage, database in STAGES:
        child = measured([sys.executable, __file__, "--child", stage, "--work", str(work), "--url", engine.url(work, database),
                          *(["--profile"] if profile else [])])
        ours = json.loads(child.stdout)
        assert ours["rows"] == rows, ours
        tool = measured(engine.peer_command(work, stage))
        results.append({"rows": rows, "stage": stage, "ours": ours["seconds"], "ours_mb": round(child.peak_mb),
                        "peer": tool.seconds, "peer_mb": round(tool.peak_mb)})
    return results


def markdown(engine: SQLite | PostgreSQL, results: list[dict]) -> str:
    lines = [
        f"| rows | stage | this project | rows/s | peak MB | {engine.peer} | rows/s | peak MB | ratio |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['stage']} | {r['ours']:.2f} s | {r['rows'] / r['ours']:,.0f} | {r['ours_mb']} "
            f"| {r['peer']:.2f} s ({engine.peer_does[r['stage']]}) | {r['rows'] / r['peer']:,.0f} | {r['peer_mb']} | {r['ours'] / r['peer']:.1f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep its files")
    parser.add_argument("--profile", action="store_true", help="profile this project's stages (cProfile, to stderr; slower)")
    parser.add_argument("--child", choices=["export", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.work, args.url, args.profile)
    from offboard.sample.cluster import _binary, remove_cluster, start_cluster

    # Short: the cluster's socket lies in it, and a socket's path is at most 107 characters.
    root = args.keep or Path(tempfile.mkdtemp(prefix="offboard-bench-"))
    load_before = os.getloadavg()[0]
    try:
        # The server's own psql, not Debian's Perl wrapper /usr/bin/psql, whose start would count as the peer's.
        engines = [PostgreSQL(start_cluster(root / "pg"), _binary("psql")) if name == "postgresql" else SQLite() for name in args.engines]
        tables = [(engine, [result for rows in args.rows for result in run(engine, rows, root / f"{engine.name.lower()}-{rows}", args.profile)])
                  for engine in engines]
        versions = ", ".join(engine.version() for engine in engines)
    finally:
        if "postgresql" in args.engines:
            remove_cluster(root / "pg")
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {versions}, "
          f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run")
    for engine, results in tables:
        print(f"\n{engine.name}\n\n{markdown(engine, results)}")


if __name__ == "__main__":
    main()
