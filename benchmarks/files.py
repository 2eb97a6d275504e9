"""Binary files: export and import against the machine's limit and against rclone. Not a test.

One run on a generated tree (many small files, a few large ones) in two content stores:
  limit    read and sha256 every file, one pass, in this process (and, for the import's side,
           `cp -r` of the tree: what creating that many files costs on this filesystem)
  export   `export_files` to the embedded endpoint, which runs in its own process
  rclone   rclone copying the same tree to the same endpoint with the same customer key
  import   `import_files` of that delivery into empty target roots (download, verify, land)
Export, import and rclone run as child processes so their peak memory (ru_maxrss) is theirs;
`--double` repeats export and import on a tree twice the size to show that memory stays flat.

    .venv/bin/python benchmarks/files.py --size-gb 1 --double [--rclone-download] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ORG_ID = "20099999"
MB = 1_000_000
STORES = ("files", "wikis")


def generate(root: Path, total_bytes: int, small_files: int, large_files: int, seed: int) -> list[tuple[str, str]]:
    """Half the bytes in small files (hashed folders, like a content store), half in a few large ones."""
    rng = random.Random(seed)
    pool = rng.randbytes(8 * 1024 * 1024)
    average = total_bytes // 2 // small_files
    selection = []
    for i in range(small_files + large_files):
        store = STORES[i % len(STORES)]
        if i < small_files:
            size = int(rng.expovariate(1 / average)) if average else 0
            relative = f"{rng.randrange(256):02x}/{rng.randrange(256):02x}/{seed}-{i:07d}.bin"
        else:
            size = total_bytes // 2 // large_files
            relative = f"large/{seed}-{i}.bin"
        path = root / store / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            out.write(f"{seed}:{i}:".encode())  # every file distinct
            left = size
            while left > 0:
                start = rng.randrange(len(pool) // 2)
                chunk = pool[start:start + min(left, len(pool) // 2)]
                out.write(chunk)
                left -= len(chunk)
        selection.append((store, relative))
    return selection


def read_and_hash(root: Path, selection: list[tuple[str, str]]) -> float:
    started = time.perf_counter()
    for store, relative in selection:
        digest = hashlib.sha256()
        with open(root / store / relative, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
    return time.perf_counter() - started


def make_project(folder: Path, stacks: list[str]):
    from offboard.project import Project

    (folder / "stacks").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "Pulumi.yaml", folder / "Pulumi.yaml")
    for stack in stacks:
        (folder / "stacks" / f"Pulumi.{stack}.yaml").write_text(
            "config:\n  aws:region: eu-central-1\n"
            f"  offboard:orgId: \"{ORG_ID}\"\n  offboard:customerName: Benchmark\n  offboard:mspEmail: bench@msp.example.com\n")
    return Project(root=folder, state_dir=folder / ".offboard")


def run_child(*args: str) -> tuple[dict, float, float]:
    """(what the child printed as JSON, seconds, peak resident MB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "child", *args], stdout=subprocess.PIPE)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"child {args[0]} failed with status {status}")
    return json.loads(output or b"{}"), seconds, usage.ru_maxrss / 1024


def rclone(outputs, source: str, destination: str) -> tuple[float, float]:
    """rclone copy with the customer's key; (seconds, peak resident MB)."""
    env = {key: value for key, value in os.environ.items() if key != "AWS_CA_BUNDLE"}  # Debian's rclone rejects it
    env.update({
        "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": outputs.access_key_id,
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": outputs.secret_access_key.get_secret_value(),
        "RCLONE_CONFIG_BENCH_ENDPOINT": outputs.endpoint_url, "RCLONE_CONFIG_BENCH_REGION": outputs.region,
    })
    started = time.perf_counter()
    process = subprocess.Popen(["rclone", "copy", "--s3-no-check-bucket", source, destination], env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"rclone failed with status {status}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def child(operation: str, project_root: str, stack: str, tree: str, selection_file: str = "") -> None:
    """Runs in its own process: one export or import with the customer's key."""
    from offboard.files.export import export_files
    from offboard.files.importer import import_files
    from offboard.files.owners import TargetOrg
    from offboard.infra.outputs import StackOutputs
    from offboard.project import Project
    from offboard.transfer.session import customer_s3

    project = Project(root=Path(project_root), state_dir=Path(project_root) / ".offboard")
    outputs = StackOutputs.load(project.stack_state_dir(stack))
    s3, roots = customer_s3(outputs), {store: Path(tree) / store for store in STORES}
    for root in roots.values():
        root.mkdir(parents=True, exist_ok=True)
    if operation == "export":
        selection = [tuple(line.split("\t")) for line in Path(selection_file).read_text().splitlines()]
        result = export_files(s3, outputs.bucket, ORG_ID, roots, selection, "initial")
        print(json.dumps({"archives": len(result.manifest.archives), "bytes": result.bytes_sent}))
    else:
        fresh = TargetOrg(ORG_ID, lambda files: {})  # an empty target: its rows point at no file
        result = import_files(s3, outputs.bucket, ORG_ID, "initial", roots, fresh)
        print(json.dumps({"files": result.files, "bytes": result.bytes}))


def measure(work: Path, project, stack: str, scale: int, args) -> dict:
    from offboard.customer import load_customer
    from offboard.infra.embedded import EmbeddedBackend

    tree = work / f"tree-{scale}x"
    shutil.rmtree(tree, ignore_errors=True)
    started = time.perf_counter()
    selection = generate(tree, scale * int(args.size_gb * 1e9), scale * args.small_files, scale * args.large_files, seed=scale)
    selection_file = work / f"selection-{scale}x.tsv"
    selection_file.write_text("".join(f"{store}\t{relative}\n" for store, relative in selection))
    data = sum((tree / store / relative).stat().st_size for store, relative in selection)
    os.sync()  # no stage pays for writing back the generated tree
    print(f"[{scale}x] generated {len(selection)} files, {data / MB:.0f} MB in {time.perf_counter() - started:.0f} s", flush=True)

    outputs = EmbeddedBackend(project).up(load_customer(project, stack))
    row = {"files": len(selection), "bytes": data, "limit_s": read_and_hash(tree, selection)}
    started = time.perf_counter()
    subprocess.run(["cp", "-r", str(tree), str(work / "copy")], check=True)
    row["copy_s"] = time.perf_counter() - started
    shutil.rmtree(work / "copy")
    os.sync()
    print(f"[{scale}x] limit {row['limit_s']:.1f} s, cp -r {row['copy_s']:.1f} s", flush=True)
    exported, row["export_s"], row["export_rss_mb"] = run_child("export", str(project.root), stack, str(tree), str(selection_file))
    row["archives"] = exported["archives"]
    print(f"[{scale}x] export {row['export_s']:.1f} s, {row['export_rss_mb']:.0f} MB peak", flush=True)
    target = work / f"target-{scale}x"
    shutil.rmtree(target, ignore_errors=True)
    _, row["import_s"], row["import_rss_mb"] = run_child("import", str(project.root), stack, str(target))
    print(f"[{scale}x] import {row['import_s']:.1f} s, {row['import_rss_mb']:.0f} MB peak", flush=True)
    os.sync()
    if scale == 1 and not args.skip_rclone:
        row["rclone_up_s"], row["rclone_up_rss_mb"] = rclone(outputs, str(tree), f"bench:{outputs.bucket}/rclone")
        print(f"[{scale}x] rclone up {row['rclone_up_s']:.1f} s", flush=True)
        if args.rclone_download:
            down = work / "rclone-down"
            shutil.rmtree(down, ignore_errors=True)
            row["rclone_down_s"], row["rclone_down_rss_mb"] = rclone(outputs, f"bench:{outputs.bucket}/rclone", str(down))
            print(f"[{scale}x] rclone down {row['rclone_down_s']:.1f} s", flush=True)
    shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(tree, ignore_errors=True)
    return row


def report(rows: dict[int, dict]) -> str:
    base = rows[1]
    lines = [f"{'run':<14}{'s':>8}{'MB/s':>9}{'files/s':>10}{'x limit':>9}{'x rclone':>10}{'peak MB':>9}"]

    def line(label: str, seconds: float, row: dict, rss: float | None, rclone_s: float | None) -> None:
        versus = f"{rclone_s / seconds:>10.1f}" if rclone_s else f"{'':>10}"
        lines.append(f"{label:<14}{seconds:>8.1f}{row['bytes'] / MB / seconds:>9.1f}{row['files'] / seconds:>10.0f}"
                     f"{row['limit_s'] / seconds:>9.2f}{versus}{rss or 0:>9.0f}")

    for scale, row in rows.items():
        tag = f"[{scale}x]"
        line(f"{tag} limit", row["limit_s"], row, None, None)
        line(f"{tag} cp -r", row["copy_s"], row, None, None)
        line(f"{tag} export", row["export_s"], row, row["export_rss_mb"], row.get("rclone_up_s"))
        line(f"{tag} import", row["import_s"], row, row["import_rss_mb"], row.get("rclone_down_s"))
        if "rclone_up_s" in row:
            line(f"{tag} rclone up", row["rclone_up_s"], row, row["rclone_up_rss_mb"], None)
        if "rclone_down_s" in row:
            line(f"{tag} rclone down", row["rclone_down_s"], row, row["rclone_down_rss_mb"], None)
    described = ", ".join(f"{s}x: {r['files']} files, {r['bytes'] / MB:.0f} MB, {r['archives']} archives" for s, r in rows.items())
    return "\n".join([described, *lines])


def main() -> None:
    if sys.argv[1:2] == ["child"]:
        return child(*sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0)
    parser.add_argument("--small-files", type=int, default=20_000)
    parser.add_argument("--large-files", type=int, default=4)
    parser.add_argument("--double", action="store_true", help="repeat export and import on a tree twice the size")
    parser.add_argument("--skip-rclone", action="store_true")
    parser.add_argument("--rclone-download", action="store_true", help="also time rclone copying back (slow)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/offboard-files-benchmark"))
    args = parser.parse_args()

    from offboard.infra import endpoint as local_endpoint

    shutil.rmtree(args.workdir, ignore_errors=True)
    load_before = os.getloadavg()[0]
    project = make_project(args.workdir / "project", ["bench-1x", "bench-2x"])
    endpoint_dir = project.state_dir / "local"
    local_endpoint.start(endpoint_dir)
    try:
        rows = {1: measure(args.workdir, project, "bench-1x", 1, args)}
        if args.double:
            rows[2] = measure(args.workdir, project, "bench-2x", 2, args)
    finally:
        local_endpoint.stop(endpoint_dir)
    machine = f"{os.cpu_count()} cores, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after"
    text = f"{machine}\n{report(rows)}"
    print(text)
    (args.workdir / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
