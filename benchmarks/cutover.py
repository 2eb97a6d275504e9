"""The cut-over window: the delta delivery of a large org, 1% changed, timed end to end and per stage. Not a test.

The org is the first org of a sample (`offboard sample create`: every Connections database, users to
map, links to fix up) grown by two generated tables in a database of the benchmark's own, BENCHDB,
added to a copy of the catalog: DOC, a row per file of a content store `bench` (small files in hashed
folders), and ITEM, plain rows, together `--rows` rows and `--files` files. The sample's own
Connections schema is too slow to generate at millions of rows (about 6,000 rows a second), and its
mutation changes a fifth of the org: so the sample stays small and the generated tables carry the scale.

Before the window (timed, not part of it): the embedded endpoint, the stack, the initial delivery of
files and rows, its files imported into production and its rows into staging, as the initial runbook
does. Then the org changes: `mutate_org` on the sample's tables, and 1% of DOC and of ITEM (a third
added, a third changed, a third deleted, with their files). The window is the delta runbook's machine
steps, each one `offboard` command as a process of its own, timed with its own peak memory (GNU time):

    files export --delivery delta     one stat per file against the last delivery, only changes sent
    db export --delivery delta        one read of the org's rows, compared with the last delivery's index
    files import production delta     download, check, land
    db import staging delta, db fixup staging, db import production all, db fixup production
    verify production                 files and rows against every delivery

Transfer has no stage of its own: each export sends as it goes, each import fetches what it loads.

    .venv/bin/python benchmarks/cutover.py                                        # 10,000 files, 100,000 rows
    .venv/bin/python benchmarks/cutover.py --files 1000000 --rows 10000000        # the issue's org (an hour or more)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import ITEM_TABLE, load_average, machine, measured

REPO = Path(__file__).resolve().parents[1]
OFFBOARD = str(REPO / ".venv" / "bin" / "offboard")
STACK = "cutover"
SIDES = ("source", "staging", "production")
BENCH_STORE = """  bench:
    folder: bench
    about: The benchmark's small files, a row of BENCHDB.DOC each.
"""
BENCH_DATABASE = """  BENCHDB:
    application: Benchmark
    schema: BENCH
    tables:
      DOC:
        tenant: ORG_ID
        key: [ID]
        changed: LAST_UPDATE
        columns:
          ID: CHAR(36)
          ORG_ID: VARCHAR(36)
          PATH: VARCHAR(256)
          FILE_SIZE: BIGINT
          LAST_UPDATE: TIMESTAMP
        content:
          store: bench
          path: [PATH]
""" + ITEM_TABLE
TABLES = """
CREATE TABLE DOC ("ID" CHAR(36) PRIMARY KEY, "ORG_ID" VARCHAR(36), "PATH" VARCHAR(256), "FILE_SIZE" BIGINT, "LAST_UPDATE" TIMESTAMP);
CREATE TABLE ITEM ("ID" CHAR(36) PRIMARY KEY, "ORG_ID" VARCHAR(36), "TITLE" VARCHAR(256), "DESCRIPTION" VARCHAR(1024),
                   "ITEM_SIZE" BIGINT, "LAST_UPDATE" TIMESTAMP);
"""
# Keys in key order; `start` lets the mutation add rows after the generated ones.
ITEM_ROWS = """
WITH RECURSIVE n(i) AS (SELECT {start} UNION ALL SELECT i + 1 FROM n WHERE i < {end})
INSERT INTO ITEM SELECT printf('%08x-0000-4000-a000-%012x', i, i * 7919), '{org}', 'Quarterly report ' || i,
  CASE WHEN i % 3 = 0 THEN NULL ELSE 'Notes on "item" ' || i || ', draft' END, i * 13,
  printf('2024-%02d-%02d 10:%02d:%02d.%06d', 1 + i % 12, 1 + i % 28, i % 60, i % 60, i % 1000000) FROM n;
"""
WINDOW = [
    ("files export (delta)", ["files", "export", STACK, "--delivery", "delta"]),
    ("db export (delta)", ["db", "export", STACK, "--delivery", "delta"]),
    ("files import production (delta)", ["files", "import", STACK, "--target", "production", "--delivery", "delta"]),
    ("db import staging (delta)", ["db", "import", STACK, "--target", "staging", "--delivery", "delta"]),
    ("db fixup staging", ["db", "fixup", STACK, "--target", "staging"]),
    ("db import production (all)", ["db", "import", STACK, "--target", "production", "--delivery", "all"]),
    ("db fixup production", ["db", "fixup", STACK, "--target", "production", "--json"]),
    ("verify production", ["verify", STACK, "--target", "production"]),
]
BEFORE = [
    ("local start", ["local", "start"]),
    ("stack up", ["stack", "up", STACK, "--backend", "local"]),
    ("files export (initial)", ["files", "export", STACK, "--delivery", "initial"]),
    ("db export (initial)", ["db", "export", STACK, "--delivery", "initial"]),
    ("files import production (initial)", ["files", "import", STACK, "--target", "production", "--delivery", "initial"]),
    ("db import staging (initial)", ["db", "import", STACK, "--target", "staging", "--delivery", "initial"]),
]


def doc_path(number: int) -> str:
    return f"{number % 256:02x}/{number // 256 % 256:02x}/doc-{number:08d}.bin"


def doc_key(number: int) -> str:
    return f"{number:08x}-0000-4000-b000-{number * 7919:012x}"


def write_doc(store: Path, number: int, rng: random.Random, pool: bytes, mean: int) -> int:
    """A small file of its own content; its size."""
    size = int(rng.expovariate(1 / mean)) if mean else 0
    path = store / doc_path(number)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = rng.randrange(len(pool) - size) if size < len(pool) else 0
    data = f"doc {number}:".encode() + pool[start:start + size]
    path.write_bytes(data)
    return len(data)


def insert_docs(connection: sqlite3.Connection, store: Path, numbers: range, org: str, rng: random.Random, pool: bytes,
                mean: int) -> None:
    stamp = "2024-06-01 10:00:00.000000"
    connection.executemany("INSERT INTO DOC VALUES (?, ?, ?, ?, ?)",
                           ((doc_key(n), org, doc_path(n), write_doc(store, n, rng, pool, mean), stamp) for n in numbers))


def grow(sample: Path, project: Path, org: str, files: int, rows: int, mean: int) -> None:
    """BENCHDB on every side (the org's DOC and ITEM rows at the source), the `bench` store's files,
    and both in the project's copy of the catalog and in the stack."""
    catalog = project / "runbooks" / "catalog" / "connections.yaml"
    text = catalog.read_text().replace("\ncontent_stores:\n", "\ncontent_stores:\n" + BENCH_STORE, 1)
    catalog.write_text(text.rstrip("\n") + "\n" + BENCH_DATABASE)  # `databases` is the catalog's last key
    stack_file = project / "stacks" / f"Pulumi.{STACK}.yaml"
    stack = yaml.safe_load(stack_file.read_text())
    for side in SIDES:
        where = stack["config"][f"offboard:{side}"]
        database, store = sample / side / "BENCHDB.db", sample / (("" if side == "source" else side + "/") + "content/bench")
        where["databases"]["BENCHDB"] = f"sqlite:///{database}"
        where["contentStores"]["bench"] = str(store)
        store.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(database) as connection:
            connection.executescript(TABLES)
    stack_file.write_text(yaml.safe_dump(stack, sort_keys=False))
    rng = random.Random(17)
    pool = rng.randbytes(1 << 20)
    with sqlite3.connect(sample / "source" / "BENCHDB.db") as connection:
        insert_docs(connection, sample / "content" / "bench", range(files), org, rng, pool, mean)
        connection.executescript(ITEM_ROWS.format(start=0, end=rows - files - 1, org=org))


def change_one_percent(sample: Path, org: str, files: int, rows: int, mean: int) -> dict[str, int]:
    """1% of DOC and of ITEM: a third added, a third changed, a third deleted (DOC with its files)."""
    rng = random.Random(18)
    pool = rng.randbytes(1 << 20)
    store = sample / "content" / "bench"
    doc_third, item_third, items = max(1, files // 300), max(1, (rows - files) // 300), rows - files
    changed_at = "2024-09-01 10:00:00.000000"
    with sqlite3.connect(sample / "source" / "BENCHDB.db") as connection:
        docs = rng.sample(range(files), 2 * doc_third)
        for number in docs[:doc_third]:  # a new version of the file, of another size
            with open(store / doc_path(number), "ab") as edited:
                edited.write(b" (edited)")
            size = (store / doc_path(number)).stat().st_size
            connection.execute("UPDATE DOC SET FILE_SIZE = ?, LAST_UPDATE = ? WHERE ID = ?", (size, changed_at, doc_key(number)))
        for number in docs[doc_third:]:
            connection.execute("DELETE FROM DOC WHERE ID = ?", (doc_key(number),))
            (store / doc_path(number)).unlink()
        insert_docs(connection, store, range(files, files + doc_third), org, rng, pool, mean)
        numbers = rng.sample(range(items), 2 * item_third)
        connection.executemany("UPDATE ITEM SET TITLE = TITLE || ' (edited)', LAST_UPDATE = ? WHERE ID = printf('%08x-0000-4000-a000-%012x', ?, ? * 7919)",
                               ((changed_at, n, n) for n in numbers[:item_third]))
        connection.executemany("DELETE FROM ITEM WHERE ID = printf('%08x-0000-4000-a000-%012x', ?, ? * 7919)",
                               ((n, n) for n in numbers[item_third:]))
        connection.executescript(ITEM_ROWS.format(start=items, end=items + item_third - 1, org=org))
    return {"files_added": doc_third, "files_changed": doc_third, "files_deleted": doc_third,
            "rows_added": doc_third + item_third, "rows_changed": doc_third + item_third, "rows_deleted": doc_third + item_third}


def offboard(project: Path, label: str, arguments: list[str], results: list[dict]) -> str:
    """One `offboard` command as a process of its own; its time and peak memory appended to `results`."""
    done = measured([OFFBOARD, *arguments], cwd=str(project))
    results.append({"stage": label, "seconds": done.seconds, "peak_mb": done.peak_mb})
    print(f"  {label}: {done.seconds:.1f} s, {done.peak_mb:.0f} MB peak", flush=True)
    return done.stdout


def accept_unmapped(project: Path, fixup_json: str) -> int:
    """The operator's decision the sample asks for on purpose (its mapping lacks a user): not timed."""
    unmapped = json.loads(fixup_json).get("unmapped", [])
    ids = [entry["id"] if isinstance(entry, dict) else entry for entry in unmapped]
    if ids:
        (project / "unmapped.txt").write_text("".join(f"{i}\n" for i in ids))
        subprocess.run([OFFBOARD, "db", "accept-unmapped", STACK, "production", "--ids", "unmapped.txt",
                        "--reason", "left the company before the move", "--by", "benchmark"], cwd=project, check=True,
                       stdout=subprocess.DEVNULL)
    return len(ids)


def markdown(results: list[dict]) -> str:
    lines = ["| stage | time | peak MB |", "| --- | ---: | ---: |"]
    lines += [f"| {r['stage']} | {r['seconds']:.1f} s | {r['peak_mb']:.0f} |" for r in results]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="the org's generated files (rows of DOC)")
    parser.add_argument("--rows", type=int, default=100_000, help="the org's generated rows (DOC and ITEM)")
    parser.add_argument("--mean-bytes", type=int, default=2_000, help="the mean size of a generated file")
    parser.add_argument("--sample-scale", type=int, default=1, help="the sample's --scale (its own rows and files)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/offboard-cutover-benchmark"))
    args = parser.parse_args()
    if args.rows < args.files:
        raise SystemExit("--rows counts the files' rows too: give at least as many as --files")

    shutil.rmtree(args.workdir, ignore_errors=True)
    project, sample = args.workdir / "project", args.workdir / "sample"
    load_before, started = load_average(), time.perf_counter()
    subprocess.run([OFFBOARD, "init", str(project)], check=True, stdout=subprocess.DEVNULL)
    shutil.copytree(REPO / "runbooks", project / "runbooks")
    subprocess.run([OFFBOARD, "sample", "create", str(sample), "--orgs", "2", "--scale", str(args.sample_scale), "--stack", STACK],
                   cwd=project, check=True, stdout=subprocess.DEVNULL)
    org = str(yaml.safe_load((project / "stacks" / f"Pulumi.{STACK}.yaml").read_text())["config"]["offboard:orgId"])
    grow(sample, project, org, args.files, args.rows, args.mean_bytes)
    print(f"org {org}: {args.files:,} generated files and {args.rows:,} generated rows in {time.perf_counter() - started:.0f} s", flush=True)
    before: list[dict] = []
    window: list[dict] = []
    try:
        for label, arguments in BEFORE:
            offboard(project, label, arguments, before)
        from offboard.sample import mutate_org

        changed = change_one_percent(sample, org, args.files, args.rows, args.mean_bytes)
        mutate_org(sample, org)
        os.sync()
        print(f"changed: {changed} and the sample's tables (mutate_org)", flush=True)
        load_window = load_average()
        for label, arguments in WINDOW:
            output = offboard(project, label, arguments, window)
            if label == "db fixup production":
                changed["unmapped_accepted"] = accept_unmapped(project, output)
    finally:
        subprocess.run([OFFBOARD, "local", "stop"], check=False, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    total = sum(r["seconds"] for r in window)
    print(f"\n{machine()}; {args.files:,} files, {args.rows:,} rows generated, sample scale {args.sample_scale}; "
          f"load average {load_before} before, {load_window} at the window, {load_average()} after; "
          f"{time.perf_counter() - started:.0f} s wall")
    print(f"\nbefore the window:\n\n{markdown(before)}\n\nthe window ({total:.1f} s):\n\n{markdown(window)}")
    (args.workdir / "results.json").write_text(json.dumps({"changed": changed, "before": before, "window": window}, indent=2))


if __name__ == "__main__":
    main()
