"""Database benchmark: export and import of one org's table on SQLite, beside the sqlite3 shell.

One run, at 100k and 1M rows of a six-column table (key, tenant, two texts, a number, a
timestamp; some NULLs): this project's export (SELECT by tenant -> gzip'd DEL chunks, digests,
manifest) and import (DEL -> executemany in one transaction, count check), each in a child
process so its peak memory (ru_maxrss) is its own; beside them the sqlite3 shell writing the
same rows as CSV (`.once`) and loading that CSV (`.import`). Prints a Markdown table.

    python benchmarks/db.py [--rows 100000 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ORG = "1001"
TARGET_ORG = "2002"
CATALOG = """format: 1
content_stores: {}
databases:
  BENCH:
    application: Benchmark
    schema: BENCH
    tables:
      ITEM:
        tenant: ORG_ID
        key: [ID]
        changed: LAST_UPDATE
        columns:
          ID: CHAR(36)
          ORG_ID: VARCHAR(36)
          TITLE: VARCHAR(256)
          DESCRIPTION: VARCHAR(1024)
          ITEM_SIZE: BIGINT
          LAST_UPDATE: TIMESTAMP
"""
SHELL_TABLE = 'CREATE TABLE ITEM ("ID" CHAR(36) PRIMARY KEY, "ORG_ID" VARCHAR(36), "TITLE" VARCHAR(256), "DESCRIPTION" VARCHAR(1024), "ITEM_SIZE" BIGINT, "LAST_UPDATE" TIMESTAMP);'
FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
INSERT INTO ITEM SELECT printf('%08x-%04x-4%03x-a%03x-%012x', i, i % 65536, i % 4096, i % 4096, i * 7919),
  '{org}', 'Quarterly report ' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'Notes on "item" ' || i || ', draft' END,
  i * 13, printf('2024-%02d-%02d 10:%02d:%02d.%06d', 1 + i % 12, 1 + i % 28, i % 60, i % 60, i % 1000000) FROM n;
"""


def child(stage: str, work: Path) -> None:
    """Runs in its own process: one stage of this project, timed from the inside."""
    sys.path.insert(0, str(REPO / "src"))
    from offboard.db.catalog import load_catalog
    from offboard.db.export import export_org
    from offboard.db.load import import_delivery

    started = time.perf_counter()
    if stage == "export":
        delivery = export_org(load_catalog(work / "catalog.yaml"), {"BENCH": f"sqlite:///{work / 'source.db'}"}, ORG, work / "out")
        rows = delivery.manifest.tables[0].rows
    else:
        result = import_delivery(load_catalog(work / "catalog.yaml"), work / "out" / "initial", {"BENCH": f"sqlite:///{work / 'target.db'}"},
                                 org_id=ORG, target_org_id=TARGET_ORG)
        rows = result.tables[0].rows
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))


def measured(command: list[str], **kwargs) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MB of that process alone, and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, **kwargs)
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:3]} failed: {output}")
    return seconds, usage.ru_maxrss // 1024, output


def shell(database: Path, script: str) -> tuple[float, int, str]:
    script_file = database.with_suffix(".sql")
    script_file.write_text(script)
    return measured(["sqlite3", "-bail", str(database), f".read {script_file}"])


def run(rows: int, work: Path) -> list[dict]:
    work.mkdir(parents=True)
    (work / "catalog.yaml").write_text(CATALOG)
    shell(work / "source.db", SHELL_TABLE + FILL.format(rows=rows, org=ORG))
    shell(work / "target.db", SHELL_TABLE)
    shell(work / "peer.db", SHELL_TABLE)
    results = []
    for stage, peer_script, peer_db in (
        ("export", f".mode csv\n.once {work / 'rows.csv'}\nSELECT * FROM ITEM WHERE ORG_ID = '{ORG}';\n", work / "source.db"),
        ("import", f".import --csv {work / 'rows.csv'} ITEM\n", work / "peer.db"),
    ):
        _, peak, output = measured([sys.executable, __file__, "--child", stage, "--work", str(work)])
        ours = json.loads(output)
        assert ours["rows"] == rows, ours
        peer_seconds, peer_peak, _ = shell(peer_db, peer_script)
        results.append({"rows": rows, "stage": stage, "ours": ours["seconds"], "ours_mb": peak, "peer": peer_seconds, "peer_mb": peer_peak})
    return results


def markdown(results: list[dict]) -> str:
    lines = [
        "| rows | stage | this project | rows/s | peak MB | sqlite3 shell | rows/s | peak MB | ratio |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        peer = "`.once` CSV" if r["stage"] == "export" else "`.import` CSV"
        lines.append(
            f"| {r['rows']:,} | {r['stage']} | {r['ours']:.2f} s | {r['rows'] / r['ours']:,.0f} | {r['ours_mb']} "
            f"| {r['peer']:.2f} s ({peer}) | {r['rows'] / r['peer']:,.0f} | {r['peer_mb']} | {r['ours'] / r['peer']:.1f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--child", choices=["export", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.work)
    root = args.keep or Path(tempfile.mkdtemp(prefix="offboard-db-bench-"))
    load_before = os.getloadavg()[0]
    try:
        results = [result for rows in args.rows for result in run(rows, root / str(rows))]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    shell_version = subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0]
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, sqlite3 shell {shell_version}, "
          f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after the run")
    print(markdown(results))


if __name__ == "__main__":
    main()
