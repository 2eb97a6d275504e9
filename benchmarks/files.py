"""Binary files: export and import beside the endpoint's own large-object rate, `cp -r` and rclone. Not a test.

One run on two generated trees, each over two content stores:
  small   many small files (exponential sizes, hashed folders like a content store)
  large   a few large files
and, on each tree, as child processes of their own (the embedded endpoint runs in its own):
  export    `export_files` with the customer's key, every file hashed
  import    `import_files` of that delivery into empty target roots (download, check, land)
and beside them, measured in the same run:
  limit     read and sha256 every file, one pass, in this process
  cp -r     of the small tree: what creating that many files costs on this filesystem
  endpoint  boto3 (s3transfer) multipart upload and download of the large tree's files with the
            same customer key (IAM enforced): the endpoint's own large-object rate
  rclone    rclone copy of the small tree to the same endpoint with the same key (when installed)
Every peak is that process's own (GNU time's %M). `--double` repeats everything on trees twice
the size, to show that memory stays flat.

    .venv/bin/python benchmarks/files.py [--double] [--skip-rclone] [--rclone-download] [--workdir DIR]
    .venv/bin/python benchmarks/files.py --files 1000000 --mean-kb 2 --double    # the million-file scale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import load_average, machine, measured

REPO = Path(__file__).resolve().parents[1]
ORG_ID = "20099999"
MB = 1_000_000
STORES = ("files", "wikis")
PEER_PREFIX = "peer/"  # the endpoint's own objects: no delivery's prefix


def write_file(path: Path, label: str, size: int, rng: random.Random, pool: bytes) -> None:
    """`size` bytes from random places of `pool`, after a label that makes every file distinct."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.write(label.encode())
        left = size
        while left > 0:
            start = rng.randrange(len(pool) // 2)
            chunk = pool[start:start + min(left, len(pool) // 2)]
            out.write(chunk)
            left -= len(chunk)


def generate(root: Path, selection_file: Path, sizes: Iterator[int], large: bool, seed: int) -> tuple[int, int]:
    """Write the tree and its selection (store TAB path, a line per file); (files, bytes)."""
    rng = random.Random(seed)
    pool = rng.randbytes(8 * 1024 * 1024)
    files = data = 0
    with open(selection_file, "w") as selection:
        for i, size in enumerate(sizes):
            store = STORES[i % len(STORES)]
            relative = f"large/{seed}-{i}.bin" if large else f"{rng.randrange(256):02x}/{rng.randrange(256):02x}/{seed}-{i:07d}.bin"
            write_file(root / store / relative, f"{seed}:{i}:", size, rng, pool)
            selection.write(f"{store}\t{relative}\n")
            files, data = files + 1, data + (root / store / relative).stat().st_size
    os.sync()  # no stage pays for writing back the generated tree
    return files, data


def selected(selection_file: Path) -> Iterator[tuple[str, str]]:
    """The selection, a line at a time: at a million files a list would dominate the child's memory."""
    with open(selection_file) as lines:
        for line in lines:
            store, relative = line.rstrip("\n").split("\t")
            yield store, relative


def read_and_hash(root: Path, selection_file: Path) -> float:
    started = time.perf_counter()
    for store, relative in selected(selection_file):
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


def child(operation: str, project_root: str, stack: str, tree: str, selection_file: str = "") -> None:
    """Runs in its own process with the customer's key: this project's export or import, or the
    endpoint's own multipart upload (put) or download (get) of a tree's files. Prints bytes moved."""
    from offboard.infra.outputs import StackOutputs
    from offboard.project import Project
    from offboard.transfer.session import customer_s3

    project = Project(root=Path(project_root), state_dir=Path(project_root) / ".offboard")
    outputs = StackOutputs.load(project.stack_state_dir(stack))
    s3, roots = customer_s3(outputs), {store: Path(tree) / store for store in STORES}
    if operation == "export":
        from offboard.files.export import export_files

        result = export_files(s3, outputs.bucket, ORG_ID, roots, selected(Path(selection_file)), "initial")
        print(json.dumps({"archives": result.archives_sent, "bytes": result.bytes_sent}))
    elif operation == "import":
        from offboard.files.importer import import_files
        from offboard.files.owners import TargetOrg

        for root in roots.values():
            root.mkdir(parents=True, exist_ok=True)
        fresh = TargetOrg(ORG_ID, lambda files: {})  # an empty target: its rows point at no file
        result = import_files(s3, outputs.bucket, ORG_ID, "initial", roots, fresh)
        print(json.dumps({"files": result.files, "bytes": result.bytes}))
    elif operation == "put":
        moved = 0
        for store, relative in selected(Path(selection_file)):
            s3.upload_file(str(Path(tree) / store / relative), outputs.bucket, f"{PEER_PREFIX}{store}/{relative}")
            moved += (Path(tree) / store / relative).stat().st_size
        print(json.dumps({"bytes": moved}))
    else:
        moved = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=outputs.bucket, Prefix=PEER_PREFIX):
            for item in page.get("Contents", []):
                destination = Path(tree) / item["Key"].removeprefix(PEER_PREFIX)
                destination.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(outputs.bucket, item["Key"], str(destination))
                moved += item["Size"]
        print(json.dumps({"bytes": moved}))


def run_child(*args: str) -> tuple[dict, float, float]:
    """(what the child printed as JSON, seconds, peak resident MB) of one child process."""
    done = measured([sys.executable, __file__, "child", *args])
    return json.loads(done.stdout), done.seconds, done.peak_mb


def rclone(outputs, source: str, destination: str) -> tuple[float, float]:
    """rclone copy with the customer's key; (seconds, peak resident MB)."""
    env = {key: value for key, value in os.environ.items() if key != "AWS_CA_BUNDLE"}  # Debian's rclone rejects it
    env.update({
        "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": outputs.access_key_id,
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": outputs.secret_access_key.get_secret_value(),
        "RCLONE_CONFIG_BENCH_ENDPOINT": outputs.endpoint_url, "RCLONE_CONFIG_BENCH_REGION": outputs.region,
    })
    done = measured(["rclone", "copy", "--s3-no-check-bucket", source, destination], env=env)
    return done.seconds, done.peak_mb


def stack_outputs(project, stack: str):
    from offboard.customer import load_customer
    from offboard.infra.embedded import EmbeddedBackend

    return EmbeddedBackend(project).up(load_customer(project, stack))


def say(scale: int, text: str) -> None:
    print(f"[{scale}x] {text}", flush=True)


def measure_small(work: Path, project, scale: int, args) -> dict:
    """The small-file tree: limit, cp -r, export, import, rclone."""
    tree, selection, stack = work / f"small-{scale}x", work / f"small-{scale}x.tsv", f"small-{scale}x"
    started = time.perf_counter()
    rng = random.Random(scale)
    sizes = (int(rng.expovariate(1 / (args.mean_kb * 1000))) for _ in range(scale * args.files))
    files, data = generate(tree, selection, sizes, large=False, seed=scale)
    say(scale, f"small tree: {files} files, {data / MB:.0f} MB in {time.perf_counter() - started:.0f} s")
    outputs = stack_outputs(project, stack)
    row = {"files": files, "bytes": data, "limit_s": read_and_hash(tree, selection)}
    copy = measured(["cp", "-r", str(tree), str(work / "copy")])
    row["copy_s"], row["copy_mb"] = copy.seconds, copy.peak_mb
    shutil.rmtree(work / "copy")
    os.sync()
    say(scale, f"limit {row['limit_s']:.1f} s, cp -r {row['copy_s']:.1f} s")
    exported, row["export_s"], row["export_mb"] = run_child("export", str(project.root), stack, str(tree), str(selection))
    row["archives"] = exported["archives"]
    say(scale, f"export {row['export_s']:.1f} s, {row['export_mb']:.0f} MB peak")
    target = work / f"small-target-{scale}x"
    _, row["import_s"], row["import_mb"] = run_child("import", str(project.root), stack, str(target))
    say(scale, f"import {row['import_s']:.1f} s, {row['import_mb']:.0f} MB peak")
    shutil.rmtree(target)
    os.sync()
    if scale == 1 and not args.skip_rclone and shutil.which("rclone"):
        row["rclone_up_s"], row["rclone_up_mb"] = rclone(outputs, str(tree), f"bench:{outputs.bucket}/rclone")
        say(scale, f"rclone up {row['rclone_up_s']:.1f} s")
        if args.rclone_download:
            down = work / "rclone-down"
            row["rclone_down_s"], row["rclone_down_mb"] = rclone(outputs, f"bench:{outputs.bucket}/rclone", str(down))
            shutil.rmtree(down)
            say(scale, f"rclone down {row['rclone_down_s']:.1f} s")
    shutil.rmtree(tree)
    return row


def measure_large(work: Path, project, scale: int, args) -> dict:
    """The large-file tree: limit, the endpoint's own multipart up and down, export, import."""
    tree, selection, stack = work / f"large-{scale}x", work / f"large-{scale}x.tsv", f"large-{scale}x"
    files, data = generate(tree, selection, iter([args.large_mb * 1024 * 1024] * scale * args.large_files), large=True, seed=scale)
    say(scale, f"large tree: {files} files, {data / MB:.0f} MB")
    stack_outputs(project, stack)
    row = {"files": files, "bytes": data, "limit_s": read_and_hash(tree, selection)}
    _, row["put_s"], row["put_mb"] = run_child("put", str(project.root), stack, str(tree), str(selection))
    down = work / f"large-down-{scale}x"
    _, row["get_s"], row["get_mb"] = run_child("get", str(project.root), stack, str(down))
    shutil.rmtree(down)
    os.sync()
    say(scale, f"endpoint multipart up {row['put_s']:.1f} s, down {row['get_s']:.1f} s")
    exported, row["export_s"], row["export_mb"] = run_child("export", str(project.root), stack, str(tree), str(selection))
    row["archives"] = exported["archives"]
    target = work / f"large-target-{scale}x"
    _, row["import_s"], row["import_mb"] = run_child("import", str(project.root), stack, str(target))
    say(scale, f"export {row['export_s']:.1f} s, import {row['import_s']:.1f} s")
    shutil.rmtree(target)
    shutil.rmtree(tree)
    return row


def rate(row: dict, seconds: float) -> float:
    return row["bytes"] / MB / seconds


def report(rows: dict[int, dict[str, dict]]) -> str:
    """A Markdown table of every run, then the issue's ratios."""
    lines = ["| tree | run | time | MB/s | files/s | peak MB |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    runs = {"small": [("limit: read + sha256, one pass", "limit_s", None), ("`cp -r`", "copy_s", "copy_mb"),
                      ("export", "export_s", "export_mb"), ("import", "import_s", "import_mb"),
                      ("rclone copy up", "rclone_up_s", "rclone_up_mb"), ("rclone copy down", "rclone_down_s", "rclone_down_mb")],
            "large": [("limit: read + sha256, one pass", "limit_s", None), ("endpoint: boto3 multipart upload", "put_s", "put_mb"),
                      ("endpoint: boto3 multipart download", "get_s", "get_mb"),
                      ("export", "export_s", "export_mb"), ("import", "import_s", "import_mb")]}
    for scale, trees in rows.items():
        for name, row in trees.items():
            label = f"{name} {scale}x ({row['files']:,} files, {row['bytes'] / MB:,.0f} MB, {row['archives']} archives)"
            for run, seconds, peak in runs[name]:
                if seconds in row:
                    lines.append(f"| {label} | {run} | {row[seconds]:.1f} s | {rate(row, row[seconds]):.1f} "
                                 f"| {row['files'] / row[seconds]:,.0f} | {f'{row[peak]:.0f}' if peak else ''} |")
    lines += ["", "| ratio | " + " | ".join(f"{scale}x" for scale in rows) + " | goal |", "| --- |" + " ---: |" * len(rows) + " --- |"]

    def ratio(text: str, value, goal: str) -> None:
        lines.append(f"| {text} | " + " | ".join(f"{value(trees):.2f}" for trees in rows.values()) + f" | {goal} |")

    if all("large" in trees for trees in rows.values()):
        up = lambda trees: rate(trees["large"], trees["large"]["put_s"])
        down = lambda trees: rate(trees["large"], trees["large"]["get_s"])
        ratio("export MB/s (small files) / endpoint upload MB/s", lambda t: rate(t["small"], t["small"]["export_s"]) / up(t), ">= 0.7")
        ratio("export MB/s (large files) / endpoint upload MB/s", lambda t: rate(t["large"], t["large"]["export_s"]) / up(t), ">= 0.7")
        ratio("import MB/s (large files) / endpoint download MB/s", lambda t: rate(t["large"], t["large"]["import_s"]) / down(t), ">= 0.7")
    ratio("import time (small files) / `cp -r` time", lambda t: t["small"]["import_s"] / t["small"]["copy_s"], "<= 1.5")
    if 2 in rows:
        for name in rows[1]:
            for stage in ("export", "import"):
                growth = rows[2][name][f"{stage}_mb"] / rows[1][name][f"{stage}_mb"]
                lines.append(f"| peak at 2x / peak at 1x, {stage} ({name} files) | | {growth:.2f} | < 1.10 |")
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["child"]:
        return child(*sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000, help="small files in the small tree (at 1x)")
    parser.add_argument("--mean-kb", type=float, default=25, help="their mean size")
    parser.add_argument("--large-files", type=int, default=4, help="files in the large tree (at 1x); 0: no large tree")
    parser.add_argument("--large-mb", type=int, default=128, help="each large file's size in MiB")
    parser.add_argument("--double", action="store_true", help="repeat everything on trees twice the size")
    parser.add_argument("--skip-rclone", action="store_true")
    parser.add_argument("--rclone-download", action="store_true", help="also time rclone copying back (slow)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/offboard-files-benchmark"))
    args = parser.parse_args()

    from offboard.infra import endpoint as local_endpoint

    shutil.rmtree(args.workdir, ignore_errors=True)
    scales = [1, 2] if args.double else [1]
    load_before, started = load_average(), time.perf_counter()
    project = make_project(args.workdir / "project", [f"{tree}-{scale}x" for tree in ("small", "large") for scale in scales])
    endpoint_dir = project.state_dir / "local"
    local_endpoint.start(endpoint_dir)
    try:
        rows = {}
        for scale in scales:
            rows[scale] = {"small": measure_small(args.workdir, project, scale, args)}
            if args.large_files:
                rows[scale]["large"] = measure_large(args.workdir, project, scale, args)
    finally:
        local_endpoint.stop(endpoint_dir)
    print(f"\n{machine()}; {time.perf_counter() - started:.0f} s wall; load average {load_before} before and {load_average()} after"
          f"{'' if shutil.which('rclone') else '; rclone is not installed'}\n")
    print(report(rows))
    (args.workdir / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
