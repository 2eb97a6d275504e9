"""An export interrupted at any point continues where it stopped, sending nothing twice."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys

import pytest

from offboard.files import export
from offboard.files.deliveries import committed_deliveries
from offboard.files.layout import archive_key, files_prefix, journal_key, manifest_key
from tests.files.conftest import MTIME_NS, SMALL, snapshot, write


class Crash(Exception):
    pass


@pytest.fixture
def tree(roots):
    selection = [("files", f"f{i:02d}.bin") for i in range(10)]
    for store, relative in selection:
        write(roots[store], relative, relative.encode() * 1000)
    return selection


def crash_after_first_archive(monkeypatch):
    """The process dies right after the second archive's upload, before its journal record."""
    written = []

    def write_record(s3, bucket, delivery, record):
        if written:
            raise Crash("killed")
        written.append(record.archive)
        real_write_record(s3, bucket, delivery, record)

    real_write_record = export.write_record
    monkeypatch.setattr(export, "write_record", write_record)
    return real_write_record


def versions(transfer, key: str) -> int:
    return len([v for v in transfer.admin.list_object_versions(Bucket=transfer.bucket, Prefix=key).get("Versions", []) if v["Key"] == key])


def test_a_resumed_export_sends_only_the_rest_and_ends_like_an_uninterrupted_one(
        alpha, beta, roots, tree, monkeypatch):
    alpha.settings = beta.settings = dataclasses.replace(SMALL, archives_in_flight=1)  # a predictable crash point
    real_write_record = crash_after_first_archive(monkeypatch)
    with pytest.raises(Crash):
        alpha.export(roots, tree)
    assert not alpha.keys(manifest_key("initial"))  # not committed: it does not exist for import
    # A killed process also leaves an unfinished multipart upload behind.
    alpha.s3.create_multipart_upload(Bucket=alpha.bucket, Key=archive_key("initial", "00003.tar"))

    monkeypatch.setattr(export, "write_record", real_write_record)
    resumed = alpha.export(roots, tree)
    assert resumed.archives_resumed == 1 and resumed.archives_sent == resumed.archives - 1
    assert versions(alpha, archive_key("initial", "00001.tar")) == 1  # never sent again
    assert not alpha.s3.list_multipart_uploads(Bucket=alpha.bucket, Prefix=files_prefix("initial")).get("Uploads")

    beta.export(roots, tree)
    assert alpha.delivered().files == beta.delivered().files
    assert alpha.delivered().archives == beta.delivered().archives  # the same tars, byte for byte


def test_a_file_changed_after_its_archive_was_committed_is_sent_again(alpha, roots, tree, monkeypatch):
    alpha.settings = dataclasses.replace(SMALL, archives_in_flight=1)
    real_write_record = crash_after_first_archive(monkeypatch)
    with pytest.raises(Crash):
        alpha.export(roots, tree)
    write(roots["files"], "f00.bin", b"changed after the crash")

    monkeypatch.setattr(export, "write_record", real_write_record)
    resumed = alpha.export(roots, tree)
    assert resumed.archives_resumed == 0
    assert alpha.delivered().files["files/f00.bin"].size == len(b"changed after the crash")
    archives = {key.rsplit("/", 1)[1] for key in alpha.keys(archive_key("initial", ""))}
    assert archives == set(alpha.delivered().archives)  # nothing left over in the delivery


def test_a_record_copied_under_another_archives_name_is_dropped_not_trusted(alpha, roots, tree, monkeypatch):
    """Whoever holds the key can write into the journal: a record counts only under its own archive's name."""
    alpha.settings = dataclasses.replace(SMALL, archives_in_flight=1)
    real_write_record = crash_after_first_archive(monkeypatch)
    with pytest.raises(Crash):
        alpha.export(roots, tree)
    record = alpha.s3.get_object(Bucket=alpha.bucket, Key=journal_key("initial", "00001.tar"))["Body"].read()
    alpha.s3.put_object(Bucket=alpha.bucket, Key=journal_key("initial", "00002.tar"), Body=record)

    monkeypatch.setattr(export, "write_record", real_write_record)
    resumed = alpha.export(roots, tree)
    assert resumed.archives_resumed == 1 and resumed.files == len(tree)
    assert set(alpha.delivered().files) == {f"files/{relative}" for _, relative in tree}


def test_a_delta_export_interrupted_is_finished_by_the_next_delta_export(alpha, roots, tree, monkeypatch):
    alpha.export(roots, tree)
    for _, relative in tree:
        write(roots["files"], relative, b"changed " + relative.encode(), MTIME_NS + 10**9)
    alpha.settings = dataclasses.replace(SMALL, archives_in_flight=1)
    real_write_record = crash_after_first_archive(monkeypatch)
    with pytest.raises(Crash):
        alpha.export(roots, tree, "delta")

    monkeypatch.setattr(export, "write_record", real_write_record)
    resumed = alpha.export(roots, tree, "delta")
    assert resumed.delivery == "delta-1" and resumed.archives_resumed == 1
    assert committed_deliveries(alpha.s3, alpha.bucket) == ["initial", "delta-1"]


KILLED_IMPORT = """
import json, os, signal, sys
from pathlib import Path
from offboard.files import importer
from offboard.files.owners import TargetOrg
from offboard.files.settings import TransferSettings
from offboard.infra.outputs import StackOutputs
from offboard.transfer.session import customer_s3

real_land, landed = importer.land_archive, []

def land_then_die(*args, **kwargs):
    if landed:  # the second archive: the process is killed, no clean-up runs
        os.kill(os.getpid(), signal.SIGKILL)
    landed.append(real_land(*args, **kwargs))

importer.land_archive = land_then_die
outputs = StackOutputs.load(Path(sys.argv[1]))
roots = {store: Path(folder) for store, folder in json.loads(sys.argv[3]).items()}
settings = TransferSettings(**json.loads(sys.argv[4]))
target = TargetOrg(sys.argv[2], lambda files: {})
importer.import_files(customer_s3(outputs), outputs.bucket, sys.argv[2], "initial", roots, target, settings=settings)
"""


def test_an_import_killed_in_the_middle_leaves_the_target_as_it_was_and_a_rerun_completes(
        alpha, roots, targets, tree, local_project):
    alpha.export(roots, tree)
    assert len(alpha.s3.list_objects_v2(Bucket=alpha.bucket, Prefix=archive_key("initial", ""))["Contents"]) > 1
    before = {store: snapshot(root) for store, root in targets.items()}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, str(local_project.stack_state_dir("alpha")), alpha.org_id,
         json.dumps({store: str(root) for store, root in targets.items()}), json.dumps(dataclasses.asdict(alpha.settings))],
        capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after_kill = {store: {name: value for name, value in snapshot(root).items() if not name.startswith(".")}
                  for store, root in targets.items()}
    assert after_kill == before  # only the hidden staging folder may remain

    imported = alpha.import_("initial", targets)
    assert imported.files == len(tree)
    assert alpha.verify(targets).ok  # no staging left either
