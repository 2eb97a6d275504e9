"""A stack without source settings: its export steps wait for IBM's delivery in the bucket, pick it
up once committed, and refuse a forged or incomplete one in one line."""

from __future__ import annotations

import io
import json
import runpy
import subprocess
import sys

import pytest
import yaml

from offboard.customer import load_customer
from offboard.errors import OffboardError, Waiting
from offboard.files.deliveries import read_manifest
from offboard.files.index import FileIndex
from offboard.files.layout import manifest_key
from offboard.files.manifest import ArchiveEntry, FileEntry, Header, write_manifest
from offboard.infra import stacks
from offboard.infra.embedded import EmbeddedBackend
from offboard.runbook import arrival, commands
from offboard.runbook.handed_over import prepared
from offboard.runbook.handover import handover
from offboard.runbook.journal import Journal
from offboard.runtime import Runtime
from offboard.sample import create_sample
from offboard.sample.stack import stack_config, write_stack
from tests.conftest import remove_stack, run_cli

STACK = "acme"


@pytest.fixture
def sample(tmp_path):
    return create_sample(tmp_path / "sample", orgs=1)


@pytest.fixture
def without_source(local_project, sample, endpoint_session):
    """acme: a sample org's stack file without offboard:source, provisioned on the embedded endpoint."""
    project = local_project
    write_stack(project, STACK, sample, sample.org_ids[0])
    document = yaml.safe_load(project.stack_file(STACK).read_text())
    del document["config"]["offboard:source"]
    project.stack_file(STACK).write_text(yaml.safe_dump(document))
    EmbeddedBackend(project).up(load_customer(project, STACK))
    yield project
    remove_stack(project, STACK, endpoint_session[1])


def bucket_of(project) -> str:
    return stacks.outputs(project, load_customer(project, STACK), "local").bucket


def run_to_ibm(project, workflow: str):
    """Run the workflow up to its database export, confirming every person's step on the way."""
    outcome = commands.run(project, STACK, workflow, backend="local", until="export-db")
    while outcome.reason == "person":
        commands.confirm(project, STACK, outcome.stopped_at, by="Ann Operator", backend="local")
        outcome = commands.run(project, STACK, workflow, backend="local", until="export-db")
    return outcome


def test_the_run_waits_on_ibm_then_journals_the_delivery_ibm_committed(without_source, sample, tmp_path):
    project = without_source
    commands.render(project, STACK, "initial", backend="local")
    module = (project.stack_state_dir(STACK) / "modules" / "initial" / "export-files.py").read_text()
    assert "arrival.files_arrived(" in module and "source" not in module.split("def run")[1]

    waiting = run_to_ibm(project, "initial")
    bucket = bucket_of(project)
    assert (waiting.reason, waiting.stopped_at) == ("ibm", "export-files")
    assert waiting.exit_code == 4
    entry = Journal.of_stack(project, STACK).latest()["export-files"]
    assert entry.status == "waiting"
    assert entry.note == f"files delivery initial is not committed in bucket {bucket} yet"

    # IBM's side: the handover folder, its source filled in, the key from the access information file
    folder = tmp_path / "handover"
    handover(project, STACK, "initial", folder, backend="local")
    ibm_stack = folder / "stacks" / f"Pulumi.{STACK}.yaml"
    document = yaml.safe_load(ibm_stack.read_text())
    document["config"]["offboard:source"] = stack_config(sample, sample.org_ids[0])["offboard:source"]
    ibm_stack.write_text(yaml.safe_dump(document))
    customer = load_customer(project, STACK)
    access = stacks.write_access_info(project, customer, stacks.outputs(project, customer, "local"))
    ran = subprocess.run([sys.executable, "export-files.py", "--access-info", str(access)], cwd=folder,
                         capture_output=True, text=True, timeout=120)  # as IBM runs it
    assert ran.returncode == 0 and json.loads(ran.stdout)["delivery"] == "initial", ran.stderr
    assert run_to_ibm(project, "initial").stopped_at == "export-db"  # the files arrived, the rows not yet
    module = runpy.run_path(str(folder / "export-db.py"))  # the same, in this process: not run as __main__
    assert module["run"](*prepared(module["STEP"], folder, access, dry_run=False))["delivery"] == "initial"

    picked_up = run_to_ibm(project, "initial")
    latest = Journal.of_stack(project, STACK).latest()
    assert picked_up.reason != "ibm" and latest["export-files"].status == latest["export-db"].status == "done"
    files, rows = latest["export-files"].figures, latest["export-db"].figures
    with FileIndex() as index:
        counts = read_manifest(Runtime(project, STACK, "local").s3(bucket), bucket, "initial", sample.org_ids[0], index).counts
    assert (files["delivery"], files["files"], files["archives"], files["bytes"]) == ("initial", counts.files, counts.archives, counts.bytes)
    assert files["files"] > 0 and files["committed"].endswith("Z")
    assert rows["delivery"] == "initial" and rows["rows"] > 0 and rows["tables"] > 0


def test_a_half_or_forged_delivery_waits_or_fails_in_one_line(local_project, provisioned, monkeypatch):
    runtime, bucket, org_id = Runtime(local_project, "alpha", "local"), provisioned["alpha"].bucket, "20011111"
    s3 = runtime.s3(bucket)

    def look(part):
        arrived = arrival.files_arrived if part == "files" else arrival.database_arrived
        return arrived(runtime, org_id=org_id, bucket=bucket, delivery="initial")

    s3.put_object(Bucket=bucket, Key="initial/files/archives/00001.tar", Body=b"abc")  # sent, not committed
    s3.put_object(Bucket=bucket, Key="initial/db/PEOPLEDB/chunk.del.gz", Body=b"abc")
    with pytest.raises(Waiting, match=rf"^files delivery initial is not committed in bucket {bucket} yet$"):
        look("files")
    with pytest.raises(Waiting, match=rf"^database delivery initial is not committed in bucket {bucket} yet$"):
        look("database")

    s3.put_object(Bucket=bucket, Key="initial/db/manifest.json", Body=json.dumps({"format": 2, "orgId": "9" * 100_000}))
    with pytest.raises(OffboardError, match=rf"^s3://{bucket}/initial/db/manifest.json is not a valid database manifest") as bad:
        look("database")
    assert len(str(bad.value)) < 400 and "\n" not in str(bad.value)
    monkeypatch.setattr(arrival, "MAX_MANIFEST_BYTES", 1 << 10)  # a manifest is read only up to a bound
    with pytest.raises(OffboardError, match=rf"^s3://{bucket}/initial/db/manifest.json is larger than 0 MiB: not a manifest"):
        look("database")
    monkeypatch.undo()

    def files_manifest(org: str) -> bytes:
        out = io.BytesIO()
        write_manifest(out, Header(org, "initial", "2026-01-01T00:00:00Z"), [("00001.tar", ArchiveEntry(10, "0" * 64, 1))],
                       [("files/a.bin", FileEntry(4, 0, "1" * 64, "00001.tar"))])
        return out.getvalue()

    key = manifest_key("initial")
    s3.put_object(Bucket=bucket, Key=key, Body=files_manifest(org_id))
    with pytest.raises(OffboardError, match=rf"^s3://{bucket}/{key} names 00001.tar of 10 bytes, "
                                            "but the bucket holds 3 bytes: the delivery is incomplete"):
        look("files")
    s3.put_object(Bucket=bucket, Key=key, Body=files_manifest("20099999"))
    with pytest.raises(OffboardError, match=r"is delivery initial of org 20099999, not initial of org .*; ask IBM to export initial again$"):
        look("files")
    s3.put_object(Bucket=bucket, Key=key, Body=files_manifest(org_id)[:-30])
    with pytest.raises(OffboardError, match=rf"^s3://{bucket}/{key} \(line 4\): the last line is cut short: the manifest is truncated; "
                                            "it is not a manifest this delivery can use: .*; ask IBM to export initial again$"):
        look("files")
    s3.put_object(Bucket=bucket, Key=key, Body=files_manifest("9" * 60_000))  # quoted by the refusal, never at length
    with pytest.raises(OffboardError, match=r"\(line 1\): orgId '9999.*…; it is not a manifest this delivery can use: .*; ask IBM to export initial again$") as long:
        look("files")
    assert len(str(long.value)) < 700
    s3.put_object(Bucket=bucket, Key="initial/files/archives/00001.tar", Body=b"0123456789")
    s3.put_object(Bucket=bucket, Key=key, Body=files_manifest(org_id))
    figures = look("files")
    assert {key: figures[key] for key in ("delivery", "files", "archives", "bytes")} == {
        "delivery": "initial", "files": 1, "archives": 1, "bytes": 4}
    assert figures["committed"].endswith("Z")


def test_an_export_by_hand_without_source_settings_is_refused_in_one_line(local_project):
    refused = run_cli(local_project, "db", "export", "alpha", "--delivery", "initial", env={"OFFBOARD_BACKEND": "local"})
    assert refused.returncode == 1 and refused.stderr == (
        "offboard: stack alpha has no offboard:source setting: IBM's side exports its deliveries (`offboard runbook "
        "handover alpha initial|delta DIR`), or add the source's databases and content stores\n")
