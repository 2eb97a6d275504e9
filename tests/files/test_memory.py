"""100,000 files exported and imported in flat memory: each side runs in a child process whose own
peak resident size (VmHWM) must stay under a bound that holding ~1 KB per file would break."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

FILES = 100_000
# The interpreter with boto3, pydantic and the project takes ~76 MB, and the part buffers in flight
# (kept small here: 4 of 5 MiB) are the same at any number of files; before the on-disk index,
# about 1.4 KB a file was held in memory on each side, 140 MB at this size.
BOUND_MB = 130

IN_A_CHILD = """
import json, re, sys
from pathlib import Path
from offboard.files.export import export_files
from offboard.files.importer import import_files
from offboard.files.owners import TargetOrg
from offboard.files.settings import MiB, TransferSettings
from offboard.infra.outputs import StackOutputs
from offboard.transfer.session import customer_s3

job = json.loads(sys.stdin.read())
s3 = customer_s3(StackOutputs.model_validate(job["outputs"]))
roots = {store: Path(root) for store, root in job["roots"].items()}
settings = TransferSettings(part_bytes=5 * MiB, parts_in_flight=2, archives_in_flight=2)
if job["operation"] == "export":
    def selection():
        with open(job["selection"], encoding="utf-8") as lines:
            for line in lines:
                yield tuple(line.rstrip("\\n").split("\\t"))
    result = export_files(s3, job["bucket"], job["org_id"], roots, selection(), settings=settings)
else:
    result = import_files(s3, job["bucket"], job["org_id"], "initial", roots, TargetOrg(job["org_id"], lambda files: {}),
                          settings=settings)
# VmHWM: this process's own peak; ru_maxrss would carry the peak of the pytest process that forked it
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1]) // 1024
print(json.dumps({"files": result.files, "peak_mb": peak}))
"""


def run_child(alpha, operation: str, roots, selection: str = "") -> dict:
    job = {"operation": operation, "outputs": alpha.outputs.shown(show_secrets=True),
           "bucket": alpha.bucket, "org_id": alpha.org_id, "roots": {store: str(root) for store, root in roots.items()},
           "selection": selection}
    child = subprocess.run([sys.executable, "-c", IN_A_CHILD], input=json.dumps(job), capture_output=True, text=True)
    assert child.returncode == 0, child.stderr[-2000:]
    return json.loads(child.stdout)


def make_tree(roots, selection_file) -> None:
    """Tiny files in two stores, 256 folders each, like a content store's hashed layout."""
    with open(selection_file, "w", encoding="utf-8") as selection:
        for i in range(FILES):
            store = ("files", "wikis")[i % 2]
            relative = f"{i % 256:02x}/{i:06d}.bin"
            path = os.path.join(roots[store], relative)
            if i < 512:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as out:
                out.write(b"%d" % i)
            selection.write(f"{store}\t{relative}\n")


@pytest.mark.one_engine
def test_a_hundred_thousand_files_go_out_and_in_within_the_bound(alpha, roots, targets, tmp_path):
    selection = tmp_path / "selection.tsv"
    make_tree(roots, selection)

    exported = run_child(alpha, "export", roots, str(selection))
    assert exported["files"] == FILES
    assert exported["peak_mb"] < BOUND_MB, exported

    imported = run_child(alpha, "import", targets)
    assert imported["files"] == FILES
    assert imported["peak_mb"] < BOUND_MB, imported
    last = FILES - 1
    assert (targets["wikis"] / f"{last % 256:02x}" / f"{last:06d}.bin").read_bytes() == b"%d" % last
