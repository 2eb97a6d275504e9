"""Large objects benchmark: one org's rows with a 10 MiB photo each, exported and imported on SQLite.

One table (CHAR(16) FOR BIT DATA key, tenant, a VARCHAR, a BLOB(10M) photo filled to exactly
10 MiB of random bytes, a CLOB(1M) of about 240 KB of text) holds N rows of the org and 3 of
another (the tenant predicate must leave them out). This project's export (LOBs into a LOB file
beside each DEL chunk), import (into an empty table, one transaction) and verify (count and
checksum of the target) each run in a child process of its own, timed from the inside; beside
them the sqlite3 shell writes the org's LOBs out with writefile() (and an SQL script for the
small columns) and reads them back with readfile() into an empty copy of the table, timed as a
whole process. Before each stage the work files are synced and dropped from the page cache, so
every stage reads its input from the disk and pays for no earlier stage's writeback (neither
side syncs what it writes but SQLite's commit). Every peak RSS is that process's own (GNU time's %M). The point: the peak does
not grow with N (fetches and import batches hold at most LOB_BATCH_BYTES of LOBs, a chunk at
most CHUNK_BYTES), so it stays far below the org's LOBs. Prints a Markdown table.

    python benchmarks/lobs.py [--rows 100 1000] [--quick]    # --quick: 20 and 200 rows

Works in a temp folder under /tmp, removed at the end (1,000 rows take ~11 GB per copy; at most
three copies exist at once: source, delivery, target). Refuses to start with less than 40 GB free.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import db  # noqa: E402,F401  (puts the project's src/ on the path)
from measure import measured  # noqa: E402  (a process timed as a whole, with its own peak)

ORG, OTHER_ORG, TARGET_ORG = "1001", "1002", "2002"
OTHER_ROWS = 3
PHOTO_BYTES = 10 << 20
MIN_FREE = 40 * 10**9
CATALOG = """format: 2
content_stores: {}
databases:
  BENCH:
    application: Benchmark
    schema: BENCH
    tables:
      PEOPLE:
        tenant: ORG_ID
        key: [ID]
        columns:
          ID: CHAR(16) FOR BIT DATA
          ORG_ID: VARCHAR(20)
          NAME: VARCHAR(64)
          PHOTO: BLOB(10M)
          NOTES: CLOB(1M)
"""
# What offboard.db.connect.table_of creates on SQLite for that table.
TABLE = 'CREATE TABLE "PEOPLE" ("ID" BINARY(16) NOT NULL, "ORG_ID" VARCHAR(20), "NAME" VARCHAR(64), "PHOTO" BLOB, "NOTES" TEXT, PRIMARY KEY ("ID"));'
# Random keys and photos; the notes: 8,192 times a 29-character line with an é, a comma, quotes.
FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {total})
INSERT INTO PEOPLE SELECT randomblob(16), CASE WHEN i <= {rows} THEN '{org}' ELSE '{other}' END, 'Person ' || i,
  randomblob({photo}), 'Notes on person ' || i || ':' || char(10) || replace(hex(zeroblob(8192)), '00', 'Réunion notes, "draft" 2024;' || char(10))
FROM n;
SELECT sum(length(PHOTO)) + sum(length(CAST(NOTES AS BLOB))) FROM PEOPLE WHERE ORG_ID = '{org}';
"""
# The peer's export: each LOB into a file of its own, and an SQL script that inserts the row with
# readfile() of them (the notes cast back to text), under the target's org id.
PEER_EXPORT = """.mode list
.once {work}/peer/import.sql
SELECT 'INSERT INTO PEOPLE VALUES (' || quote(ID) || ', ''{target}'', ' || quote(NAME)
  || ', readfile(''{work}/peer/' || hex(ID) || '.photo''), CAST(readfile(''{work}/peer/' || hex(ID) || '.notes'') AS TEXT));'
FROM PEOPLE WHERE ORG_ID = '{org}' AND writefile('{work}/peer/' || hex(ID) || '.photo', PHOTO) >= 0
  AND writefile('{work}/peer/' || hex(ID) || '.notes', NOTES) >= 0;
"""
PEER_IMPORT = "BEGIN;\n.read {work}/peer/import.sql\nCOMMIT;\n"
STAGES = ("export", "import", "verify")


def child(stage: str, work: Path) -> None:
    """Runs in its own process: one stage of this project, timed from the inside."""
    from offboard.db.catalog import load_catalog
    from offboard.db.export import export_org
    from offboard.db.load import import_delivery
    from offboard.db.verify import verify_target

    if stage == "idle":  # the interpreter and the libraries, nothing else
        return print(json.dumps({"seconds": 0, "rows": 0}))
    started = time.perf_counter()
    catalog, delivery = load_catalog(work / "catalog.yaml"), work / "out" / "initial"
    source, target = {"BENCH": f"sqlite:///{work / 'source.db'}"}, {"BENCH": f"sqlite:///{work / 'target.db'}"}
    if stage == "export":
        rows = export_org(catalog, source, ORG, work / "out").manifest.tables[0].rows
    elif stage == "import":
        rows = import_delivery(catalog, delivery, target, org_id=ORG, target_org_id=TARGET_ORG).tables[0].rows
    else:
        result = verify_target(catalog, delivery, target, org_id=ORG, target_org_id=TARGET_ORG)
        assert result.ok, result
        rows = result.tables[0].rows
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))


def shell(work: Path, database: str, script: str) -> list[str]:
    script_file = work / f"{database}.sql"
    script_file.write_text(script)
    return ["sqlite3", "-bail", str(work / f"{database}.db"), f".read {script_file}"]


def cold(work: Path) -> None:
    """Every stage starts alike: none of the work files dirty (the writeback of the stage before
    is not this one's cost) or cached (each stage reads its input from the disk)."""
    os.sync()
    for path in work.rglob("*"):
        if path.is_file():
            handle = os.open(path, os.O_RDONLY)
            os.posix_fadvise(handle, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(handle)


def peer(work: Path, database: str, script: str) -> tuple[float, int]:
    cold(work)
    tool = measured(shell(work, database, script))
    return tool.seconds, round(tool.peak_mb)


def ours(work: Path, stage: str, rows: int) -> tuple[float, int]:
    cold(work)
    child = measured([sys.executable, __file__, "--child", stage, "--work", str(work)])
    peak, result = round(child.peak_mb), json.loads(child.stdout)
    assert result["rows"] == rows, (stage, result)
    return result["seconds"], peak


def run(rows: int, work: Path) -> list[dict]:
    """At most three copies of the org's LOBs on disk at once: the source goes after both exports."""
    (work / "peer").mkdir(parents=True)
    (work / "catalog.yaml").write_text(CATALOG)
    for database in ("target", "peer"):
        measured(shell(work, database, TABLE))
    fill = FILL.format(total=rows + OTHER_ROWS, rows=rows, org=ORG, other=OTHER_ORG, photo=PHOTO_BYTES)
    lob_bytes = int(measured(shell(work, "source", TABLE + fill)).stdout)
    results = {stage: {"rows": rows, "stage": stage, "mb": lob_bytes / 1e6} for stage in STAGES}
    results["export"]["ours"], results["export"]["ours_mb"] = ours(work, "export", rows)
    results["export"]["peer"], results["export"]["peer_mb"] = peer(work, "source", PEER_EXPORT.format(work=work, org=ORG, target=TARGET_ORG))
    (work / "source.db").unlink()
    for stage in ("import", "verify"):
        results[stage]["ours"], results[stage]["ours_mb"] = ours(work, stage, rows)
    (work / "target.db").unlink()
    shutil.rmtree(work / "out")
    results["import"]["peer"], results["import"]["peer_mb"] = peer(work, "peer", PEER_IMPORT.format(work=work))
    count = measured(shell(work, "peer", f"SELECT count(*) FROM PEOPLE WHERE ORG_ID = '{TARGET_ORG}';")).stdout
    assert int(count) == rows, count
    shutil.rmtree(work)
    return list(results.values())


def markdown(results: list[dict]) -> str:
    lines = ["| rows | stage | this project | MB/s | peak MB | sqlite3 shell | MB/s | peak MB | ratio |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        peer = (f"{r['peer']:.1f} s | {r['mb'] / r['peer']:,.0f} | {r['peer_mb']} | {r['ours'] / r['peer']:.2f}x"
                if "peer" in r else " | | | ")
        lines.append(f"| {r['rows']:,} | {r['stage']} | {r['ours']:.1f} s | {r['mb'] / r['ours']:,.0f} | {r['ours_mb']} | {peer} |")
    return "\n".join(lines)


def flatness(results: list[dict]) -> str:
    smallest, largest = min(r["rows"] for r in results), max(r["rows"] for r in results)
    peak = {(r["rows"], r["stage"]): r["ours_mb"] for r in results}
    mb = {r["rows"]: r["mb"] for r in results}
    ratios = ", ".join(f"{stage} {peak[largest, stage] / peak[smallest, stage]:.2f}" for stage in STAGES)
    return (f"Peak RSS at {largest:,} rows over the peak at {smallest:,} rows: {ratios}; "
            f"the org's LOBs at {largest:,} rows: {mb[largest]:,.0f} MB.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--quick", action="store_true", help="20 and 200 rows, a smoke run")
    parser.add_argument("--child", choices=["idle", *STAGES], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.work)
    free = shutil.disk_usage("/tmp").free
    if free < MIN_FREE:
        raise SystemExit(f"only {free / 1e9:.0f} GB free under /tmp; this benchmark needs 40 GB")
    sizes = [20, 200] if args.quick else args.rows
    root = Path(tempfile.mkdtemp(prefix="offboard-lobs-", dir="/tmp"))
    load_before = os.getloadavg()
    try:
        idle = round(measured([sys.executable, __file__, "--child", "idle", "--work", str(root)]).peak_mb)
        results = [result for rows in sizes for result in run(rows, root / str(rows))]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    version = measured(["sqlite3", "--version"]).stdout.split()[0]
    print(f"{os.cpu_count()} cores, {ram:.1f} GiB RAM, Python {sys.version.split()[0]}, sqlite3 shell {version}; "
          f"load average (1, 5, 15 min) {' '.join(f'{x:.1f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.1f}' for x in load_after)} after; a child that only imports the project peaks at {idle} MB\n")
    print(markdown(results))
    if len(sizes) > 1:
        print("\n" + flatness(results))


if __name__ == "__main__":
    main()
